/**
 * The main thread's half of the worker logs (worker/log.ts is the worker's): records that
 * workers post are written by the main logger, as child({ module: 'worker', account, zone }).
 * The main logger's level applies again here: a worker told to log at debug by an old task
 * still writes nothing at debug when the main logger is at info.
 */
import type { Logger } from 'pino';
import { WORKER_LOG, type WorkerLogRecord } from '../protocol.js';

export function isWorkerLogRecord(m: unknown): m is WorkerLogRecord {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === WORKER_LOG && Array.isArray((m as { args?: unknown }).args);
}

export function writeWorkerLog(log: Logger, record: WorkerLogRecord): void {
  const label = log.levels.labels[record.level];
  if (!label || !log.isLevelEnabled(label)) return;
  const child = log.child({ module: 'worker', ...record.bindings });
  try {
    (child[label as 'info'] as (...a: unknown[]) => void)(...record.args);
  } catch (err) {
    // A log record must never take the main thread down (this runs in an event listener).
    log.warn({ module: 'worker', err: (err as Error).message }, 'a worker log record could not be written');
  }
}
