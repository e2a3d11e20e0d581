import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { formatDuration, parseDuration } from './duration.js';
import { Secret } from './secret.js';
import type { AccountConfig, AccountLimits, ApiOptions, ExporterConfig, Limits, ZoneConfig } from './types.js';
import { splitList, Walker } from './yaml-walk.js';
import { BUILTIN_ZONES } from './zones.js';

/** A configuration that cannot be used; `problems` lists every finding, each naming file and line. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_PATH = 'accounts/accounts.yaml';
const ACCOUNT_NAME = /^[A-Za-z0-9_.-]+$/;

export const DEFAULTS = Object.freeze({
  listen: '0.0.0.0:9105',
  intervalMs: 60_000,
  timeoutMs: 45_000,
  staleIntervals: 3,
  workers: 2,
  limits: Object.freeze({ concurrency: 4, requestsPerSecond: 5, zoneRequestsPerSecond: 50 }),
  api: Object.freeze({ requestTimeoutMs: 10_000, retries: 3, retryBaseMs: 200, maxResponseBytes: 64 * 1024 * 1024 }),
});

const TOP_KEYS = ['listen', 'interval', 'timeout', 'staleAfter', 'spread', 'workers', 'zones', 'limits', 'api', 'accounts', 'accountsDir', 'defaultZones'] as const;
const ZONE_KEYS = ['endpoint', 'requestsPerSecond'] as const;
const LIMIT_KEYS = ['concurrency', 'requestsPerSecond', 'zoneRequestsPerSecond'] as const;
const ACCOUNT_LIMIT_KEYS = ['concurrency', 'requestsPerSecond'] as const;
const API_KEYS = ['requestTimeout', 'retries', 'retryBase', 'maxResponseBytes'] as const;
const ACCOUNT_KEYS = ['name', 'zones', 'id', 'idFile', 'idEnv', 'password', 'passwordFile', 'passwordEnv', 'limits'] as const;

export interface LoadOptions {
  /** Environment for `idEnv`/`passwordEnv` and the CLOUD_* mode. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** `--listen` overrides the file. */
  readonly listen?: string;
}

