import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Running } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/**
 * Who gets a saturated zone's slots, seen through the real pool and a simulator in its own
 * process: four accounts in one zone at 10 requests/s, each of them able to use all of it, all
 * started together. Served oldest first, they would finish one after another and the last would
 * trickle alone at its own rate; served most-work-left first (their deadlines are equal), they
 * end together, and the cycle takes what the zone needs and no more.
 */
const ACCOUNTS = Array.from({ length: 4 }, (_, i) => ({ name: `zo-${i}`, zones: ['DX-M1'], id: `zo${i}@example.com`, password: `pw${i}` }));
const ZONE_RPS = 10;
let s: Running<SimProcess>;

beforeAll(async () => {
  s = await startStack({
    sim: { external: await SimProcess.start({ latencyMs: 5, accounts: ACCOUNTS.map((a) => ({ id: a.id, password: a.password, zones: { 'DX-M1': { lbs: 10, serversPerLb: 1 } } })) }) },
    accounts: ACCOUNTS,
    // One thread: its gate orders every request of the zone.
    yaml: `interval: 1m\ntimeout: 50s\nworkers: 1\nlimits: { concurrency: 4, requestsPerSecond: ${ZONE_RPS}, zoneRequestsPerSecond: ${ZONE_RPS} }`,
    schedule: false,
  });
});
afterAll(() => s.close());

describe('a saturated zone, accounts started together', () => {
  it('end together, in no more time than the zone needs', async () => {
    await s.app.scheduler.collectAll(); // tokens: the measured cycle is warm (list + 10 server lists each)
    await s.sim.resetStats();
    const started = Date.now();
    await s.app.scheduler.collectAll();
    const elapsedMs = Date.now() - started;
    const stats = (await s.sim.stats()) as { total: number };
    expect(stats.total).toBe(4 * 11);
    const ends = [...s.app.store.all()]
      .map((z) => {
        expect(z.up).toBe(true);
        return z.lastAttemptMs! + z.lastDurationMs! - started;
      })
      .sort((a, b) => a - b);
    // 44 requests at 10/s: ~4.3 s. One after another, the first would end near 1.5 s.
    expect(ends[0]!).toBeGreaterThan(0.8 * ends[3]!);
    expect(elapsedMs).toBeLessThan((44 / ZONE_RPS) * 1000 * 1.25);
  });
});
