/**
 * A 4-byte shared cell through which the main thread cancels one collection running in a worker.
 *
 * Why not piscina's `signal` on `run`: piscina honours an abort of a task that already runs by
 * terminating its whole thread, and one thread runs many accounts at once; every sibling would
 * fail and be re-run. This flag lets the worker stop only the cancelled collection: its pacer
 * waits and requests end through an ordinary AbortSignal, and it answers like any failed task.
 * This is the main thread's half; the worker's is worker/abort-watch.ts.
 */
import { ABORT_STATE as S } from '../protocol.js';

export function createAbortFlag(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** Main side: cancel the collection that holds this flag (idempotent; harmless once it ended). */
export function abortFlag(flag: SharedArrayBuffer): void {
  const cell = new Int32Array(flag);
  // The worker polls the flag (worker/abort-watch.ts): nothing to notify.
  Atomics.compareExchange(cell, 0, S.running, S.aborted);
}

export function isAborted(flag: SharedArrayBuffer | undefined): boolean {
  return flag !== undefined && Atomics.load(new Int32Array(flag), 0) === S.aborted;
}