/** Reads, validates and freezes a config file. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string, opts: LoadOptions = {}): ExporterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfig(text, file, opts);
}

export function parseConfig(text: string, file: string, opts: LoadOptions = {}): ExporterConfig {
  const env = opts.env ?? process.env;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${file}:${e.linePos?.[0]?.line ?? 1}: YAML syntax error: ${firstLine(e.message)}`));
  }
  const w = new Walker(file, lines);
  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && root.value === null)) throw new ConfigError([`${file}:1: the config file is empty`]);
  const top = w.entries(root, '', TOP_KEYS);
  const warnings: string[] = [];

  const listen = parseListen(opts.listen ?? optString(w, top.get('listen')?.value, '', 'listen') ?? DEFAULTS.listen);
  if (typeof listen === 'string') w.problem(top.get('listen')?.value, '', listen);
  const intervalMs = optDuration(w, top.get('interval')?.value, 'interval', 1000) ?? DEFAULTS.intervalMs;
  const timeoutMs = optDuration(w, top.get('timeout')?.value, 'timeout', 100) ?? Math.min(DEFAULTS.timeoutMs, intervalMs);
  const staleAfterMs = optDuration(w, top.get('staleAfter')?.value, 'staleAfter', 0) ?? DEFAULTS.staleIntervals * intervalMs;
  const spreadNode = top.get('spread')?.value;
  const spread = spreadNode ? bool(w, spreadNode, 'spread') ?? true : true;
  const workersNode = top.get('workers')?.value;
  const workers = workersNode ? w.number(workersNode, '', 'workers', { min: 1, integer: true }) ?? DEFAULTS.workers : DEFAULTS.workers;

  const limits = parseLimits(w, top.get('limits')?.value, 'limits', DEFAULTS.limits, LIMIT_KEYS) as Limits;
  const api = parseApi(w, top.get('api')?.value);
  const zones = parseZones(w, top.get('zones')?.value, limits);
  const defaultZonesNode = top.get('defaultZones')?.value;
  const defaultZones = defaultZonesNode ? checkZones(w, defaultZonesNode, 'defaultZones', w.stringList(defaultZonesNode, '', 'defaultZones') ?? [], zones) : undefined;

  const accounts: AccountConfig[] = [];
  const firstLine_ = new Map<string, string>();
  const accountsNode = top.get('accounts')?.value;
  if (accountsNode) {
    if (!isSeq(accountsNode)) w.problem(accountsNode, '', 'accounts: expected a list of accounts');
    else {
      accountsNode.items.forEach((item, i) => {
        const acc = parseAccount(w, item as Node, i, { env, zones, limits, warnings });
        if (!acc) return;
        const seen = firstLine_.get(acc.name);
        if (seen) w.problem(item as Node, `account "${acc.name}"`, `duplicate account name (first defined at ${seen})`);
        else {
          firstLine_.set(acc.name, acc.origin);
          accounts.push(acc);
        }
      });
    }
  }

  const dirNode = top.get('accountsDir')?.value;
  let accountsDir: string | undefined;
  if (dirNode) {
    accountsDir = w.string(dirNode, '', 'accountsDir');
    if (accountsDir) {
      for (const acc of scanAccountsDir(w, dirNode, accountsDir, { zones, limits, defaultZones, warnings })) {
        // An explicit entry wins over a discovered folder of the same name: it lets an operator
        // give one account other zones or limits while the rest come from Secret mounts.
        if (!firstLine_.has(acc.name)) {
          firstLine_.set(acc.name, acc.origin);
          accounts.push(acc);
        }
      }
    }
  }
  if (!accountsNode && !dirNode) w.problem(root, '', 'no accounts: give `accounts:` or `accountsDir:`');

  if (timeoutMs > intervalMs) w.problem(top.get('timeout')?.value, '', `timeout: ${formatDuration(timeoutMs)} is longer than the interval (${formatDuration(intervalMs)})`);
  if (w.problems.length > 0) throw new ConfigError(w.problems);
  return freezeConfig({
    source: file,
    listen: listen as { host: string; port: number },
    intervalMs,
    timeoutMs,
    staleAfterMs,
    spread,
    workers,
    zones,
    limits,
    api,
    accountsDir: accountsDir ? resolve(accountsDir) : undefined,
    accounts,
    watchFiles: [resolve(file), ...accounts.flatMap((a) => a.credentialFiles)],
    warnings,
  });
}

/**
 * The original exporter's interface: no config file, one account from CLOUD_ID, CLOUD_PASSWORD
 * and CLOUD_ZONE. Returns undefined when those are not set.
 */
export function configFromEnvironment(env: NodeJS.ProcessEnv, opts: LoadOptions = {}): ExporterConfig | undefined {
  const { CLOUD_ID: id, CLOUD_PASSWORD: password, CLOUD_ZONE: zone } = env;
  if (!id || !password || !zone) return undefined;
  const zones = builtinZones(DEFAULTS.limits.zoneRequestsPerSecond);
  const wanted = splitList(zone);
  const unknown = wanted.filter((z) => !zones[z]);
  if (unknown.length > 0) throw new ConfigError([`environment: CLOUD_ZONE: unknown zone "${unknown[0]}" (known: ${Object.keys(zones).join(', ')})`]);
  const listen = parseListen(opts.listen ?? DEFAULTS.listen);
  if (typeof listen === 'string') throw new ConfigError([`--listen: ${listen}`]);
  return freezeConfig({
    source: 'environment',
    listen,
    intervalMs: DEFAULTS.intervalMs,
    timeoutMs: DEFAULTS.timeoutMs,
    staleAfterMs: DEFAULTS.staleIntervals * DEFAULTS.intervalMs,
    spread: true,
    workers: DEFAULTS.workers,
    zones,
    limits: DEFAULTS.limits,
    api: DEFAULTS.api,
    accounts: [
      {
        name: 'default',
        zones: wanted,
        id: new Secret(id),
        password: new Secret(password),
        credentialFiles: [],
        limits: { concurrency: DEFAULTS.limits.concurrency, requestsPerSecond: DEFAULTS.limits.requestsPerSecond },
        origin: 'environment CLOUD_ID/CLOUD_PASSWORD/CLOUD_ZONE',
      },
    ],
    watchFiles: [],
    warnings: [],
  });
}

