/** The multi-account controls of the config file: `loadBalancers:` filters and `metrics:` switches. */
import { isScalar, type Node } from 'yaml';
import { compilePattern, MAX_PATTERNS } from './lb-filter.js';
import { DEFAULTS, KEYS, sectionOptions } from './schema.js';
import type { LbFilter, MetricsOptions } from './types.js';
import { readOptions } from './options.js';
import { closest, isShowable, type Walker } from './yaml-walk.js';
import { DISABLEABLE_FAMILIES, HEALTH_FAMILIES, PER_SERVER_FAMILIES } from '../metrics/families.js';

/** `loadBalancers: { include, exclude }` at the top or under an account; every bad pattern is reported. */
export function parseLbFilter(w: Walker, node: Node | null | undefined, context: string): LbFilter {
  const where = context ? `${context}: loadBalancers` : 'loadBalancers';
  const f = w.entries(node, where, KEYS.loadBalancers);
  const list = (key: 'include' | 'exclude'): string[] => {
    const n = f.get(key)?.value;
    if (n === undefined || n === null) return [];
    // Not splitList: a comma is a legitimate pattern character (`a{1,3}`), so only a YAML list is accepted.
    if (isScalar(n)) {
      w.problem(n, where, `${key}: expected a list of patterns, e.g. ${key}: ["web-.*"]`);
      return [];
    }
    const patterns = w.stringList(n, where, key) ?? [];
    if (patterns.length > MAX_PATTERNS) w.problem(n, where, `${key}: at most ${MAX_PATTERNS} patterns (got ${patterns.length}); combine them with "|"`);
    patterns.forEach((p, i) => {
      const r = compilePattern(p);
      if (typeof r === 'string') w.problem(n, where, `${key}[${i}]: ${r}`);
    });
    return patterns;
  };
  return { include: list('include'), exclude: list('exclude') };
}

/** `metrics: { disable, serverMetrics }`; `disable` holds the effective list, the shortcut's families included. */
export function parseMetrics(w: Walker, node: Node | null | undefined): MetricsOptions {
  if (!node) return DEFAULTS.metrics;
  const f = w.entries(node, 'metrics', KEYS.metrics);
  const serverMetrics = (readOptions(w, f, 'metrics', sectionOptions('metrics').filter((o) => o.type === 'boolean')).get('serverMetrics') as boolean | undefined) ?? true;
  const disableNode = f.get('disable')?.value;
  const disable: string[] = [];
  const health = new Set<string>(Object.values(HEALTH_FAMILIES).map((h) => h.name));
  for (const name of disableNode ? (w.stringList(disableNode, 'metrics', 'disable') ?? []) : []) {
    if (DISABLEABLE_FAMILIES.includes(name)) {
      if (!disable.includes(name)) disable.push(name);
    } else if (health.has(name)) {
      w.problem(disableNode, 'metrics', `disable: "${name}" cannot be turned off: account and exporter health families are how failures show (only LB families can be: ${DISABLEABLE_FAMILIES.join(', ')})`);
    } else {
      const hint = isShowable(name) ? closest(name, DISABLEABLE_FAMILIES) : undefined;
      const shown = isShowable(name) ? `"${name}"` : '(not shown: not a metric name)';
      w.problem(disableNode, 'metrics', `disable: unknown metric family ${shown}${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
  }
  if (!serverMetrics) for (const n of PER_SERVER_FAMILIES) if (!disable.includes(n)) disable.push(n);
  return { disable, serverMetrics };
}
