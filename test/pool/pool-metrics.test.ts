import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { only, parseExposition, startStack, type Running } from '../support/harness.js';

/**
 * The pool's own counters reach /metrics through the App: an account whose collection kills
 * its worker thread is reported as `internal` (a bug, not the API), its neighbours on the same
 * thread are re-run, and the replaced thread is counted.
 */
let s: Running;

beforeAll(async () => {
  s = await startStack({
    sim: { accounts: ['crasher', 'fine'].map((n) => ({ id: `${n}@example.com`, password: `${n}-pw`, zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 } } })) },
    accounts: ['crasher', 'fine'].map((n) => ({ name: n, zones: ['DX-M1'], id: `${n}@example.com`, password: `${n}-pw` })),
    yaml: 'interval: 1m\ntimeout: 4s\nworkers: 1',
    app: { workerFile: new URL('../fixtures/workers/faulty-worker.mjs', import.meta.url).pathname },
    schedule: false,
  });
  await s.app.scheduler.collectAll();
  await s.app.exposition.flush();
}, 30_000);
afterAll(() => s.close());

describe('pool counters on /metrics', () => {
  it('a crashed thread: internal for its account, the neighbour re-run and up, threads replaced counted', async () => {
    const m = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
    const errors = (account: string, reason: string) => only(m, 'ktcloud_account_collection_errors_total', { account, reason })[0]!.value;
    expect(only(m, 'ktcloud_account_up', { account: 'crasher' })[0]!.value).toBe(0);
    expect(errors('crasher', 'internal')).toBe(1);
    expect(errors('crasher', 'bad_response')).toBe(0);
    expect(errors('crasher', 'network')).toBe(0);
    expect(only(m, 'ktcloud_account_up', { account: 'fine' })[0]!.value).toBe(1);
    expect(only(m, 'ktcloud_exporter_worker_threads_replaced_total')[0]!.value).toBeGreaterThanOrEqual(1);
    expect(only(m, 'ktcloud_exporter_tasks_rerun_total')[0]!.value).toBe(s.app.pool.tasksRerun);
    expect(s.app.pool.tasksRerun).toBeGreaterThanOrEqual(1);
  });
});