/**
 * Which config to run: an explicit `--config`/KTCLOUD_CONFIG file; else the default file if it
 * exists; else the CLOUD_* environment of the original exporter.
 */
export function resolveConfig(explicitPath: string | undefined, opts: LoadOptions = {}): ExporterConfig {
  const env = opts.env ?? process.env;
  const path = explicitPath ?? env.KTCLOUD_CONFIG;
  if (path) return loadConfigFile(path, opts);
  if (existsSync(DEFAULT_CONFIG_PATH)) return loadConfigFile(DEFAULT_CONFIG_PATH, opts);
  const fromEnv = configFromEnvironment(env, opts);
  if (fromEnv) return fromEnv;
  throw new ConfigError([
    `no configuration: ${DEFAULT_CONFIG_PATH} does not exist; give --config FILE (or KTCLOUD_CONFIG), or set CLOUD_ID, CLOUD_PASSWORD and CLOUD_ZONE`,
  ]);
}

function parseAccount(
  w: Walker,
  node: Node,
  index: number,
  ctx: { env: NodeJS.ProcessEnv; zones: Record<string, ZoneConfig>; limits: Limits; warnings: string[] },
): AccountConfig | undefined {
  const before = w.problems.length;
  const nameNode = isMap(node) ? (node.get('name', true) as Node | undefined) : undefined;
  const rawName = isScalar(nameNode) ? String(nameNode.value) : undefined;
  const context = rawName ? `account "${rawName}"` : `accounts[${index}]`;
  const f = w.entries(node, context, ACCOUNT_KEYS);
  if (!f.has('name')) w.problem(node, context, 'name: required');
  const name = f.has('name') ? w.string(f.get('name')!.value, context, 'name') : undefined;
  if (name !== undefined && !ACCOUNT_NAME.test(name)) w.problem(f.get('name')!.value, context, `name: "${name}" may only contain letters, digits, "_", "." and "-"`);
  const zonesNode = f.get('zones')?.value;
  if (!zonesNode) w.problem(node, context, 'zones: required (e.g. zones: [DX-M1])');
  const zones = zonesNode ? checkZones(w, zonesNode, context, w.stringList(zonesNode, context, 'zones') ?? [], ctx.zones) : [];
  if (zonesNode && zones.length === 0 && w.problems.length === before) w.problem(zonesNode, context, 'zones: at least one zone is required');
  const files: string[] = [];
  const id = credential(w, f, node, context, 'id', ctx.env, files, ctx.warnings);
  const password = credential(w, f, node, context, 'password', ctx.env, files, ctx.warnings);
  const limits = parseLimits(w, f.get('limits')?.value, `${context}: limits`, ctx.limits, ACCOUNT_LIMIT_KEYS);
  if (w.problems.length > before || !name || !id || !password) return undefined;
  return {
    name,
    zones,
    id,
    password,
    credentialFiles: files,
    limits: { concurrency: limits.concurrency, requestsPerSecond: limits.requestsPerSecond },
    origin: `${w.file}:${w.line(node)}`,
  };
}

/** One credential from exactly one of `<key>`, `<key>File` or `<key>Env`. */
function credential(
  w: Walker,
  f: Map<string, { value: Node | null }>,
  node: Node,
  context: string,
  key: 'id' | 'password',
  env: NodeJS.ProcessEnv,
  files: string[],
  warnings: string[],
): Secret | undefined {
  const given = [key, `${key}File`, `${key}Env`].filter((k) => f.has(k));
  if (given.length !== 1) {
    w.problem(node, context, given.length === 0 ? `${key}: required (one of ${key}, ${key}File, ${key}Env)` : `${key}: give only one of ${given.join(', ')}`);
    return undefined;
  }
  const k = given[0]!;
  const valueNode = f.get(k)!.value;
  const text = w.string(valueNode, context, k);
  if (text === undefined) return undefined;
  if (k === key) return new Secret(text);
  if (k.endsWith('Env')) {
    const v = env[text];
    if (!v) {
      w.problem(valueNode, context, `${k}: environment variable ${text} is not set`);
      return undefined;
    }
    return new Secret(v.trim());
  }
  const value = readCredentialFile(text, (msg) => w.problem(valueNode, context, `${k}: ${msg}`), warnings, context);
  if (value !== undefined) files.push(resolve(text));
  return value;
}

