/**
 * A 4-byte shared cell through which the main thread cancels one collection running in a worker.
 *
 * Why not piscina's `signal` on `run`: piscina honours an abort of a task that already runs by
 * terminating its whole thread, and one thread runs many accounts at once; every sibling would
 * fail and be re-run. This flag lets the worker stop only the cancelled collection: its pacer
 * waits and requests end through an ordinary AbortSignal, and it answers like any failed task.
 */
const RUNNING = 0;
const ABORTED = 1;
/** Set by the worker when the task ended, to release its waiter. */
const DONE = 2;

/** Node has had Atomics.waitAsync since 16; our TypeScript lib setting predates its typing. */
interface AtomicsWaitAsync {
  waitAsync(cell: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

export function createAbortFlag(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** Main side: cancel the collection that holds this flag (idempotent; harmless once it ended). */
export function abortFlag(flag: SharedArrayBuffer): void {
  const cell = new Int32Array(flag);
  if (Atomics.compareExchange(cell, 0, RUNNING, ABORTED) === RUNNING) Atomics.notify(cell, 0);
}

export function isAborted(flag: SharedArrayBuffer | undefined): boolean {
  return flag !== undefined && Atomics.load(new Int32Array(flag), 0) === ABORTED;
}

/**
 * Worker side: aborts `controller` when the main thread aborts the flag. Returns a release to
 * call when the task ends, so that no waiter outlives it. Waits with Atomics.waitAsync: no polling.
 */
export function watchAbortFlag(flag: SharedArrayBuffer | undefined, controller: AbortController): () => void {
  if (!flag) return () => undefined;
  const cell = new Int32Array(flag);
  const fire = () => {
    if (Atomics.load(cell, 0) === ABORTED) controller.abort(new Error('collection cancelled: the account was removed'));
  };
  const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(cell, 0, RUNNING);
  if (w.async) void w.value.then(fire);
  else fire();
  return () => {
    if (Atomics.compareExchange(cell, 0, RUNNING, DONE) === RUNNING) Atomics.notify(cell, 0);
  };
}
