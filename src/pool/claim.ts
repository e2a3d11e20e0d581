/**
 * A shared cell per task through which the worker tells the pool's watchdog which thread runs
 * the task and since when: the deadline of a collection starts when a worker starts it, not
 * while it waits in the queue or for a thread to boot. This is the pool's half; the worker's
 * half is worker/claim.ts, the layout is protocol.ts's CLAIM_LAYOUT.
 */
import { CLAIM_LAYOUT as L } from '../protocol.js';

export function createClaim(): SharedArrayBuffer {
  return new SharedArrayBuffer(L.bytes);
}

/** The thread and start time, or undefined while the task has not started. */
export function readClaim(claim: SharedArrayBuffer): { threadId: number; startedAtMs: number } | undefined {
  const startedAtMs = Number(Atomics.load(new BigInt64Array(claim, L.startedAtMsAt, 1), 0));
  return startedAtMs === 0 ? undefined : { threadId: Atomics.load(new Int32Array(claim, L.threadIdAt, 1), 0), startedAtMs };
}
