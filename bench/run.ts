/**
 * `npm run bench -- --tier S|M|L|XL [--shards 1,4] [--latency-ms 50] [--cycles N] [--no-nice] [--json-out FILE]`
 *
 * Starts the KT Cloud simulator, the exporter (one process or N shards, each with the event-loop
 * probe preloaded) and a scrape-load process, all as separate processes on 127.0.0.1, and
 * measures, per tier and deployment:
 *   1. cycle time of a full collection (spread: false) vs the bound the limits and latency imply,
 *   2. API requests per cycle vs the minimum (counted by the simulator),
 *   3. /metrics latency while a cycle runs, both as the client sees it and inside the exporter
 *      (request start to response finish), and main-thread event-loop delay,
 *   4. scrape throughput and CPU at rest vs a bare fastify route serving the same gzip bytes,
 *   5. RSS and heap at steady state, RSS growth over the cycles,
 *   6. body size plain and gzipped, series count,
 *   7. CPU time per warm cycle, main thread / worker threads / rest of the process, and per 100k series.
 * The simulator and the load process run under `nice -n 10` (as if on other hosts: the
 * exporter gets the cores first); `--no-nice` runs everything at the same priority.
 * Prints JSON lines (`cycle`, `result`) and a table; exit 0 when it ran (targets are reported,
 * not asserted), 1 on a harness failure, 2 on bad arguments.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { deploymentBound, minimumRequests, type AccountZone, type Bound, type ProcessLimits } from './lib/bound.js';
import { checkTargets, figure as figureOf, missingFigures, type TargetCheck } from './lib/figures.js';
import { ask, cpuMs, loadavg, niceOf, rssBytes, sleep, startChild, stopAll, threadCpu, type Child, type ThreadCpu } from './lib/proc.js';
import { MB, median, round } from './lib/stats.js';
import { renderTable } from './lib/table.js';
import type { LoadResult } from './load.js';
import { TIERS, ZONES, type Tier } from './tiers.js';
import { ALLOCATOR_ENV, runtimeFlags } from '../src/runtime-flags.js';
import { describeReport, type NodeReport } from './lib/report.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIM_CLI = fileURLToPath(import.meta.resolve('@ktcloud-lb-exporter/simulator/cli'));
const EXPORTER_BIN = join(ROOT, 'bin/ktcloud-lb-exporter');
const PRELOAD = new URL('./preload.js', import.meta.url).href;
const LOAD = fileURLToPath(new URL('./load.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor.js', import.meta.url));
const TOKEN_TTL_S = 3600;
/** The exporter renews a token this long before it expires (src/ktcloud/client.ts). */
const TOKEN_RENEW_MARGIN_MS = 3 * 60_000;

const USAGE = `usage: npm run bench -- --tier S|M|L|XL[,..] [--shards 1|4|1,4] [--latency-ms 50] [--cycles N] [--no-nice]
                     [--interval SECONDS] [--zone-rps N] [--account-rps N] [--concurrency N] [--workers N]
                     [--scrape-clients 2] [--scrape-rate 20] [--rest-clients 10] [--rest-seconds 5] [--paced-seconds 5] [--json-out FILE] [--verbose]
                     [--exporter-node-args="--cpu-prof --cpu-prof-dir=DIR"] [--exporter-env KEY=VALUE,..]
                     [--dump-dir DIR]`;

/** Niceness of the simulator and the load process unless --no-nice. */
const NICE = 10;

