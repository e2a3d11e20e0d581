import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, only, scrape, startStack, type Running } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/** `zones: auto` under the real timers: readiness, and collections after discovery reuse its tokens. */
const ACC = { name: 'auto', zones: ['auto'], id: 'auto@example.com', password: 'pw-auto' };
let s: Running<SimProcess>;

beforeAll(async () => {
  const sim = await SimProcess.start({ latencyMs: 2, accounts: [{ id: ACC.id, password: ACC.password, zones: { 'DX-Central': { lbs: 1, serversPerLb: 1 }, 'DX-G-YS': { lbs: 2, serversPerLb: 1 } } }] });
  s = await startStack({ sim: { external: sim }, accounts: [ACC], yaml: 'interval: 2s\ntimeout: 2s\nlimits: { requestsPerSecond: 50 }' });
});
afterAll(() => s?.close());

it('is ready once discovery (its first collection) ran, and later collections call only the discovered zones with its tokens', async () => {
  await eventually(async () => ((await fetch(`${s.url}/readyz`)).status === 200 ? true : undefined), 15_000, '/readyz 200');
  await s.app.exposition.flush();
  const m = await scrape(s.url);
  expect(only(m, 'ktcloud_account_zones_discovered', { account: 'auto' })[0]?.value).toBe(2);
  // Wait for two more collections, counted at the simulator.
  await eventually(async () => {
    const { matching } = (await s.sim.stats({ account: ACC.id, zone: 'DX-Central', command: 'listLoadBalancers' })) as { matching: number };
    return matching >= 3 ? true : undefined;
  }, 15_000, 'three collections of DX-Central');
  const count = async (q: Record<string, string>) => ((await s.sim.stats({ account: ACC.id, ...q })) as { matching: number }).matching;
  expect(await count({ command: 'auth' })).toBe(5); // one token per known zone, at discovery only
  expect(await count({ zone: 'DX-M1', command: 'listLoadBalancers' })).toBe(1); // asked once, at discovery
  expect(await count({ zone: 'DX-M1', command: 'listLoadBalancerWebServers' })).toBe(0);
});
