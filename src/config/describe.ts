/** The --check-config summary: what will run, never a credential. */
import { owns, type ShardSpec } from '../shard.js';
import { formatDuration } from './duration.js';
import type { ExporterConfig } from './types.js';

export function describeConfig(c: ExporterConfig, shard: ShardSpec): string {
  const lines = [
    `config: ${c.source} is valid`,
    `listen: ${c.listen.host}:${c.listen.port}  interval: ${formatDuration(c.intervalMs)}  timeout: ${formatDuration(c.timeoutMs)}  staleAfter: ${formatDuration(c.staleAfterMs)}  workers: ${c.workers}`,
    `limits: concurrency ${c.limits.concurrency}, ${c.limits.requestsPerSecond} req/s per account, ${c.limits.zoneRequestsPerSecond} req/s per zone`,
    `shard: ${shard.index} of ${shard.total} (replication factor ${shard.replicationFactor})`,
    `zones:`,
    ...Object.values(c.zones).map((z) => `  ${z.name}  ${z.endpoint}  ${z.requestsPerSecond} req/s`),
    `accounts: ${c.accounts.length}${c.accountsDir ? ` (including folders in ${c.accountsDir})` : ''}`,
    ...c.accounts.map(
      (a) =>
        `  ${a.name}  zones ${a.zones.join(',')}  concurrency ${a.limits.concurrency}  ${a.limits.requestsPerSecond} req/s  credentials from ${a.credentialFiles.length ? 'files' : 'config/environment'}${owns(shard, a.name) ? '' : '  (owned by another shard)'}`,
    ),
    ...c.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}
