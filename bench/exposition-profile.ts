/**
 * Where the main thread's time goes when the body is rebuilt, without the network: fills a real
 * Store with rendered snapshots (as workers send them), then times the pieces of one rebuild
 * and a simulated collection cycle (results arriving one by one while the body is rebuilt), with
 * the event-loop delay measured the same way as in the full benchmark.
 *
 *   node dist/bench/exposition-profile.js [--accounts 200] [--lbs 20] [--servers 5] [--cycle-seconds 8]
 *
 * Add `--cpu-prof` to node to see the hot functions.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { LoadBalancer, WebServer } from '../src/ktcloud/parse.js';
import { Exposition } from '../src/metrics/exposition.js';
import { renderHealth } from '../src/metrics/render-health.js';
import { renderSnapshot } from '../src/worker/render-snapshot.js';
import type { CollectResult } from '../src/protocol.js';
import { Store } from '../src/state/store.js';
import { ZONES } from './tiers.js';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '200' },
    lbs: { type: 'string', default: '20' },
    servers: { type: 'string', default: '5' },
    'cycle-seconds': { type: 'string', default: '8' },
    /** Write a CPU profile of the simulated cycle only (main thread) to this file. */
    'profile-cycle': { type: 'string' },
  },
});
const ACCOUNTS = Number(values.accounts);
const LBS = Number(values.lbs);
const SERVERS = Number(values.servers);
const CYCLE_MS = Number(values['cycle-seconds']) * 1000;

function result(i: number, seq: number): CollectResult {
  const account = `acct-${String(i).padStart(4, '0')}`;
  const zone = ZONES[i % ZONES.length]!;
  const items = Array.from({ length: LBS }, (_, l) => {
    const lb: LoadBalancer = {
      id: String(40000 + i * LBS + l),
      name: `web-lb-${String(l + 1).padStart(3, '0')}`,
      serviceIp: `172.25.${i % 250}.${l + 2}`,
      servicePort: '80',
      serviceType: ['HTTP', 'HTTPS', 'TCP'][l % 3]!,
      option: 'ROUNDROBIN',
      healthcheckType: 'http',
      state: l % 10 === 9 ? 'DOWN' : 'UP',
    } as LoadBalancer;
    const servers: WebServer[] = Array.from({ length: SERVERS }, (_, s) => ({
      ip: `172.25.${100 + (i % 150)}.${(l * SERVERS + s) % 250}`,
      port: '8080',
      state: 'UP',
      connections: (seq * 7 + s) % 250,
      throughputKbps: (seq * 13 + l) % 8000,
      ttfbMs: (seq + s) % 400,
      requestsPerSec: (seq * 3 + l) % 1500,
    }));
    return { lb, servers };
  });
  const snapshot = renderSnapshot(account, zone, items);
  return {
    account,
    zones: [
      {
        zone,
        ok: true,
        startedAtMs: Date.now() - 500,
        durationMs: 500,
        requests: [
          ['listLoadBalancers', '200', 1],
          ['listLoadBalancerWebServers', '200', LBS],
        ],
        token: null,
        snapshot,
        summary: { lbs: LBS, lbsDown: 0, servers: LBS * SERVERS, serversDown: 0 },
        partial: null,
      },
    ],
  };
}

const time = <T>(f: () => T): [T, number] => {
  const t = performance.now();
  const v = f();
  return [v, performance.now() - t];
};

const store = new Store();
for (let i = 0; i < ACCOUNTS; i++) store.ensureAccount(`acct-${String(i).padStart(4, '0')}`, [ZONES[i % ZONES.length]!]);
for (let i = 0; i < ACCOUNTS; i++) store.apply(result(i, 0));
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const state = { version: 'bench', port: 9105, intervalMs: 15_000, reload: { ok: true, lastSuccessMs: Date.now() }, shard: { index: 0, total: 1 }, ownedAccounts: ACCOUNTS };
const health = () => renderHealth(store, state);
const exposition = new Exposition(store, health, registry);

const [, firstMs] = [0, await (async () => {
  const t = performance.now();
  await exposition.flush();
  return performance.now() - t;
})()];
const builtText = await exposition.text();
const builtGzip = Buffer.concat((await exposition.parts('text')).gzip);
const [healthText, healthMs] = time(health);
const [, gzipMs] = time(() => gzipSync(builtText, { level: 1, memLevel: 9 }));
const report: Record<string, number> = {
  accounts: ACCOUNTS,
  series: exposition.seriesCount,
  plainBytes: builtText.length,
  gzipBytes: builtGzip.length,
  firstBuildMs: firstMs,
  renderHealthMs: healthMs,
  healthBytes: Buffer.byteLength(healthText),
  gzipSyncWholeBodyMs: gzipMs,
};

// A collection cycle: results arrive evenly over CYCLE_MS; the body rebuilds as it does live.
// (The results are rendered beforehand: in the exporter, workers do that.)
const results = Array.from({ length: ACCOUNTS }, (_, i) => result(i, i + 1));
const session = values['profile-cycle'] ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < ACCOUNTS; i++) {
  const due = t0 + ((i + 1) * CYCLE_MS) / ACCOUNTS;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  store.apply(results[i]!);
  exposition.invalidate();
  // A scrape now and then, as Prometheus would.
  if (i % 10 === 0) await exposition.parts();
}
await exposition.flush();
const cycleMs = performance.now() - t0;
h.disable();
const cpu = process.cpuUsage(cpu0);
if (session) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(values['profile-cycle']!, JSON.stringify(profile));
  session.disconnect();
}
Object.assign(report, {
  cycleMs,
  cycleMainThreadCpuMs: (cpu.user + cpu.system) / 1000,
  eventLoopP50Ms: h.percentile(50) / 1e6,
  eventLoopP99Ms: h.percentile(99) / 1e6,
  eventLoopMaxMs: h.max / 1e6,
});
for (const [k, v] of Object.entries(report)) report[k] = Math.round(v * 100) / 100;
process.stdout.write(`${JSON.stringify(report)}\n`);
exposition.close();
