import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exporterYaml, startStack, type Running, type TestAccount } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/**
 * Rotating CLOUD_ID/CLOUD_PASSWORD while a collection runs: that collection ends with a token of
 * the old identity, which must not be kept. Which identity authenticated and which token's
 * identity the API calls carried are read at the simulator (its own process).
 */
const OLD = { id: 'old-user@example.com', password: 'old-pw' };
const NEW = { id: 'new-user@example.com', password: 'new-pw' };
const account = (c: { id: string; password: string }): TestAccount => ({ name: 'rot', zones: ['DX-M1'], ...c });
const YAML = 'interval: 1m\ntimeout: 10s\nlimits: { concurrency: 1, requestsPerSecond: 100, zoneRequestsPerSecond: 500 }';
let s: Running<SimProcess>;

const count = async (id: string, command?: string) => ((await s.sim.stats({ account: id, ...(command ? { command } : {}) })) as { matching: number }).matching;

beforeAll(async () => {
  const sim = await SimProcess.start({
    accounts: [
      // Slow enough (5 requests × 300 ms) to rotate while a collection runs.
      { ...OLD, zones: { 'DX-M1': { lbs: 3, serversPerLb: 1, faults: { slowMs: 300 } } } },
      { ...NEW, zones: { 'DX-M1': { lbs: 3, serversPerLb: 1 } } },
    ],
  });
  s = await startStack({ sim: { external: sim }, accounts: [account(OLD)], yaml: YAML, schedule: false, reloadFromFile: true });
});
afterAll(() => s.close());

describe('credential rotation during a collection', () => {
  it('the next collection authenticates with the new identity, not the old token', async () => {
    const running = s.app.scheduler.collectAll();
    await eventually(async () => ((await count(OLD.id, 'auth')) === 1 ? true : undefined), 10_000, 'the old identity authenticated');
    writeFileSync(s.configFile, exporterYaml(s.sim, [account(NEW)], YAML));
    expect((await s.app.reload('test')).changed).toEqual(['rot']);
    await running; // ends with a valid token of the old identity
    expect(await count(OLD.id, 'listLoadBalancerWebServers')).toBe(3);

    await s.sim.resetStats();
    await s.app.scheduler.collectAll();
    expect(await count(NEW.id, 'auth'), 'new identity authenticated').toBe(1);
    expect(await count(OLD.id), 'calls made with the old identity\'s token').toBe(0);
    expect(await count(NEW.id)).toBe(5); // auth, list, 3 server lists
    expect(s.app.store.get('rot', 'DX-M1')!.up).toBe(true);
  });
});
