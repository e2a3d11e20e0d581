/**
 * Wires the pieces together: pool, store, exposition, collection runtime, HTTP server and
 * reloading. Used by main.ts and, unchanged, by the tests.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ConfigError } from './config/load.js';
import type { ExporterConfig } from './config/types.js';
import { buildAccountsView } from './http/accounts-view.js';
import { createHttpServer } from './http/server.js';
import { DEFAULT_MAX_CONNECTIONS } from './http/sockets.js';
import { LiveWebConfig } from './http/web-config-live.js';
import { AccountBodies } from './metrics/account-body.js';
import { Exposition } from './metrics/exposition.js';
import { renderHealth } from './metrics/render-health.js';
import { CollectorPool } from './pool/collector-pool.js';
import { Scheduler } from './schedule/scheduler.js';
import { SINGLE_SHARD, type ShardSpec } from './shard.js';
import { listenError, StartupError } from './startup-error.js';
import { Store, type ZoneState } from './state/store.js';
import { BUILD_INFO, VERSION } from './version.js';
import { ChangeWatcher } from './watch.js';

export interface AppOptions {
  readonly config: ExporterConfig;
  /** Builds a fresh config for a reload (re-reads the file and every credential). */
  readonly loadConfig: () => ExporterConfig | Promise<ExporterConfig>;
  readonly log: Logger;
  readonly logLevel?: string;
  readonly shard?: ShardSpec;
  /** Worker module override (test fixtures). */
  readonly workerFile?: string;
  readonly hangGraceMs?: number;
  /** Watch the config and credential files for changes. Default true. */
  readonly watch?: boolean;
  readonly watchPollMs?: number;
  /** exporter-toolkit web config file (TLS, basic auth, headers). Default: plain HTTP, no auth. */
  readonly webConfigFile?: string;
  /** Allow POST /-/reload. Default false: it answers 403. */
  readonly enableLifecycle?: boolean;
  /** Open HTTP connections at most. Default 64. */
  readonly maxConnections?: number;
  /** Time a connection gets to send its first request. Default 10 s; only tests shorten it. */
  readonly firstRequestTimeoutMs?: number;
  /** HOST:PORT that /sd gives Prometheus as the target (--web.external-address). Default: the listen address. */
  readonly externalAddress?: string;
}

export interface ReloadOutcome {
  ok: boolean;
  error?: string;
  added?: string[];
  removed?: string[];
  changed?: string[];
}

export class App {
  readonly store = new Store();
  readonly pool: CollectorPool;
  readonly exposition: Exposition;
  /** /metrics?account= bodies. */
  readonly accountBodies: AccountBodies;
  /** The collection runtime: when each account runs, its sessions, reconciliation on reload. */
  readonly scheduler: Scheduler;
  readonly http: FastifyInstance;
  readonly shard: ShardSpec;
  private readonly log: Logger;
  private readonly processRegistry = new Registry();
  private reloadState = { ok: true, lastSuccessMs: Date.now() as number | null };
  private watcher: ChangeWatcher | undefined;
  /** At most one reload runs and one waits; every request arriving meanwhile shares the waiting one. */
  private reloadRunning: Promise<ReloadOutcome> | undefined;
  private reloadPending: Promise<ReloadOutcome> | undefined;
  readonly web: LiveWebConfig;
  /** The port really listened on (the config may say 0). */
  private boundPort: number | undefined;

  /** Throws WebConfigError when the web config file is unusable. */
  constructor(private readonly o: AppOptions) {
    this.log = o.log;
    this.web = new LiveWebConfig(o.webConfigFile, o.log.child({ module: 'web-config' }), o.watchPollMs);
    this.shard = o.shard ?? SINGLE_SHARD;
    const config = o.config;
    collectDefaultMetrics({ register: this.processRegistry });
    this.pool = new CollectorPool({ workers: config.workers, filename: o.workerFile, hangGraceMs: o.hangGraceMs, log: o.log });
    this.exposition = new Exposition(this.store, () => this.renderHealth(), this.processRegistry);
    this.accountBodies = new AccountBodies(this.store, (zones, accounts) => this.renderHealth(zones, accounts), this.exposition.process);
    this.scheduler = new Scheduler(config, { log: o.log, pool: this.pool, store: this.store, exposition: this.exposition, shard: this.shard, logLevel: o.logLevel ?? 'info' });
    this.http = createHttpServer({
      log: o.log,
      exposition: this.exposition,
      perAccount: {
        bodies: this.accountBodies,
        sd: {
          store: this.store,
          externalAddress: o.externalAddress,
          // The port really bound (the config may say 0), the host as configured.
          listen: () => {
            const bound = this.http.server.address();
            const c = this.scheduler.currentConfig.listen;
            return { host: c.host, port: bound && typeof bound === 'object' ? bound.port : c.port };
          },
          shard: this.shard.index,
        },
      },
      isReady: () => this.scheduler.isReady(),
      accountsView: () =>
        buildAccountsView(this.store, {
          intervalMs: this.scheduler.currentConfig.intervalMs,
          shard: { index: this.shard.index, total: this.shard.total },
          nextRunOf: (a) => this.scheduler.nextRunOf(a),
          failuresOf: (a) => this.scheduler.failuresOf(a),
          notCollected: this.scheduler.currentConfig.notCollected,
          discoveries: this.scheduler.discoveries(),
        }),
      reload: () => this.reload('http'),
      version: VERSION,
      web: () => this.web.state,
      tls: this.web.initialTls,
      enableLifecycle: o.enableLifecycle ?? false,
      maxConnections: o.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      firstRequestTimeoutMs: o.firstRequestTimeoutMs,
    });
    this.web.attach(this.http.server);
    for (const w of config.warnings) o.log.warn(w);
  }

