import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../src/once.js';
import { parseExposition, startStack, type Running } from './support/harness.js';

/**
 * `--once` always ends. A collection that never comes back (here a task no thread takes up, which
 * the pool's hung-thread watchdog cannot see) is cancelled at the deadline and named, and what
 * the other accounts collected is still printed. Real pool (a fixture worker that wraps the real
 * one), real simulator.
 */
let s: Running;
beforeAll(async () => {
  s = await startStack({
    sim: { accounts: ['unstarted', 'fine'].map((n) => ({ id: `${n}@example.com`, password: `${n}-pw`, zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 } } })) },
    accounts: ['unstarted', 'fine'].map((n) => ({ name: n, zones: ['DX-M1'], id: `${n}@example.com`, password: `${n}-pw` })),
    yaml: 'interval: 1m\ntimeout: 4s\nworkers: 1',
    app: { workerFile: new URL('./fixtures/workers/faulty-worker.mjs', import.meta.url).pathname },
    schedule: false,
  });
});
afterAll(() => s.close());

describe('--once', () => {
  it('cancels a collection that does not end by the deadline, names it, and prints what the others collected', async () => {
    let stdout = '';
    let stderr = '';
    const code = await runOnce(s.app, { stdout: (c) => (stdout += c.toString()), stderr: (l) => (stderr += l), deadlineMs: 1500 });
    expect(code).toBe(1);
    expect(stderr).toBe('account "unstarted": collection did not finish within 1.5s (timeout 4s); cancelled\n');
    const m = parseExposition(stdout);
    expect(m.find((x) => x.name === 'ktcloud_account_up' && x.labels.account === 'fine')?.value).toBe(1);
    expect(m.filter((x) => x.name === 'ktcloud_lb_server_state' && x.labels.account === 'fine')).toHaveLength(2);
    expect(m.some((x) => x.labels.account === 'unstarted' && x.name === 'ktcloud_lb_server_state')).toBe(false);
  });
});
