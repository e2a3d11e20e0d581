import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under this condition (see
// packages/simulator/package.json "exports"): tests run the simulator's current source, never a
// stale dist/. tsconfig.test.json resolves types the same way. Setting conditions replaces
// Vite's defaults (node, module, …), so they are kept after ours.
const conditions = ['ktcloud-source', ...defaultServerConditions];

export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts'],
    // Tests start real servers, worker pools and child processes: give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest 4 moved poolOptions.forks.maxForks to the top level.
    maxWorkers: 2,
  },
});
