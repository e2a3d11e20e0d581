import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/load.js';
import { SharedPacer } from '../../src/ktcloud/pacer.js';
import { REDACT_PATHS } from '../../src/log.js';
import { CollectorPool } from '../../src/pool/collector-pool.js';
import type { CollectTask } from '../../src/protocol.js';
import { startSimulator, type Simulator } from '@ktcloud-lb-exporter/simulator';
import { exporterYaml, parseExposition } from '../support/harness.js';
import { runExporter } from '../support/run-exporter.js';

/**
 * Worker threads log through the main thread's logger: what they log is written to the main
 * logger's destination, with its redaction and its level. Real piscina threads running the real
 * worker (wrapped by a fixture that adds credential-like fields), real simulator.
 */
const PASSWORD = 'Pw-Worker-Log-9d2';
const CLOUD_ID = 'worker-log@example.com';
const FIXTURE = new URL('../fixtures/workers/logging-worker.mjs', import.meta.url).pathname;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    listen: '127.0.0.1:0',
    accounts: [
      { id: CLOUD_ID, password: PASSWORD, zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 } } },
      // One server list fails: the worker warns "collection partial".
      { id: 'partial@example.com', password: 'Pw-Partial-2b7', zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 } }, faults: { failServerListFor: { count: 1 } } },
    ],
  });
});
afterAll(() => sim.close());

/** Log lines as parsed objects; `until` resolves when a line matches (event-driven, no polling). */
class Capture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  text = '';
  private waiters: { match: (l: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    for (const raw of chunk.toString().split('\n').filter(Boolean)) {
      const line = JSON.parse(raw) as Record<string, unknown>;
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.match(line) ? (w.resolve(), false) : true));
    }
    cb();
  }
  until(match: (l: Record<string, unknown>) => boolean, what: string, ms = 10_000): Promise<void> {
    if (this.lines.some(match)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; got:\n${this.text}`)), ms);
      this.waiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

/** The main logger: our redaction paths plus one only it knows, to show that its own config applies. */
function mainLogger(level: string, dest: Capture) {
  return pino({ level, redact: { paths: [...REDACT_PATHS, 'secretish'], censor: '[REDACTED]' }, formatters: { level: (label) => ({ level: label }) } }, dest);
}

function task(logLevel: string): CollectTask {
  return {
    account: 'logger',
    zones: [{ zone: 'DX-M1', endpoint: sim.zoneEndpoint('DX-M1'), pacer: SharedPacer.createBuffer(), requestsPerSecond: 200 }],
    cloudId: CLOUD_ID,
    password: PASSWORD,
    concurrency: 4,
    requestsPerSecond: 100,
    accountPacer: SharedPacer.createBuffer(),
    timeoutMs: 10_000,
    api: { ...DEFAULTS.api, retryBaseMs: 10 },
    logLevel,
  };
}

/** Runs one collection in a real pool whose workers log through `log`; resolves once the fixture's last record arrived. */
async function collectWith(mainLevel: string, taskLevel: string): Promise<Capture> {
  const dest = new Capture();
  const pool = new CollectorPool({ workers: 1, filename: FIXTURE, log: mainLogger(mainLevel, dest) });
  try {
    const result = await pool.run(task(taskLevel));
    expect(result.zones[0]!.ok).toBe(true);
    await dest.until((l) => l.msg === 'fixture done', 'record "fixture done"');
  } finally {
    await pool.close();
  }
  return dest;
}

describe('worker logs go through the main logger', () => {
  it("a worker's debug records reach the main logger's destination, redacted by the main logger's paths", async () => {
    const dest = await collectWith('debug', 'debug');
    const record = dest.lines.find((l) => l.msg === 'fixture debug record');
    expect(record).toMatchObject({ level: 'debug', module: 'worker', account: 'logger', password: '[REDACTED]', cloudId: '[REDACTED]', secretish: '[REDACTED]' });
    // The real worker's own request records, bound to account and zone.
    expect(dest.lines.find((l) => l.msg === 'api request' && l.command === 'listLoadBalancers')).toMatchObject({ level: 'debug', module: 'worker', account: 'logger', zone: 'DX-M1', code: '200' });
    for (const secret of [PASSWORD, CLOUD_ID, 'Extra-Secret-5e1']) expect(dest.text).not.toContain(secret);
  });

  it('nothing is written at debug when the main logger is at info, even if the task asks the worker for debug', async () => {
    const dest = await collectWith('info', 'debug');
    expect(dest.lines.find((l) => l.msg === 'fixture info record')).toMatchObject({ level: 'info', module: 'worker', account: 'logger', secretish: '[REDACTED]' });
    expect(dest.lines.filter((l) => l.level === 'debug')).toEqual([]);
  });

  it("a worker whose task says info sends no debug records, whatever the main logger's level", async () => {
    const dest = await collectWith('debug', 'info');
    expect(dest.lines.some((l) => l.msg === 'fixture info record')).toBe(true);
    expect(dest.lines.filter((l) => l.level === 'debug')).toEqual([]);
  });
});

describe('worker logs in --once mode', () => {
  it("a worker's warning goes to stderr with the main logger's, and stdout holds nothing but the exposition", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktcloud-worker-log-'));
    const config = join(dir, 'accounts.yaml');
    writeFileSync(config, exporterYaml(sim, [{ name: 'partial', zones: ['DX-M1'], id: 'partial@example.com', password: 'Pw-Partial-2b7' }], 'interval: 1m\ntimeout: 10s\napi: { retries: 0 }'));
    // Not spawnSync: the simulator answers from this process's event loop.
    const r = await runExporter(['--once', '--config', config]);
    expect(r.status, r.stderr).toBe(0);
    const warning = r.stderr.split('\n').find((l) => l.includes('collection partial'));
    expect(warning && JSON.parse(warning)).toMatchObject({ level: 'warn', module: 'worker', account: 'partial', zone: 'DX-M1', failedLbs: 1 });
    // Every stdout line is exposition: parseExposition throws on any other line.
    expect(() => parseExposition(r.stdout)).not.toThrow();
    expect(r.stdout).toContain('ktcloud_account_up{account="partial",zone="DX-M1"} 1');
  }, 30_000);
});
