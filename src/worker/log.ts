/**
 * The worker's logger: records are not written here but posted to the main thread, where the
 * main logger writes them (pool/worker-logs.ts). So the main logger's level, redaction and
 * destination apply to them, and a test that captures the main logger sees them too.
 *
 * It has pino's calling convention (`log.warn({ fields }, 'message')`, `child(bindings)`,
 * numeric levels) without loading pino: serialising, redaction and writing all happen in the
 * main thread, so pino here only cost memory (~5 MB of RSS per worker thread as measured before
 * --optimize-for-size, BENCHMARKS.md).
 * The level is decided here first, from the task's logLevel: a disabled level is a no-op, so a
 * debug call at info costs nothing and nothing crosses the thread boundary.
 */
import { parentPort } from 'node:worker_threads';
import { WORKER_LOG, type WorkerLogRecord } from '../protocol.js';

/** pino's level numbers (the main logger maps them back to its labels). */
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

type LogFn = (...args: unknown[]) => void;

export interface WorkerLog {
  readonly trace: LogFn;
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly fatal: LogFn;
  /** A logger whose records carry these fields too (account, zone). */
  child(bindings: Readonly<Record<string, unknown>>): WorkerLog;
}

const NOOP: LogFn = () => undefined;

/** `level`: a pino level name; 'silent' logs nothing, a name it does not know logs at info. */
export function workerLogger(level: string, bindings: Readonly<Record<string, unknown>> = {}): WorkerLog {
  const threshold = (LEVELS as Record<string, number>)[level] ?? (level === 'silent' ? Infinity : LEVELS.info);
  const at = (n: number): LogFn => (n >= threshold ? (...args) => post({ kind: WORKER_LOG, level: n, bindings, args }) : NOOP);
  return {
    trace: at(LEVELS.trace),
    debug: at(LEVELS.debug),
    info: at(LEVELS.info),
    warn: at(LEVELS.warn),
    error: at(LEVELS.error),
    fatal: at(LEVELS.fatal),
    child: (more) => workerLogger(level, { ...bindings, ...more }),
  };
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

/**
 * Outside a worker thread (code run directly in the main thread): an ordinary redacting logger,
 * loaded on first use (so a worker thread never loads pino); records keep their order.
 */
let local: Promise<(record: WorkerLogRecord) => void> | undefined;
function writeHere(record: WorkerLogRecord): void {
  local ??= import('../log.js').then(({ createLogger }) => {
    const logger = createLogger({ level: 'trace', destination: 2 });
    return (r: WorkerLogRecord) => {
      const label = logger.levels.labels[r.level];
      if (label) (logger.child(r.bindings)[label as 'info'] as LogFn)(...r.args);
    };
  });
  void local.then((write) => write(record));
}
