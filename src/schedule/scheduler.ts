/**
 * The collection runtime: which accounts this replica owns, one timer and at most one collection
 * per account, and reconciliation when a reload adds, removes or changes accounts. When an
 * account runs is decided by next-run.ts; tokens and pacers live in sessions.ts. Results go into
 * the store, and the exposition is told to rebuild.
 */
import type { Logger } from 'pino';
import type { AccountConfig, ExporterConfig } from '../config/types.js';
import type { Exposition } from '../metrics/exposition.js';
import { abortFlag, createAbortFlag } from '../pool/abort-flag.js';
import type { CollectorPool } from '../pool/collector-pool.js';
import type { CollectResult } from '../protocol.js';
import { owns, type ShardSpec } from '../shard.js';
import type { Store } from '../state/store.js';
import { ZoneDiscovery, type DiscoveryView, type ZonePlan } from './discovery.js';
import { backoffJitter, nextRunAt, stableOffset } from './next-run.js';
import { Sessions } from './sessions.js';

export interface SchedulerDeps {
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
  /** Cancels the collection in flight (see pool/abort-flag.ts). */
  abort?: SharedArrayBuffer;
  nextRunAt: number | null;
  /** When the last collection was due (a failed one: when it started); null while cold (never attempted since it became ours). */
  lastDueMs: number | null;
  failures: number;
  attempted: boolean;
}

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

export class Scheduler {
  private readonly runners = new Map<string, Runner>();
  /** Collections of removed accounts still unwinding after their abort: a re-added account waits for them. */
  private readonly draining = new Map<string, Promise<void>>();
  private readonly sessions: Sessions;
  private readonly discovery = new ZoneDiscovery();
  private staleTimer: NodeJS.Timeout | undefined;
  private started = false;
  private startedAt = 0;
  private stopped = false;

