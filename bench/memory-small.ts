/**
 * `node dist/bench/memory-small.js [--accounts 3] [--workers 1] [--cycles 20] [--interval 2]
 *   [--lbs 5] [--servers 3] [--exporter-node-args="..."] [--no-v8-flags] [--low-memory] [--probe] [--timeline]`
 *
 * The dev deployment's memory: a few small accounts on one worker thread. Starts the simulator
 * and the exporter (bin/ktcloud-lb-exporter, exactly as a container runs it) as their own
 * processes on 127.0.0.1, samples the exporter's RSS every 50 ms (its process tree: the launcher
 * may re-exec) over `cycles` collection intervals, scrapes /metrics once per interval like
 * Prometheus (gzip), and prints one JSON line: peak and steady (median of the last half) RSS in MB.
 * With --probe the exporter also loads bench/preload.js and the main thread's heap is reported.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { ask, loadavg, rssBytes, sleep, startChild, stopAll } from './lib/proc.js';
import { MB, median, round } from './lib/stats.js';
import { ALLOCATOR_ENV, runtimeFlags } from '../src/runtime-flags.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIM_CLI = fileURLToPath(import.meta.resolve('@ktcloud-lb-exporter/simulator/cli'));
const EXPORTER_BIN = join(ROOT, 'bin/ktcloud-lb-exporter');
const PRELOAD = new URL('./preload.js', import.meta.url).href;

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1' },
    cycles: { type: 'string', default: '20' },
    interval: { type: 'string', default: '2' },
    lbs: { type: 'string', default: '5' },
    servers: { type: 'string', default: '3' },
    'exporter-node-args': { type: 'string', default: '' },
    probe: { type: 'boolean', default: false },
    /** Leave out the V8 flags the launcher applies (src/runtime-flags.ts), to measure without them. */
    'no-v8-flags': { type: 'boolean', default: false },
    /** Run the exporter with KTCLOUD_LOW_MEMORY=true (its flags: src/runtime-flags.ts). */
    'low-memory': { type: 'boolean', default: false },
    /** Also print RSS every 100 ms over the first 5 s (where the startup peak is). */
    timeline: { type: 'boolean', default: false },
  },
});
const n = (k: keyof typeof values) => Number(values[k]);
const ZONES = ['DX-M1', 'DX-Central', 'DX-G'];