  /** Fails with a one-line start-up error when no worker thread can load the collection module. */
  async checkWorkers(): Promise<void> {
    try {
      await this.pool.check();
    } catch (err) {
      throw new StartupError(`worker thread could not start: ${(err as Error).message}`);
    }
  }

  /** Checks that a worker thread starts, listens, then starts collecting. Returns the base URL. */
  async listen(): Promise<string> {
    await this.checkWorkers();
    const { host, port } = this.o.config.listen;
    let address: string;
    try {
      address = await this.http.listen({ host, port });
    } catch (err) {
      throw listenError(host, port, err);
    }
    this.boundPort = (this.http.server.address() as { port: number } | null)?.port ?? port;
    this.scheduler.start();
    if (this.o.watch !== false) {
      this.web.watch();
      const c = this.scheduler.currentConfig;
      this.watcher = new ChangeWatcher(c.watchFiles, c.accountsDir ? [c.accountsDir] : [], () => void this.reload('file change'), this.o.watchPollMs);
    }
    this.log.info({ address, accounts: this.scheduler.ownedCount, shard: this.shard.index, totalShards: this.shard.total, workers: this.pool.threads }, 'listening');
    return address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
  }

  /** Builds the new config off to the side; a broken one is rejected and the old one keeps running. */
  reload(trigger: string): Promise<ReloadOutcome> {
    if (!this.reloadRunning) {
      this.reloadRunning = this.doReload(trigger).finally(() => {
        this.reloadRunning = undefined;
      });
      return this.reloadRunning;
    }
    // The running reload may have read the files before this request's change: one more, later,
    // reads them fresh. It starts after the running one ends (its finally has cleared it).
    this.reloadPending ??= this.reloadRunning.then(() => {
      this.reloadPending = undefined;
      return this.reload(trigger);
    });
    return this.reloadPending;
  }

  private async doReload(trigger: string): Promise<ReloadOutcome> {
    // The web config has its own watcher; SIGHUP and POST /-/reload re-read it too.
    if (trigger !== 'file change') this.web.reload(trigger);
    let next: ExporterConfig;
    try {
      next = await this.o.loadConfig();
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [String((err as Error).message)];
      this.reloadState = { ...this.reloadState, ok: false };
      this.exposition.invalidate();
      this.log.error({ trigger, problems }, `configuration reload rejected, keeping the running configuration: ${problems.join('; ')}`);
      return { ok: false, error: problems.join('\n') };
    }
    const prev = this.scheduler.currentConfig;
    if (next.listen.host !== prev.listen.host || next.listen.port !== prev.listen.port) this.log.warn('a new listen address takes effect only after a restart');
    if (next.workers !== prev.workers) this.log.warn('a new worker count takes effect only after a restart');
    const diff = this.scheduler.applyConfig(next);
    this.reloadState = { ok: true, lastSuccessMs: Date.now() };
    this.watcher?.update(next.watchFiles, next.accountsDir ? [next.accountsDir] : []);
    for (const w of next.warnings) this.log.warn(w);
    this.log.info({ trigger, ...diff }, 'configuration reloaded');
    return { ok: true, ...diff };
  }

  /** Health and exporter families of every zone, or of `zones` only (a per-account body; accounts: theirs). */
  private renderHealth(zones?: readonly ZoneState[], accounts?: ReadonlySet<string>): string {
    const c = this.scheduler.currentConfig;
    const nextAttempts = this.scheduler.nextAttempts();
    return renderHealth(zones ? { all: () => zones.values() } : this.store, {
      version: VERSION,
      port: this.boundPort ?? c.listen.port,
      intervalMs: c.intervalMs,
      reload: this.reloadState,
      shard: { index: this.shard.index, total: this.shard.total },
      ownedAccounts: this.scheduler.ownedCount,
      pool: { threadsReplaced: this.pool.threadsReplaced, tasksRerun: this.pool.tasksRerun },
      configuredAccounts: c.accounts.length,
      build: BUILD_INFO,
      nextAttempts: accounts ? nextAttempts.filter(([a]) => accounts.has(a)) : nextAttempts,
      zoneRequestLimits: [...new Set([...this.store.all()].map((z) => z.zone))].flatMap((z) => (c.zones[z] ? [[z, c.zones[z].requestsPerSecond] as const] : [])),
      discoveries: accounts ? this.scheduler.discoveries().filter(([a]) => accounts.has(a)) : this.scheduler.discoveries(),
    });
  }

  /** Stops scraping after in-flight requests, stops collecting, closes the pool; bounded by timeoutMs. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.scheduler.stop();
    this.watcher?.close();
    this.web.close();
    // In-flight scrapes finish first: the server stops accepting, and a keep-alive connection whose
    // response has just completed is closed at once rather than after keepAliveTimeout.
    const closing = this.http.close();
    const sweep = setInterval(() => this.http.server.closeIdleConnections(), 100).unref();
    const work = Promise.allSettled([closing.finally(() => this.exposition.close()), this.pool.close()]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise((r) => (timer = setTimeout(r, timeoutMs).unref()))]);
    clearTimeout(timer);
    clearInterval(sweep);
  }
}
