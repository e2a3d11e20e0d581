import { relative } from 'node:path';
import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Workspace packages export their TypeScript sources under this condition (see
// packages/simulator/package.json "exports"): tests run the simulator's current source, never a
// stale dist/. tsconfig.test.json resolves types the same way. Setting conditions replaces
// Vite's defaults (node, module, …), so they are kept after ours.
const conditions = ['ktcloud-source', ...defaultServerConditions];

/**
 * Rough file times (ms, 2-core machine) of the slow files, for a run without vitest's results
 * cache (a fresh CI checkout), where vitest would order by file size. With two workers the
 * wall time is least when the longest files start first, so neither worker is left finishing
 * a 15 s file alone at the end. Files not listed are short; a stale figure only costs order.
 */
const KNOWN_MS: Readonly<Record<string, number>> = {
  'test/faults/soak.test.ts': 25_000,
  'test/bench/bench-smoke.test.ts': 16_000,
  'test/schedule/removal.test.ts': 15_000,
  'test/http/sockets.test.ts': 13_000,
  'test/e2e/prometheus.test.ts': 13_000,
  'test/cli.test.ts': 12_000,
  'test/metrics/consistency.test.ts': 10_000,
  'test/collect/rate-limits.test.ts': 10_000,
  'test/http/accounts-browser.test.ts': 9_000,
  'test/pool/pool.test.ts': 9_000,
  'test/e2e/openmetrics.test.ts': 8_500,
  'test/schedule/backoff.test.ts': 7_500,
  'test/http/web-config-tls.test.ts': 6_500,
  'test/schedule/zone-discovery.test.ts': 6_500,
  'test/schedule/runtime.test.ts': 6_500,
  'test/schedule/timeout-recovery.test.ts': 6_000,
  'test/e2e/prometheus-tls.test.ts': 6_000,
  'test/deploy/web-tls.test.ts': 6_000,
  'test/http/accounts-page.test.ts': 5_500,
};

/** Failed files first (as vitest does), then longest first: the last run's time, else KNOWN_MS. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const info = (f: TestSpecification) => {
      const path = relative(root, f.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${f.project.name}:${path}`);
      return { failed: cached?.failed ? 1 : 0, ms: cached?.duration ?? KNOWN_MS[path] ?? 0 };
    };
    const keyed = files.map((f) => ({ f, ...info(f) }));
    return keyed.sort((a, b) => b.failed - a.failed || b.ms - a.ms).map((k) => k.f);
  }
}

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real servers, worker pools and child processes: give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Three files at once on two cores: most tests wait on timers, sockets and child processes
    // rather than compute (a full run adds up to ~300 s of file time but keeps the cores ~60 %
    // busy), so a third fork brings `npm test` from ~157 s to ~112 s here with the timing-sensitive
    // tests still passing (measured twice under CI=true); more would start to starve them.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
  },
});
