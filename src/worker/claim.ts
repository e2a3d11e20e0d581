/**
 * The worker's half of the task claim (pool/claim.ts has the pool's half): records which thread
 * runs the task and since when, so that the pool's watchdog counts the deadline from here.
 */
import { CLAIM_LAYOUT as L } from '../protocol.js';

export function markStarted(claim: SharedArrayBuffer, threadId: number, atMs: number): void {
  Atomics.store(new Int32Array(claim, L.threadIdAt, 1), 0, threadId);
  Atomics.store(new BigInt64Array(claim, L.startedAtMsAt, 1), 0, BigInt(Math.round(atMs)));
}
