/**
 * The figures a benchmark result carries, by path, and the targets of the issue. Shared by the
 * runner (table, targets) and the smoke test (every figure present and numeric).
 */

/** Every figure a `result` line must hold as a finite number (dotted paths). */
export const FIGURE_PATHS = [
  // priorities as read from /proc (the simulator and the load are niced unless --no-nice)
  'nice.simulator',
  'nice.load',
  'nice.exporter',
  // 1. cycle time vs its lower bound
  'cycle.coldSeconds',
  'cycle.coldBoundSeconds',
  'cycle.coldRatio',
  'cycle.warmSeconds',
  'cycle.warmBoundSeconds',
  'cycle.warmRatio',
  'cycle.warmMedianSeconds',
  'cycle.warmMaxSeconds',
  'cycle.cyclesRun',
  'cycle.growthCyclesRun',
  // 2. API economy
  'api.coldRequests',
  'api.coldMinimum',
  'api.coldRatio',
  'api.warmRequests',
  'api.warmMinimum',
  'api.warmRatio',
  'api.allRequests',
  'api.allMinimum',
  'api.allRatio',
  'api.zoneMaxPerSecond',
  // 3. scrape latency while collecting
  'collecting.scrapes',
  'collecting.p50Ms',
  'collecting.p99Ms',
  'collecting.maxMs',
  'collecting.exporterScrapes',
  'collecting.exporterP50Ms',
  'collecting.exporterP99Ms',
  'collecting.exporterMaxMs',
  'collecting.eventLoopP99Ms',
  'collecting.eventLoopMaxMs',
  // 4. scrape cost at rest vs the bare-fastify floor
  'rest.exporterRps',
  'rest.floorRps',
  'rest.throughputRatio',
  'rest.exporterCpuMsPerScrape',
  'rest.floorCpuMsPerScrape',
  'rest.exporterP99Ms',
  'rest.floorP99Ms',
  'rest.pacedExporterP99Ms',
  'rest.pacedFloorP99Ms',
  // 5. memory
  'memory.rssMB',
  'memory.heapUsedMB',
  'memory.peakRssMB',
  'memory.rssGrowthPercent',
  'memory.rssLateGrowthPercent',
  'memory.growthCycles',
  'memory.maxProcessPeakRssMB',
  // 6. body
  'body.plainBytes',
  'body.gzipBytes',
  'body.series',
  // the simulator copes: time from its start to listening (generation), its peak RSS
  'simulator.readySeconds',
  'simulator.peakRssMB',
  // 7. CPU per warm cycle: main thread, worker threads, the rest, the process
  'cpu.cyclesAveraged',
  'cpu.workerThreads',
  'cpu.mainMsPerCycle',
  'cpu.workersMsPerCycle',
  'cpu.otherMsPerCycle',
  'cpu.totalMsPerCycle',
  'cpu.mainMsPer100kSeries',
  'cpu.workersMsPer100kSeries',
  'cpu.otherMsPer100kSeries',
  'cpu.totalMsPer100kSeries',
] as const;

export function figure(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** Paths whose value is missing or not a finite number. */
export function missingFigures(result: unknown): string[] {
  return FIGURE_PATHS.filter((p) => {
    const v = figure(result, p);
    return typeof v !== 'number' || !Number.isFinite(v);
  });
}

export interface TargetCheck {
  readonly name: string;
  readonly target: string;
  readonly value: number;
  readonly met: boolean;
  /** Whether the issue sets this target for this tier (others are reported for information). */
  readonly applies: boolean;
}

export function checkTargets(r: { tier: string; shards: number; intervalSeconds: number } & Record<string, unknown>): TargetCheck[] {
  const n = (p: string) => figure(r, p) as number;
  const M = r.tier === 'M';
  const L1 = r.tier === 'L' && r.shards === 1;
  const XL = r.tier === 'XL';
  const t = (name: string, target: string, value: number, met: boolean, applies: boolean): TargetCheck => ({ name, target, value, met, applies });
  return [
    t('cycle time / lower bound (warm)', '<= 1.1 (Tier M)', n('cycle.warmRatio'), n('cycle.warmRatio') <= 1.1, M),
    t('API requests / minimum (all cycles)', '<= 1.01', n('api.allRatio'), n('api.allRatio') <= 1.01, true),
    t('/metrics p99 while collecting', '<= 10 ms (Tier M)', n('collecting.p99Ms'), n('collecting.p99Ms') <= 10, M),
    t('event-loop delay p99 while collecting', '<= 10 ms (Tier M)', n('collecting.eventLoopP99Ms'), n('collecting.eventLoopP99Ms') <= 10, M),
    t('at-rest throughput / bare fastify', '>= 0.70 (Tier M)', n('rest.throughputRatio'), n('rest.throughputRatio') >= 0.7, M),
    t('RSS (MB, peak)', M ? '<= 300 MB' : '<= 1024 MB (Tier L, one process)', n('memory.peakRssMB'), n('memory.peakRssMB') <= (M ? 300 : 1024), M || L1),
    t('RSS growth over the cycles (median of first 5 vs last 5)', '<= 5 %', n('memory.rssGrowthPercent'), n('memory.rssGrowthPercent') <= 5, true),
    t('RSS growth after warm-up (slope over the second half)', '<= 5 %', n('memory.rssLateGrowthPercent'), n('memory.rssLateGrowthPercent') <= 5, true),
    t('cycle within the interval', `< ${r.intervalSeconds} s (Tier L one process, Tier XL)`, n('cycle.warmMaxSeconds'), n('cycle.warmMaxSeconds') < r.intervalSeconds, L1 || XL),
    t('RSS of the largest process (MB, peak)', '<= 400 MB (Tier XL, each shard)', n('memory.maxProcessPeakRssMB'), n('memory.maxProcessPeakRssMB') <= 400, XL),
  ];
}
