import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ExporterConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import type { Exposition } from '../../src/metrics/exposition.js';
import { isAborted } from '../../src/pool/abort-flag.js';
import type { CollectorPool } from '../../src/pool/collector-pool.js';
import type { CollectResult, CollectTask } from '../../src/protocol.js';
import { BACKOFF_JITTER, stableOffset } from '../../src/schedule/next-run.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { SINGLE_SHARD } from '../../src/shard.js';
import { Store } from '../../src/state/store.js';
import { LB_FAMILY_ORDER } from '../../src/metrics/families.js';

/**
 * The scheduler on a fake clock with a stand-in pool whose collections take COLLECT_MS and
 * succeed or fail as told: what runs when, without waiting for it. The real pool, workers and
 * simulator are in runtime.test.ts.
 */
const COLLECT_MS = 2_000;

interface Call {
  account: string;
  at: number;
  task: CollectTask;
}

class FakePool {
  readonly calls: Call[] = [];
  running = 0;
  maxRunningPerAccount = 0;
  private readonly runningBy = new Map<string, number>();
  failing = new Set<string>();

  run(task: CollectTask): Promise<CollectResult> {
    this.calls.push({ account: task.account, at: Date.now(), task });
    const n = (this.runningBy.get(task.account) ?? 0) + 1;
    this.runningBy.set(task.account, n);
    this.maxRunningPerAccount = Math.max(this.maxRunningPerAccount, n);
    return new Promise((resolve) =>
      setTimeout(() => {
        this.runningBy.set(task.account, this.runningBy.get(task.account)! - 1);
        resolve(outcome(task, !this.failing.has(task.account)));
      }, COLLECT_MS),
    );
  }

  times(account: string): number[] {
    return this.calls.filter((c) => c.account === account).map((c) => c.at);
  }
}

function outcome(task: CollectTask, ok: boolean): CollectResult {
  const base = { startedAtMs: Date.now() - COLLECT_MS, durationMs: COLLECT_MS, requests: [] as const, token: ok ? { value: `tok-${task.cloudId}`, expiresAtMs: Date.now() + 3_600_000 } : null };
  return {
    account: task.account,
    zones: task.zones.map((z) =>
      ok
        ? { ...base, zone: z.zone, ok: true as const, snapshot: { text: new Uint8Array(0), offsets: new Array(LB_FAMILY_ORDER.length + 1).fill(0), series: 0 }, summary: { lbs: 0, lbsDown: 0, servers: 0, serversDown: 0 }, partial: null }
        : { ...base, zone: z.zone, ok: false as const, error: { reason: 'auth' as const, zone: z.zone, message: 'authentication failed' } },
    ),
  };
}

const accountsYaml = (names: readonly string[], pw = 'pw') => names.map((n) => `  - { name: ${n}, zones: [DX-M1], id: "${n}@example.com", password: "${pw}" }`).join('\n');
function config(names: readonly string[], extra: string, pw = 'pw'): Promise<ExporterConfig> {
  return parseConfig(`listen: 127.0.0.1:0\n${extra}\nzones:\n  DX-M1: { endpoint: "http://127.0.0.1:9" }\naccounts:\n${accountsYaml(names, pw)}\n`, '/virtual/accounts.yaml');
}

let pool: FakePool;
let sched: Scheduler;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

function start(cfg: ExporterConfig): Scheduler {
  pool = new FakePool();
  const exposition = { invalidate: () => undefined } as unknown as Exposition;
  sched = new Scheduler(cfg, { log: createLogger({ level: 'silent' }), pool: pool as unknown as CollectorPool, store: new Store(), exposition, shard: SINGLE_SHARD, logLevel: 'silent' });
  sched.start();
  return sched;
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 + 7_000 });
});
afterEach(() => {
  sched?.stop();
  vi.useRealTimers();
});

