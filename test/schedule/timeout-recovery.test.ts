import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Running, type TestAccount } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/**
 * An account too large to finish within its timeout at its rate limit: every collection times
 * out, but each must still get about rate × timeout requests. The requests an aborted collection
 * had queued once kept their pacer slots, so every later cycle got nothing at all.
 */
const RATE = 5;
const TIMEOUT_S = 2;
const BIG: TestAccount = { name: 'big', zones: ['DX-M1'], id: 'big@example.com', password: 'big-pw' };
let s: Running<SimProcess>;

beforeAll(async () => {
  const sim = await SimProcess.start({ accounts: [{ id: BIG.id, password: BIG.password, zones: { 'DX-M1': { lbs: 300, serversPerLb: 1 } } }] });
  s = await startStack({
    sim: { external: sim },
    accounts: [BIG],
    yaml: `interval: 1m\ntimeout: ${TIMEOUT_S}s\nlimits: { concurrency: 4, requestsPerSecond: ${RATE}, zoneRequestsPerSecond: 100 }`,
    schedule: false,
  });
});
afterAll(() => s.close());

describe('a collection that times out', () => {
  it('leaves later cycles their rate × timeout of requests (counted at the simulator)', async () => {
    const perCycle: number[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const since = Date.now();
      await s.app.scheduler.collectAll();
      const st = (await s.sim.stats({ account: BIG.id, command: 'listLoadBalancerWebServers', since: String(since) })) as { matching: number };
      perCycle.push(st.matching);
      expect(s.app.store.get('big', 'DX-M1')!.lastError?.reason).toBe('timeout');
    }
    // rate × timeout = 10 requests per cycle, the first cycle's auth and list among them.
    for (const [i, n] of perCycle.entries()) {
      expect(n, `server lists in cycle ${i + 1} of ${JSON.stringify(perCycle)}`).toBeGreaterThanOrEqual(RATE * TIMEOUT_S - 4);
      expect(n).toBeLessThanOrEqual(RATE * TIMEOUT_S + 2);
    }
  });
});
