import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exporterYaml, startStack, type Running, type TestAccount } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/**
 * Removing an account while its collection runs, measured at the simulator (its own process):
 * the collection in flight is cancelled, nothing re-arms the account, and adding it back runs
 * one loop, not two.
 */
const KEEP: TestAccount = { name: 'keep', zones: ['DX-M1'], id: 'keep@example.com', password: 'keep-pw' };
const GONE: TestAccount = { name: 'gone', zones: ['DX-M1'], id: 'gone@example.com', password: 'gone-pw' };
const YAML = 'interval: 2s\ntimeout: 1900ms\nspread: false\nlimits: { concurrency: 1, requestsPerSecond: 100, zoneRequestsPerSecond: 500 }';
let s: Running<SimProcess>;

const write = (accounts: TestAccount[]) => writeFileSync(s.configFile, exporterYaml(s.sim, accounts, YAML));
const gone = async (since: number, command?: string) =>
  ((await s.sim.stats({ account: GONE.id, since: String(since), ...(command ? { command } : {}) })) as { matching: number }).matching;

beforeAll(async () => {
  const sim = await SimProcess.start({
    accounts: [
      { id: KEEP.id, password: KEEP.password, zones: { 'DX-M1': { lbs: 1, serversPerLb: 1 } } },
      // 3 LBs one at a time, 250 ms per answer: a collection is 5 requests over ~1.3 s.
      { id: GONE.id, password: GONE.password, zones: { 'DX-M1': { lbs: 3, serversPerLb: 1, faults: { slowMs: 250 } } } },
    ],
  });
  s = await startStack({ sim: { external: sim }, accounts: [KEEP, GONE], yaml: YAML, reloadFromFile: true });
});
afterAll(() => s.close());

describe('removing an account', () => {
  it('cancels its collection in flight and never collects it again; added back, it runs one loop', async () => {
    await eventually(() => (s.app.store.get('gone', 'DX-M1')?.up ? true : undefined), 10_000, 'gone collected once');
    // Wait for a collection of it to be in flight: its auth or list answered, server lists to come.
    const cycleStart = Date.now();
    await eventually(async () => ((await gone(cycleStart, 'listLoadBalancers')) >= 1 ? true : undefined), 10_000, 'a collection of gone in flight');
    write([KEEP]);
    expect((await s.app.reload('test')).removed).toEqual(['gone']);
    const removedAt = Date.now();
    // A request already on the wire may still arrive just after; nothing is sent once the abort lands.
    const settled = removedAt + 300;
    // Three intervals, counted by the account that stays: the old code re-armed and logged in again.
    const keepLists = async () => ((await s.sim.stats({ account: KEEP.id, since: String(settled), command: 'listLoadBalancers' })) as { matching: number }).matching;
    await eventually(async () => ((await keepLists()) >= 3 ? true : undefined), 15_000, 'three collections of keep');
    expect(await gone(settled), 'requests for the removed account').toBe(0);
    expect(await keepLists()).toBeGreaterThanOrEqual(3);
    // Only that collection stopped: its thread was not terminated, no other task was re-run.
    expect(s.app.pool.hungThreadsReplaced).toBe(0);
    expect(s.app.pool.tasksRerun).toBe(0);
    expect(s.app.store.get('keep', 'DX-M1')!.consecutiveFailures).toBe(0);

    write([KEEP, GONE]);
    expect((await s.app.reload('test')).added).toEqual(['gone']);
    const addedAt = Date.now();
    // A rate over a fixed window, so a fixed wait: the window is the measurement.
    await new Promise((r) => setTimeout(r, 6_500));
    // One loop: a cold run at once, then one run per 2 s interval (3 or 4 in 6.5 s); two loops would be 6 or more.
    const lists = await gone(addedAt, 'listLoadBalancers');
    expect(lists).toBeGreaterThanOrEqual(3);
    expect(lists).toBeLessThanOrEqual(4);
  });
});
