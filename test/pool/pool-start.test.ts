import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { DEFAULTS, parseConfig } from '../../src/config/load.js';
import { SharedPacer } from '../../src/ktcloud/pacer.js';
import { CollectorPool } from '../../src/pool/collector-pool.js';
import type { CollectTask, ZoneFailure } from '../../src/protocol.js';
import { startupMessage } from '../../src/startup-error.js';
import { startSimulator, type Simulator } from '@ktcloud-lb-exporter/simulator';
import { exporterYaml } from '../support/harness.js';

/**
 * Threads that cannot start. Piscina stops starting threads once one fails while starting, and
 * tasks queued after that used to wait forever: an account's collection never ended, and
 * `--once` hung. Real piscina threads running the real worker through a fixture whose module
 * fails to load while a flag file exists; real simulator.
 */
const FIXTURE = new URL('../fixtures/workers/breakable-worker.mjs', import.meta.url).pathname;
const flag = join(mkdtempSync(join(tmpdir(), 'ktcloud-break-')), 'broken');
let sim: Simulator;

beforeAll(async () => {
  // Read by the fixture in every new thread (threads copy the environment when they start).
  process.env.KTCLOUD_TEST_BREAK_WORKER = flag;
  sim = await startSimulator({
    listen: '127.0.0.1:0',
    accounts: ['fine', 'crasher'].map((n) => ({ id: `${n}@example.com`, password: `${n}-pw`, zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 } } })),
  });
});
afterAll(async () => {
  delete process.env.KTCLOUD_TEST_BREAK_WORKER;
  rmSync(flag, { force: true });
  await sim.close();
});

const zonePacer = SharedPacer.createBuffer();
function task(account: string): CollectTask {
  return {
    account,
    zones: [{ zone: 'DX-M1', endpoint: sim.zoneEndpoint('DX-M1'), pacer: zonePacer, requestsPerSecond: 200 }],
    cloudId: `${account}@example.com`,
    password: `${account}-pw`,
    concurrency: 4,
    requestsPerSecond: 100,
    accountPacer: SharedPacer.createBuffer(),
    timeoutMs: 10_000,
    api: { ...DEFAULTS.api, retryBaseMs: 10 },
    logLevel: 'silent',
  };
}

function logSink() {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: pino({ level: 'info' }, dest) };
}

describe('worker threads that cannot start', () => {
  it('the start-up check fails with the module’s own error, and passes once it loads', async () => {
    writeFileSync(flag, '');
    const broken = new CollectorPool({ workers: 1, filename: FIXTURE, log: logSink().log });
    try {
      await expect(broken.check()).rejects.toThrow('worker module failed to load (test fixture)');
    } finally {
      await broken.close();
    }
    rmSync(flag);
    const fine = new CollectorPool({ workers: 1, filename: FIXTURE, log: logSink().log });
    try {
      await expect(fine.check()).resolves.toBeUndefined();
    } finally {
      await fine.close();
    }
  });

  it('when the replacement of a crashed thread cannot start, collections fail with an error instead of waiting, and run again once threads start', async () => {
    const { lines, log } = logSink();
    const pool = new CollectorPool({ workers: 1, filename: FIXTURE, log });
    try {
      expect((await pool.run(task('fine'))).zones[0]!.ok).toBe(true);
      // From now on no thread can start; the crasher kills the only one.
      writeFileSync(flag, '');
      const crashed = await pool.run(task('crasher'));
      expect(crashed.zones[0]!.ok).toBe(false);
      // Without a thread, the next collection used to wait forever; it now fails, saying why.
      const failed = (await pool.run(task('fine'))).zones[0] as ZoneFailure;
      expect(failed.ok).toBe(false);
      expect(failed.error.reason).toBe('internal');
      expect(failed.error.message).toContain('worker module failed to load (test fixture)');
      expect(pool.poolsReplaced).toBeGreaterThanOrEqual(1);
      expect(lines.filter((l) => String(l.msg).startsWith('worker pool: a thread could not be started'))).toHaveLength(1);
      // The module loads again: the next collection starts a thread and succeeds.
      rmSync(flag);
      expect((await pool.run(task('fine'))).zones[0]!.ok).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('the exporter does not start serving when no worker thread can start, and says why in one line', async () => {
    writeFileSync(flag, '');
    const text = exporterYaml(sim, [{ name: 'fine', zones: ['DX-M1'], id: 'fine@example.com', password: 'fine-pw' }], 'interval: 1m');
    const config = await parseConfig(text, 'accounts.yaml');
    const app = new App({ config, loadConfig: () => config, log: logSink().log, watch: false, workerFile: FIXTURE });
    try {
      const err: unknown = await app.listen().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(startupMessage(err)).toBe('worker thread could not start: worker module failed to load (test fixture)');
      expect(app.http.server.listening).toBe(false);
    } finally {
      rmSync(flag);
      await app.close(2000);
    }
  });
});
