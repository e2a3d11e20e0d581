/**
 * Piscina worker entry: collects one account per task. Several tasks run at once in one thread
 * (the work is I/O); undici's keep-alive pools are shared by every task of this thread.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { threadId } from 'node:worker_threads';
import { Agent } from '../src/ktcloud/http-request.js';
import { collectAccount } from '../src/collect/collect-account.js';
import { markStarted } from '../src/pool/claim.js';
import { createLogger } from '../src/log.js';
import type { CollectResult, CollectTask } from '../src/protocol.js';

const dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
const loggers = new Map<string, ReturnType<typeof createLogger>>();

export default async function collect(task: CollectTask): Promise<unknown> {
  const startedAt = Date.now();
  // Tell the pool which thread runs this task and since when, so that a hung thread can be terminated.
  if (task.claim) markStarted(task.claim, threadId, startedAt);
  let log = loggers.get(task.logLevel);
  if (!log) loggers.set(task.logLevel, (log = createLogger({ level: task.logLevel, name: 'worker' })));
  const result = await collectAccount(task, startedAt + task.timeoutMs, dispatcher, log.child({ account: task.account }));
  return transferable(result);
}

/** Moves the rendered buffers to the main thread instead of copying them. */
function transferable(result: CollectResult): unknown {
  const buffers = result.zones.flatMap((z) => (z.ok ? [z.snapshot.text.buffer as ArrayBuffer] : []));
  return move({ [transferableSymbol]: buffers, [valueSymbol]: result } as never);
}