export interface Options {
  readonly tiers: Tier[];
  /** Process counts to run; undefined: each tier's own default (1; 4 for XL). */
  readonly shards?: number[];
  /** Niceness of the simulator and the load process (0: same priority as the exporter). */
  readonly nice: number;
  readonly latencyMs: number;
  readonly scrapeClients: number;
  /** Scrapes per second per client while collecting; 0: back to back. */
  readonly scrapeRate: number;
  readonly restClients: number;
  readonly restSeconds: number;
  /** Length of each paced latency run at rest. */
  readonly pacedSeconds: number;
  readonly jsonOut?: string;
  readonly verbose: boolean;
  readonly exporterNodeArgs: readonly string[];
  readonly dumpDir?: string;
  readonly exporterEnv: Readonly<Record<string, string>>;
  readonly workers: number | undefined;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      tier: { type: 'string', default: 'S' },
      shards: { type: 'string' },
      /** Run the simulator and the load process at the exporter's priority (default: nice -n 10). */
      'no-nice': { type: 'boolean', default: false },
      'latency-ms': { type: 'string', default: '50' },
      cycles: { type: 'string' },
      interval: { type: 'string' },
      'zone-rps': { type: 'string' },
      'account-rps': { type: 'string' },
      concurrency: { type: 'string' },
      /** Worker threads per exporter process (default: the exporter's own default). */
      workers: { type: 'string' },
      'scrape-clients': { type: 'string', default: '2' },
      'scrape-rate': { type: 'string', default: '20' },
      'rest-clients': { type: 'string', default: '10' },
      'rest-seconds': { type: 'string', default: '5' },
      /** Paced latency runs at rest (default: --rest-seconds, at least 5 so percentiles have samples; the smoke test shortens it). */
      'paced-seconds': { type: 'string' },
      'json-out': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      /** Extra environment for the exporter processes: KEY=VALUE[,KEY=VALUE] (e.g. MALLOC_ARENA_MAX=2). */
      'exporter-env': { type: 'string', default: '' },
      /** Write the simulator's request log and /accounts of the measured cycle here (analysis). */
      'dump-dir': { type: 'string' },
      /** Extra node flags for the exporter processes, e.g. --exporter-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof". */
      'exporter-node-args': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new UsageError(USAGE);
  const num = (name: string, v: string | undefined, min: number, integer = true): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(v)}\n${USAGE}`);
    return n;
  };
  const cycles = num('cycles', values.cycles, 1);
  const interval = num('interval', values.interval, 1);
  const zoneRps = num('zone-rps', values['zone-rps'], 0.1, false);
  const accountRps = num('account-rps', values['account-rps'], 0.1, false);
  const concurrency = num('concurrency', values.concurrency, 1);
  const tiers = values.tier!.split(',').map((t) => {
    const base = TIERS[t.trim().toUpperCase() as Tier['name']];
    if (!base) throw new UsageError(`--tier must be S, M, L or XL, got ${JSON.stringify(t)}\n${USAGE}`);
    return {
      ...base,
      cycles: cycles ?? base.cycles,
      intervalS: interval ?? base.intervalS,
      limits: {
        concurrency: concurrency ?? base.limits.concurrency,
        requestsPerSecond: accountRps ?? base.limits.requestsPerSecond,
        zoneRequestsPerSecond: zoneRps ?? base.limits.zoneRequestsPerSecond,
      },
    };
  });
  const shards = values.shards?.split(',').map((s) => num('shards', s.trim(), 1)!);
  return {
    tiers,
    shards,
    workers: num('workers', values.workers, 1),
    nice: values['no-nice'] ? 0 : NICE,
    latencyMs: num('latency-ms', values['latency-ms'], 0, false)!,
    scrapeClients: num('scrape-clients', values['scrape-clients'], 1)!,
    scrapeRate: num('scrape-rate', values['scrape-rate'], 0, false)!,
    restClients: num('rest-clients', values['rest-clients'], 1)!,
    restSeconds: num('rest-seconds', values['rest-seconds'], 1, false)!,
    pacedSeconds: num('paced-seconds', values['paced-seconds'], 1, false) ?? Math.max(5, num('rest-seconds', values['rest-seconds'], 1, false)!),
    jsonOut: values['json-out'],
    verbose: values.verbose!,
    exporterNodeArgs: values['exporter-node-args']!.split(' ').filter(Boolean),
    dumpDir: values['dump-dir'],
    exporterEnv: Object.fromEntries(
      values['exporter-env']!
        .split(',')
        .filter(Boolean)
        .map((kv) => {
          const i = kv.indexOf('=');
          if (i <= 0) throw new UsageError(`--exporter-env expects KEY=VALUE[,KEY=VALUE], got ${JSON.stringify(kv)}\n${USAGE}`);
          return [kv.slice(0, i), kv.slice(i + 1)];
        }),
    ),
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * RSS growth over the cycles from the baseline on. RSS after a cycle moves up and down by several
 * percent from one cycle to the next (collector timing, malloc), so one sample at each end says
 * little: `rssGrowthPercent` compares the median of the first five with the median of the last
 * five. RSS also settles over the first cycles (heaps and malloc arenas reach their working
 * size), which is not a leak: `rssLateGrowthPercent` is the least-squares slope over the second
 * half of the run, extrapolated to the whole run, as a share of RSS there. End to end is kept too.
 */
function rssGrowth(rss: readonly number[]): Record<string, number> {
  const slope = (ys: readonly number[]) => {
    const n = ys.length;
    if (n < 2) return 0;
    const mx = (n - 1) / 2;
    const my = ys.reduce((a, b) => a + b, 0) / n;
    let sxy = 0;
    let sxx = 0;
    ys.forEach((y, x) => {
      sxy += (x - mx) * (y - my);
      sxx += (x - mx) ** 2;
    });
    return sxy / sxx;
  };
  const k = Math.min(5, Math.max(1, Math.floor(rss.length / 2)));
  const first = median(rss.slice(0, k));
  const last = median(rss.slice(-k));
  const late = rss.slice(Math.floor(rss.length / 2));
  const lateMean = late.reduce((a, b) => a + b, 0) / late.length;
  return {
    rssGrowthPercent: round(((last - first) / first) * 100, 2),
    rssLateGrowthPercent: round(((slope(late) * (rss.length - 1)) / lateMean) * 100, 2),
    rssSlopeMBPerCycle: round(slope(rss) / MB, 3),
    rssEndToEndGrowthPercent: round(((rss[rss.length - 1]! - rss[0]!) / rss[0]!) * 100, 2),
  };
}

const sumCpu = (pids: readonly number[]) => pids.reduce((s, pid) => s + cpuMs(pid), 0);

const log = (msg: string) => process.stderr.write(`bench ${new Date().toISOString().slice(11, 23)} ${msg}\n`);

async function getJson<T>(url: string, init: { method?: 'GET' | 'POST'; timeoutMs?: number } = {}): Promise<T> {
  const res = await request(url, { method: init.method ?? 'GET', headersTimeout: init.timeoutMs ?? 30_000, bodyTimeout: init.timeoutMs ?? 30_000 });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

async function getBytes(url: string, headers: Record<string, string>): Promise<Buffer> {
  const res = await request(url, { headers, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`GET ${url} answered ${res.statusCode}`);
  return body;
}

interface SimTotals {
  total: number;
  pending: number;
  byCommand: Record<string, number>;
  byStatus: Record<string, number>;
}

interface AccountsJson {
  accounts: Array<{ name: string; zones: Array<{ zone: string; state: string; lastAttempt: string | null; lastDurationSeconds: number | null; lbs: number | null }> }>;
}

interface Probe {
  eld: { count: number; p50Ms: number; p99Ms: number; maxMs: number; meanMs: number };
  /** /metrics requests as the exporter timed them since the last reset (null: none over IPC's JSON). */
  metricsRequests: { count: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  cpuUs: number;
  /** OS thread ids: the main thread and each worker thread that announced itself. */
  threads: { main: number; workers: number[] };
  /** V8 heaps, MB: the main thread's now; each worker's last report (every second) and the largest total it reported. */
  heaps?: { main: HeapMB; workers: { last: HeapMB; peakTotal: number }[] };
  /** RSS as anonymous memory and file-backed pages (the node binary), MB. */
  rssSplit?: { anon: number; file: number };
}

interface HeapMB {
  used: number;
  total: number;
  external: number;
}

/** The largest of per-process figures; NaN when any is missing, so a gap shows as a missing figure. */
const maxOf = (vs: ReadonlyArray<number | null>) => (vs.some((v) => v === null) ? NaN : Math.max(...(vs as number[])));

const cpuDelta = (a: ThreadCpu, b: ThreadCpu): ThreadCpu => ({ total: a.total - b.total, main: a.main - b.main, workers: a.workers - b.workers, other: a.other - b.other });
const cpuSum = (xs: readonly ThreadCpu[]): ThreadCpu => xs.reduce((s, x) => ({ total: s.total + x.total, main: s.main + x.main, workers: s.workers + x.workers, other: s.other + x.other }), { total: 0, main: 0, workers: 0, other: 0 });

interface Exporter {
  readonly child: Child;
  readonly url: string;
  /** When its schedule started (the `listening` log line): with spread: false, cycle k starts at startedAt + (k - 1) x interval. */
  readonly startedAt: number;
  zones: AccountZone[];
}

/**
 * Where each exporter is when cycles do not complete: its accounts' states, its threads' stacks
 * (Node's diagnostic report, asked over IPC from the preload) and its last lines of output.
 */
async function diagnose(exporters: readonly Exporter[]): Promise<string> {
  const parts = await Promise.all(
    exporters.map(async (e, i) => {
      const states = await getJson<AccountsJson>(`${e.url}/accounts?format=json`).then(
        (v) => v.accounts.map((a) => `${a.name}: ${a.zones.map((z) => `${z.zone} ${z.state}, last attempt ${z.lastAttempt ?? 'never'}`).join('; ')}`).join('\n    '),
        (err: Error) => `no /accounts: ${err.message}`,
      );
      const report = await ask<{ report: NodeReport }>(e.child, { bench: 'report' }, 10_000).then(
        (r) => describeReport(r.report),
        (err: Error) => `no report: ${err.message}`,
      );
      return `exporter ${i}:\n  accounts:\n    ${states}\n${report}\noutput:\n${e.child.tail()}`;
    }),
  );
  return parts.join('\n');
}

interface CycleRecord {
  readonly index: number;
  readonly role: 'partial' | 'cold' | 'measured' | 'baseline' | 'growth';
  readonly zones: number;
  readonly scheduledAt: number;
  readonly seconds: number;
  readonly firstStartLagMs: number;
  readonly bound: Bound;
  readonly requests: number;
  readonly minimum: number;
  readonly byCommand: Record<string, number>;
  readonly non2xx: number;
  readonly failedZones: number;
  readonly rssBytes: number;
  /** The largest exporter process (differs from rssBytes with shards). */
  readonly maxProcessRssBytes: number;
  readonly heapUsedBytes: number;
}

function simConfigYaml(tier: Tier, latencyMs: number): string {
  return `listen: 127.0.0.1:0
