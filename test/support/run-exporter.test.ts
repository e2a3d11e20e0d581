import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runExporter } from './run-exporter.js';

/** The helper that runs the exporter's command line in tests: a run that does not end is cut and reported, not waited on. */
it('a run that does not exit by its deadline is killed and reported with its stacks and open handles', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ktcloud-run-'));
  // Without --once the exporter serves until stopped: here, a run that never ends.
  writeFileSync(join(dir, 'a.yaml'), 'listen: 127.0.0.1:0\ninterval: 1m\nzones:\n  DX-M1: { endpoint: "http://127.0.0.1:9/unreachable" }\naccounts:\n  - { name: a, zones: [DX-M1], id: a@example.com, password: pw-a }\n');
  const err = (await runExporter(['--config', join(dir, 'a.yaml')], { deadlineMs: 2000 }).then(
    () => undefined,
    (e: unknown) => e,
  )) as Error | undefined;
  expect(err?.message).toMatch(/did not exit within 2000 ms/);
  expect(err?.message).toMatch(/^main thread: /m);
  // Worker threads get a line each when they exist; on a busy machine, 2 s may be before the pool.
  // Its open handles, one per line (which ones depends on how far start-up got in 2 s: on a
  // busy machine the worker thread may still be loading, and nothing listens yet).
  expect(err?.message).toMatch(/^active handles:\n {4}\w+ \{/m);
}, 15_000);
