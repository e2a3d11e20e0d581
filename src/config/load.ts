/**
 * Config file → frozen ExporterConfig. Every read is asynchronous (fs/promises) so a reload of
 * hundreds of Secret folders never holds the event loop; problems are collected, not thrown one
 * by one, and each names file and line (and never a credential's value).
 */
import { access, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { isAutoZones } from './account.js';
import { parseAccounts } from './accounts.js';
import { scanAccountsDir } from './accounts-dir.js';
import { formatDuration } from './duration.js';
import { applyZoneEndpointEnv, configFromEnvironment, hasEnvironmentAccount } from './env.js';
import { parseLbFilter, parseMetrics } from './controls.js';
import { ConfigError } from './errors.js';
import { freezeConfig } from './freeze.js';
import { parseListen } from './listen.js';
import { checkZones, parseApi, parseLimits, parseZones, readOptions } from './options.js';
import { DEFAULTS, KEYS, sectionOptions } from './schema.js';
import type { AccountConfig, ExporterConfig, NotCollectedAccount } from './types.js';
import { syntaxMessage, Walker } from './yaml-walk.js';

export { ConfigError } from './errors.js';
export { configFromEnvironment } from './env.js';
export { parseListen } from './listen.js';
export { DEFAULTS } from './schema.js';

export const DEFAULT_CONFIG_PATH = 'accounts/accounts.yaml';

export interface LoadOptions {
  /** Environment for `idEnv`/`passwordEnv`, zone endpoint overrides and the CLOUD_* mode. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** `--listen` overrides the file. */
  readonly listen?: string;
}

/**
 * Which config to run: an explicit `--config`/KTCLOUD_CONFIG file (missing is an error); else
 * the default file if it exists (with a warning when CLOUD_* are set too); else the CLOUD_*
 * environment of the original exporter.
 */
export async function loadConfig(explicitPath: string | undefined, opts: LoadOptions = {}): Promise<ExporterConfig> {
  const env = opts.env ?? process.env;
  const path = explicitPath ?? env.KTCLOUD_CONFIG;
  if (path) return loadConfigFile(path, opts);
  const defaultExists = await access(DEFAULT_CONFIG_PATH).then(() => true, () => false);
  if (defaultExists) {
    const warnings = hasEnvironmentAccount(env)
      ? [`both ${DEFAULT_CONFIG_PATH} and CLOUD_ID/CLOUD_PASSWORD/CLOUD_ZONE exist: using ${DEFAULT_CONFIG_PATH} (a config file wins); remove it or unset CLOUD_* to choose`]
      : [];
    return loadConfigFile(DEFAULT_CONFIG_PATH, opts, warnings);
  }
  const fromEnv = configFromEnvironment(env, opts);
  if (fromEnv) return fromEnv;
  throw new ConfigError([
    `no configuration: ${DEFAULT_CONFIG_PATH} does not exist; give --config FILE (or KTCLOUD_CONFIG), or set CLOUD_ID, CLOUD_PASSWORD and CLOUD_ZONE`,
  ]);
}

/** Reads, validates and freezes a config file. Rejects with a ConfigError listing every problem. */
export async function loadConfigFile(file: string, opts: LoadOptions = {}, warnings: readonly string[] = []): Promise<ExporterConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  return parseConfig(text, file, opts, warnings);
}

export async function parseConfig(text: string, file: string, opts: LoadOptions = {}, initialWarnings: readonly string[] = []): Promise<ExporterConfig> {
  const env = opts.env ?? process.env;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return `${file}:${line}:${col}: YAML syntax error: ${syntaxMessage(e.code, e.message)}`;
      }),
    );
  }
  const w = new Walker(file, lines);
  const root = doc.contents as Node | null;
  if (root === null || (isScalar(root) && root.value === null)) throw new ConfigError([`${file}:1: the config file is empty`]);
  const top = w.entries(root, '', KEYS.top);
  const warnings = [...initialWarnings];

  const o = readOptions(w, top, '', sectionOptions('').filter((spec) => spec.field));
  const listen = parseListen(opts.listen ?? (o.get('listen') as string | undefined) ?? DEFAULTS.listen);
  if (typeof listen === 'string') w.problem(top.get('listen')?.value, '', listen);
  const intervalMs = (o.get('interval') as number | undefined) ?? DEFAULTS.intervalMs;
  const timeoutMs = (o.get('timeout') as number | undefined) ?? Math.min(DEFAULTS.timeoutMs, intervalMs);
  const staleAfterMs = (o.get('staleAfter') as number | undefined) ?? DEFAULTS.staleIntervals * intervalMs;
  const spread = (o.get('spread') as boolean | undefined) ?? DEFAULTS.spread;
  const workers = (o.get('workers') as number | undefined) ?? DEFAULTS.workers;
  const discoveryIntervalMs = (o.get('discoveryInterval') as number | undefined) ?? DEFAULTS.discoveryIntervalMs;

  const limits = parseLimits(w, top.get('limits')?.value, 'limits', DEFAULTS.limits, false);
  const api = parseApi(w, top.get('api')?.value);
  const loadBalancers = top.has('loadBalancers') ? parseLbFilter(w, top.get('loadBalancers')!.value, '') : DEFAULTS.loadBalancers;
  const metrics = parseMetrics(w, top.get('metrics')?.value);
  const zones = parseZones(w, top.get('zones')?.value, limits);
  for (const p of applyZoneEndpointEnv(zones, env, warnings)) w.problems.push(p);
  const defaultZonesNode = top.get('defaultZones')?.value;
  const defaultZoneNames = defaultZonesNode ? (w.stringList(defaultZonesNode, '', 'defaultZones') ?? []) : undefined;
  // `auto` passes through as the list [auto]: each folder without CLOUD_ZONE then discovers its zones.
  const defaultZones =
    defaultZonesNode && defaultZoneNames ? (isAutoZones(defaultZoneNames) ? defaultZoneNames : checkZones(w, defaultZonesNode, 'defaultZones', defaultZoneNames, zones)) : undefined;

  const seen = new Map<string, string>();
  const accountsNode = top.get('accounts')?.value;
  const accounts: AccountConfig[] = accountsNode ? await parseAccounts(w, accountsNode, { env, zones, limits, warnings }, seen) : [];

  const dirNode = top.get('accountsDir')?.value;
  const accountsDir = dirNode ? w.string(dirNode, '', 'accountsDir') : undefined;
  const dirWatchFiles: string[] = [];
  const notCollected: NotCollectedAccount[] = [];
  if (dirNode && accountsDir) {
    const scan = await scanAccountsDir(w, dirNode, accountsDir, { zones, limits, defaultZones, warnings });
    dirWatchFiles.push(...scan.watchFiles);
    notCollected.push(...scan.notCollected);
    for (const acc of scan.accounts) {
      // An explicit entry wins over a discovered folder of the same name: it lets an operator
      // give one account other zones or limits while the rest come from Secret mounts.
      if (!seen.has(acc.name)) {
        seen.set(acc.name, acc.origin);
        accounts.push(acc);
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
    discoveryIntervalMs,
    zones,
    limits,
    api,
    loadBalancers,
    metrics,
    accountsDir: accountsDir ? resolve(accountsDir) : undefined,
    accounts,
    watchFiles: [resolve(file), ...accounts.flatMap((a) => a.credentialFiles), ...dirWatchFiles],
    notCollected,
    warnings,
  });
}
