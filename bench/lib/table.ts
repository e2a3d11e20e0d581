/** The readable table: one row per figure, one column per tier and deployment. */
import { figure } from './figures.js';

interface Row {
  readonly label: string;
  readonly cell: (r: Record<string, unknown>) => string;
}

const n = (r: Record<string, unknown>, p: string) => figure(r, p) as number;
const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const int = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : String(v));
const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${fmt(bytes / 1024 / 1024, 1)} MB` : `${fmt(bytes / 1024, 1)} KB`);

const ROWS: Row[] = [
  { label: 'accounts x LBs x servers', cell: (r) => `${r.accounts} x ${r.lbsPerAccount} x ${r.serversPerLb}` },
  { label: 'limits (conc / acct rps / zone rps)', cell: (r) => `${n(r, 'limits.concurrency')} / ${n(r, 'limits.requestsPerSecond')} / ${n(r, 'limits.zoneRequestsPerSecond')}` },
  { label: 'latency, interval', cell: (r) => `${r.latencyMs} ms, ${r.intervalSeconds} s` },
  { label: 'nice: simulator / load / exporter', cell: (r) => `${n(r, 'nice.simulator')} / ${n(r, 'nice.load')} / ${n(r, 'nice.exporter')}` },
  { label: 'cycles run (growth); CPU averaged over', cell: (r) => `${n(r, 'cycle.cyclesRun')} (${n(r, 'cycle.growthCyclesRun')}); ${n(r, 'cpu.cyclesAveraged')}` },
  { label: '1. cold cycle s (bound, ratio)', cell: (r) => `${fmt(n(r, 'cycle.coldSeconds'))} (${fmt(n(r, 'cycle.coldBoundSeconds'))}, ${fmt(n(r, 'cycle.coldRatio'), 3)})` },
  { label: '1. warm cycle s (bound, ratio)', cell: (r) => `${fmt(n(r, 'cycle.warmSeconds'))} (${fmt(n(r, 'cycle.warmBoundSeconds'))}, ${fmt(n(r, 'cycle.warmRatio'), 3)})` },
  { label: '1. warm cycles median / max s', cell: (r) => `${fmt(n(r, 'cycle.warmMedianSeconds'))} / ${fmt(n(r, 'cycle.warmMaxSeconds'))}` },
  { label: '2. requests cold (min, ratio)', cell: (r) => `${int(n(r, 'api.coldRequests'))} (${int(n(r, 'api.coldMinimum'))}, ${fmt(n(r, 'api.coldRatio'), 4)})` },
  { label: '2. requests warm (min, ratio)', cell: (r) => `${int(n(r, 'api.warmRequests'))} (${int(n(r, 'api.warmMinimum'))}, ${fmt(n(r, 'api.warmRatio'), 4)})` },
  { label: '2. all cycles ratio; zone max/s', cell: (r) => `${fmt(n(r, 'api.allRatio'), 4)}; ${n(r, 'api.zoneMaxPerSecond')}/${n(r, 'api.zoneLimitPerSecond')}` },
  { label: '3. /metrics p50 / p99 / max ms, client', cell: (r) => `${fmt(n(r, 'collecting.p50Ms'))} / ${fmt(n(r, 'collecting.p99Ms'))} / ${fmt(n(r, 'collecting.maxMs'))}` },
  { label: '3. /metrics p50 / p99 / max ms, inside the exporter', cell: (r) => `${fmt(n(r, 'collecting.exporterP50Ms'))} / ${fmt(n(r, 'collecting.exporterP99Ms'))} / ${fmt(n(r, 'collecting.exporterMaxMs'))}` },
  { label: '3. p99 / max ms from due time', cell: (r) => `${fmt(n(r, 'collecting.p99FromDueMs'))} / ${fmt(n(r, 'collecting.maxFromDueMs'))}` },
  { label: '3. scrapes (clients x rate/s), load avg', cell: (r) => `${int(n(r, 'collecting.scrapes'))} (${n(r, 'collecting.clients')} x ${n(r, 'collecting.ratePerClient') || 'max'}), ${fmt(n(r, 'collecting.loadAvgAfter'))}` },
  { label: '3. CPU % exporter / sim / load', cell: (r) => `${fmt(n(r, 'collecting.exporterCpuPercent'), 0)} / ${fmt(n(r, 'collecting.simulatorCpuPercent'), 0)} / ${fmt(n(r, 'collecting.loadCpuPercent'), 0)}` },
  { label: '3. event-loop delay p99 / max ms', cell: (r) => `${fmt(n(r, 'collecting.eventLoopP99Ms'))} / ${fmt(n(r, 'collecting.eventLoopMaxMs'))}` },
  { label: '4. at rest req/s exporter / floor', cell: (r) => `${int(n(r, 'rest.exporterRps'))} / ${int(n(r, 'rest.floorRps'))} (${fmt(n(r, 'rest.throughputRatio'), 3)})` },
  { label: '4. CPU ms/scrape exporter / floor', cell: (r) => `${fmt(n(r, 'rest.exporterCpuMsPerScrape'), 3)} / ${fmt(n(r, 'rest.floorCpuMsPerScrape'), 3)}` },
  { label: '4. p99 ms exporter / floor, load avg', cell: (r) => `${fmt(n(r, 'rest.exporterP99Ms'))} / ${fmt(n(r, 'rest.floorP99Ms'))}, ${fmt(n(r, 'rest.loadAvgAfter'))}` },
  { label: '4. p50 / p99 ms at the collecting load: exporter | floor', cell: (r) => `${fmt(n(r, 'rest.pacedExporterP50Ms'))} / ${fmt(n(r, 'rest.pacedExporterP99Ms'))} | ${fmt(n(r, 'rest.pacedFloorP50Ms'))} / ${fmt(n(r, 'rest.pacedFloorP99Ms'))}` },
  { label: '5. RSS MB steady (peak)', cell: (r) => `${fmt(n(r, 'memory.rssMB'), 1)} (${fmt(n(r, 'memory.peakRssMB'), 1)})` },
  { label: '5. RSS MB largest process', cell: (r) => fmt(n(r, 'memory.maxProcessRssMB'), 1) },
  { label: '5. RSS MB peak per process', cell: (r) => ((figure(r, 'memory.perProcessPeakRssMB') as number[] | undefined) ?? []).map((v) => fmt(v, 1)).join(' / ') },
  { label: '5. heap used MB', cell: (r) => fmt(n(r, 'memory.heapUsedMB'), 1) },
  { label: '5. RSS growth % over N cycles (after warm-up)', cell: (r) => `${fmt(n(r, 'memory.rssGrowthPercent'))} over ${n(r, 'memory.growthCycles')} (${fmt(n(r, 'memory.rssLateGrowthPercent'))})` },
  { label: '6. body plain / gzip', cell: (r) => `${size(n(r, 'body.plainBytes'))} / ${size(n(r, 'body.gzipBytes'))}` },
  { label: '6. series', cell: (r) => int(n(r, 'body.series')) },
  { label: 'simulator ready s; peak RSS MB', cell: (r) => `${fmt(n(r, 'simulator.readySeconds'))}; ${fmt(n(r, 'simulator.peakRssMB'), 1)}` },
  { label: '7. CPU ms per cycle main / workers / other = total', cell: (r) => `${int(n(r, 'cpu.mainMsPerCycle'))} / ${int(n(r, 'cpu.workersMsPerCycle'))} / ${int(n(r, 'cpu.otherMsPerCycle'))} = ${int(n(r, 'cpu.totalMsPerCycle'))}` },
  { label: '7. same per 100k series', cell: (r) => `${int(n(r, 'cpu.mainMsPer100kSeries'))} / ${int(n(r, 'cpu.workersMsPer100kSeries'))} / ${int(n(r, 'cpu.otherMsPer100kSeries'))} = ${int(n(r, 'cpu.totalMsPer100kSeries'))}` },
  { label: '7. worker threads (all processes)', cell: (r) => String(n(r, 'cpu.workerThreads')) },
];

export function renderTable(results: ReadonlyArray<Record<string, unknown>>): string {
  const head = ['figure', ...results.map((r) => `Tier ${r.tier} x ${r.shards}`)];
  const rows = ROWS.map((row) => [row.label, ...results.map((r) => row.cell(r))]);
  const targets: string[][] = [];
  for (const r of results) {
    for (const t of (r.targets as Array<{ name: string; target: string; value: number; met: boolean; applies: boolean }>) ?? []) {
      if (!t.applies) continue;
      targets.push([`Tier ${r.tier} x ${r.shards}`, t.name, t.target, String(t.value), t.met ? 'met' : 'MISSED']);
    }
  }
  return [table(head, rows), targets.length ? `\nTargets\n${table(['deployment', 'figure', 'target', 'value', ''], targets)}` : ''].join('\n');
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