latencyMs: ${latencyMs}
tokenTtlSeconds: ${TOKEN_TTL_S}
seed: 1
generate:
  accounts: ${tier.accounts}
  zones: [${ZONES.join(', ')}]
  lbsPerAccount: ${tier.lbsPerAccount}
  serversPerLb: ${tier.serversPerLb}
`;
}

function accountName(i: number): string {
  return `acct-${String(i).padStart(4, '0')}`;
}

/** The simulator's generate: section names accounts bench-NNNN@example.com / pw-N, zones round-robin. */
function exporterConfigYaml(tier: Tier, zoneEndpoints: Record<string, string>, intervalS: number, timeoutS: number, zoneRps: number, workers: number | undefined): string {
  const zones = ZONES.map((z) => `  ${z}: { endpoint: "${zoneEndpoints[z]}" }`).join('\n');
  const accounts: string[] = [];
  for (let i = 0; i < tier.accounts; i++) {
    accounts.push(`  - { name: ${accountName(i)}, zones: [${ZONES[i % ZONES.length]}], id: bench-${String(i).padStart(4, '0')}@example.com, password: pw-${i} }`);
  }
  return `listen: 127.0.0.1:0
interval: ${intervalS}s
timeout: ${timeoutS}s
spread: false
${workers === undefined ? '' : `workers: ${workers}\n`}zones:
${zones}
limits:
  concurrency: ${tier.limits.concurrency}
  requestsPerSecond: ${tier.limits.requestsPerSecond}
  zoneRequestsPerSecond: ${zoneRps}
