/**
 * The piscina pool that runs account collections. Many accounts run at once in each thread
 * (the work is I/O). A thread that stops answering past a task's deadline is terminated and
 * replaced. When a thread dies, every task on it fails and we cannot tell which one killed it,
 * so each is run again in quarantine, one suspect at a time: the innocent ones then succeed,
 * and only the account that keeps killing its thread fails.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { Errors, type ErrorContext, type KtCloudError } from '../ktcloud/errors.js';
import { PING, PONG, type CollectResult, type CollectTask } from '../protocol.js';
import { isAborted } from './abort-flag.js';
import { createClaim, readClaim } from './claim.js';
import { isWorkerLogRecord, writeWorkerLog } from './worker-logs.js';
import { createLogger } from '../log.js';

export interface PoolOptions {
  /** Worker threads. */
  readonly workers: number;
  /**
   * Collections one thread runs at once. Default 256: a cycle's accounts should all be in flight,
   * since a collection waiting in piscina's queue cannot use its zone's slots, and the last ones to
   * start then finish alone at their own rate (with 2 x 32, Tier M ran 1.1-1.2 x its bound). A
   * collection in flight mostly waits for its zone (see ktcloud/zone-gate.ts) and costs little.
   */
  readonly tasksPerWorker?: number;
  /** Worker module; default the compiled src/worker/entry.js. Tests pass fixtures. */
  readonly filename?: string;
  /** How long past its timeout a started task may take before its thread counts as hung. Default 5s. */
  readonly hangGraceMs?: number;
  /** Writes the workers' log records (worker/log.ts). Default: a logger to stdout at info. */
  readonly log?: Logger;
}

/** A task whose thread died is tried at most this often. */
const MAX_ATTEMPTS = 3;

/**
 * Young generation of each worker thread, in MB: V8 sizes it at three semi-spaces, so 1 MB semi-spaces.
 * A collection allocates in bursts (JSON bodies, rendered lines) that die young; V8's default
 * lets the semi-spaces grow to 16 MB each and keeps them, ~20 MB of RSS per thread. The
 * scavenges this small size adds are short: little survives them. BENCHMARKS.md "Memory: where it goes".
 */
const WORKER_YOUNG_GENERATION_MB = 3;

export class CollectorPool {
  /** Undefined once it could no longer start a thread (see dropIfBroken); the next task starts a new one. */
  private piscina: Piscina | undefined;
  private readonly filename: string;
  private readonly opts: PoolOptions;
  private readonly log: Logger;
  private readonly graceMs: number;
  /** Why the last thread failed. */
  private lastThreadError = 'unknown';
  /** Pools dropped because no thread could start, with why: the error of the tasks they failed. */
  private readonly brokenPools = new WeakMap<Piscina, string>();
  /** Set when a pool broke, cleared when a task succeeds again: the log says it once. */
  private broken = false;
  /** Threads terminated because they stopped answering. */
  hungThreadsReplaced = 0;
  /** Tasks re-run because their thread died under them. */
  tasksRerun = 0;
  /** Threads replaced for any reason while the pool runs: hung (terminated by us) or crashed. */
  threadsReplaced = 0;
  /** Piscina pools replaced because they had stopped starting threads. */
  poolsReplaced = 0;

  constructor(opts: PoolOptions) {
    this.opts = opts;
    this.graceMs = opts.hangGraceMs ?? 5000;
    this.log = opts.log ?? createLogger();
    this.filename = opts.filename ?? defaultWorkerFile();
    this.piscina = this.createPiscina();
  }

  /** The pool tasks go to; a new one when the last one broke. */
  private current(): Piscina {
    return (this.piscina ??= this.createPiscina());
  }

