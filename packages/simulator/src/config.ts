/**
 * Simulator configuration: defaults, validation with messages that name the offending path,
 * and YAML loading. Validation happens once at start so the request path can trust the data.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { FaultValidationError, validateFaults } from './faults.js';
import type { AccountConfig, AccountZoneConfig, Faults, GenerateConfig, SimulatorConfig, ZoneConfig } from './types.js';

export class SimulatorConfigError extends Error {}

/** The DX zones documented in ktcloud-api.md; config may override or add to them. */
export const DEFAULT_ZONES: Readonly<Record<string, ZoneConfig>> = Object.freeze({
  'DX-M1': { prefix: '/d1' },
  'DX-Central': { prefix: '/d2' },
  'DX-DCN-CJ': { prefix: '/d3' },
  'DX-G': { prefix: '/gd1' },
  'DX-G-YS': { prefix: '/gd4' },
});

export interface NormalizedAccountZone {
  lbs: number;
  serversPerLb: number;
  loadBalancers?: AccountZoneConfig['loadBalancers'];
  faults: Faults;
}

export interface NormalizedAccount {
  id: string;
  password: string;
  zones: Record<string, NormalizedAccountZone>;
  faults: Faults;
}

export interface NormalizedConfig {
  host: string;
  port: number;
  latency: { min: number; max: number };
  tokenTtlMs: number;
  zones: Record<string, ZoneConfig>;
  seed: number;
  /** Explicit accounts first, then generated ones, in a stable order. */
  accounts: NormalizedAccount[];
  liveFiguresPeriodMs: number;
  statsCapacity: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(where: string, message: string): never {
  throw new SimulatorConfigError(`simulator config ${where}: ${message}`);
}

function int(where: string, v: unknown, min: number, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(where, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function faults(where: string, v: unknown): Faults {
  try {
    return validateFaults(v, where);
  } catch (err) {
    if (err instanceof FaultValidationError) fail(where, err.message);
    throw err;
  }
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(listen.trim());
  if (!m) throw new SimulatorConfigError(`simulator config listen: expected HOST:PORT, got ${JSON.stringify(listen)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new SimulatorConfigError(`simulator config listen: port out of range in ${JSON.stringify(listen)}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function normalizeZones(raw: unknown): Record<string, ZoneConfig> {
  const zones: Record<string, ZoneConfig> = { ...DEFAULT_ZONES };
  if (raw !== undefined) {
    if (!isObject(raw)) fail('zones', 'must be a map of zone name to { prefix }');
    for (const [name, z] of Object.entries(raw)) {
      if (!isObject(z) || typeof z.prefix !== 'string') fail(`zones.${name}`, 'must be { prefix: "/..." }');
      const prefix = z.prefix.replace(/\/+$/, '');
      if (!/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(prefix)) fail(`zones.${name}.prefix`, `must look like "/d1", got ${JSON.stringify(z.prefix)}`);
      if (prefix === '/_sim' || prefix.startsWith('/_sim/')) fail(`zones.${name}.prefix`, '"/_sim" is reserved for the control API');
      zones[name] = { prefix };
    }
  }
  const seen = new Map<string, string>();
  for (const [name, z] of Object.entries(zones)) {
    const other = seen.get(z.prefix);
    if (other) fail(`zones.${name}.prefix`, `prefix ${z.prefix} is already used by zone ${other}`);
    seen.set(z.prefix, name);
  }
  return zones;
}

function checkZone(where: string, zone: string, zones: Record<string, ZoneConfig>): void {
  if (!(zone in zones)) fail(where, `unknown zone "${zone}" (known: ${Object.keys(zones).join(', ')})`);
}

function normalizeAccount(raw: unknown, i: number, zones: Record<string, ZoneConfig>): NormalizedAccount {
  const where = `accounts[${i}]`;
  if (!isObject(raw)) fail(where, 'must be an object');
  const a = raw as Partial<AccountConfig> & Record<string, unknown>;
  for (const k of Object.keys(a)) if (!['id', 'password', 'zones', 'faults'].includes(k)) fail(`${where}.${k}`, 'unknown key');
  if (typeof a.id !== 'string' || a.id === '') fail(`${where}.id`, 'must be a non-empty string');
  if (typeof a.password !== 'string') fail(`${where}.password`, 'must be a string');
  const out: NormalizedAccount = { id: a.id, password: a.password, zones: {}, faults: faults(`${where}.faults`, a.faults) };
  if (a.zones !== undefined && !isObject(a.zones)) fail(`${where}.zones`, 'must be a map of zone name to { lbs, serversPerLb } or { loadBalancers }');
  for (const [zone, zr] of Object.entries(a.zones ?? {})) {
    const zw = `${where}.zones.${zone}`;
    checkZone(zw, zone, zones);
    const z = (zr ?? {}) as Record<string, unknown>;
    if (!isObject(z)) fail(zw, 'must be an object');
    for (const k of Object.keys(z)) if (!['lbs', 'serversPerLb', 'loadBalancers', 'faults'].includes(k)) fail(`${zw}.${k}`, 'unknown key');
    if (z.loadBalancers !== undefined) {
      if (!Array.isArray(z.loadBalancers)) fail(`${zw}.loadBalancers`, 'must be a list');
      z.loadBalancers.forEach((lb: unknown, j: number) => {
        if (!isObject(lb) || typeof lb.name !== 'string') fail(`${zw}.loadBalancers[${j}].name`, 'must be a string');
        if (lb.servers !== undefined && !Array.isArray(lb.servers)) fail(`${zw}.loadBalancers[${j}].servers`, 'must be a list');
        (lb.servers as unknown[] | undefined)?.forEach((s, k) => {
          if (!isObject(s) || typeof s.ipaddress !== 'string') fail(`${zw}.loadBalancers[${j}].servers[${k}].ipaddress`, 'must be a string');
        });
      });
    }
    out.zones[zone] = {
      lbs: int(`${zw}.lbs`, z.lbs, 0, 0),
      serversPerLb: int(`${zw}.serversPerLb`, z.serversPerLb, 0, 3),
      loadBalancers: z.loadBalancers as AccountZoneConfig['loadBalancers'],
      faults: faults(`${zw}.faults`, z.faults),
    };
  }
  return out;
}

/** Accounts bench-0000@example.com ... each in one zone, round-robin. */
function generatedAccounts(raw: unknown, zones: Record<string, ZoneConfig>): NormalizedAccount[] {
  if (raw === undefined || raw === null) return [];
  if (!isObject(raw)) fail('generate', 'must be an object');
  const g = raw as Partial<GenerateConfig> & Record<string, unknown>;
  for (const k of Object.keys(g)) if (!['accounts', 'zones', 'lbsPerAccount', 'serversPerLb'].includes(k)) fail(`generate.${k}`, 'unknown key');
  const count = int('generate.accounts', g.accounts, 0, 0);
  const zoneList = g.zones ?? Object.keys(zones);
  if (!Array.isArray(zoneList) || zoneList.length === 0) fail('generate.zones', 'must be a non-empty list of zone names');
  zoneList.forEach((z, i) => checkZone(`generate.zones[${i}]`, String(z), zones));
  const lbs = int('generate.lbsPerAccount', g.lbsPerAccount, 0, 20);
  const servers = int('generate.serversPerLb', g.serversPerLb, 0, 5);
  const out: NormalizedAccount[] = [];
  for (let i = 0; i < count; i++) {
    const zone = zoneList[i % zoneList.length] as string;
    out.push({
      id: `bench-${String(i).padStart(4, '0')}@example.com`,
      password: `pw-${i}`,
      zones: { [zone]: { lbs, serversPerLb: servers, faults: {} } },
      faults: {},
    });
  }
  return out;
}

function normalizeLatency(raw: unknown): { min: number; max: number } {
  if (raw === undefined || raw === null) return { min: 0, max: 0 };
  if (typeof raw === 'number') {
    if (!(raw >= 0)) fail('latencyMs', 'must be >= 0');
    return { min: raw, max: raw };
  }
  if (isObject(raw) && typeof raw.min === 'number' && typeof raw.max === 'number' && raw.min >= 0 && raw.max >= raw.min) {
    return { min: raw.min, max: raw.max };
  }
  fail('latencyMs', 'must be a number or { min, max } with 0 <= min <= max');
}

const TOP_KEYS = ['listen', 'latencyMs', 'tokenTtlSeconds', 'zones', 'seed', 'accounts', 'generate', 'liveFigures', 'statsCapacity'];

export function normalizeConfig(raw: SimulatorConfig | unknown): NormalizedConfig {
  if (raw === undefined || raw === null) raw = {};
  if (!isObject(raw)) fail('', 'must be an object');
  for (const k of Object.keys(raw)) if (!TOP_KEYS.includes(k)) fail(k, `unknown key (allowed: ${TOP_KEYS.join(', ')})`);
  const c = raw as Record<string, unknown>;
  if (c.listen !== undefined && typeof c.listen !== 'string') fail('listen', 'must be "HOST:PORT"');
  const { host, port } = parseListen((c.listen as string | undefined) ?? '127.0.0.1:0');
  const zones = normalizeZones(c.zones);
  const ttl = c.tokenTtlSeconds ?? 3600;
  if (typeof ttl !== 'number' || !(ttl > 0)) fail('tokenTtlSeconds', 'must be a number > 0');
  if (c.seed !== undefined && (typeof c.seed !== 'number' || !Number.isFinite(c.seed))) fail('seed', 'must be a number');
  if (c.accounts !== undefined && !Array.isArray(c.accounts)) fail('accounts', 'must be a list');
  const accounts = ((c.accounts as unknown[] | undefined) ?? []).map((a, i) => normalizeAccount(a, i, zones));
  accounts.push(...generatedAccounts(c.generate, zones));
  const ids = new Set<string>();
  for (const a of accounts) {
    if (ids.has(a.id)) fail('accounts', `duplicate account id "${a.id}"`);
    ids.add(a.id);
  }
  let liveFiguresPeriodMs = 0;
  if (c.liveFigures === true) liveFiguresPeriodMs = 10_000;
  else if (isObject(c.liveFigures)) liveFiguresPeriodMs = int('liveFigures.periodSeconds', c.liveFigures.periodSeconds, 1, 10) * 1000;
  else if (c.liveFigures !== undefined && c.liveFigures !== false) fail('liveFigures', 'must be true/false or { periodSeconds }');
  return {
    host,
    port,
    latency: normalizeLatency(c.latencyMs),
    tokenTtlMs: ttl * 1000,
    zones,
    seed: (c.seed as number | undefined) ?? 1,
    accounts,
    liveFiguresPeriodMs,
    statsCapacity: int('statsCapacity', c.statsCapacity, 1024, 4_194_304),
  };
}

/** Reads a YAML (or JSON) simulator config and validates it, so a bad file fails before listening. */
export async function loadSimulatorConfig(path: string): Promise<SimulatorConfig> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new SimulatorConfigError(`simulator config ${path}: invalid YAML: ${(err as Error).message}`);
  }
  if (parsed !== null && parsed !== undefined && !isObject(parsed)) {
    throw new SimulatorConfigError(`simulator config ${path}: top level must be a mapping`);
  }
  const config = (parsed ?? {}) as SimulatorConfig;
  try {
    normalizeConfig(config);
  } catch (err) {
    if (err instanceof SimulatorConfigError) throw new SimulatorConfigError(`${path}: ${err.message}`);
    throw err;
  }
  return config;
}
