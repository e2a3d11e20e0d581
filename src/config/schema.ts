/**
 * Every config option, stated once. The parser reads keys, limits and defaults from this table,
 * `--check-config` prints the effective value of each, and the README's configuration table is
 * generated from it (test/config/schema.test.ts fails when the README drifts).
 */
import { formatDuration } from './duration.js';
import type { ExporterConfig } from './types.js';

/** Dotted paths into ExporterConfig (`api.retries`): a `field` naming none fails to compile. */
type Paths<T> = {
  [K in keyof T & string]: T[K] extends readonly unknown[] ? K : T[K] extends object ? K | `${K}.${Paths<T[K]>}` : K;
}[keyof T & string];
export type ConfigPath = Paths<ExporterConfig>;

/** How a value is read: durations are text like `30s` and stored in milliseconds. */
export type OptionType = 'listen' | 'duration' | 'integer' | 'number' | 'boolean' | 'other';

export interface OptionSpec {
  /** As written in the file; `limits.concurrency` is `concurrency` under `limits:`. */
  readonly key: string;
  readonly type: OptionType;
  /** In the unit of the ExporterConfig field (ms for durations); absent when computed. */
  readonly default?: number | boolean | string;
  /** Smallest accepted value (ms for durations). */
  readonly min?: number;
  /** Where the value lands in ExporterConfig (a dotted path), for --check-config and the defaults test. */
  readonly field?: ConfigPath;
  /** Shown in the README instead of the formatted default. */
  readonly defaultText?: string;
  /** Also accepted under `accounts[].limits` (a per-account override). */
  readonly perAccount?: boolean;
  /** Sub-keys of a structured option (`accounts[]`). */
  readonly keys?: readonly string[];
  readonly doc: string;
}

export const SCHEMA = [
  { key: 'listen', type: 'listen', default: '0.0.0.0:9105', field: 'listen', doc: 'HOST:PORT; `--listen` overrides' },
  { key: 'interval', type: 'duration', default: 60_000, min: 1000, field: 'intervalMs', doc: 'how often each account is collected (`500ms`, `30s`, `5m`, `1m30s`; at least `1s`)' },
  { key: 'timeout', type: 'duration', default: 45_000, min: 100, field: 'timeoutMs', defaultText: '`45s` (at most `interval`)', doc: "deadline for one account's collection" },
  { key: 'staleAfter', type: 'duration', min: 0, field: 'staleAfterMs', defaultText: '3 × `interval`', doc: "how long a failing account's LB series stay before they are removed" },
  {
    key: 'spread',
    type: 'boolean',
    default: true,
    field: 'spread',
    doc: 'after a first collection at start, collect each account at its own stable offset within the interval; `false`: all at once, at start and every interval after (benchmarks, a handful of accounts)',
  },
  {
    key: 'discoveryInterval',
    type: 'duration',
    default: 3_600_000,
    min: 1000,
    field: 'discoveryIntervalMs',
    doc: 'how often accounts with `zones: auto` look for their zones again; discovery rides on a collection, so it never runs more often than `interval`',
  },
  { key: 'workers', type: 'integer', default: 1, min: 1, field: 'workers', doc: 'worker threads; each runs hundreds of accounts at once (the work is I/O: Tier M, 200 accounts, keeps one thread ~16 % busy); each one more costs ~15–35 MB' },
  { key: 'zones.<name>.endpoint', type: 'other', defaultText: 'the five DX zones, built in', doc: 'base URL of a zone; add a zone or point one at a KT-Cloud-compatible server (env `KTCLOUD_ZONE_<ZONE>_ENDPOINT` overrides, see below)' },
  { key: 'zones.<name>.requestsPerSecond', type: 'number', min: 0.001, defaultText: '`limits.zoneRequestsPerSecond`', doc: 'per-zone override' },
  { key: 'limits.concurrency', type: 'integer', default: 4, min: 1, field: 'limits.concurrency', perAccount: true, doc: 'API requests in flight per account' },
  { key: 'limits.requestsPerSecond', type: 'number', default: 5, min: 0.001, field: 'limits.requestsPerSecond', perAccount: true, doc: 'per account, all its zones together' },
  {
    key: 'limits.maxSeries',
    type: 'integer',
    default: 0,
    min: 0,
    field: 'limits.maxSeries',
    perAccount: true,
    defaultText: '`0` (no cap)',
    doc: "LB series one account may export, all its zones together; over it, that account's LB series are dropped for the cycle and it fails with reason `too_many_series`",
  },
  { key: 'limits.zoneRequestsPerSecond', type: 'number', default: 50, min: 0.001, field: 'limits.zoneRequestsPerSecond', doc: 'per zone, across all accounts and all worker threads' },
  { key: 'api.requestTimeout', type: 'duration', default: 10_000, min: 10, field: 'api.requestTimeoutMs', doc: 'one HTTP request' },
  { key: 'api.retries', type: 'integer', default: 3, min: 0, field: 'api.retries', doc: 'retries on network errors, 5xx, 429 and 503 (after `Retry-After`); never on 401/403' },
  { key: 'api.retryBase', type: 'duration', default: 200, min: 0, field: 'api.retryBaseMs', doc: 'first backoff; doubles per retry, with jitter' },
  { key: 'api.maxResponseBytes', type: 'integer', default: 64 * 1024 * 1024, min: 1024, field: 'api.maxResponseBytes', doc: 'larger answers are refused (reason `bad_response`)' },
  {
    key: 'loadBalancers.include',
    type: 'other',
    defaultText: 'every LB',
    doc: 'list of RE2 patterns; only LBs whose name matches one in full (`^(?:re)$`) are exported (see [Load balancer filters](#load-balancer-filters))',
  },
  { key: 'loadBalancers.exclude', type: 'other', defaultText: 'none', doc: 'list of RE2 patterns; LBs whose name matches one in full are left out, even if included' },
  { key: 'metrics.disable', type: 'other', defaultText: 'none', doc: 'LB metric names left out of `/metrics` (see [Turning metric families off](#turning-metric-families-off))' },
  { key: 'metrics.serverMetrics', type: 'boolean', default: true, field: 'metrics.serverMetrics', doc: '`false`: the five per-server families are left out (`ktcloud_lb_server_count` stays)' },
  {
    key: 'accounts[]',
    type: 'other',
    keys: ['name', 'zones', 'id', 'idFile', 'idEnv', 'password', 'passwordFile', 'passwordEnv', 'limits', 'loadBalancers'],
    doc: '`name` (the `account` label, `[A-Za-z0-9_.-]+`), `zones` (a list, or `auto`: see Zone discovery), one of `id`/`idFile`/`idEnv`, one of `password`/`passwordFile`/`passwordEnv` (literal credentials must be quoted YAML strings), optional `limits` (`concurrency`, `requestsPerSecond`, `maxSeries`), optional `loadBalancers` (`include`, `exclude`: replaces the top-level filter as a whole)',
  },
  {
    key: 'accountsDir',
    type: 'other',
    doc: 'every subfolder holding a `CLOUD_*` or `ACCOUNT_NAME` file is an account, named by its `ACCOUNT_NAME` file if any, else after the folder: `CLOUD_ID` and `CLOUD_PASSWORD` (and optionally `CLOUD_ZONE`, comma-separated, or `auto`) are read; an `accounts[]` entry of the same name wins; a folder that cannot be used is left out with a warning, the others load',
  },
  { key: 'defaultZones', type: 'other', doc: 'zones of `accountsDir` folders without `CLOUD_ZONE` (a list, or `auto`)' },
] as const satisfies readonly OptionSpec[];

