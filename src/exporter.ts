/**
 * The collection runtime: which accounts this replica owns, when each is collected, the tokens
 * and pacers kept between cycles, and live reconfiguration. Collections run in the pool; their
 * results go into the store, and the exposition is told to rebuild.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccountConfig, ExporterConfig } from './config/types.js';
import type { TokenInfo } from './ktcloud/client.js';
import { SharedPacer } from './ktcloud/pacer.js';
import type { Exposition } from './metrics/exposition.js';
import type { CollectorPool } from './pool/collector-pool.js';
import type { CollectResult, CollectTask } from './protocol.js';
import { owns, type ShardSpec } from './shard.js';
import type { Store } from './state/store.js';

/** How late a slot may be noticed and still count as due. */
const SLOT_GRACE_MS = 250;

/** A failing account waits at most this long between attempts. */
const MAX_BACKOFF_MS = 10 * 60_000;

export interface ExporterDeps {
  readonly log: Logger;
  readonly pool: CollectorPool;
  readonly store: Store;
  readonly exposition: Exposition;
  readonly shard: ShardSpec;
  readonly logLevel: string;
}

interface Runner {
  account: AccountConfig;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
  nextRunAt: number | null;
  failures: number;
  attempted: boolean;
}

export class Exporter {
  private readonly runners = new Map<string, Runner>();
  private readonly tokens = new Map<string, TokenInfo>();
  private readonly zonePacers = new Map<string, SharedArrayBuffer>();
  private readonly accountPacers = new Map<string, SharedArrayBuffer>();
  private staleTimer: NodeJS.Timeout | undefined;
  private started = false;
  private startedAt = 0;
  private stopped = false;

  constructor(
    private config: ExporterConfig,
    private readonly d: ExporterDeps,
  ) {
    for (const acc of this.ownedAccounts(config)) this.addRunner(acc);
  }

  get currentConfig(): ExporterConfig {
    return this.config;
  }

  /** Accounts of this config that this replica collects. */
  ownedAccounts(config: ExporterConfig = this.config): AccountConfig[] {
    return config.accounts.filter((a) => owns(this.d.shard, a.name));
  }

  get ownedCount(): number {
    return this.runners.size;
  }

  /** Starts the schedule: each account at its own stable offset within the interval. */
  start(): void {
    this.started = true;
    this.startedAt = Date.now();
    for (const r of this.runners.values()) this.schedule(r, Date.now());
    this.staleTimer = setInterval(() => this.expireStale(), Math.min(1000, this.config.intervalMs)).unref();
  }

  /** True once every owned account has finished its first collection attempt. */
  isReady(): boolean {
    for (const r of this.runners.values()) if (!r.attempted) return false;
    return true;
  }

  /** When each account runs next (ms since the epoch), for the status page. */
  nextRunOf(account: string): number | null {
    return this.runners.get(account)?.nextRunAt ?? null;
  }

  failuresOf(account: string): number {
    return this.runners.get(account)?.failures ?? 0;
  }

