/** Command-line flags; each also has an environment variable, flags win. */
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_CONNECTIONS } from './http/sockets.js';
import { checkShardSpec, ordinalFromPodName, type ShardSpec } from './shard.js';

export const USAGE = `Usage: ktcloud-lb-exporter [options]

Prometheus exporter for KT Cloud load balancers: many accounts and zones, one process.

Options:
  --config FILE             accounts and zones (env KTCLOUD_CONFIG; default accounts/accounts.yaml;
                            without a file, CLOUD_ID/CLOUD_PASSWORD/CLOUD_ZONE run one account "default")
  --listen HOST:PORT        overrides "listen" in the config (default 0.0.0.0:9105)
  --log-level LEVEL         fatal, error, warn, info, debug, trace, silent (env LOG_LEVEL; default info)
  --shard N                 this replica's shard, 0-based (env KTCLOUD_SHARD; default: the ordinal at
                            the end of POD_NAME or HOSTNAME when --total-shards is given)
  --total-shards M          number of replicas sharing the accounts (env KTCLOUD_TOTAL_SHARDS; default 1)
  --replication-factor R    shards that collect each account (env KTCLOUD_REPLICATION_FACTOR; default 1)
  --web.config.file FILE    TLS, basic auth and response headers, in the Prometheus exporter-toolkit
                            format (env KTCLOUD_WEB_CONFIG); re-read when it or a certificate changes
  --web.enable-lifecycle    allow POST /-/reload (env KTCLOUD_WEB_ENABLE_LIFECYCLE=true); SIGHUP and
                            file changes reload without it
  --web.max-connections N   open HTTP connections at most (env KTCLOUD_WEB_MAX_CONNECTIONS; default 64);
                            beyond it the oldest connection without a request in progress is closed
  --web.external-address HOST:PORT
                            the address /sd gives Prometheus for this replica's per-account targets
                            (env KTCLOUD_WEB_EXTERNAL_ADDRESS; default: the listen address, or the
                            host /sd was asked on when listening on 0.0.0.0)
  --check-config            validate the config (and the web config), print a summary without secrets,
                            exit 0 or 1
  --once                    collect every account once, print the metrics to stdout, exit 1 if any failed
  -h, --help                show this help
  -v, --version             show the version
`;

export interface CliOptions {
  readonly config?: string;
  readonly listen?: string;
  readonly logLevel: string;
  readonly shard: ShardSpec;
  readonly webConfigFile?: string;
  readonly enableLifecycle: boolean;
  readonly maxConnections: number;
  readonly externalAddress?: string;
  readonly checkConfig: boolean;
  readonly once: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

export class UsageError extends Error {}

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        'log-level': { type: 'string' },
        shard: { type: 'string' },
        'total-shards': { type: 'string' },
        'replication-factor': { type: 'string' },
        'web.config.file': { type: 'string' },
        'web.enable-lifecycle': { type: 'boolean', default: false },
        'web.max-connections': { type: 'string' },
        'web.external-address': { type: 'string' },
        'check-config': { type: 'boolean', default: false },
        once: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const logLevel = values['log-level'] ?? env.LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new UsageError(`--log-level: unknown level "${logLevel}"`);
  const total = int('--total-shards', values['total-shards'] ?? env.KTCLOUD_TOTAL_SHARDS ?? '1');
  const shardText = values.shard ?? env.KTCLOUD_SHARD;
  let index: number;
  if (shardText !== undefined) index = int('--shard', shardText);
  else if (total > 1) {
    const ordinal = ordinalFromPodName(env.POD_NAME) ?? ordinalFromPodName(env.HOSTNAME);
    if (ordinal === undefined) throw new UsageError('--total-shards is given but --shard is not, and no StatefulSet ordinal was found in POD_NAME or HOSTNAME');
    index = ordinal;
  } else index = 0;
  const shard = { index, total, replicationFactor: int('--replication-factor', values['replication-factor'] ?? env.KTCLOUD_REPLICATION_FACTOR ?? '1') };
  const bad = checkShardSpec(shard);
  if (bad) throw new UsageError(bad);
  const lifecycleEnv = (env.KTCLOUD_WEB_ENABLE_LIFECYCLE ?? '').trim().toLowerCase();
  if (lifecycleEnv !== '' && !['true', 'false', '1', '0'].includes(lifecycleEnv)) throw new UsageError(`KTCLOUD_WEB_ENABLE_LIFECYCLE: "${lifecycleEnv}" is not true or false`);
  const maxConnections = int('--web.max-connections', values['web.max-connections'] ?? env.KTCLOUD_WEB_MAX_CONNECTIONS ?? String(DEFAULT_MAX_CONNECTIONS));
  if (maxConnections < 1) throw new UsageError('--web.max-connections must be at least 1');
  const webConfigFile = values['web.config.file'] ?? (env.KTCLOUD_WEB_CONFIG || undefined);
  const externalAddress = (values['web.external-address'] ?? env.KTCLOUD_WEB_EXTERNAL_ADDRESS ?? '').trim() || undefined;
  if (externalAddress !== undefined) checkHostPort('--web.external-address', externalAddress);
  return {
    config: values.config,
    externalAddress,
    webConfigFile,
    enableLifecycle: values['web.enable-lifecycle']! || lifecycleEnv === 'true' || lifecycleEnv === '1',
    maxConnections,
    listen: values.listen,
    logLevel,
    shard,
    checkConfig: values['check-config']!,
    once: values.once!,
    help: values.help!,
    version: values.version!,
  };
}

/** HOST:PORT or [v6]:PORT with a host (Prometheus needs somewhere to connect) and a port 1-65535. */
function checkHostPort(flag: string, text: string): void {
  const m = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new UsageError(`${flag}: "${text}" is not HOST:PORT (e.g. 10.0.0.7:9105)`);
}

function int(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag}: "${text}" is not a whole number`);
  return Number(text);
}
