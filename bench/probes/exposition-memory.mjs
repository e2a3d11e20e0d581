// node --expose-gc bench/probes/exposition-memory.mjs [ACCOUNTS=200] [LBS=20] [SERVERS=5]
// (from the repo root after `npm run build`; BENCHMARKS.md "Memory: where it goes")
// Main thread only, no workers, no network: what the /metrics exposition holds at a tier's shape.
// Fills a Store with rendered snapshots (as workers send them), then prints RSS, heap, external
// and arrayBuffers after a full GC: with the snapshots only, after the first build (text, gzip
// and plain asked for), after OpenMetrics too, and after two cycles in which every snapshot is
// replaced one by one with a rebuild and a gzip scrape between.
import { Registry, collectDefaultMetrics } from 'prom-client';
const root = new URL('../../dist/', import.meta.url);
const { Store } = await import(new URL('src/state/store.js', root));
const { Exposition } = await import(new URL('src/metrics/exposition.js', root));
const { renderHealth } = await import(new URL('src/metrics/render-health.js', root));
const { renderSnapshot } = await import(new URL('src/worker/render-snapshot.js', root));
const [ACCOUNTS = 200, LBS = 20, SERVERS = 5] = process.argv.slice(2).map(Number);
const ZONES = ['DX-M1', 'DX-Central', 'DX-DCN-CJ', 'DX-G', 'DX-G-YS'];
const MB = 1 << 20;
const snap = (what, extra = {}) => {
  globalThis.gc?.(); globalThis.gc?.();
  const m = process.memoryUsage();
  console.log(JSON.stringify({ what, rss: +(m.rss / MB).toFixed(1), heapUsed: +(m.heapUsed / MB).toFixed(1), external: +(m.external / MB).toFixed(1), arrayBuffers: +(m.arrayBuffers / MB).toFixed(1), ...extra }));
};
const name = (i) => `acct-${String(i).padStart(4, '0')}`;
function result(i, seq) {
  const items = Array.from({ length: LBS }, (_, l) => ({
    lb: { id: String(40000 + i * LBS + l), name: `web-lb-${String(l + 1).padStart(3, '0')}`, serviceIp: `172.25.${i % 250}.${l + 2}`, servicePort: '80', serviceType: ['HTTP', 'HTTPS', 'TCP'][l % 3], option: 'ROUNDROBIN', healthcheckType: 'http', state: l % 10 === 9 ? 'DOWN' : 'UP' },
    servers: Array.from({ length: SERVERS }, (_, s) => ({ ip: `172.25.${100 + (i % 150)}.${(l * SERVERS + s) % 250}`, port: '8080', state: 'UP', connections: (seq * 7 + s) % 250, throughputKbps: (seq * 13 + l) % 8000, ttfbMs: (seq + s) % 400, requestsPerSec: (seq * 3 + l) % 1500 })),
  }));
  const zone = ZONES[i % ZONES.length];
  return { account: name(i), zones: [{ zone, ok: true, startedAtMs: Date.now() - 500, durationMs: 500, requests: [['listLoadBalancers', '200', 1], ['listLoadBalancerWebServers', '200', LBS]], token: null, snapshot: renderSnapshot(name(i), zone, items), summary: { lbs: LBS, lbsDown: 0, servers: LBS * SERVERS, serversDown: 0 }, partial: null }] };
}
snap('modules');
const store = new Store();
for (let i = 0; i < ACCOUNTS; i++) store.ensureAccount(name(i), [ZONES[i % ZONES.length]]);
for (let i = 0; i < ACCOUNTS; i++) store.apply(result(i, 0));
snap('snapshots in the store');
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const state = { version: 'bench', port: 9105, intervalMs: 15_000, reload: { ok: true, lastSuccessMs: Date.now() }, shard: { index: 0, total: 1 }, ownedAccounts: ACCOUNTS };
const exposition = new Exposition(store, () => renderHealth(store, state), registry, 0);
await exposition.flush();
const size = (l) => l.reduce((n, b) => n + b.length, 0);
// (Nothing of the first body is kept here: a plain list holds views of the snapshots it was made of.)
const first = await exposition.parts('text').then((p) => ({ series: exposition.seriesCount, healthBytes: renderHealth(store, state).length, plainBytes: size(p.plain), gzipBytes: size(p.gzip), gzipBuffers: p.gzip.length }));
snap('text built, gzip + plain asked', first);
await exposition.parts('openmetrics').then((p) => p.gzip);
snap('openmetrics built too');
for (let seq = 1; seq <= 2; seq++) {
  for (let i = 0; i < ACCOUNTS; i++) {
    store.apply(result(i, seq));
    exposition.invalidate();
    if (i % 10 === 0) (await exposition.parts('text')).gzip;
  }
  await exposition.flush();
  (await exposition.parts('text')).gzip;
  snap(`after cycle ${seq}`);
}
exposition.close();
