import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIGURE_PATHS, figure } from '../../bench/lib/figures.js';

/**
 * `npm run bench -- --tier S` as CI runs it: the compiled runner in its own process, with the
 * simulator, the exporter and the load in theirs. Asserts only that it completes and reports
 * every figure as a number, never a timing (the machine is shared).
 */
const RUN = new URL('../../dist/bench/run.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // SIGINT lets the runner stop its own children.
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run bench -- --tier S (smoke)', () => {
  it('completes, exits 0 and emits every figure as a number (exporter-side latency, nice, CPU per thread kind included), as JSON lines and a table', async () => {
    expect(existsSync(RUN), 'dist/bench/run.js is missing: run `npm run build` first').toBe(true);
    const jsonOut = join(dir, 'bench.jsonl');
    // Phases shortened where the smoke asserts no figure's value: limits loose enough that a
    // cycle takes ~0.5 s, 1 s rest and paced runs. Every phase still runs. The interval stays at
    // the tier's 4 s: the harness counts an attempt in a cycle when it starts within [start − 1 s,
    // start + interval − 1 s), and with 2 s a cold start delayed by a loaded machine (three test
    // files at once on two cores) fell out of that window and the run never settled.
    const short = ['--interval', '4', '--zone-rps', '200', '--account-rps', '40', '--rest-seconds', '1', '--paced-seconds', '1'];
    const r = await run(['--tier', 'S', '--cycles', '1', ...short, '--json-out', jsonOut], 80_000);
    expect(r.code, `bench exited ${r.code}\n${r.stderr.slice(-20_000)}`).toBe(0);

    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const results = lines.filter((l) => l.type === 'result');
    expect(results).toHaveLength(1);
    const result = results[0]!;
    expect(result).toMatchObject({ tier: 'S', shards: 1 });
    for (const path of FIGURE_PATHS) {
      const v = figure(result, path);
      expect(typeof v === 'number' && Number.isFinite(v), `${path} = ${JSON.stringify(v)}`).toBe(true);
    }
    expect(lines.filter((l) => l.type === 'cycle').length).toBeGreaterThanOrEqual(4);
    expect(figure(result, 'body.series')).toBeGreaterThan(0);
    expect(figure(result, 'collecting.scrapes')).toBeGreaterThan(0);
    // The exporter timed /metrics requests itself (its own window starts with the histogram reset).
    expect(figure(result, 'collecting.exporterScrapes')).toBeGreaterThan(0);
    // The simulator and the load ran niced, as the kernel reports; the exporter did not (all
    // relative to this process's own niceness: CI may run the suite under `nice`).
    const base = getPriority();
    expect(result.nice).toEqual({ simulator: Math.min(19, base + 10), load: Math.min(19, base + 10), exporter: base });
    // CPU per cycle: the worker thread (the default, workers: 1) was found by its thread id, and
    // it did the collecting, so its share is not zero.
    expect(figure(result, 'cpu.workerThreads')).toBe(1);
    expect(figure(result, 'cpu.workersMsPerCycle')).toBeGreaterThan(0);
    expect(figure(result, 'cpu.mainMsPerCycle')).toBeGreaterThan(0);
    // How many cycles were measured is reported: cold + measured + baseline + 1 growth at least.
    expect(figure(result, 'cycle.cyclesRun')).toBeGreaterThanOrEqual(4);
    expect(figure(result, 'cycle.growthCyclesRun')).toBe(1);
    expect(figure(result, 'cpu.cyclesAveraged')).toBe(2);
    expect(Array.isArray(result.targets)).toBe(true);

    // The same lines in --json-out, and the readable table on stdout.
    expect(readFileSync(jsonOut, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual(lines);
    expect(r.stdout).toContain('| figure');
    expect(r.stdout).toContain('Tier S x 1');
    expect(r.stdout).toContain('inside the exporter');
  }, 90_000);

  it('rejects bad arguments with a usage message and exit code 2', async () => {
    const r = await run(['--tier', 'X'], 20_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: npm run bench');
  });
});
