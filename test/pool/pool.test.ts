import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/load.js';
import { SharedPacer } from '../../src/ktcloud/pacer.js';
import { CollectorPool } from '../../src/pool/collector-pool.js';
import type { CollectTask, ZoneSuccess } from '../../src/protocol.js';
import { startSimulator, type Simulator } from '@ktcloud-lb-exporter/simulator';

let sim: Simulator;
const zonePacers = { 'DX-M1': SharedPacer.createBuffer(), 'DX-G': SharedPacer.createBuffer() };

beforeAll(async () => {
  sim = await startSimulator({
    listen: '127.0.0.1:0',
    latencyMs: 20,
    accounts: Array.from({ length: 8 }, (_, i) => ({ id: `acc${i}@example.com`, password: `pw${i}`, zones: { [i % 2 ? 'DX-G' : 'DX-M1']: { lbs: 3 + i, serversPerLb: 2 } } })),
  });
});
afterAll(() => sim.close());

function task(i: number, account = `acc${i}`, timeoutMs = 10_000): CollectTask {
  const zone = i % 2 ? 'DX-G' : 'DX-M1';
  return {
    account,
    zones: [{ zone, endpoint: sim.zoneEndpoint(zone), pacer: zonePacers[zone], requestsPerSecond: 200 }],
    cloudId: `acc${i}@example.com`,
    password: `pw${i}`,
    concurrency: 4,
    requestsPerSecond: 100,
    accountPacer: SharedPacer.createBuffer(),
    timeoutMs,
    api: { ...DEFAULTS.api, retryBaseMs: 10 },
    logLevel: 'silent',
  };
}

describe('collector pool (real piscina threads, real simulator)', () => {
  it('runs many accounts at once across threads, each with its own correct data', async () => {
    const pool = new CollectorPool({ workers: 2 });
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => pool.run(task(i))));
      results.forEach((r, i) => {
        expect(r.account).toBe(`acc${i}`);
        const z = r.zones[0] as ZoneSuccess;
        expect(z.ok).toBe(true);
        expect(z.summary.lbs).toBe(3 + i);
        expect(z.summary.servers).toBe((3 + i) * 2);
        const text = Buffer.from(z.snapshot.text).toString();
        expect(text).toContain(`ktcloud_lb_total_count{account="acc${i}",zone="${i % 2 ? 'DX-G' : 'DX-M1'}"} ${3 + i}`);
        expect(z.token?.value).toBeTruthy();
      });
    } finally {
      await pool.close();
    }
  });

  it('a crashing thread fails only its own account; tasks that shared the thread are run again', async () => {
    const pool = new CollectorPool({ workers: 1, filename: new URL('../fixtures/workers/faulty-worker.mjs', import.meta.url).pathname });
    try {
      const runs = [pool.run(task(0)), pool.run(task(1, 'crasher')), pool.run(task(2)), pool.run(task(3))];
      const [a, crashed, b, c] = await Promise.all(runs);
      expect(crashed.zones[0]!.ok).toBe(false);
      expect(crashed.zones[0]).toMatchObject({ error: { reason: 'internal' } });
      expect(pool.threadsReplaced).toBeGreaterThanOrEqual(1);
      for (const r of [a, b, c]) expect(r.zones[0]!.ok).toBe(true);
      expect(pool.tasksRerun).toBeGreaterThanOrEqual(3);
      // The pool replaced the thread and keeps working.
      expect((await pool.run(task(4))).zones[0]!.ok).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a hung thread is terminated after the deadline and replaced; other accounts are unaffected', async () => {
    const pool = new CollectorPool({ workers: 2, hangGraceMs: 200, filename: new URL('../fixtures/workers/faulty-worker.mjs', import.meta.url).pathname });
    try {
      const started = Date.now();
      const hung = pool.run(task(1, 'hanger', 800));
      const others = await Promise.all([0, 2, 4, 6].map((i) => pool.run(task(i))));
      const h = await hung;
      // Bounded, not fast: without the watchdog the hung task would never come back. (Generous
      // because threads are re-created and reruns go one at a time on a busy 2-core machine.)
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(h.zones[0]).toMatchObject({ ok: false, error: { reason: 'timeout', message: 'worker thread did not answer within the deadline; the thread was replaced (DX-G)' } });
      for (const r of others) expect(r.zones[0]!.ok).toBe(true);
      expect(pool.hungThreadsReplaced).toBe(1);
      expect(pool.threadsReplaced).toBe(1);
      expect((await pool.run(task(5))).zones[0]!.ok).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('the watchdog counts from the start of a task: a task queued past its deadline is not killed, one running past it is', async () => {
    // One thread running one task at a time, so later tasks wait in the queue.
    const pool = new CollectorPool({ workers: 1, tasksPerWorker: 1, hangGraceMs: 200, filename: new URL('../fixtures/workers/faulty-worker.mjs', import.meta.url).pathname });
    try {
      // Queued ~1.5 s behind the busy task, three times its timeout + grace (400 + 200 ms), then
      // runs ~0.3 s + the collection: well inside its deadline counted from its own start.
      const busy = pool.run(task(0, 'nap-1500'));
      const queued = pool.run(task(2, 'nap-300', 400));
      expect((await busy).zones[0]!.ok).toBe(true);
      expect((await queued).zones[0]!.ok).toBe(true);
      expect(pool.hungThreadsReplaced).toBe(0);

      // A hung task queued behind another: terminated timeout + grace after it started, not at
      // once because it already waited longer than that in the queue.
      const busyAgain = pool.run(task(4, 'nap-1500'));
      const hung = pool.run(task(1, 'hanger', 800));
      expect((await busyAgain).zones[0]!.ok).toBe(true);
      const freedAt = Date.now();
      const h = await hung;
      expect(h.zones[0]).toMatchObject({ ok: false, error: { reason: 'timeout' } });
      expect(Date.now() - freedAt).toBeGreaterThanOrEqual(800 + 200);
      expect(pool.hungThreadsReplaced).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
