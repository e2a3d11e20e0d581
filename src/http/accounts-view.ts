/**
 * The /accounts data, as JSON (`Accept: application/json` or `?format=json`) and as the model
 * the HTML page renders. This shape is a documented, stable contract (schemaVersion 1):
 * fields may be added, never renamed or removed. It never holds a credential or a token.
 */
import type { NotCollectedAccount } from '../config/types.js';
import type { ErrorReason } from '../ktcloud/errors.js';
import { healthOf, type Store, type ZoneHealth, type ZoneState } from '../state/store.js';

export type AccountHealth = ZoneHealth;

export interface ErrorView {
  readonly reason: ErrorReason;
  /** HTTP status or API error code, when there was one. */
  readonly code: number | null;
  readonly message: string;
  readonly zone: string;
  /** ISO-8601. */
  readonly at: string;
}

export interface ZoneView {
  readonly zone: string;
  readonly state: AccountHealth;
  readonly lastSuccess: string | null;
  readonly lastAttempt: string | null;
  readonly lastDurationSeconds: number | null;
  readonly lbs: number | null;
  readonly lbsDown: number | null;
  readonly servers: number | null;
  readonly serversDown: number | null;
  readonly consecutiveFailures: number;
  readonly partial: boolean;
  readonly lastError: ErrorView | null;
}

export interface AccountView {
  readonly name: string;
  readonly zones: readonly ZoneView[];
  /** The worst zone state: failing > stale > pending > ok. */
  readonly state: AccountHealth;
  /** Latest success over zones only when every zone has one, else the oldest (null if any zone never succeeded). */
  readonly lastSuccess: string | null;
  readonly lastAttempt: string | null;
  readonly lastDurationSeconds: number | null;
  readonly lbs: number;
  readonly lbsDown: number;
  readonly servers: number;
  readonly serversDown: number;
  readonly consecutiveFailures: number;
  readonly nextRun: string | null;
  /** When the account is collected next (ISO-8601; null while a collection runs): its slot, or its backoff while failing. */
  readonly nextAttempt: string | null;
  /** Consecutive failed collections of the account, which its backoff (1, 2, 4, 8 … intervals) is based on. */
  readonly failures: number;
  readonly partial: boolean;
  readonly lastError: ErrorView | null;
  /** `list`: the zones of the config; `auto`: discovered (README "Zone discovery"). */
  readonly zonesMode: 'list' | 'auto';
  /** `auto` only: when the last discovery ended (ISO-8601; null before the first). */
  readonly discoveredAt?: string | null;
  /** `auto` only: the zones the last discovery chose to collect. */
  readonly discoveredZones?: readonly string[];
  /** `auto` only: zones where authentication failed at the last discovery (not errors of the account). */
  readonly authFailedZones?: readonly string[];
}

/** What the runtime knows of a `zones: auto` account's discovery. */
export interface DiscoveryInfo {
  readonly zones: readonly string[];
  readonly discoveredAtMs: number | null;
  readonly authFailed: readonly string[];
}

export interface AccountsView {
  readonly schemaVersion: 1;
  /** ISO-8601 time the view was made. */
  readonly generatedAt: string;
  readonly intervalSeconds: number;
  readonly shard: { readonly index: number; readonly total: number };
  readonly summary: { readonly accounts: number; readonly ok: number; readonly failing: number; readonly stale: number; readonly pending: number };
  /** Failing first, then stale, pending, ok; by name within a state. */
  readonly accounts: readonly AccountView[];
  /**
   * `accountsDir` folders left out because they cannot be used (e.g. a Secret lacking
   * CLOUD_PASSWORD): name (null when the folder gave none), folder and the problems, no value.
   * The same on every shard: such a folder belongs to no shard yet.
   */
  readonly notCollected?: readonly NotCollectedAccount[];
}

const SEVERITY: Record<AccountHealth, number> = { failing: 0, stale: 1, pending: 2, ok: 3 };