type Key = (typeof SCHEMA)[number]['key'];

export function option(key: Key): OptionSpec {
  return SCHEMA.find((o) => o.key === key)!;
}

/** The options written directly under `section:` (`''` for the top level), by leaf key. */
export function sectionOptions(section: '' | 'limits' | 'api' | 'zones.<name>' | 'loadBalancers' | 'metrics'): OptionSpec[] {
  return SCHEMA.filter((o: OptionSpec) => (section === '' ? !o.key.includes('.') && !o.key.endsWith('[]') : o.key.startsWith(`${section}.`)));
}

export function leaf(o: OptionSpec): string {
  return o.key.slice(o.key.lastIndexOf('.') + 1);
}

/** The keys accepted under each mapping of the file. */
export const KEYS = Object.freeze({
  top: [...new Set(SCHEMA.map((o) => o.key.split(/[.[]/)[0]!))],
  zone: sectionOptions('zones.<name>').map(leaf),
  limits: sectionOptions('limits').map(leaf),
  accountLimits: sectionOptions('limits').filter((o) => o.perAccount).map(leaf),
  api: sectionOptions('api').map(leaf),
  account: option('accounts[]').keys!,
  loadBalancers: sectionOptions('loadBalancers').map(leaf),
  metrics: sectionOptions('metrics').map(leaf),
});

const num = (key: Key): number => option(key).default as number;

/** Defaults as the ExporterConfig fields hold them; `staleAfter` is 3 intervals. */
export const DEFAULTS = Object.freeze({
  listen: option('listen').default as string,
  intervalMs: num('interval'),
  timeoutMs: num('timeout'),
  staleIntervals: 3,
  spread: option('spread').default as boolean,
  discoveryIntervalMs: num('discoveryInterval'),
  workers: num('workers'),
  limits: Object.freeze({
    concurrency: num('limits.concurrency'),
    requestsPerSecond: num('limits.requestsPerSecond'),
    maxSeries: num('limits.maxSeries'),
    zoneRequestsPerSecond: num('limits.zoneRequestsPerSecond'),
  }),
  metrics: Object.freeze({ disable: Object.freeze([] as string[]), serverMetrics: option('metrics.serverMetrics').default as boolean }),
  loadBalancers: Object.freeze({ include: Object.freeze([] as string[]), exclude: Object.freeze([] as string[]) }),
  api: Object.freeze({ requestTimeoutMs: num('api.requestTimeout'), retries: num('api.retries'), retryBaseMs: num('api.retryBase'), maxResponseBytes: num('api.maxResponseBytes') }),
});

/** A value in the form the file takes it (`60s`, not 60000). */
export function formatValue(o: OptionSpec, v: unknown): string {
  if (o.type === 'duration' && typeof v === 'number') return formatDuration(v);
  if (o.type === 'listen' && v && typeof v === 'object') {
    const { host, port } = v as { host: string; port: number };
    return `${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  return String(v);
}

/** The README's configuration table, generated. */
export function markdownTable(): string {
  const rows = SCHEMA.map((o: OptionSpec) => `| \`${o.key}\` | ${o.defaultText ?? (o.default === undefined ? '' : `\`${formatValue(o, o.default)}\``)} | ${o.doc} |`);
  return ['| key | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