  constructor(
    private config: ExporterConfig,
    private readonly d: SchedulerDeps,
  ) {
    this.sessions = new Sessions(d.logLevel);
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

  /** Starts the schedule: every account at once (cold), then each on its own slot. */
  start(): void {
    this.started = true;
    this.startedAt = Date.now();
    for (const r of this.runners.values()) this.schedule(r);
    this.d.exposition.invalidate();
    this.staleTimer = setInterval(() => this.expireStale(), Math.min(1000, this.config.intervalMs)).unref();
  }

  /** True once every owned account has finished its first collection attempt. */
  isReady(): boolean {
    for (const r of this.runners.values()) if (!r.attempted) return false;
    return true;
  }

  /** When each account runs next (ms since the epoch); null while it runs or is not scheduled. */
  nextRunOf(account: string): number | null {
    return this.runners.get(account)?.nextRunAt ?? null;
  }

  /** Consecutive failed collections of the account (what its backoff is based on). */
  failuresOf(account: string): number {
    return this.runners.get(account)?.failures ?? 0;
  }

  /** Next attempt of every owned account that has one scheduled, for the metrics. */
  nextAttempts(): Array<[account: string, atMs: number]> {
    return [...this.runners].flatMap(([name, r]) => (r.nextRunAt === null ? [] : [[name, r.nextRunAt] as [string, number]]));
  }

  /** Discovered zones of every owned `zones: auto` account, for /accounts and the metrics. */
  discoveries(): Array<[account: string, view: DiscoveryView]> {
    return [...this.runners].flatMap(([name, r]) => (r.account.autoZones ? [[name, this.discovery.view(name)] as [string, DiscoveryView]] : []));
  }

  /**
   * Collects every owned account now, concurrently (for --once and tests). With `withinMs`, the
   * collections still running when it has passed are cancelled and their accounts returned;
   * nothing waits for them.
   */
  async collectAll(withinMs?: number): Promise<string[]> {
    const pending = new Set(this.runners.values());
    const all = Promise.all([...pending].map((r) => this.run(r, Date.now()).finally(() => pending.delete(r))));
    if (withinMs === undefined) return (await all, []);
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, withinMs, true)))]);
    clearTimeout(timer);
    if (!late) return [];
    for (const r of pending) if (r.abort) abortFlag(r.abort);
    return [...pending].map((r) => r.account.name);
  }

  /**
   * Swaps in a new configuration: added accounts start cold, removed ones are cancelled and
   * disappear, changed credentials start a new session, unchanged accounts keep data and schedule.
   */
  applyConfig(next: ExporterConfig): ConfigDiff {
    const wanted = new Map(this.ownedAccounts(next).map((a) => [a.name, a]));
    const diff: ConfigDiff = { added: [], removed: [], changed: [] };
    const timingChanged = next.intervalMs !== this.config.intervalMs || next.spread !== this.config.spread;
    // A zone added, removed or moved may hold LBs of `zones: auto` accounts: they look again.
    if (zoneSet(next) !== zoneSet(this.config)) this.discovery.expireAll();
    this.config = next;
    for (const [name, r] of this.runners) if (!wanted.has(name)) this.removeRunner(name, r), diff.removed.push(name);
    for (const [name, acc] of wanted) {
      const r = this.runners.get(name);
      if (!r) {
        this.addRunner(acc);
        if (this.started) this.schedule(this.runners.get(name)!);
        diff.added.push(name);
        continue;
      }
      const old = r.account;
      r.account = acc;
      const credentialsChanged = this.sessions.update(acc);
      const zonesChanged = old.zones.join() !== acc.zones.join() || !!old.autoZones !== !!acc.autoZones;
      if (zonesChanged) this.d.store.ensureAccount(name, acc.zones);
      // Into or out of `zones: auto`, what was discovered no longer applies; new credentials may
      // open zones the old ones could not (a fixed password): discover at the next collection.
      if (zonesChanged || (credentialsChanged && acc.autoZones)) this.discovery.remove(name);
      if (credentialsChanged || zonesChanged || old.limits.concurrency !== acc.limits.concurrency || old.limits.requestsPerSecond !== acc.limits.requestsPerSecond) diff.changed.push(name);
      // New credentials of a failing account are worth trying now rather than after its backoff.
      const retryNow = credentialsChanged && r.failures > 0;
      if (retryNow) (r.failures = 0), (r.lastDueMs = null);
      if ((timingChanged || retryNow) && this.started && !r.running) this.schedule(r);
    }
    this.d.exposition.invalidate();
    return diff;
  }

  /** Stops scheduling; in-flight collections end when the pool closes. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.staleTimer);
    for (const r of this.runners.values()) clearTimeout(r.timer);
  }

  private addRunner(acc: AccountConfig): void {
    this.runners.set(acc.name, { account: acc, nextRunAt: null, lastDueMs: null, failures: 0, attempted: false });
    this.sessions.update(acc);
    this.d.store.ensureAccount(acc.name, acc.zones);
  }

  /** Nothing of a removed account may run again: its timer goes, its collection in flight is cancelled. */
  private removeRunner(name: string, r: Runner): void {
    clearTimeout(r.timer);
    r.nextRunAt = null;
    this.runners.delete(name);
    if (r.abort) abortFlag(r.abort);
    if (r.running) {
      const done = r.running;
      this.draining.set(name, done);
      void done.finally(() => {
        if (this.draining.get(name) === done) this.draining.delete(name);
      });
    }
    this.sessions.remove(name);
    this.discovery.remove(name);
    this.d.store.removeAccount(name);
  }

  /** Arms the account's timer for its next run (see next-run.ts for the rules). */
  private schedule(r: Runner): void {
    if (this.stopped || this.runners.get(r.account.name) !== r) return;
    clearTimeout(r.timer);
    const now = Date.now();
    const name = r.account.name;
    const interval = this.config.intervalMs;
    // Without spread every account shares one phase: the moment the exporter started.
    const offsetMs = this.config.spread ? stableOffset(name, interval) : this.startedAt % interval;
    const at = nextRunAt({ now, intervalMs: interval, offsetMs, lastDueMs: r.lastDueMs, failures: r.failures, jitter: backoffJitter(name, r.failures) });
    r.nextRunAt = at;
    r.timer = setTimeout(() => void this.run(r, at), Math.max(0, at - now));
  }

  /** One collection of one account; never two at once for the same account. */
  private run(r: Runner, dueMs: number): Promise<void> {
    if (r.running) return r.running;
    const name = r.account.name;
    clearTimeout(r.timer);
    r.nextRunAt = null;
    r.lastDueMs = dueMs;
    const plan = this.discovery.plan(r.account, this.config, dueMs);
    const { task, generation } = this.sessions.taskFor(r.account, this.config, plan.zones);
    const abort = createAbortFlag();
    r.abort = abort;
    const log = this.d.log.child({ account: name });
    // A collection of this account removed a moment ago may still be unwinding: never two at once.
    const before = this.draining.get(name) ?? Promise.resolve();
    r.running = before
      // An account discovered in no zone has nothing to collect until its next discovery.
      .then(() => (task.zones.length === 0 ? { account: name, zones: [] } : this.d.pool.run({ ...task, abort })))
      .then((result) => this.record(r, result, generation, log, plan, dueMs))
      .finally(() => {
        r.running = undefined;
        r.abort = undefined;
        if (this.started) this.schedule(r);
        // After scheduling: a rebuild may start at once, and must see the result and the next attempt.
        this.d.exposition.invalidate();
      });
    return r.running;
  }

  private record(r: Runner, all: CollectResult, generation: number, log: Logger, plan: ZonePlan, dueMs: number): void {
    if (this.runners.get(r.account.name) !== r) return; // removed by a reload meanwhile
    r.attempted = true;
    // Tokens and the failure count belong to the credentials the collection ran with. Every
    // token of a discovery is kept, so that the next one needs no new authentication either.
    const current = this.sessions.keepTokens(all, generation);
    const result = plan.discover ? this.discovered(r, all, dueMs, log) : all;
    let failed = false;
    for (const z of result.zones) {
      if (z.ok) {
        log.debug({ zone: z.zone, lbs: z.summary.lbs, servers: z.summary.servers, durationMs: z.durationMs, partial: !!z.partial }, 'collection succeeded');
      } else {
        failed = true;
        log.warn({ zone: z.zone, reason: z.error.reason, err: z.error.message, durationMs: z.durationMs }, 'collection failed');
      }
    }
    if (current) r.failures = failed ? r.failures + 1 : 0;
    // Backoff counts from when the failed attempt really started (a queue or a booting thread can
    // delay it), so that attempts are 1, 2, 4 … intervals apart as seen by the API.
    if (current && failed && r.lastDueMs !== null) r.lastDueMs = Math.max(r.lastDueMs, Math.min(...result.zones.map((z) => z.startedAtMs)));
    this.d.store.apply(result);
  }

  /** Applies a discovery: the account's zones become those found; only their outcomes count. */
  private discovered(r: Runner, all: CollectResult, dueMs: number, log: Logger): CollectResult {
    const name = r.account.name;
    // A reload took the account out of `zones: auto` while it discovered: its listed zones count.
    if (!r.account.autoZones) return { account: name, zones: all.zones.filter((z) => r.account.zones.includes(z.zone)) };
    const before = this.discovery.view(name);
    const d = this.discovery.record(name, all.zones, dueMs, Date.now());
    const zones = d.state.zones!;
    for (const zone of d.authFailing) {
      const o = all.zones.find((z) => z.zone === zone);
      const err = o && !o.ok ? o.error.message : undefined;
      log.warn({ zone, err, collected: zones.includes(zone) }, 'zone discovery: authentication failed in this zone (logged once until it succeeds there)');
    }
    for (const zone of d.authRecovered) log.info({ zone }, 'zone discovery: authentication works again in this zone');
    if (before.discoveredAtMs === null || zones.join() !== before.zones.join() || d.state.incomplete) log.info({ zones, incomplete: d.state.incomplete }, 'zones discovered');
    this.d.store.ensureAccount(name, zones);
    return { account: name, zones: all.zones.filter((z) => zones.includes(z.zone)) };
  }

  private expireStale(): void {
    if (this.d.store.expireStale(Date.now(), this.config.staleAfterMs)) this.d.exposition.invalidate();
  }
}

/** The known zones and their endpoints, as one comparable string. */
function zoneSet(c: ExporterConfig): string {
  return Object.values(c.zones)
    .map((z) => `${z.name}\0${z.endpoint}`)
    .sort()
    .join('\n');
}
