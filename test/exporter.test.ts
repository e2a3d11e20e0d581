import { afterEach, describe, expect, it } from 'vitest';
import { stableOffset } from '../src/exporter.js';
import { eventually, startStack, type Running } from './support/harness.js';

let s: Running | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const many = (n: number, zone = 'DX-M1') => Array.from({ length: n }, (_, i) => ({ name: `sched-${i}`, zones: [zone], id: `sched${i}@example.com`, password: `pw${i}` }));

describe('scheduling', () => {
  it('spreads first collections over the interval at each account\'s stable offset', async () => {
    const accounts = many(16);
    const interval = 8000;
    const started = Date.now();
    s = await startStack({
      sim: { accounts: accounts.map((a) => ({ id: a.id, password: a.password, zones: { 'DX-M1': { lbs: 1, serversPerLb: 1 } } })) },
      accounts,
      yaml: `interval: 8s\ntimeout: 5s\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 1000 }`,
    });
    await eventually(() => (s!.app.exporter.isReady() ? true : undefined), 20_000, 'every account collected once');
    const firsts = accounts.map((a) => s!.app.store.get(a.name, 'DX-M1')!.lastAttemptMs!);
    // Each started at its own offset within the interval (clock-aligned), within timer slack.
    for (const [i, a] of accounts.entries()) {
      const phase = (((firsts[i]! - stableOffset(a.name, interval)) % interval) + interval) % interval;
      // Timers, thread dispatch and a shared 2-core machine make a start late by up to ~1 s.
      expect(Math.min(phase, interval - phase), `${a.name} off its slot`).toBeLessThan(1500);
    }
    // Spread: the first attempts cover most of the interval instead of one burst.
    const sorted = [...firsts].sort((x, y) => x - y);
    expect(sorted.at(-1)! - sorted[0]!).toBeGreaterThan(interval * 0.5);
    const buckets = new Array(4).fill(0);
    for (const t of firsts) buckets[Math.floor(((t - started) % interval) / (interval / 4))]++;
    expect(Math.max(...buckets)).toBeLessThan(accounts.length); // not all in one quarter
  });

  it('with spread: false collects every account at once when it starts', async () => {
    const accounts = many(12);
    s = await startStack({
      sim: { accounts: accounts.map((a) => ({ id: a.id, password: a.password, zones: { 'DX-M1': { lbs: 1, serversPerLb: 1 } } })) },
      accounts,
      yaml: `interval: 1m\ntimeout: 10s\nspread: false\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 1000 }`,
    });
    // Not a whole interval later (a scheduling bug once pushed all but the first account there).
    await eventually(() => (s!.app.exporter.isReady() ? true : undefined), 15_000, 'every account collected at start');
    const firsts = accounts.map((a) => s!.app.store.get(a.name, 'DX-M1')!.lastAttemptMs!);
    expect(Math.max(...firsts) - Math.min(...firsts)).toBeLessThan(5000);
    for (const a of accounts) expect(s.app.exporter.nextRunOf(a.name)! - Date.now()).toBeGreaterThan(40_000);
  });

  it('never starts a collection twice while it is still running; a slow account does not delay others', async () => {
    const accounts = many(2);
    s = await startStack({
      sim: { accounts: accounts.map((a) => ({ id: a.id, password: a.password, zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 } } })) },
      accounts,
      yaml: `interval: 5s\ntimeout: 3s\nspread: false\napi: { requestTimeout: 10s, retries: 0 }\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 1000 }`,
      schedule: false,
    });
    s.sim.setFaults('sched0@example.com', { slowMs: 6000 });
    const slow = s.app.exporter.collectAll();
    const again = s.app.exporter.collectAll(); // a second trigger while the first runs
    await Promise.all([slow, again]);
    expect(s.app.store.get('sched-0', 'DX-M1')!.attempts).toBe(1); // one collection, not two
    const byAccount = s.sim.stats.totals().byAccount;
    expect(byAccount['sched0@example.com'] ?? 0).toBeLessThanOrEqual(1);
    expect(byAccount['sched1@example.com'], JSON.stringify(s.sim.stats.totals())).toBe(4); // auth + list + 2 server lists, unaffected
    expect(s.app.store.get('sched-1', 'DX-M1')!.up).toBe(true);
    expect(s.app.store.get('sched-0', 'DX-M1')!.lastError?.reason).toBe('timeout');
  });

  it('backs off accounts that keep failing instead of retrying every interval', async () => {
    const accounts = many(1);
    s = await startStack({
      sim: { accounts: [{ id: accounts[0]!.id, password: 'the-real-one', zones: { 'DX-M1': { lbs: 1 } } }] },
      accounts,
      yaml: 'interval: 1s\ntimeout: 900ms\nspread: false',
    });
    await new Promise((r) => setTimeout(r, 7500));
    const auths = s.sim.stats.count({ command: 'auth' });
    // Every interval would be ~7 attempts; with 1, 2, 4-interval backoff it is 3 or 4, each one auth (no retry loop).
    expect(auths).toBeGreaterThanOrEqual(2);
    expect(auths).toBeLessThanOrEqual(4);
    // One attempt may be in flight, and on a loaded machine one may time out before its request leaves.
    const failures = s.app.store.get('sched-0', 'DX-M1')!.consecutiveFailures;
    expect(Math.abs(failures - auths), `${failures} recorded failures for ${auths} auth requests`).toBeLessThanOrEqual(1);
  });

  it('drops the tokens of an account whose credentials changed', async () => {
    const accounts = many(1);
    s = await startStack({ sim: { accounts: [{ id: accounts[0]!.id, password: 'pw0', zones: { 'DX-M1': { lbs: 1 } } }] }, accounts, schedule: false });
    await s.app.exporter.collectAll();
    await s.app.exporter.collectAll();
    expect(s.sim.stats.count({ command: 'auth' })).toBe(1); // token reused across cycles
    const cfg = s.app.exporter.currentConfig;
    const { Secret } = await import('../src/config/secret.js');
    s.app.exporter.applyConfig({ ...cfg, accounts: [{ ...cfg.accounts[0]!, password: new Secret('pw0') , id: new Secret(accounts[0]!.id)}] } as typeof cfg);
    await s.app.exporter.collectAll();
    expect(s.sim.stats.count({ command: 'auth' })).toBe(1); // same credentials: token kept
    s.sim.setPassword(accounts[0]!.id, 'pw1'); // (this also kills the old token on the API side)
    s.app.exporter.applyConfig({ ...cfg, accounts: [{ ...cfg.accounts[0]!, password: new Secret('pw1') }] } as typeof cfg);
    s.sim.resetStats();
    await s.app.exporter.collectAll();
    const t = s.sim.stats.totals();
    expect(t.byCommand).toEqual({ auth: 1, listLoadBalancers: 1, listLoadBalancerWebServers: 1 }); // fresh auth first, no 401 with the old token
    expect(s.app.store.get('sched-0', 'DX-M1')!.up).toBe(true);
  });
});
