/** Entry point: flags → config → app. Exits non-zero before listening when the config is bad. */
import { App } from './app.js';
import { parseCli, UsageError, USAGE } from './cli.js';
import { ConfigError, loadConfig } from './config/load.js';
import { describeConfig } from './config/describe.js';
import type { ExporterConfig } from './config/types.js';
import { LiveWebConfig } from './http/web-config-live.js';
import { createLogger } from './log.js';
import { runOnce } from './once.js';
import { startupMessage } from './startup-error.js';
import { versionText } from './version.js';

const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<number> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`ktcloud-lb-exporter: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) return void process.stdout.write(USAGE), 0;
  if (cli.version) return void process.stdout.write(versionText()), 0;

  const load = (): Promise<ExporterConfig> => loadConfig(cli.config, { listen: cli.listen });
  let config: ExporterConfig;
  try {
    config = await load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`ktcloud-lb-exporter: invalid configuration:\n${err.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }
  if (cli.checkConfig) {
    // The web config and its certificates too: a bad one throws the one-line start-up error.
    if (cli.webConfigFile) new LiveWebConfig(cli.webConfigFile, createLogger({ level: 'silent' }));
    process.stdout.write(describeConfig(config, cli.shard));
    if (cli.webConfigFile) process.stdout.write(`web config: ${cli.webConfigFile} is valid\n`);
    return 0;
  }

  const log = createLogger({ level: cli.once ? (process.env.LOG_LEVEL ?? 'warn') : cli.logLevel, destination: cli.once ? 2 : 1 });
  const app = new App({
    config,
    loadConfig: load,
    log,
    logLevel: cli.once ? 'warn' : cli.logLevel,
    shard: cli.shard,
    watch: !cli.once,
    // --once serves nothing: its web config does not matter.
    webConfigFile: cli.once ? undefined : cli.webConfigFile,
    enableLifecycle: cli.enableLifecycle,
    maxConnections: cli.maxConnections,
    externalAddress: cli.externalAddress,
  });

  if (cli.once) {
    const code = await runOnce(app, { stdout: (c) => process.stdout.write(c), stderr: (l) => process.stderr.write(l) });
    await app.close();
    return code;
  }

  try {
    await app.listen();
  } catch (err) {
    await app.close(2000);
    throw err;
  }
  process.on('SIGHUP', () => void app.reload('SIGHUP'));
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      const hard = setTimeout(() => resolve(1), SHUTDOWN_TIMEOUT_MS + 2000).unref();
      void app.close(SHUTDOWN_TIMEOUT_MS).then(() => {
        clearTimeout(hard);
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    const expected = startupMessage(err);
    if (expected !== undefined) {
      process.stderr.write(`ktcloud-lb-exporter: ${expected}\n`);
      process.exit(1);
    }
    process.stderr.write(`ktcloud-lb-exporter: fatal: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(70);
  },
);
