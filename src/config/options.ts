/** Reading the scalar options of one mapping, driven by the schema table; and the `zones:` map. */
import { isMap, isScalar, type Node, type Pair } from 'yaml';
import { formatDuration, parseDuration } from './duration.js';
import { AUTO_ZONES } from './account.js';
import { DEFAULTS, KEYS, leaf, sectionOptions, type OptionSpec } from './schema.js';
import type { Limits, ZoneConfig } from './types.js';
import { isShowable, type Walker } from './yaml-walk.js';
import { builtinZones, checkEndpoint } from './zones.js';

type Value = number | boolean | string;

/**
 * The values of `specs` present in `f` (durations in ms), by leaf key. A bad value is reported
 * and left out, so the caller's default stands and every other problem is still found.
 */
export function readOptions(w: Walker, f: Map<string, Pair<Node, Node | null>>, context: string, specs: readonly OptionSpec[]): Map<string, Value> {
  const out = new Map<string, Value>();
  for (const o of specs) {
    const k = leaf(o);
    const node = f.get(k)?.value;
    if (node === undefined) continue;
    const v = readValue(w, node, context, k, o);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}

function readValue(w: Walker, node: Node | null, context: string, key: string, o: OptionSpec): Value | undefined {
  switch (o.type) {
    case 'duration':
      return duration(w, node, context, key, o.min ?? 0);
    case 'integer':
    case 'number':
      return w.number(node, context, key, { min: o.min ?? 0, integer: o.type === 'integer' });
    case 'boolean':
      if (isScalar(node) && typeof node.value === 'boolean') return node.value;
      w.problem(node, context, `${key}: expected true or false`);
      return undefined;
    default:
      return w.string(node, context, key);
  }
}

/** A duration; the message does not quote the text (a folded line may carry a secret). */
function duration(w: Walker, node: Node | null, context: string, key: string, minMs: number): number | undefined {
  const ms = isScalar(node) && typeof node.value === 'string' ? parseDuration(node.value) : undefined;
  if (ms === undefined) {
    w.problem(node, context, `${key}: not a duration (use e.g. 500ms, 30s, 5m)`);
    return undefined;
  }
  if (ms < minMs) {
    w.problem(node, context, `${key}: ${formatDuration(ms)} is too short (at least ${formatDuration(minMs)})`);
    return undefined;
  }
  return ms;
}

/** `limits:` at the top (all keys) or under an account (per-account keys only). */
export function parseLimits(w: Walker, node: Node | null | undefined, context: string, defaults: Limits, perAccount: boolean): Limits {
  const out = { ...defaults } as { -readonly [P in keyof Limits]: number };
  if (!node) return out;
  const specs = sectionOptions('limits').filter((o) => !perAccount || o.perAccount);
  const v = readOptions(w, w.entries(node, context, perAccount ? KEYS.accountLimits : KEYS.limits), context, specs);
  for (const [k, n] of v) out[k as keyof Limits] = n as number;
  return out;
}

export function parseApi(w: Walker, node: Node | null | undefined): typeof DEFAULTS.api {
  const out = { ...DEFAULTS.api } as { -readonly [P in keyof typeof DEFAULTS.api]: number };
  if (!node) return out;
  const v = readOptions(w, w.entries(node, 'api', KEYS.api), 'api', sectionOptions('api'));
  for (const o of sectionOptions('api')) {
    const value = v.get(leaf(o));
    if (value !== undefined) out[o.field!.slice('api.'.length) as keyof typeof out] = value as number;
  }
  return out;
}

export function parseZones(w: Walker, node: Node | null | undefined, limits: Limits): Record<string, ZoneConfig> {
  const zones = builtinZones(limits.zoneRequestsPerSecond);
  if (!node) return zones;
  if (!isMap(node)) {
    w.problem(node, '', 'zones: expected a mapping of zone name to { endpoint }');
    return zones;
  }
  for (const [i, pair] of node.items.entries()) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const context = isShowable(name) ? `zone "${name}"` : `zones[${i}]`;
    if (name === AUTO_ZONES) w.problem(pair.key as Node, context, `"${AUTO_ZONES}" is reserved (\`zones: ${AUTO_ZONES}\` discovers an account's zones): name the zone otherwise`);
    const f = w.entries(pair.value as Node, context, KEYS.zone);
    const base = zones[name];
    let endpoint = base?.endpoint;
    const v = readOptions(w, f, context, sectionOptions('zones.<name>'));
    const e = v.get('endpoint') as string | undefined;
    if (e !== undefined) {
      const bad = checkEndpoint(e);
      if (bad) w.problem(f.get('endpoint')!.value, context, `endpoint: ${bad}`);
      endpoint = e.replace(/\/+$/, '');
    } else if (!f.has('endpoint') && !base) w.problem(pair.value as Node, context, 'endpoint: required for a zone that is not built in');
    const rps = v.get('requestsPerSecond') as number | undefined;
    if (endpoint) zones[name] = { name, endpoint, requestsPerSecond: rps ?? limits.zoneRequestsPerSecond };
  }
  return zones;
}

export function checkZones(w: Walker, node: Node, context: string, names: readonly string[], zones: Readonly<Record<string, ZoneConfig>>): string[] {
  const out: string[] = [];
  for (const z of names) {
    if (z === AUTO_ZONES) w.problem(node, context, `"${AUTO_ZONES}" stands alone: it discovers the zones, so list no other zone with it`);
    else if (!zones[z]) w.problem(node, context, `unknown zone ${isShowable(z) ? `"${z}"` : '(not shown: not a zone name)'} (known: ${Object.keys(zones).join(', ')})`);
    else if (out.includes(z)) w.problem(node, context, `zone "${z}" is listed twice`);
    else out.push(z);
  }
  return out;
}