function readCredentialFile(path: string, fail: (msg: string) => void, warnings: string[], context: string): Secret | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fail(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? 'error'}`);
    return undefined;
  }
  if (text === '') {
    fail(`${path} is empty`);
    return undefined;
  }
  try {
    if ((statSync(path).mode & 0o004) !== 0) warnings.push(`${context}: credential file ${path} is readable by every user (mode ${(statSync(path).mode & 0o777).toString(8)}); restrict it, e.g. chmod 600 or defaultMode: 0400 on the Secret volume`);
  } catch {
    // The file was just read; a stat failure here only skips the warning.
  }
  return new Secret(text);
}

/** Every subfolder holding CLOUD_ID and CLOUD_PASSWORD (and optionally CLOUD_ZONE) is an account. */
function scanAccountsDir(
  w: Walker,
  node: Node,
  dir: string,
  ctx: { zones: Record<string, ZoneConfig>; limits: Limits; defaultZones?: string[]; warnings: string[] },
): AccountConfig[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    w.problem(node, '', `accountsDir: cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return [];
  }
  const out: AccountConfig[] = [];
  for (const name of names) {
    const folder = join(dir, name);
    try {
      if (!statSync(folder).isDirectory()) continue;
    } catch {
      continue;
    }
    const context = `account "${name}" (${folder})`;
    if (!ACCOUNT_NAME.test(name)) {
      w.problem(node, context, 'folder name may only contain letters, digits, "_", "." and "-"');
      continue;
    }
    const problem = (msg: string) => w.problem(node, context, msg);
    const files = ['CLOUD_ID', 'CLOUD_PASSWORD'].map((k) => join(folder, k));
    if (!existsSync(files[0]!) && !existsSync(files[1]!)) continue; // not an account folder
    const id = readCredentialFile(files[0]!, problem, ctx.warnings, context);
    const password = readCredentialFile(files[1]!, problem, ctx.warnings, context);
    let zones = ctx.defaultZones;
    const zoneFile = join(folder, 'CLOUD_ZONE');
    if (existsSync(zoneFile)) {
      zones = splitList(readFileSync(zoneFile, 'utf8'));
      files.push(zoneFile);
    }
    if (!zones || zones.length === 0) {
      problem('no CLOUD_ZONE file and no defaultZones in the config');
      continue;
    }
    const unknown = zones.find((z) => !ctx.zones[z]);
    if (unknown) {
      problem(`CLOUD_ZONE: unknown zone "${unknown}" (known: ${Object.keys(ctx.zones).join(', ')})`);
      continue;
    }
    if (!id || !password) continue;
    out.push({
      name,
      zones,
      id,
      password,
      credentialFiles: files.map((f) => resolve(f)),
      limits: { concurrency: ctx.limits.concurrency, requestsPerSecond: ctx.limits.requestsPerSecond },
      origin: folder,
    });
  }
  return out;
}

function parseZones(w: Walker, node: Node | null | undefined, limits: Limits): Record<string, ZoneConfig> {
  const zones = builtinZones(limits.zoneRequestsPerSecond);
  if (!node) return zones;
  if (!isMap(node)) {
    w.problem(node, '', 'zones: expected a mapping of zone name to { endpoint }');
    return zones;
  }
  for (const pair of node.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const context = `zone "${name}"`;
    const f = w.entries(pair.value as Node, context, ZONE_KEYS);
    const base = zones[name];
    let endpoint = base?.endpoint;
    if (f.has('endpoint')) {
      const e = w.string(f.get('endpoint')!.value, context, 'endpoint');
      if (e !== undefined) {
        if (!/^https?:\/\/[^/]/.test(e)) w.problem(f.get('endpoint')!.value, context, `endpoint: "${e}" is not an http(s) URL`);
        endpoint = e.replace(/\/+$/, '');
      }
    } else if (!base) w.problem(pair.value as Node, context, 'endpoint: required for a zone that is not built in');
    const rpsNode = f.get('requestsPerSecond')?.value;
    const rps = rpsNode ? w.number(rpsNode, context, 'requestsPerSecond', { min: 0.001 }) : undefined;
    if (endpoint) zones[name] = { name, endpoint, requestsPerSecond: rps ?? limits.zoneRequestsPerSecond };
  }
  return zones;
}