export function buildAccountsView(
  store: Store,
  opts: {
    now?: number;
    intervalMs: number;
    shard: { index: number; total: number };
    nextRunOf: (account: string) => number | null;
    failuresOf?: (account: string) => number;
    notCollected?: readonly NotCollectedAccount[];
    /** Owned `zones: auto` accounts; one found in no zone still has its row. */
    discoveries?: ReadonlyArray<readonly [string, DiscoveryInfo]>;
  },
): AccountsView {
  const now = opts.now ?? Date.now();
  const byAccount = new Map<string, ZoneState[]>();
  for (const z of store.all()) {
    const list = byAccount.get(z.account) ?? [];
    list.push(z);
    byAccount.set(z.account, list);
  }
  const discoveries = new Map(opts.discoveries ?? []);
  for (const name of discoveries.keys()) if (!byAccount.has(name)) byAccount.set(name, []);
  const accounts = [...byAccount].map(([name, zs]) => accountView(name, zs, opts.nextRunOf(name), opts.failuresOf?.(name) ?? 0, discoveries.get(name)));
  accounts.sort((a, b) => SEVERITY[a.state] - SEVERITY[b.state] || a.name.localeCompare(b.name));
  const count = (s: AccountHealth) => accounts.filter((a) => a.state === s).length;
  return {
    schemaVersion: 1,
    generatedAt: new Date(now).toISOString(),
    intervalSeconds: opts.intervalMs / 1000,
    shard: opts.shard,
    summary: { accounts: accounts.length, ok: count('ok'), failing: count('failing'), stale: count('stale'), pending: count('pending') },
    accounts,
    notCollected: (opts.notCollected ?? []).map((n) => ({ name: n.name, folder: n.folder, problems: [...n.problems] })),
  };
}

function accountView(name: string, zs: ZoneState[], nextRun: number | null, failures: number, discovery?: DiscoveryInfo): AccountView {
  const zones = zs.map(zoneView);
  // Discovered in no zone: healthy with nothing to collect once discovery ran, pending before.
  const empty = discovery && zs.length === 0 ? (discovery.discoveredAtMs === null ? 'pending' : 'ok') : 'pending';
  const state = zones.map((z) => z.state).sort((a, b) => SEVERITY[a] - SEVERITY[b])[0] ?? empty;
  const successes = zs.map((z) => z.lastSuccessMs);
  // With no zone, the discovery is the account's last success and attempt.
  const lastSuccess = zs.length === 0 ? (discovery?.discoveredAtMs ?? null) : successes.some((t) => t === null) ? null : Math.min(...(successes as number[]));
  const attempts = zs.map((z) => z.lastAttemptMs).filter((t): t is number => t !== null);
  if (zs.length === 0 && discovery?.discoveredAtMs != null) attempts.push(discovery.discoveredAtMs);
  const durations = zs.map((z) => z.lastDurationMs).filter((t): t is number => t !== null);
  const errors = zones.map((z) => z.lastError).filter((e): e is ErrorView => e !== null).sort((a, b) => b.at.localeCompare(a.at));
  const sum = (f: (z: ZoneView) => number | null) => zones.reduce((n, z) => n + (f(z) ?? 0), 0);
  const failing = zones.some((z) => z.state === 'failing' || z.state === 'stale');
  return {
    name,
    zones,
    state,
    lastSuccess: iso(lastSuccess),
    lastAttempt: iso(attempts.length ? Math.max(...attempts) : null),
    lastDurationSeconds: durations.length ? Math.max(...durations) / 1000 : null,
    lbs: sum((z) => z.lbs),
    lbsDown: sum((z) => z.lbsDown),
    servers: sum((z) => z.servers),
    serversDown: sum((z) => z.serversDown),
    consecutiveFailures: Math.max(0, ...zones.map((z) => z.consecutiveFailures)),
    nextRun: iso(nextRun),
    nextAttempt: iso(nextRun),
    failures,
    partial: zones.some((z) => z.partial),
    // A healthy account still shows what went wrong last, for partial collections.
    lastError: failing || zones.some((z) => z.partial) ? errors[0] ?? null : null,
    zonesMode: discovery ? 'auto' : 'list',
    ...(discovery
      ? { discoveredAt: iso(discovery.discoveredAtMs), discoveredZones: [...discovery.zones], authFailedZones: [...discovery.authFailed] }
      : {}),
  };
}

function zoneView(z: ZoneState): ZoneView {
  const e = z.lastError;
  return {
    zone: z.zone,
    state: healthOf(z),
    lastSuccess: iso(z.lastSuccessMs),
    lastAttempt: iso(z.lastAttemptMs),
    lastDurationSeconds: z.lastDurationMs === null ? null : z.lastDurationMs / 1000,
    lbs: z.summary?.lbs ?? null,
    lbsDown: z.summary?.lbsDown ?? null,
    servers: z.summary?.servers ?? null,
    serversDown: z.summary?.serversDown ?? null,
    consecutiveFailures: z.consecutiveFailures,
    partial: z.partial !== null,
    lastError: e ? { reason: e.reason, code: e.status ?? e.apiCode ?? null, message: e.message, zone: e.zone, at: new Date(e.atMs).toISOString() } : null,
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