/** RSS of a process and its descendants (the launcher may run the service as a child). */
function treeRss(pid: number): number {
  let sum = 0;
  const seen = new Set<number>();
  const visit = (p: number) => {
    if (seen.has(p)) return;
    seen.add(p);
    try {
      sum += rssBytes(p);
    } catch {
      return;
    }
    for (const task of readdirSync(`/proc/${p}/task`)) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8');
      } catch {
        /* gone */
      }
      for (const k of kids.split(' ').filter(Boolean)) visit(Number(k));
    }
  };
  visit(pid);
  return sum;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ktcloud-memsmall-'));
  try {
    writeFileSync(
      join(dir, 'sim.yaml'),
      `listen: 127.0.0.1:0\nlatencyMs: 20\nseed: 1\ngenerate:\n  accounts: ${n('accounts')}\n  zones: [${ZONES.join(', ')}]\n  lbsPerAccount: ${n('lbs')}\n  serversPerLb: ${n('servers')}\n`,
    );
    const sim = startChild('simulator', [SIM_CLI, '--config', join(dir, 'sim.yaml')]);
    const { zones } = JSON.parse(await sim.waitForLine(/"url"/, 60_000)) as { zones: Record<string, string> };
    const accounts = Array.from({ length: n('accounts') }, (_, i) =>
      `  - { name: acct-${i}, zones: [${ZONES[i % ZONES.length]}], id: bench-${String(i).padStart(4, '0')}@example.com, password: pw-${i} }`);
    writeFileSync(
      join(dir, 'exporter.yaml'),
      `listen: 127.0.0.1:0\ninterval: ${n('interval')}s\ntimeout: ${n('interval')}s\nworkers: ${n('workers')}\nzones:\n${ZONES.map((z) => `  ${z}: { endpoint: "${zones[z]}" }`).join('\n')}\naccounts:\n${accounts.join('\n')}\n`,
    );
    // Passed here rather than left to the launcher's re-exec, which Node < 22.15 cannot do.
    const env = { ...process.env, ...(values['low-memory'] ? { KTCLOUD_LOW_MEMORY: 'true' } : {}) };
    const nodeArgs = [...(values['no-v8-flags'] ? [] : runtimeFlags(env)), ...values['exporter-node-args']!.split(' ').filter(Boolean)];
    const exporter = startChild('exporter', [EXPORTER_BIN, '--config', join(dir, 'exporter.yaml')], {
      // An IPC channel also keeps the launcher from re-executing node with its flags (--no-v8-flags).
      ipc: values.probe || values['no-v8-flags'],
      execArgv: [...(values.probe ? ['--import', PRELOAD] : []), ...nodeArgs],
      env: { ...(values['no-v8-flags'] ? {} : ALLOCATOR_ENV), ...env },
    });
    const t0 = Date.now();
    let peak = 0;
    let peakAt = 0;
    const samples: number[] = [];
    const timeline: Array<[number, number]> = [];
    const sampler = setInterval(() => {
      const r = treeRss(exporter.pid);
      const t = Date.now() - t0;
      if (r > peak) (peak = r), (peakAt = t);
      if (values.timeline && t < 5000 && (timeline.length === 0 || t - timeline[timeline.length - 1]![0] >= 100)) timeline.push([t, round(r / MB, 1)]);
    }, 50);
    const line = JSON.parse(await exporter.waitForLine(/"msg":"listening"/, 60_000)) as { address: string };
    const listeningAt = Date.now() - t0;
    const url = `${line.address.replace('0.0.0.0', '127.0.0.1')}/metrics`;
    const loadBefore = loadavg();
    let bodyBytes = 0;
    for (let c = 0; c < n('cycles'); c++) {
      await sleep(n('interval') * 1000);
      const res = await request(url, { headers: { 'accept-encoding': 'gzip' } });
      bodyBytes = (await res.body.arrayBuffer()).byteLength;
      samples.push(treeRss(exporter.pid));
    }
    clearInterval(sampler);
    const heap = values.probe ? (await ask<{ memory: { heapUsed: number; heapTotal: number } }>(exporter, { bench: 'probe' }, 10_000)).memory : undefined;
    const accountsJson = (await (await request(url.replace('/metrics', '/accounts?format=json'))).body.json()) as { accounts: Array<{ state: string }> };
    // A flag or change that breaks collection (e.g. V8's --lite-mode, which turns off WebAssembly
    // and with it undici's HTTP parser) also shrinks memory: such a run measures nothing.
    const notOk = accountsJson.accounts.filter((a) => a.state !== 'ok').length;
    if (notOk > 0) throw new Error(`${notOk} of ${accountsJson.accounts.length} accounts are not ok (${accountsJson.accounts.map((a) => a.state).join(', ')}): the figures would measure a broken exporter`);
    const steady = median(samples.slice(Math.floor(samples.length / 2)));
    process.stdout.write(
      `${JSON.stringify({
        type: 'memory-small',
        date: new Date().toISOString(),
        node: process.version,
        accounts: n('accounts'),
        workers: n('workers'),
        cycles: n('cycles'),
        exporterNodeArgs: nodeArgs.join(' '),
        peakRssMB: round(peak / MB, 1),
        peakAtSeconds: round(peakAt / 1000, 2),
        listeningAtSeconds: round(listeningAt / 1000, 2),
        steadyRssMB: round(steady / MB, 1),
        ...(heap ? { mainHeapUsedMB: round(heap.heapUsed / MB, 1), mainHeapTotalMB: round(heap.heapTotal / MB, 1) } : {}),
        gzipBodyBytes: bodyBytes,
        accountStates: accountsJson.accounts.map((a) => a.state),
        loadavg: [loadBefore, loadavg()],
        ...(values.timeline ? { timeline } : {}),
      })}\n`,
    );
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`memory-small: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