  private createPiscina(): Piscina {
    const p = new Piscina({
      filename: this.filename,
      minThreads: this.opts.workers,
      maxThreads: this.opts.workers,
      concurrentTasksPerWorker: this.opts.tasksPerWorker ?? 256,
      idleTimeout: Infinity,
      // Tasks await timers and sockets between their steps; message passing keeps workers' loops free.
      atomics: 'disabled',
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    // A worker that dies is replaced by piscina; its tasks are rejected and handled in run().
    p.on('error', (err: Error) => {
      this.lastThreadError = err.message;
    });
    // Workers post their log records through their parentPort; piscina re-emits them here.
    p.on('message', (m: unknown) => {
      if (isWorkerLogRecord(m)) writeWorkerLog(this.log, m);
    });
    // idleTimeout is Infinity, so a thread only goes away when it dies or is terminated.
    p.on('workerDestroy', () => {
      if (this.closing) return;
      this.threadsReplaced++;
      // Piscina starts the replacement in the same step, so none left after it means none is coming.
      setImmediate(() => this.dropIfBroken(p));
    });
    return p;
  }

  /**
   * Piscina stops starting threads once one has failed while starting (its module did not load,
   * the thread ran out of memory at start): every task queued after that would wait forever. Such
   * a pool is destroyed, which fails its queued tasks (run() tries them again), and the next task
   * starts a new pool: lazily, so a module that keeps failing costs one thread start per attempt,
   * not a loop of them.
   */
  private dropIfBroken(p: Piscina): void {
    if (this.closing || p !== this.piscina || p.threads.length > 0) return;
    this.piscina = undefined;
    this.brokenPools.set(p, this.lastThreadError);
    this.poolsReplaced++;
    if (!this.broken) this.log.error({ err: this.lastThreadError }, 'worker pool: a thread could not be started; the next collection starts a new pool');
    this.broken = true;
    p.destroy().catch(() => undefined);
  }

  /**
   * Starts the threads and waits until one of them has loaded the worker module; rejects with
   * why it could not (a broken install, a module that fails to load), so the exporter can say so
   * at start-up instead of failing every collection later.
   */
  async check(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no worker thread answered within ${timeoutMs / 1000}s`)), timeoutMs);
    });
    try {
      const answer: unknown = await Promise.race([this.current().run(PING), late]);
      if (answer !== PONG) throw new Error(`the worker module answered ${JSON.stringify(answer)}, not the collection worker's answer`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The longest a run() of a task with this timeout can take once a thread has started it: each
   * try is cut at timeout + grace (its thread is terminated), and a task whose thread died is
   * tried at most MAX_ATTEMPTS times. Time waiting for a thread is not included.
   */
  longestRunMs(timeoutMs: number): number {
    return MAX_ATTEMPTS * (timeoutMs + this.graceMs);
  }

  get threads(): number {
    return this.piscina?.threads.length ?? 0;
  }

  /** Runs one account's collection; always resolves, failures come back as data. */
  async run(task: CollectTask): Promise<CollectResult> {
    for (let attempt = 1; ; attempt++) {
      const r = attempt === 1 ? await this.once(task) : await this.quarantine(() => this.once(task));
      if ('result' in r) return r.result;
      if (r.hung) return failure(task, (c) => Errors.workerHung(c));
      // A thread that died is a bug of ours or of the runtime, never the API's answer: `internal`.
      if (attempt >= MAX_ATTEMPTS || this.closing || isAborted(task.abort)) return failure(task, (c) => Errors.workerCrashed(c, r.error.message));
      this.tasksRerun++;
    }
  }

  private readonly quarantine = pLimit(1);

  /**
   * One try in the pool, with a watchdog: once the task has run for its timeout plus the grace
   * without answering, its thread is terminated. Time in the queue does not count.
   */
  private async once(task: CollectTask): Promise<{ result: CollectResult } | { hung: boolean; error: Error }> {
    const claim = createClaim();
    let hung = false;
    let watchdog: NodeJS.Timeout | undefined;
    const check = () => {
      const started = readClaim(claim);
      const dueAt = (started?.startedAtMs ?? Date.now()) + task.timeoutMs + this.graceMs;
      if (started && Date.now() >= dueAt) {
        hung = true;
        this.terminateThread(started.threadId);
      } else watchdog = setTimeout(check, Math.max(50, dueAt - Date.now()));
    };
    watchdog = setTimeout(check, task.timeoutMs + this.graceMs);
    const pool = this.current();
    try {
      const result = (await pool.run({ ...task, claim })) as CollectResult;
      this.broken = false;
      return { result };
    } catch (err) {
      // A pool dropped as broken failed its queued tasks with a bare "Terminating worker thread".
      const why = this.brokenPools.get(pool);
      if (why !== undefined) return { hung, error: new Error(`no worker thread could start: ${why}`) };
      this.lastThreadError = (err as Error).message;
      return { hung, error: err as Error };
    } finally {
      clearTimeout(watchdog);
    }
  }

  private closing = false;

  async close(): Promise<void> {
    this.closing = true;
    await this.piscina?.destroy();
  }

  private terminateThread(threadId: number): void {
    const thread = this.piscina?.threads.find((t) => t.threadId === threadId);
    if (thread) {
      this.hungThreadsReplaced++;
      void thread.terminate();
    }
  }
}

function failure(task: CollectTask, make: (c: ErrorContext) => KtCloudError): CollectResult {
  const now = Date.now();
  const secrets = [task.cloudId, task.password, ...task.zones.flatMap((z) => (z.token ? [z.token.value] : []))];
  return {
    account: task.account,
    zones: task.zones.map((z) => ({
      zone: z.zone,
      ok: false as const,
      startedAtMs: now,
      durationMs: 0,
      requests: [],
      token: z.token ?? null,
      error: make({ account: task.account, zone: z.zone, secrets }).toInfo(),
    })),
  };
}

/** dist/src/worker/entry.js, whether this module runs compiled (dist/src/pool) or as source (src/pool). */
export function defaultWorkerFile(): string {
  const compiled = fileURLToPath(new URL('../worker/entry.js', import.meta.url));
  if (existsSync(compiled)) return compiled;
  const fromSource = fileURLToPath(new URL('../../dist/src/worker/entry.js', import.meta.url));
  if (existsSync(fromSource)) return fromSource;
  throw new Error(`worker file not found at ${compiled} or ${fromSource}; run \`npm run build\``);
}
