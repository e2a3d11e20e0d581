import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Running } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/**
 * Limits measured where they matter, at the API (the simulator's request log): per zone across
 * all accounts and worker threads (3 threads > 2 zones, so a per-thread limiter would show up as
 * up to 3x the rate), per account, and per-account concurrency.
 *
 * The simulator runs in its own process so its timestamps are not skewed by the exporter's
 * event loop. The exporter guarantees at most `rate` sends in any second at the moment it sends;
 * the simulator stamps arrivals, which a busy 2-core machine can bunch by a few hundred ms. So
 * the bound checked over a 2-second window is the rate over 2 s plus JITTER_MS of arrivals.
 */
const WINDOW_MS = 2000;
const JITTER_MS = 250;
const allowed = (rate: number) => Math.ceil((rate * (WINDOW_MS + JITTER_MS)) / 1000);
const ZONE_RPS = 10;
const ACCOUNT_RPS = 4;
const ACCOUNTS = Array.from({ length: 6 }, (_, i) => ({ name: `rl-${i}`, zones: [i % 2 ? 'DX-G' : 'DX-M1'], id: `rl${i}@example.com`, password: `pw${i}` }));
let s: Running<SimProcess>;

beforeAll(async () => {
  s = await startStack({
    sim: { external: await SimProcess.start({ latencyMs: 5, accounts: ACCOUNTS.map((a) => ({ id: a.id, password: a.password, zones: { [a.zones[0]!]: { lbs: 10, serversPerLb: 1 } } })) }) },
    accounts: ACCOUNTS,
    yaml: `interval: 1m\ntimeout: 50s\nworkers: 3\nlimits: { concurrency: 2, requestsPerSecond: ${ACCOUNT_RPS}, zoneRequestsPerSecond: ${ZONE_RPS} }`,
    schedule: false,
  });
});
afterAll(() => s.close());

describe('rate limits, measured at the simulator', () => {
  it('hold per zone across threads and per account, and the zone limit is what binds', async () => {
    expect(s.app.pool.threads).toBe(3);
    await s.sim.resetStats();
    const started = Date.now();
    await s.app.scheduler.collectAll();
    const elapsed = (Date.now() - started) / 1000;
    const stats = (await s.sim.stats({ windowMs: String(WINDOW_MS) })) as { total: number; maxInWindowByZone: Record<string, number>; maxInWindowByAccount: Record<string, number> };
    const perZone = stats.maxInWindowByZone;
    const perAccount = stats.maxInWindowByAccount;
    const total = stats;
    // 6 accounts x (auth + list + 10 server lists), 3 accounts per zone.
    expect(total.total).toBe(6 * 12);
    for (const z of ['DX-M1', 'DX-G']) {
      expect(perZone[z]).toBeLessThanOrEqual(allowed(ZONE_RPS));
      expect(perZone[z]).toBeGreaterThanOrEqual(2 * ZONE_RPS - 2); // the limit binds: 3 accounts x 4/s > 10/s
    }
    for (const a of ACCOUNTS) expect(perAccount[a.id]).toBeLessThanOrEqual(allowed(ACCOUNT_RPS));
    // 36 requests per zone at 10/s cannot finish in under ~3.5 s.
    expect(elapsed).toBeGreaterThan(3.4);
    for (const z of s.app.store.all()) expect(z.up).toBe(true);
  });

  it('still hold while 429s and 503s are being retried after Retry-After', async () => {
    for (const [i, a] of ACCOUNTS.entries()) await s.sim.setFaults(a.id, { rateLimit: { status: i % 2 ? 503 : 429, retryAfterSeconds: 0, every: 3 } });
    await s.sim.resetStats();
    await s.app.scheduler.collectAll();
    const stats = (await s.sim.stats({ windowMs: String(WINDOW_MS) })) as { byStatus: Record<string, number>; maxInWindowByZone: Record<string, number>; maxInWindowByAccount: Record<string, number> };
    expect((stats.byStatus['429'] ?? 0) + (stats.byStatus['503'] ?? 0)).toBeGreaterThan(10); // retries really happened
    for (const z of ['DX-M1', 'DX-G']) expect(stats.maxInWindowByZone[z]).toBeLessThanOrEqual(allowed(ZONE_RPS));
    for (const a of ACCOUNTS) expect(stats.maxInWindowByAccount[a.id]).toBeLessThanOrEqual(allowed(ACCOUNT_RPS));
    for (const z of s.app.store.all()) expect(z.up, `${z.account} recovered through retries`).toBe(true);
    for (const a of ACCOUNTS) await s.sim.setFaults(a.id, {});
  });

  it('per-account concurrency bounds requests in flight', async () => {
    // One account alone with generous rates, so only concurrency limits what is pending.
    const cfg = s.app.scheduler.currentConfig;
    const zones = Object.fromEntries(Object.entries(cfg.zones).map(([k, z]) => [k, { ...z, requestsPerSecond: 1000 }]));
    s.app.scheduler.applyConfig({ ...cfg, zones, accounts: [{ ...cfg.accounts[0]!, limits: { ...cfg.accounts[0]!.limits, concurrency: 2, requestsPerSecond: 1000 } }] });
    await s.sim.setFaults(ACCOUNTS[0]!.id, { slowMs: 100 });
    let maxPending = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { pending } = (await s.sim.stats()) as { pending: number };
        maxPending = Math.max(maxPending, pending);
      }
    })();
    try {
      await s.app.scheduler.collectAll();
    } finally {
      sampling = false;
      await sampler;
    }
    expect(maxPending).toBe(2);
  });
});
