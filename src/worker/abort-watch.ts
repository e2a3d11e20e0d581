/**
 * The worker's half of the abort flag (pool/abort-flag.ts says why a flag and not piscina's signal).
 */
import { ABORT_STATE as S } from '../protocol.js';

/** Node has had Atomics.waitAsync since 16; our TypeScript lib setting predates its typing. */
interface AtomicsWaitAsync {
  waitAsync(cell: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

/**
 * Aborts `controller` when the main thread aborts the flag. Returns a release to call when the
 * task ends, so that no waiter outlives it. Waits with Atomics.waitAsync: no polling.
 */
export function watchAbortFlag(flag: SharedArrayBuffer | undefined, controller: AbortController): () => void {
  if (!flag) return () => undefined;
  const cell = new Int32Array(flag);
  const fire = () => {
    if (Atomics.load(cell, 0) === S.aborted) controller.abort(new Error('collection cancelled: the account was removed'));
  };
  const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(cell, 0, S.running);
  if (w.async) void w.value.then(fire);
  else fire();
  return () => {
    if (Atomics.compareExchange(cell, 0, S.running, S.done) === S.running) Atomics.notify(cell, 0);
  };
}