accounts:
${accounts.join('\n')}
`;
}

function allZones(tier: Tier): Map<string, AccountZone> {
  const m = new Map<string, AccountZone>();
  for (let i = 0; i < tier.accounts; i++) m.set(accountName(i), { account: accountName(i), zone: ZONES[i % ZONES.length]!, lbs: tier.lbsPerAccount });
  return m;
}

export interface DeploymentResult extends Record<string, unknown> {
  readonly type: 'result';
  readonly tier: string;
  readonly shards: number;
  readonly intervalSeconds: number;
  targets?: TargetCheck[];
}

async function runDeployment(tier: Tier, shards: number, o: Options, emit: (line: Record<string, unknown>) => Promise<void>): Promise<DeploymentResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ktcloud-bench-'));
  const I = tier.intervalS * 1000;
  const zoneRps = tier.limits.zoneRequestsPerSecond / shards;
  const limits: ProcessLimits = { concurrency: tier.limits.concurrency, accountRps: tier.limits.requestsPerSecond, zoneRps };
  const exporters: Exporter[] = [];
  let load: Child | undefined;
  let floor: Child | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    // --- simulator ---
    const simFile = join(dir, 'sim.yaml');
    writeFileSync(simFile, simConfigYaml(tier, o.latencyMs));
    const simT0 = performance.now();
    const sim = startChild('simulator', [SIM_CLI, '--config', simFile], { echo: o.verbose, nice: o.nice });
    const simLine = await sim.waitForLine(/"url"/, 180_000);
    // Generating the data set is most of this (Tier XL: 2,000 accounts, 200,000 servers).
    const simReadySeconds = (performance.now() - simT0) / 1000;
    const { url: simUrl, zones: zoneEndpoints } = JSON.parse(simLine) as { url: string; zones: Record<string, string> };
    const simTotals = () => getJson<SimTotals>(`${simUrl}/_sim/stats`);
    log(`tier ${tier.name} x ${shards}: simulator at ${simUrl} (${tier.accounts} accounts)`);

    // --- exporters: with spread: false, each collects every account at once when it starts and
    // every interval after; its first cycle (cold: no tokens) begins as it starts listening ---
    const cfgFile = join(dir, 'exporter.yaml');
    writeFileSync(cfgFile, exporterConfigYaml(tier, zoneEndpoints, tier.intervalS, tier.intervalS, zoneRps, o.workers));
    let base = await simTotals();
    const owner = allZones(tier);
    await Promise.all(
      Array.from({ length: shards }, async (_, i) => {
        const args = [EXPORTER_BIN, '--config', cfgFile, '--web.enable-lifecycle', ...(shards > 1 ? ['--shard', String(i), '--total-shards', String(shards)] : [])];
        const child = startChild(`exporter-${i}`, args, { ipc: true, execArgv: ['--import', PRELOAD, ...runtimeFlags({ ...process.env, ...o.exporterEnv }), ...o.exporterNodeArgs], env: { ...ALLOCATOR_ENV, ...process.env, ...o.exporterEnv }, echo: o.verbose });
        const line = JSON.parse(await child.waitForLine(/"msg":"listening"/, 60_000)) as { address: string; time: string };
        exporters[i] = { child, url: line.address.replace('0.0.0.0', '127.0.0.1'), startedAt: Date.parse(line.time), zones: [] };
      }),
    );
    for (const e of exporters) {
      const view = await getJson<AccountsJson>(`${e.url}/accounts?format=json`);
      e.zones = view.accounts.flatMap((a) => a.zones.map((z) => owner.get(a.name) ?? { account: a.name, zone: z.zone, lbs: tier.lbsPerAccount }));
    }
    const zonesAll = exporters.flatMap((e) => e.zones);
    if (zonesAll.length !== tier.accounts) throw new Error(`exporters own ${zonesAll.length} account-zones, expected ${tier.accounts}`);
    log(`tier ${tier.name} x ${shards}: ${shards} exporter(s) listening (${exporters.map((e) => `${e.url} owns ${e.zones.length}`).join(', ')})`);

    // --- the load process, RSS sampler ---
    load = startChild('load', [LOAD], { ipc: true, echo: o.verbose, nice: o.nice });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('load process did not start')), 30_000);
      load!.proc.once('message', () => (clearTimeout(t), resolve()));
    });
    // Read back from the kernel, not assumed from the flag.
    const nice = { simulator: niceOf(sim.pid), load: niceOf(load.pid), exporter: niceOf(exporters[0]!.child.pid) };
    let peakRss = 0;
    let peakSimRss = 0;
    const peakProcessRss = exporters.map(() => 0);
    sampler = setInterval(() => {
      try {
        peakSimRss = Math.max(peakSimRss, rssBytes(sim.pid));
      } catch {
        /* exited */
      }
      let sum = 0;
      exporters.forEach((e, i) => {
        try {
          const rss = rssBytes(e.child.pid);
          sum += rss;
          peakProcessRss[i] = Math.max(peakProcessRss[i]!, rss);
        } catch {
          /* exited */
        }
      });
      peakRss = Math.max(peakRss, sum);
    }, 250);

    const probeAll = async (what: 'probe' | 'eld-reset') => Promise.all(exporters.map((e) => ask<Probe>(e.child, { bench: what }, 30_000)));
    // CPU per cycle: every exporter's threads are read at the same point after each cycle (when
    // it has settled and been probed); a warm cycle without scrape load (baseline, growth) costs
    // the difference from the previous reading. That includes the harness's own few /accounts
    // reads per cycle, which are small next to a cycle's work.
    const cpuNow = (probes: readonly Probe[]) => exporters.map((e, i) => threadCpu(e.child.pid, probes[i]?.threads?.workers ?? []));
    let cpuPrev: ThreadCpu[] | undefined;
    const cpuPerCycle: ThreadCpu[] = [];
    let workerThreads = 0;

    // --- cycles ---
    // Roles: the first full cycle is "cold" (tokens missing), the next full one is measured under
    // scrape load, the one after is the memory baseline, then `cycles` more for RSS growth. A
    // cycle is full when every account-zone was attempted in it; one that is not (an account
    // that skipped a slot) is still counted for API economy, with its own minimum.
    const keyOf = (z: AccountZone) => `${z.account}\0${z.zone}`;
    const tokenSince = new Map<string, number>();
    const cycles: CycleRecord[] = [];
    let cold: CycleRecord | undefined;
    let measured: CycleRecord | undefined;
    let baseline: CycleRecord | undefined;
    let growthDone = 0;
    let collecting: Record<string, number> | undefined;
    let zoneMaxPerSecond = NaN;
    const maxCycles = tier.cycles + 3 + 10;
    for (let k = 1; growthDone < tier.cycles; k++) {
      if (k > maxCycles) throw new Error(`no ${tier.cycles + 3} full cycles within ${maxCycles}: see the cycle lines\n${await diagnose(exporters)}`);
      const starts = exporters.map((e) => e.startedAt + (k - 1) * I);
      const Tk = Math.min(...starts);
      const Tlast = Math.max(...starts);
      const needsAuth = (z: AccountZone) => {
        const since = tokenSince.get(keyOf(z));
        return since === undefined || Tk >= since + TOKEN_TTL_S * 1000 - TOKEN_RENEW_MARGIN_MS;
      };
      const expected = minimumRequests(zonesAll, needsAuth);
      const isMeasured = cold !== undefined && measured === undefined;
      let loadAvgBefore: number[] = [];
      let cpuBefore = { at: 0, exporter: 0, sim: 0, load: 0 };
      if (isMeasured) {
        // The load starts 2.5 s early to warm up (connections, this process's JIT); it counts
        // scrapes from 0.5 s before the cycle, when the event-loop histogram is reset too.
        await sleep(Math.max(0, Tk - 2500 - Date.now()));
        const ok = await ask<{ started?: boolean; error?: string }>(load, { cmd: 'start', targets: exporters.map((e) => `${e.url}/metrics`), connections: o.scrapeClients, rate: o.scrapeRate, recordFrom: Tk - 500 }, 30_000);
        if (!ok.started) throw new Error(`load process: ${ok.error}`);
        await sleep(Math.max(0, Tk - 500 - Date.now()));
        await probeAll('eld-reset');
        loadAvgBefore = loadavg();
        cpuBefore = { at: performance.now(), exporter: sumCpu(exporters.map((e) => e.child.pid)), sim: cpuMs(sim.pid), load: cpuMs(load.pid) };
      }
      // Wait until the cycle settles: nothing pending at the simulator and either the minimum
      // seen and every account-zone attempted, or no request for 2 s; bounded in time.
      const deadline = Tlast + Math.max(I, 3 * deploymentBound([{ zones: zonesAll, limits }], needsAuth, o.latencyMs).seconds * 1000) + 30_000;
      const inCycle = (z: { lastAttempt: string | null }, i: number) => z.lastAttempt !== null && Date.parse(z.lastAttempt) >= starts[i]! - 1000 && Date.parse(z.lastAttempt) < starts[i]! + I - 1000;
      let views: AccountsJson[];
      let stopped: { result: LoadResult; probes: Probe[]; loadAvgAfter: number[]; wallMs: number; cpu: { exporter: number; sim: number; load: number } } | undefined;
      const stopLoad = async () => {
        const dump = o.dumpDir ? join(o.dumpDir, `${tier.name}x${shards}-scrapes.json`) : undefined;
        const r = await ask<{ result?: LoadResult; error?: string }>(load!, { cmd: 'stop', dump }, 60_000);
        if (!r.result) throw new Error(`load process: ${r.error}`);
        const probes = await probeAll('probe');
        return {
          result: r.result,
          probes,
          loadAvgAfter: loadavg(),
          wallMs: performance.now() - cpuBefore.at,
          cpu: { exporter: sumCpu(exporters.map((e) => e.child.pid)) - cpuBefore.exporter, sim: cpuMs(sim.pid) - cpuBefore.sim, load: cpuMs(load!.pid) - cpuBefore.load },
        };
      };
      let last = -1;
      let lastChange = Date.now();
      for (;;) {
        await sleep(Date.now() < Tlast ? Math.min(1000, Tlast - Date.now() + 50) : 200);
        if (Date.now() > deadline) throw new Error(`cycle ${k} did not settle by ${new Date(deadline).toISOString()}\n${await diagnose(exporters)}`);
        if (Date.now() < Tlast) continue;
        const t = await simTotals();
        const made = t.total - base.total;
        if (made !== last) (last = made), (lastChange = Date.now());
        if (t.pending !== 0) continue;
        const stalled = Date.now() - lastChange > 2000 && Date.now() > Tlast + 1000;
        if (made < expected.total && !stalled) continue;
        if (isMeasured && !stopped) {
          // The API work is done. Keep scraping through the rebuild that follows the last result,
          // then stop, before asking /accounts (a big JSON answer that is not part of a cycle).
          await sleep(1000);
          stopped = await stopLoad();
        }
        const vs = await Promise.all(exporters.map((e) => getJson<AccountsJson>(`${e.url}/accounts?format=json`)));
        const all = vs.every((v, i) => v.accounts.every((a) => a.zones.every((z) => inCycle(z, i))));
        if (all || stalled) {
          views = vs;
          break;
        }
      }
      // Per process: from its scheduled start to the end of its last collection in this cycle.
      const attempted: AccountZone[][] = views.map((v, i) => v.accounts.flatMap((a) => a.zones.filter((z) => inCycle(z, i)).map((z) => owner.get(a.name) ?? { account: a.name, zone: z.zone, lbs: tier.lbsPerAccount })));
      const doneZones = views.flatMap((v, i) => v.accounts.flatMap((a) => a.zones.filter((z) => inCycle(z, i))));
      const full = doneZones.length === zonesAll.length;
      const endOf = (v: AccountsJson, i: number) => Math.max(...v.accounts.flatMap((a) => a.zones.filter((z) => inCycle(z, i)).map((z) => Date.parse(z.lastAttempt!) + z.lastDurationSeconds! * 1000)));
      const seconds = Math.max(...views.map((v, i) => (endOf(v, i) - starts[i]!) / 1000));
      const firstStartLagMs = Math.max(...views.map((v, i) => Math.min(...v.accounts.flatMap((a) => a.zones.filter((z) => inCycle(z, i)).map((z) => Date.parse(z.lastAttempt!)))) - starts[i]!));
      const end = Math.max(...views.map(endOf));
      const after = await simTotals();
      const role = !full ? 'partial' : !cold ? 'cold' : isMeasured ? 'measured' : !baseline ? 'baseline' : 'growth';
      if (isMeasured) {
        stopped ??= await stopLoad();
        const { probes, loadAvgAfter, wallMs } = stopped;
        const r = stopped;
        const pct = (ms: number) => round((100 * ms) / wallMs, 1);
        if (full) {
          const w = await getJson<{ maxInWindowByZone: Record<string, number> }>(`${simUrl}/_sim/stats?since=${Tk - 1}&until=${end + 1}&windowMs=1000`);
          zoneMaxPerSecond = Math.max(...Object.values(w.maxInWindowByZone));
          if (o.dumpDir) {
            const raw = await getJson<unknown>(`${simUrl}/_sim/stats?since=${Tk - 1}&until=${end + 1}&raw=1`);
            const tag = `${tier.name}x${shards}`;
            await writeFile(join(o.dumpDir, `${tag}-requests.json`), JSON.stringify({ starts, end, raw }));
            await writeFile(join(o.dumpDir, `${tag}-accounts.json`), JSON.stringify(views));
          }
          collecting = {
            clients: o.scrapeClients * exporters.length,
            ratePerClient: o.scrapeRate,
            scrapes: r.result.requests,
            errors: r.result.errors,
            p50Ms: r.result.latency.p50Ms,
            p99Ms: r.result.latency.p99Ms,
            maxMs: r.result.latency.maxMs,
            p99FromDueMs: r.result.latencyFromDue.p99Ms,
            maxFromDueMs: r.result.latencyFromDue.maxMs,
            // Inside the exporter: request head parsed → last byte written, largest of the processes.
            exporterScrapes: probes.reduce((s, p) => s + p.metricsRequests.count, 0),
            exporterP50Ms: maxOf(probes.map((p) => p.metricsRequests.p50Ms)),
            exporterP99Ms: maxOf(probes.map((p) => p.metricsRequests.p99Ms)),
            exporterMaxMs: maxOf(probes.map((p) => p.metricsRequests.maxMs)),
            eventLoopP50Ms: Math.max(...probes.map((p) => p.eld.p50Ms)),
            eventLoopP99Ms: Math.max(...probes.map((p) => p.eld.p99Ms)),
            eventLoopMaxMs: Math.max(...probes.map((p) => p.eld.maxMs)),
            loadAvgBefore: loadAvgBefore[0]!,
            loadAvgAfter: loadAvgAfter[0]!,
            // CPU used during the measured window, % of one core (the machine has cpus().length).
            exporterCpuPercent: pct(stopped.cpu.exporter),
            simulatorCpuPercent: pct(stopped.cpu.sim),
            loadCpuPercent: pct(stopped.cpu.load),
          };
          if (r.result.firstError) log(`scrape errors while collecting: ${r.result.errors} (first: ${r.result.firstError})`);
        }
      }
      await sleep(Math.max(0, end + 1000 - Date.now()));
      const probes = await probeAll('probe');
      const cpuAfter = cpuNow(probes);
      const cycleCpu = cpuPrev ? cpuSum(cpuAfter.map((c, i) => cpuDelta(c, cpuPrev![i]!))) : undefined;
      if (cycleCpu && (role === 'baseline' || role === 'growth')) cpuPerCycle.push(cycleCpu);
      cpuPrev = cpuAfter;
      workerThreads = probes.reduce((s, p) => s + (p.threads?.workers.length ?? 0), 0);
      const byCommand: Record<string, number> = {};
      for (const [c, n] of Object.entries(after.byCommand)) byCommand[c] = n - (base.byCommand[c] ?? 0);
      let non2xx = 0;
      for (const [s, n] of Object.entries(after.byStatus)) if (!s.startsWith('2')) non2xx += n - (base.byStatus[s] ?? 0);
      const flat = attempted.flat();
      const bound = deploymentBound(
        attempted.map((zones) => ({ zones, limits })),
        needsAuth,
        o.latencyMs,
      );
      const rec: CycleRecord = {
        index: k,
        role,
        scheduledAt: Tk,
        seconds,
        firstStartLagMs,
        bound,
        zones: flat.length,
        requests: after.total - base.total,
        minimum: minimumRequests(flat, needsAuth).total,
        byCommand,
        non2xx,
        failedZones: doneZones.filter((z) => z.state !== 'ok').length,
        rssBytes: probes.reduce((s, p) => s + p.memory.rss, 0),
        maxProcessRssBytes: Math.max(...probes.map((p) => p.memory.rss)),
        heapUsedBytes: probes.reduce((s, p) => s + p.memory.heapUsed, 0),
      };
      for (const z of flat) if (needsAuth(z)) tokenSince.set(keyOf(z), Tk);
      for (const v of views) for (const a of v.accounts) for (const z of a.zones) if (z.state !== 'ok') tokenSince.delete(`${a.name}\0${z.zone}`);
      cycles.push(rec);
      if (role === 'cold') cold = rec;
      else if (role === 'measured') measured = rec;
      else if (role === 'baseline') baseline = rec;
      else if (role === 'growth') growthDone++;
      base = after;
      await emit({
        type: 'cycle',
        tier: tier.name,
        shards,
        cycle: k,
        role,
        zones: rec.zones,
        seconds: round(rec.seconds),
        boundSeconds: round(bound.seconds),
        ratio: round(rec.seconds / bound.seconds),
        requests: rec.requests,
        minimum: rec.minimum,
        byCommand,
        non2xx,
        failedZones: rec.failedZones,
        rssMB: round(rec.rssBytes / MB, 1),
        heapUsedMB: round(rec.heapUsedBytes / MB, 1),
        ...(cycleCpu ? { cpuMs: { main: round(cycleCpu.main, 0), workers: round(cycleCpu.workers, 0), other: round(cycleCpu.other, 0), total: round(cycleCpu.total, 0) } } : {}),
        loadAvg: loadavg()[0],
      });
      if (!full) log(`cycle ${k}: only ${rec.zones} of ${zonesAll.length} account-zones were collected in this slot (counted for API economy, not timed)`);
      if (rec.seconds * 1000 > I) log(`cycle ${k} took ${rec.seconds} s, longer than the ${tier.intervalS} s interval: accounts skip a slot`);
    }

    // --- at rest: every exporter idle (a reload to an interval whose next slot is far away) ---
    // (spread: false keeps the phase of the start: the next cycle is a day after it.)
    writeFileSync(cfgFile, exporterConfigYaml(tier, zoneEndpoints, 86_400, tier.intervalS, zoneRps, o.workers));
    for (const e of exporters) await getJson(`${e.url}/-/reload`, { method: 'POST' });
    await sleep(2000);

    // --- body ---
    let plainBytes = 0;
    let gzipBytes = 0;
    let series = 0;
    let gzip0: Buffer | undefined;
    for (const e of exporters) {
      const gz = await getBytes(`${e.url}/metrics`, { 'accept-encoding': 'gzip' });
      const plain = await getBytes(`${e.url}/metrics`, { 'accept-encoding': 'identity' });
      gzip0 ??= gz;
      gzipBytes += gz.length;
      plainBytes += plain.length;
      let lines = 0;
      for (let at = 0, nl = 0; (nl = plain.indexOf(10, at)) !== -1; at = nl + 1) if (nl > at && plain[at] !== 35) lines++;
      series += lines;
    }

    // --- scrape cost at rest: exporter 0, the floor, exporter 0 again ---
    const gzFile = join(dir, 'body.gz');
    writeFileSync(gzFile, gzip0!);
    floor = startChild('floor', [FLOOR, '--file', gzFile], { echo: o.verbose });
    const floorUrl = (JSON.parse(await floor.waitForLine(/"address"/, 30_000)) as { address: string }).address;
    const restLoadBefore = loadavg()[0]!;
    const loader = load;
    const restRun = async (url: string, pid: number, paced = false) => {
      const cpu0 = cpuMs(pid);
      const load = paced ? { connections: o.scrapeClients, rate: o.scrapeRate, durationMs: o.pacedSeconds * 1000 } : { connections: o.restClients, durationMs: o.restSeconds * 1000 };
      const r = await ask<{ result?: LoadResult; error?: string }>(loader, { cmd: 'run', targets: [`${url}/metrics`], ...load }, load.durationMs + 60_000);
      if (!r.result) throw new Error(`load process: ${r.error}`);
      if (r.result.errors > 0) log(`scrape errors at rest against ${url}: ${r.result.errors} (first: ${r.result.firstError})`);
      return { ...r.result, cpuMs: cpuMs(pid) - cpu0 };
    };
    const e0 = exporters[0]!;
    const a1 = await restRun(e0.url, e0.child.pid);
    const b = await restRun(floorUrl, floor.pid);
    const a2 = await restRun(e0.url, e0.child.pid);
    // The load used while collecting, at rest, against both: what latency the machine allows.
    const pacedExporter = await restRun(e0.url, e0.child.pid, true);
    const pacedFloor = await restRun(floorUrl, floor.pid, true);
    const restLoadAfter = loadavg()[0]!;
    const aReq = a1.requests + a2.requests;
    const aRps = aReq / ((a1.elapsedMs + a2.elapsedMs) / 1000);
    const rest = {
      clients: o.restClients,
      seconds: o.restSeconds,
      exporterRps: round(aRps, 1),
      floorRps: round(b.requestsPerSecond, 1),
      throughputRatio: round(aRps / b.requestsPerSecond),
      exporterCpuMsPerScrape: round((a1.cpuMs + a2.cpuMs) / aReq, 4),
      floorCpuMsPerScrape: round(b.cpuMs / b.requests, 4),
      exporterP99Ms: Math.max(a1.latency.p99Ms, a2.latency.p99Ms),
      floorP99Ms: b.latency.p99Ms,
      exporterP50Ms: Math.max(a1.latency.p50Ms, a2.latency.p50Ms),
      floorP50Ms: b.latency.p50Ms,
      pacedExporterP50Ms: pacedExporter.latency.p50Ms,
      pacedExporterP99Ms: pacedExporter.latency.p99Ms,
      pacedFloorP50Ms: pacedFloor.latency.p50Ms,
      pacedFloorP99Ms: pacedFloor.latency.p99Ms,
      loadAvgBefore: restLoadBefore,
      loadAvgAfter: restLoadAfter,
    };

    // --- summary ---
    if (!cold || !measured || !baseline) throw new Error('not enough full cycles');
    const warm = cycles.filter((c) => c.role === 'measured' || c.role === 'baseline' || c.role === 'growth');
    const measuredCycle = measured;
    const sum = (xs: CycleRecord[], f: (c: CycleRecord) => number) => xs.reduce((s, c) => s + f(c), 0);
    const lastCycle = warm[warm.length - 1]!;
    const probes = await probeAll('probe');
    const meanCpu = (f: (c: ThreadCpu) => number) => cpuPerCycle.reduce((s, c) => s + f(c), 0) / cpuPerCycle.length;
    const per100k = (ms: number) => round(ms / (series / 100_000), 1);
    const cpuMean = { main: meanCpu((c) => c.main), workers: meanCpu((c) => c.workers), other: meanCpu((c) => c.other), total: meanCpu((c) => c.total) };
    const result: DeploymentResult = {
      type: 'result',
      tier: tier.name,
      shards,
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      accounts: tier.accounts,
      lbsPerAccount: tier.lbsPerAccount,
      serversPerLb: tier.serversPerLb,
      latencyMs: o.latencyMs,
      intervalSeconds: tier.intervalS,
      nice,
      exporterNodeArgs: o.exporterNodeArgs.join(' '),
      exporterEnv: o.exporterEnv,
      limits: { concurrency: tier.limits.concurrency, requestsPerSecond: tier.limits.requestsPerSecond, zoneRequestsPerSecond: tier.limits.zoneRequestsPerSecond, zoneRequestsPerSecondPerShard: zoneRps },
      cycle: {
        coldSeconds: round(cold.seconds),
        coldBoundSeconds: round(cold.bound.seconds),
        coldRatio: round(cold.seconds / cold.bound.seconds),
        coldBinding: cold.bound.binding,
        warmSeconds: round(measuredCycle.seconds),
        warmBoundSeconds: round(measuredCycle.bound.seconds),
        warmRatio: round(measuredCycle.seconds / measuredCycle.bound.seconds),
        warmBinding: measuredCycle.bound.binding,
        warmMedianSeconds: round(median(warm.map((c) => c.seconds))),
        warmMaxSeconds: round(Math.max(...warm.map((c) => c.seconds))),
        firstStartLagMs: measuredCycle.firstStartLagMs,
        cyclesRun: cycles.length,
        growthCyclesRun: growthDone,
        partialCycles: cycles.filter((c) => c.role === 'partial').length,
        failedZones: sum(cycles, (c) => c.failedZones),
      },
      api: {
        coldRequests: cold.requests,
        coldMinimum: cold.minimum,
        coldRatio: round(cold.requests / cold.minimum, 4),
        warmRequests: measuredCycle.requests,
        warmMinimum: measuredCycle.minimum,
        warmRatio: round(measuredCycle.requests / measuredCycle.minimum, 4),
        allRequests: sum(cycles, (c) => c.requests),
        allMinimum: sum(cycles, (c) => c.minimum),
        allRatio: round(sum(cycles, (c) => c.requests) / sum(cycles, (c) => c.minimum), 4),
        non2xx: sum(cycles, (c) => c.non2xx),
        coldByCommand: cold.byCommand,
        zoneMaxPerSecond,
        zoneLimitPerSecond: tier.limits.zoneRequestsPerSecond,
      },
      collecting: collecting ?? {},
      rest,
      memory: {
        rssMB: round(lastCycle.rssBytes / MB, 1),
        heapUsedMB: round(lastCycle.heapUsedBytes / MB, 1),
        heapTotalMB: round(probes.reduce((s, p) => s + p.memory.heapTotal, 0) / MB, 1),
        peakRssMB: round(peakRss / MB, 1),
        maxProcessRssMB: round(lastCycle.maxProcessRssBytes / MB, 1),
        baselineRssMB: round(baseline.rssBytes / MB, 1),
        ...rssGrowth(cycles.filter((c) => c.role === 'baseline' || c.role === 'growth').map((c) => c.rssBytes)),
        growthCycles: growthDone,
        perProcessPeakRssMB: peakProcessRss.map((b) => round(b / MB, 1)),
        maxProcessPeakRssMB: round(Math.max(...peakProcessRss) / MB, 1),
        // Where the (last) process's memory is, at the end: RSS as anonymous and file-backed
        // pages, the main thread's V8 heap and the buffers outside it, each worker thread's heap.
        breakdown: probes.map((p) => ({
          rssAnonMB: p.rssSplit?.anon,
          rssFileMB: p.rssSplit?.file,
          mainHeapUsedMB: p.heaps?.main.used,
          mainHeapTotalMB: p.heaps?.main.total,
          arrayBuffersMB: round(p.memory.arrayBuffers / MB, 1),
          workerHeaps: p.heaps?.workers.map((w) => ({ usedMB: w.last.used, totalMB: w.last.total, peakTotalMB: w.peakTotal, externalMB: w.last.external })),
        })),
      },
      body: { plainBytes, gzipBytes, series },
      simulator: { readySeconds: round(simReadySeconds, 2), peakRssMB: round(peakSimRss / MB, 1) },
      // CPU per warm cycle without scrape load, mean over the baseline and growth cycles, summed
      // over the processes; per 100k series of the whole deployment's body.
      cpu: {
        cyclesAveraged: cpuPerCycle.length,
        workerThreads,
        mainMsPerCycle: round(cpuMean.main, 1),
        workersMsPerCycle: round(cpuMean.workers, 1),
        otherMsPerCycle: round(cpuMean.other, 1),
        totalMsPerCycle: round(cpuMean.total, 1),
        mainMsPer100kSeries: per100k(cpuMean.main),
        workersMsPer100kSeries: per100k(cpuMean.workers),
        otherMsPer100kSeries: per100k(cpuMean.other),
        totalMsPer100kSeries: per100k(cpuMean.total),
      },
    };
    result.targets = checkTargets(result);
    return result;
  } finally {
    clearInterval(sampler);
    await Promise.all([load?.stop(), floor?.stop(), ...exporters.map((e) => e?.child.stop())]);
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
  if (o.jsonOut) await writeFile(o.jsonOut, '');
  const emit = async (line: Record<string, unknown>) => {
    const text = JSON.stringify(line);
    process.stdout.write(`${text}\n`);
    if (o.jsonOut) await appendFile(o.jsonOut, `${text}\n`);
  };
  const results: DeploymentResult[] = [];
  for (const tier of o.tiers) {
    for (const shards of o.shards ?? [tier.shards]) {
      log(`tier ${tier.name}: ${tier.accounts} accounts x ${tier.lbsPerAccount} LBs x ${tier.serversPerLb} servers, ${shards} process(es), latency ${o.latencyMs} ms, interval ${tier.intervalS} s, 3 + ${tier.cycles} cycles; simulator and load ${o.nice ? `at nice ${o.nice}` : 'not niced'}; load average ${loadavg().join(' ')}`);
      const r = await runDeployment(tier, shards, o, emit);
      log(`tier ${tier.name} x ${shards}: measured ${figureOf(r, 'cycle.cyclesRun')} cycles (${figureOf(r, 'cycle.growthCyclesRun')} growth); CPU per cycle averaged over ${figureOf(r, 'cpu.cyclesAveraged')}`);
      const missing = missingFigures(r);
      if (missing.length > 0) throw new Error(`figures missing for tier ${tier.name} x ${shards}: ${missing.join(', ')}`);
      await emit(r);
      results.push(r);
    }
  }
  process.stdout.write(`\n${renderTable(results)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    process.stderr.write(`bench: harness failure: ${err instanceof Error ? err.stack : String(err)}\n`);
    await stopAll();
    process.exit(1);
  },
);