function builtinZones(rps: number): Record<string, ZoneConfig> {
  return Object.fromEntries(Object.entries(BUILTIN_ZONES).map(([name, endpoint]) => [name, { name, endpoint, requestsPerSecond: rps }]));
}

function checkZones(w: Walker, node: Node, context: string, names: string[], zones: Record<string, ZoneConfig>): string[] {
  const out: string[] = [];
  for (const z of names) {
    if (!zones[z]) w.problem(node, context, `unknown zone "${z}" (known: ${Object.keys(zones).join(', ')})`);
    else if (out.includes(z)) w.problem(node, context, `zone "${z}" is listed twice`);
    else out.push(z);
  }
  return out;
}

function parseLimits<K extends string>(w: Walker, node: Node | null | undefined, context: string, defaults: Limits | AccountLimits, keys: readonly K[]): Limits {
  const out = { ...DEFAULTS.limits, ...defaults } as { -readonly [P in keyof Limits]: number };
  if (!node) return out;
  const f = w.entries(node, context, keys);
  for (const [k, pair] of f) {
    const integer = k === 'concurrency';
    const v = w.number(pair.value, context, k, { min: integer ? 1 : 0.001, integer });
    if (v !== undefined) out[k as keyof Limits] = v;
  }
  return out;
}

function parseApi(w: Walker, node: Node | null | undefined): ApiOptions {
  const out = { ...DEFAULTS.api } as { -readonly [P in keyof ApiOptions]: number };
  if (!node) return out;
  const f = w.entries(node, 'api', API_KEYS);
  const d = (k: string, min: number) => optDuration(w, f.get(k)?.value, `api.${k}`, min);
  out.requestTimeoutMs = d('requestTimeout', 10) ?? out.requestTimeoutMs;
  out.retryBaseMs = d('retryBase', 0) ?? out.retryBaseMs;
  if (f.has('retries')) out.retries = w.number(f.get('retries')!.value, 'api', 'retries', { min: 0, integer: true }) ?? out.retries;
  if (f.has('maxResponseBytes')) out.maxResponseBytes = w.number(f.get('maxResponseBytes')!.value, 'api', 'maxResponseBytes', { min: 1024, integer: true }) ?? out.maxResponseBytes;
  return out;
}

function bool(w: Walker, node: Node, key: string): boolean | undefined {
  if (isScalar(node) && typeof node.value === 'boolean') return node.value;
  w.problem(node, '', `${key}: expected true or false`);
  return undefined;
}

function optString(w: Walker, node: Node | null | undefined, context: string, key: string): string | undefined {
  return node ? w.string(node, context, key) : undefined;
}

function optDuration(w: Walker, node: Node | null | undefined, key: string, minMs: number): number | undefined {
  if (!node) return undefined;
  const text = isScalar(node) && node.value !== null ? String(node.value) : '';
  const ms = parseDuration(text);
  if (ms === undefined) {
    w.problem(node, '', `${key}: "${text}" is not a duration (use e.g. 500ms, 30s, 5m)`);
    return undefined;
  }
  if (ms < minMs) {
    w.problem(node, '', `${key}: ${text} is too short (at least ${formatDuration(minMs)})`);
    return undefined;
  }
  return ms;
}

/** `HOST:PORT`, `:PORT` or `[v6]:PORT`; returns an error text when malformed. */
export function parseListen(text: string): { host: string; port: number } | string {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return `listen: "${text}" is not HOST:PORT (e.g. 0.0.0.0:9105)`;
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

function freezeConfig(c: ExporterConfig): ExporterConfig {
  const deep = (o: unknown): void => {
    if (o && typeof o === 'object' && !Object.isFrozen(o) && !(o instanceof Secret)) {
      Object.freeze(o);
      for (const v of Object.values(o)) deep(v);
    }
  };
  deep(c);
  return c;
}
