/**
 * `--once`: collect every owned account once, write the exposition to stdout, name each failure on
 * stderr, exit 1 if any. It always ends: a collection is bounded by its timeout (the pool
 * terminates a thread that overruns it and re-runs its tasks a bounded number of times), and past
 * that bound plus time for the threads to start, what has not finished is cancelled and reported
 * as failed rather than left to hang a CronJob or a CI step.
 */
import type { App } from './app.js';

/** Time allowed on top of the pool's bound for the worker threads to start and the body to be built. */
const START_ALLOWANCE_MS = 10_000;

export interface OnceOptions {
  readonly stdout: (chunk: Buffer | string) => void;
  readonly stderr: (line: string) => void;
  /** Default: the pool's longest run for the configured timeout, plus START_ALLOWANCE_MS. */
  readonly deadlineMs?: number;
}

export async function runOnce(app: App, o: OnceOptions): Promise<number> {
  const timeoutMs = app.scheduler.currentConfig.timeoutMs;
  const deadlineMs = o.deadlineMs ?? app.pool.longestRunMs(timeoutMs) + START_ALLOWANCE_MS;
  await app.checkWorkers();
  const unfinished = new Set(await app.scheduler.collectAll(deadlineMs));
  o.stdout(await app.exposition.text());
  let failed = unfinished.size > 0;
  for (const z of app.store.all()) {
    if (z.up || unfinished.has(z.account)) continue;
    failed = true;
    o.stderr(`account "${z.account}" zone ${z.zone}: ${z.lastError ? `${z.lastError.reason}: ${z.lastError.message}` : 'not collected'}\n`);
  }
  for (const name of unfinished) {
    o.stderr(`account "${name}": collection did not finish within ${seconds(deadlineMs)} (timeout ${seconds(timeoutMs)}); cancelled\n`);
  }
  return failed ? 1 : 0;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
