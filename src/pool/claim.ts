/**
 * A 16-byte shared cell per task through which the worker tells the pool's watchdog which thread
 * runs the task and since when: the deadline of a collection starts when a worker starts it,
 * not while it waits in the queue or for a thread to boot.
 */
export function createClaim(): SharedArrayBuffer {
  return new SharedArrayBuffer(16);
}

/** Worker side: record the thread and the start time. */
export function markStarted(claim: SharedArrayBuffer, threadId: number, atMs: number): void {
  Atomics.store(new Int32Array(claim, 0, 1), 0, threadId);
  Atomics.store(new BigInt64Array(claim, 8, 1), 0, BigInt(Math.round(atMs)));
}

/** Pool side: the thread and start time, or undefined while the task has not started. */
export function readClaim(claim: SharedArrayBuffer): { threadId: number; startedAtMs: number } | undefined {
  const startedAtMs = Number(Atomics.load(new BigInt64Array(claim, 8, 1), 0));
  return startedAtMs === 0 ? undefined : { threadId: Atomics.load(new Int32Array(claim, 0, 1), 0), startedAtMs };
}
