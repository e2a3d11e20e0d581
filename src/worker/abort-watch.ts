/**
 * The worker's half of the abort flag (pool/abort-flag.ts says why a flag and not piscina's signal).
 *
 * The flags of the collections in flight are read by one shared, unref'd timer every POLL_MS,
 * not waited on with Atomics.waitAsync. A `--once` run was seen to collect and then never exit,
 * its main thread blocked in native code (no diagnostic report could be taken), which fits the
 * process joining a worker thread that cannot finish; a worker torn down with a waitAsync waiter
 * pending, or its cross-thread wake-up queued, is the one unusual V8 path this worker used, so
 * it is gone. A load every 50 ms per collection in flight costs nothing; a cancelled collection
 * stops at most 50 ms later.
 */
import { ABORT_STATE as S } from '../protocol.js';

const POLL_MS = 50;

const watched = new Map<Int32Array, AbortController>();
let timer: NodeJS.Timeout | undefined;

function poll(): void {
  for (const [cell, controller] of watched) {
    if (Atomics.load(cell, 0) !== S.aborted) continue;
    watched.delete(cell);
    controller.abort(new Error('collection cancelled: the account was removed'));
  }
  if (watched.size === 0) stop();
}

function stop(): void {
  clearInterval(timer);
  timer = undefined;
}

/**
 * Aborts `controller` when the main thread aborts the flag. Returns a release to call when the
 * task ends: the flag is marked done (a later abort is then a no-op) and no longer watched.
 */
export function watchAbortFlag(flag: SharedArrayBuffer | undefined, controller: AbortController): () => void {
  if (!flag) return () => undefined;
  const cell = new Int32Array(flag);
  if (Atomics.load(cell, 0) === S.aborted) {
    controller.abort(new Error('collection cancelled: the account was removed'));
    return () => undefined;
  }
  watched.set(cell, controller);
  timer ??= setInterval(poll, POLL_MS).unref();
  return () => {
    Atomics.compareExchange(cell, 0, S.running, S.done);
    watched.delete(cell);
    if (watched.size === 0) stop();
  };
}
