/** The --check-config summary: what will run, never a credential. Settings come from the schema. */
import { owns, type ShardSpec } from '../shard.js';
import { formatValue, SCHEMA, type OptionSpec } from './schema.js';
import type { ExporterConfig, LbFilter } from './types.js';

/** The value at a dotted ExporterConfig path (`api.retries`). */
export function valueAt(c: ExporterConfig, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], c);
}

export function describeConfig(c: ExporterConfig, shard: ShardSpec): string {
  const settings = (SCHEMA as readonly OptionSpec[]).filter((o) => o.field);
  const width = Math.max(...settings.map((o) => o.key.length));
  const lines = [
    `config: ${c.source} is valid`,
    `settings:`,
    ...settings.map((o) => {
      const v = valueAt(c, o.field!);
      const note = o.default === undefined ? '' : v === o.default ? '' : `  (default ${formatValue(o, o.default)})`;
      return `  ${o.key.padEnd(width)}  ${formatValue(o, v)}${note}`;
    }),
    // Patterns and family names are the operator's own config text, shown as given.
    `load balancers: ${filterText(c.loadBalancers)}`,
    `metrics disabled: ${c.metrics.disable.length ? c.metrics.disable.join(', ') : 'none'}`,
    `shard: ${shard.index} of ${shard.total} (replication factor ${shard.replicationFactor})`,
    `zones:`,
    ...Object.values(c.zones).map((z) => `  ${z.name}  ${z.endpoint}  ${z.requestsPerSecond} req/s`),
    `accounts: ${c.accounts.length}${c.accountsDir ? ` (including folders in ${c.accountsDir})` : ''}`,
    ...c.accounts.map(
      (a) =>
        `  ${a.name}  zones ${a.autoZones ? 'auto (discovered)' : a.zones.join(',')}  concurrency ${a.limits.concurrency}  ${a.limits.requestsPerSecond} req/s  credentials from ${a.credentialFiles.length ? 'files' : 'config/environment'}${a.limits.maxSeries ? `  maxSeries ${a.limits.maxSeries}` : ''}${a.loadBalancers ? `  load balancers: ${filterText(a.loadBalancers)}` : ''}${owns(shard, a.name) ? '' : '  (owned by another shard)'}`,
    ),
    ...c.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}

function filterText(f: LbFilter): string {
  if (f.include.length === 0 && f.exclude.length === 0) return 'all';
  return `include ${f.include.length ? f.include.map((p) => JSON.stringify(p)).join(' ') : 'all'}, exclude ${f.exclude.length ? f.exclude.map((p) => JSON.stringify(p)).join(' ') : 'none'}`;
}
