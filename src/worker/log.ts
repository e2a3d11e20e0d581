/**
 * The worker's logger: a real pino logger (so worker code logs like the rest of the code base),
 * whose records are not written here but posted to the main thread, where the main logger
 * writes them (pool/worker-logs.ts). So the main logger's level, redaction and destination
 * apply to them, and a test that captures the main logger sees them too.
 *
 * The level is decided here first, from the task's logLevel: pino turns disabled levels into
 * no-ops, so a debug call at info costs nothing and nothing crosses the thread boundary.
 */
import { parentPort } from 'node:worker_threads';
import pino, { type Logger } from 'pino';
import { createLogger } from '../log.js';
import { WORKER_LOG, type WorkerLogRecord } from '../protocol.js';

export function workerLogger(level: string): Logger {
  return pino(
    {
      level,
      base: {},
      hooks: {
        // Takes the call's arguments before pino serialises anything; the record is written once, in the main thread.
        logMethod(args, _method, levelNumber) {
          post({ kind: WORKER_LOG, level: levelNumber, bindings: this.bindings(), args });
        },
      },
    },
    // Never written to: the hook above does not call pino's own write.
    { write: () => undefined },
  );
}

function post(record: WorkerLogRecord): void {
  if (!parentPort) return writeHere(record);
  try {
    parentPort.postMessage(record);
  } catch {
    // A field that cannot be cloned (a function, a class with private state): send a JSON copy instead.
    try {
      parentPort.postMessage({ ...record, args: jsonSafe(record.args) });
    } catch {
      const msg = record.args.find((a) => typeof a === 'string');
      parentPort.postMessage({ ...record, args: [{ fieldsDropped: true }, msg ?? 'unserialisable log record'] });
    }
  }
}

function jsonSafe(args: readonly unknown[]): unknown[] {
  return JSON.parse(
    JSON.stringify(args, (_k, v: unknown) => {
      if (v instanceof Error) return { type: v.name, message: v.message, stack: v.stack };
      return typeof v === 'bigint' ? String(v) : v;
    }),
  ) as unknown[];
}

/** Outside a worker thread (code run directly in the main thread): an ordinary redacting logger. */
let local: Logger | undefined;
function writeHere(record: WorkerLogRecord): void {
  local ??= createLogger({ level: 'trace', destination: 2 });
  const label = local.levels.labels[record.level];
  if (label) (local.child(record.bindings)[label as pino.Level] as (...a: unknown[]) => void)(...record.args);
}
