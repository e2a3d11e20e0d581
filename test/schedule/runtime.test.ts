import { afterEach, describe, expect, it } from 'vitest';
import { stableOffset } from '../../src/schedule/next-run.js';
import { eventually, startStack, type Running } from '../support/harness.js';

let s: Running | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const many = (n: number, zone = 'DX-M1') => Array.from({ length: n }, (_, i) => ({ name: `sched-${i}`, zones: [zone], id: `sched${i}@example.com`, password: `pw${i}` }));

describe('collections through the real pool and simulator', () => {
  it('cold start with spread: every account collected at once and /readyz ready, then each waits for its own slot', async () => {
    const accounts = many(20);
    const I = 10 * 60_000;
    s = await startStack({
      sim: { accounts: accounts.map((a) => ({ id: a.id, password: a.password, zones: { 'DX-M1': { lbs: 1, serversPerLb: 1 } } })) },
      accounts,
      yaml: `interval: 10m\ntimeout: 10s\nspread: true\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 1000 }`,
    });
    const started = Date.now();
    // Before, 20 s after start only the accounts whose offset had come (2 of 20) had data.
    await eventually(async () => ((await fetch(`${s!.url}/readyz`)).status === 200 ? true : undefined), 15_000, '/readyz ready');
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const a of accounts) {
      const z = s.app.store.get(a.name, 'DX-M1')!;
      expect(z.up, a.name).toBe(true);
      const next = s.app.scheduler.nextRunOf(a.name)!;
      expect(next - z.lastAttemptMs!, `${a.name}: not twice in one interval`).toBeGreaterThanOrEqual(I - 1000);
      const phase = (((next - stableOffset(a.name, I)) % I) + I) % I;
      expect(Math.min(phase, I - phase), `${a.name} on its slot`).toBeLessThan(1);
    }
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
    const slow = s.app.scheduler.collectAll();
    const again = s.app.scheduler.collectAll(); // a second trigger while the first runs
    await Promise.all([slow, again]);
    expect(s.app.store.get('sched-0', 'DX-M1')!.attempts).toBe(1); // one collection, not two
    const byAccount = s.sim.stats.totals().byAccount;
    expect(byAccount['sched0@example.com'] ?? 0).toBeLessThanOrEqual(1);
    expect(byAccount['sched1@example.com'], JSON.stringify(s.sim.stats.totals())).toBe(4); // auth + list + 2 server lists, unaffected
    expect(s.app.store.get('sched-1', 'DX-M1')!.up).toBe(true);
    expect(s.app.store.get('sched-0', 'DX-M1')!.lastError?.reason).toBe('timeout');
  });

  it('drops the tokens of an account whose credentials changed', async () => {
    const accounts = many(1);
    s = await startStack({ sim: { accounts: [{ id: accounts[0]!.id, password: 'pw0', zones: { 'DX-M1': { lbs: 1 } } }] }, accounts, schedule: false });
    await s.app.scheduler.collectAll();
    await s.app.scheduler.collectAll();
    expect(s.sim.stats.count({ command: 'auth' })).toBe(1); // token reused across cycles
    const cfg = s.app.scheduler.currentConfig;
    const { Secret } = await import('../../src/config/secret.js');
    s.app.scheduler.applyConfig({ ...cfg, accounts: [{ ...cfg.accounts[0]!, password: new Secret('pw0') , id: new Secret(accounts[0]!.id)}] } as typeof cfg);
    await s.app.scheduler.collectAll();
    expect(s.sim.stats.count({ command: 'auth' })).toBe(1); // same credentials: token kept
    s.sim.setPassword(accounts[0]!.id, 'pw1'); // (this also kills the old token on the API side)
    s.app.scheduler.applyConfig({ ...cfg, accounts: [{ ...cfg.accounts[0]!, password: new Secret('pw1') }] } as typeof cfg);
    s.sim.resetStats();
    await s.app.scheduler.collectAll();
    const t = s.sim.stats.totals();
    expect(t.byCommand).toEqual({ auth: 1, listLoadBalancers: 1, listLoadBalancerWebServers: 1 }); // fresh auth first, no 401 with the old token
    expect(s.app.store.get('sched-0', 'DX-M1')!.up).toBe(true);
  });
});
