/**
 * Piscina worker entry: collects one account per task. Several tasks run at once in one thread
 * (the work is I/O); undici's keep-alive pools are shared by every task of this thread.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { threadId } from 'node:worker_threads';
import { Agent } from '../ktcloud/http-request.js';
import { collectAccount } from './collect-account.js';
import { toErrorInfo } from '../ktcloud/errors.js';
import { markStarted } from './claim.js';
import { workerLogger } from './log.js';
import { PING, PONG, type CollectResult, type CollectTask } from '../protocol.js';

const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
const loggers = new Map<string, ReturnType<typeof workerLogger>>();

export default async function collect(task: CollectTask | typeof PING): Promise<unknown> {
  if ('kind' in task) return PONG; // the pool's start-up check: this module loaded
  const startedAt = Date.now();
  // Tell the pool which thread runs this task and since when, so that a hung thread can be terminated.
  if (task.claim) markStarted(task.claim, threadId, startedAt);
  let log = loggers.get(task.logLevel);
  if (!log) loggers.set(task.logLevel, (log = workerLogger(task.logLevel)));
  let result: CollectResult;
  try {
    result = await collectAccount(task, startedAt + task.timeoutMs, dispatcher, log.child({ account: task.account }));
  } catch (err) {
    // collectAccount returns failures as data; reaching here is a bug, reported as `internal` per zone.
    const secrets = [task.cloudId, task.password, ...task.zones.flatMap((z) => (z.token ? [z.token.value] : []))];
    const now = Date.now();
    result = {
      account: task.account,
      zones: task.zones.map((z) => ({ zone: z.zone, ok: false as const, startedAtMs: now, durationMs: 0, requests: [], token: null, error: toErrorInfo(err, { account: task.account, zone: z.zone, command: 'collection', secrets }) })),
    };
  }
  return transferable(result);
}

/** Moves the rendered buffers to the main thread instead of copying them. */
function transferable(result: CollectResult): unknown {
  const buffers = result.zones.flatMap((z) => (z.ok ? [z.snapshot.text.buffer as ArrayBuffer] : []));
  return move({ [transferableSymbol]: buffers, [valueSymbol]: result } as never);
}