  /** Collects every owned account now, concurrently (for --once and tests). */
  async collectAll(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => this.run(r)));
  }

  /**
   * Swaps in a new configuration: added accounts start, removed ones disappear, changed
   * credentials drop their tokens, and unchanged accounts keep their data and schedule.
   */
  applyConfig(next: ExporterConfig): { added: string[]; removed: string[]; changed: string[] } {
    const wanted = new Map(this.ownedAccounts(next).map((a) => [a.name, a]));
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    const intervalChanged = next.intervalMs !== this.config.intervalMs;
    this.config = next;
    for (const [name, r] of this.runners) {
      if (wanted.has(name)) continue;
      clearTimeout(r.timer);
      this.runners.delete(name);
      this.d.store.removeAccount(name);
      this.dropTokens(name);
      this.accountPacers.delete(name);
      removed.push(name);
    }
    for (const [name, acc] of wanted) {
      const r = this.runners.get(name);
      if (!r) {
        this.addRunner(acc);
        if (this.started) this.schedule(this.runners.get(name)!, Date.now());
        added.push(name);
        continue;
      }
      const old = r.account;
      const credentialsChanged = !old.id.equals(acc.id) || !old.password.equals(acc.password);
      const zonesChanged = old.zones.join() !== acc.zones.join();
      if (credentialsChanged) this.dropTokens(name);
      if (zonesChanged) this.d.store.ensureAccount(name, acc.zones);
      if (credentialsChanged || zonesChanged || old.limits.concurrency !== acc.limits.concurrency || old.limits.requestsPerSecond !== acc.limits.requestsPerSecond) changed.push(name);
      r.account = acc;
      if (intervalChanged && this.started && !r.running) this.schedule(r, Date.now());
    }
    this.d.exposition.invalidate();
    return { added, removed, changed };
  }

  /** Stops scheduling; in-flight collections end when the pool closes. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.staleTimer);
    for (const r of this.runners.values()) clearTimeout(r.timer);
  }

  private addRunner(acc: AccountConfig): void {
    this.runners.set(acc.name, { account: acc, nextRunAt: null, failures: 0, attempted: false });
    this.d.store.ensureAccount(acc.name, acc.zones);
  }

  /**
   * Next run at this account's slot: a stable offset within the interval, aligned to the clock,
   * so accounts spread out and keep their phase across restarts (with `spread: false`, every
   * account at once, from the moment the exporter started). Failing accounts back off.
   */
  private schedule(r: Runner, now: number): void {
    if (this.stopped) return;
    clearTimeout(r.timer);
    const interval = this.config.intervalMs;
    const backoff = r.failures <= 1 ? 1 : Math.min(2 ** (r.failures - 1), Math.max(1, Math.floor(MAX_BACKOFF_MS / interval)));
    const earliest = now + (backoff - 1) * interval;
    // Without spread every account shares one phase: the moment the exporter started.
    const offset = this.config.spread ? stableOffset(r.account.name, interval) : this.startedAt % interval;
    let at = Math.ceil((earliest - offset) / interval) * interval + offset;
    // A slot passed a few ms ago (timers, a busy event loop) is still this slot, not one a whole
    // interval away; but an account never runs twice in the slot it has just run in.
    if (at - interval >= earliest - SLOT_GRACE_MS) at -= interval;
    if (at <= now && r.attempted) at += interval;
    r.nextRunAt = at;
    r.timer = setTimeout(() => {
      void this.run(r).then(() => this.schedule(r, Date.now()));
    }, Math.max(0, at - now));
  }

  /** One collection of one account; never two at once for the same account. */
  private run(r: Runner): Promise<void> {
    if (r.running) return r.running;
    r.nextRunAt = null;
    const task = this.buildTask(r.account);
    const log = this.d.log.child({ account: r.account.name });
    r.running = this.d.pool
      .run(task)
      .then((result) => this.record(r, result, log))
      .finally(() => {
        r.running = undefined;
      });
    return r.running;
  }

  private record(r: Runner, result: CollectResult, log: Logger): void {
    if (this.runners.get(r.account.name) !== r) return; // removed by a reload meanwhile
    r.attempted = true;
    let failed = false;
    for (const z of result.zones) {
      const key = tokenKey(result.account, z.zone);
      if (z.token) this.tokens.set(key, z.token);
      else this.tokens.delete(key);
      if (z.ok) {
        log.debug({ zone: z.zone, lbs: z.summary.lbs, servers: z.summary.servers, durationMs: z.durationMs, partial: !!z.partial }, 'collection succeeded');
      } else {
        failed = true;
        log.warn({ zone: z.zone, reason: z.error.reason, err: z.error.message, durationMs: z.durationMs }, 'collection failed');
      }
    }
    r.failures = failed ? r.failures + 1 : 0;
    this.d.store.apply(result);
    this.d.exposition.invalidate();
  }

  private buildTask(acc: AccountConfig): CollectTask {
    const c = this.config;
    return {
      account: acc.name,
      zones: acc.zones.map((zone) => ({
        zone,
        endpoint: c.zones[zone]!.endpoint,
        pacer: getOrCreate(this.zonePacers, zone),
        requestsPerSecond: c.zones[zone]!.requestsPerSecond,
        token: this.tokens.get(tokenKey(acc.name, zone)),
      })),
      cloudId: acc.id.reveal(),
      password: acc.password.reveal(),
      concurrency: acc.limits.concurrency,
      requestsPerSecond: acc.limits.requestsPerSecond,
      accountPacer: getOrCreate(this.accountPacers, acc.name),
      timeoutMs: c.timeoutMs,
      api: c.api,
      logLevel: this.d.logLevel,
    };
  }

  private dropTokens(account: string): void {
    for (const key of this.tokens.keys()) if (key.startsWith(`${account}\0`)) this.tokens.delete(key);
  }

  private expireStale(): void {
    if (this.d.store.expireStale(Date.now(), this.config.staleAfterMs)) this.d.exposition.invalidate();
  }
}

function tokenKey(account: string, zone: string): string {
  return `${account}\0${zone}`;
}

function getOrCreate(map: Map<string, SharedArrayBuffer>, key: string): SharedArrayBuffer {
  let b = map.get(key);
  if (!b) map.set(key, (b = SharedPacer.createBuffer()));
  return b;
}

/** A fixed point within the interval, from the account name. */
export function stableOffset(name: string, intervalMs: number): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0) / 2 ** 32 * intervalMs;
}
