/**
 * The environment as a config source: the original exporter's CLOUD_ID/CLOUD_PASSWORD/CLOUD_ZONE
 * (one account "default", e.g. in a container with no config file), and zone endpoint overrides
 * (`CLOUD_ENDPOINT` for that account's zones, `KTCLOUD_ZONE_<ZONE>_ENDPOINT` in every mode) so
 * that mode can be pointed at a proxy or at the simulator.
 */
import { AUTO_ZONES, isAutoZones, makeAccount } from './account.js';
import { MAX_CREDENTIAL_BYTES, withinLimit } from './credentials.js';
import { ConfigError } from './errors.js';
import { freezeConfig } from './freeze.js';
import { parseListen } from './listen.js';
import { DEFAULTS } from './schema.js';
import { Secret } from './secret.js';
import type { ExporterConfig, ZoneConfig } from './types.js';
import { splitList } from './yaml-walk.js';
import { builtinZones, checkEndpoint } from './zones.js';

export const ENV_ORIGIN = 'environment CLOUD_ID/CLOUD_PASSWORD/CLOUD_ZONE';

/** True when the environment names an account: the three CLOUD_* variables are all set. */
export function hasEnvironmentAccount(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.CLOUD_ID && env.CLOUD_PASSWORD && env.CLOUD_ZONE);
}

/** `DX-M1` → `KTCLOUD_ZONE_DX_M1_ENDPOINT`. */
export function zoneEndpointVariable(zone: string): string {
  return `KTCLOUD_ZONE_${zone.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_ENDPOINT`;
}

/**
 * Applies `KTCLOUD_ZONE_<ZONE>_ENDPOINT` to the known zones (the environment wins over the file,
 * as a flag would). Returns the problems; a variable that matches no zone is a warning.
 */
export function applyZoneEndpointEnv(zones: Record<string, ZoneConfig>, env: NodeJS.ProcessEnv, warnings: string[]): string[] {
  const problems: string[] = [];
  const byVariable = new Map(Object.keys(zones).map((z) => [zoneEndpointVariable(z), z]));
  for (const [variable, value] of Object.entries(env)) {
    if (!/^KTCLOUD_ZONE_.+_ENDPOINT$/.test(variable) || value === undefined) continue;
    const zone = byVariable.get(variable);
    if (!zone) {
      warnings.push(`environment: ${variable} matches no zone (known: ${Object.keys(zones).join(', ')})`);
      continue;
    }
    const bad = checkEndpoint(value);
    if (bad) problems.push(`environment: ${variable}: ${bad}`);
    else zones[zone] = { ...zones[zone]!, endpoint: value.trim().replace(/\/+$/, '') };
  }
  return problems;
}

/** One account "default" from CLOUD_*; undefined when they are not all set. */
export function configFromEnvironment(env: NodeJS.ProcessEnv, opts: { listen?: string; warnings?: readonly string[] } = {}): ExporterConfig | undefined {
  if (!hasEnvironmentAccount(env)) return undefined;
  const zones = builtinZones(DEFAULTS.limits.zoneRequestsPerSecond);
  const listed = splitList(env.CLOUD_ZONE!);
  // CLOUD_ZONE=auto: the account's zones are discovered (CLOUD_ENDPOINT then applies to none).
  const autoZones = isAutoZones(listed);
  const wanted = autoZones ? [] : listed;
  if (wanted.includes(AUTO_ZONES)) throw new ConfigError([`environment: CLOUD_ZONE: "${AUTO_ZONES}" stands alone: it discovers the zones, so list no other zone with it`]);
  const unknown = wanted.filter((z) => !zones[z]);
  if (unknown.length > 0) throw new ConfigError([`environment: CLOUD_ZONE: unknown zone "${unknown[0]}" (known: ${Object.keys(zones).join(', ')})`]);
  const problems: string[] = [];
  for (const v of ['CLOUD_ID', 'CLOUD_PASSWORD'] as const) if (!withinLimit(env[v]!)) problems.push(`environment: ${v}: longer than ${MAX_CREDENTIAL_BYTES} bytes`);
  if (env.CLOUD_ENDPOINT) {
    const bad = checkEndpoint(env.CLOUD_ENDPOINT);
    if (bad) problems.push(`environment: CLOUD_ENDPOINT: ${bad}`);
    else for (const z of wanted) zones[z] = { ...zones[z]!, endpoint: env.CLOUD_ENDPOINT.trim().replace(/\/+$/, '') };
  }
  const warnings = [...(opts.warnings ?? [])];
  problems.push(...applyZoneEndpointEnv(zones, env, warnings));
  const listen = parseListen(opts.listen ?? DEFAULTS.listen);
  if (typeof listen === 'string') problems.push(`--listen: ${listen}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return freezeConfig({
    source: 'environment',
    listen: listen as { host: string; port: number },
    intervalMs: DEFAULTS.intervalMs,
    timeoutMs: DEFAULTS.timeoutMs,
    staleAfterMs: DEFAULTS.staleIntervals * DEFAULTS.intervalMs,
    spread: DEFAULTS.spread,
    discoveryIntervalMs: DEFAULTS.discoveryIntervalMs,
    workers: DEFAULTS.workers,
    zones,
    limits: DEFAULTS.limits,
    api: DEFAULTS.api,
    loadBalancers: DEFAULTS.loadBalancers,
    metrics: DEFAULTS.metrics,
    accounts: [makeAccount({ name: 'default', zones: wanted, autoZones, id: new Secret(env.CLOUD_ID!), password: new Secret(env.CLOUD_PASSWORD!), limits: DEFAULTS.limits, origin: ENV_ORIGIN })],
    watchFiles: [],
    warnings,
  });
}