describe('scheduler on a fake clock', () => {
  it('cold start: every account is collected at once and ready, then moves onto its spread slot without a second run in that interval', async () => {
    const I = 10 * 60_000;
    const names = Array.from({ length: 20 }, (_, i) => `acc-${i}`);
    start(await config(names, 'interval: 10m\ntimeout: 1m\nspread: true'));
    await vi.advanceTimersByTimeAsync(COLLECT_MS + 10);
    expect(pool.calls).toHaveLength(20); // all at once, not at their offsets
    expect(sched.isReady()).toBe(true);
    await vi.advanceTimersByTimeAsync(5 * I);
    for (const n of names) {
      const t = pool.times(n);
      expect(t[0]).toBe(T0 + 7_000);
      expect(t[1]! - t[0]!, `${n}: second run`).toBeGreaterThanOrEqual(I - 250);
      expect(t[1]! - t[0]!).toBeLessThan(2 * I);
      for (let k = 1; k < t.length; k++) {
        const phase = (((t[k]! - stableOffset(n, I)) % I) + I) % I;
        expect(Math.min(phase, I - phase), `${n} run ${k} on its slot`).toBeLessThan(1); // timers fire on whole ms
        if (k > 1) expect(t[k]! - t[k - 1]!).toBe(I);
      }
    }
  });

  it('with spread: false every account shares the start phase: cold now, then one interval later', async () => {
    start(await config(['a', 'b', 'c'], 'interval: 1m\ntimeout: 10s\nspread: false'));
    await vi.advanceTimersByTimeAsync(3 * 60_000 + 10);
    for (const n of ['a', 'b', 'c']) expect(pool.times(n)).toEqual([0, 1, 2, 3].map((k) => T0 + 7_000 + k * 60_000));
  });

  it('a failing account is retried 1, 2, 4, 8 intervals apart (plus at most 10 % jitter), capped at 10 min, and returns to its slot on success', async () => {
    const I = 60_000;
    start(await config(['bad'], 'interval: 1m\ntimeout: 10s\nspread: false'));
    pool.failing.add('bad');
    await vi.advanceTimersByTimeAsync(40 * 60_000);
    const t = pool.times('bad');
    const gaps = t.slice(1).map((x, i) => x - t[i]!);
    const expected = [1, 2, 4, 8, 10, 10].map((k) => k * I);
    for (const [i, base] of expected.entries()) {
      expect(gaps[i], `gap ${i + 1}`).toBeGreaterThanOrEqual(base);
      expect(gaps[i]).toBeLessThanOrEqual(base * (1 + BACKOFF_JITTER));
    }
    expect(sched.failuresOf('bad')).toBe(t.length);
    const next = sched.nextRunOf('bad')!;
    expect(next - t.at(-1)!).toBeGreaterThanOrEqual(10 * I);
    // Recovery: the next attempt succeeds, then the account runs every interval again.
    pool.failing.clear();
    await vi.advanceTimersByTimeAsync(next - Date.now() + 4 * I + 10);
    const after = pool.times('bad').filter((x) => x >= next);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after[1]! - after[0]!).toBeGreaterThanOrEqual(I - 250); // onto its slot: never sooner than an interval
    expect(after.slice(2).map((x, i) => Math.round(x - after[i + 1]!))).toEqual(new Array(after.length - 2).fill(I));
    expect(sched.failuresOf('bad')).toBe(0);
  });

  it('never runs one account twice at once, even when collectAll is called during a run', async () => {
    start(await config(['a'], 'interval: 1m\ntimeout: 10s'));
    await vi.advanceTimersByTimeAsync(500); // the cold run is in flight
    void sched.collectAll();
    void sched.collectAll();
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(pool.maxRunningPerAccount).toBe(1);
  });

  it('a removed account\'s collection in flight is aborted and nothing re-arms it; re-added, it runs one loop', async () => {
    const cfg = await config(['keep', 'gone'], 'interval: 1m\ntimeout: 10s\nspread: false');
    start(cfg);
    await vi.advanceTimersByTimeAsync(500);
    const inFlight = pool.calls.find((c) => c.account === 'gone')!;
    expect(isAborted(inFlight.task.abort)).toBe(false);
    expect(sched.applyConfig(await config(['keep'], 'interval: 1m\ntimeout: 10s\nspread: false')).removed).toEqual(['gone']);
    expect(isAborted(inFlight.task.abort)).toBe(true);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(pool.times('gone')).toHaveLength(1);
    expect(sched.nextRunOf('gone')).toBeNull();
    sched.applyConfig(cfg);
    const readdedAt = Date.now();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    const runs = pool.times('gone').filter((x) => x >= readdedAt);
    expect(runs[0]).toBe(readdedAt); // cold again
    expect(runs).toHaveLength(10); // one loop: once per interval, not twice
    expect(pool.times('keep')).toHaveLength(21);
  });

  it('a credential change moves the account to a new session: the old run\'s token is not kept, the next task carries none', async () => {
    start(await config(['rot'], 'interval: 1m\ntimeout: 10s\nspread: false'));
    await vi.advanceTimersByTimeAsync(COLLECT_MS + 10);
    await vi.advanceTimersByTimeAsync(60_000); // second run, reusing the first run's token
    expect(pool.calls[1]!.task.zones[0]!.token).toEqual(expect.objectContaining({ value: 'tok-rot@example.com' }));
    await vi.advanceTimersByTimeAsync(60_000 - COLLECT_MS + 500); // the third run is in flight
    sched.applyConfig(await config(['rot'], 'interval: 1m\ntimeout: 10s\nspread: false', 'pw-rotated'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pool.calls[3]!.task.password).toBe('pw-rotated');
    expect(pool.calls[3]!.task.zones[0]!.token).toBeUndefined();
  });
});
