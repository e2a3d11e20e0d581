/**
 * The messages that cross the thread boundary, typed once. Workers receive a CollectTask and
 * answer a CollectResult: plain data only (no class instances), failures as data, never thrown.
 */
import type { ApiOptions, LbFilter } from './config/types.js';
import type { ErrorInfo } from './ktcloud/errors.js';
import type { TokenInfo } from './ktcloud/client.js';
import type { Hygiene } from './metrics/label-safety.js';

/**
 * Layout of CollectTask.claim, the 16-byte shared cell written by the worker (worker/claim.ts)
 * and read by the pool's watchdog (pool/claim.ts): Int32 thread id at 0, BigInt64 start ms at 8.
 */
export const CLAIM_LAYOUT = { bytes: 16, threadIdAt: 0, startedAtMsAt: 8 } as const;

/**
 * States of CollectTask.abort, a 4-byte shared Int32 cell: set to `aborted` by the main thread
 * (pool/abort-flag.ts), to `done` by the worker when the task ended (worker/abort-watch.ts).
 */
export const ABORT_STATE = { running: 0, aborted: 1, done: 2 } as const;

export interface ZoneTask {
  readonly zone: string;
  readonly endpoint: string;
  /** Shared pacer state of the zone (one per zone for the whole process). */
  readonly pacer: SharedArrayBuffer;
  readonly requestsPerSecond: number;
  /** The token from the last cycle, whichever worker ran it. */
  readonly token?: TokenInfo;
}

export interface CollectTask {
  readonly account: string;
  readonly zones: readonly ZoneTask[];
  readonly cloudId: string;
  readonly password: string;
  readonly concurrency: number;
  readonly requestsPerSecond: number;
  /** Shared pacer state of the account, kept across cycles. */
  readonly accountPacer: SharedArrayBuffer;
  /** Deadline for the whole collection, counted from when a worker starts it. */
  readonly timeoutMs: number;
  readonly api: ApiOptions;
  readonly logLevel: string;
  /** Where the worker records its thread and start time for the pool's hang watchdog (see CLAIM_LAYOUT). */
  readonly claim?: SharedArrayBuffer;
  /** Set by the main thread to cancel this collection (an account removed by a reload; see ABORT_STATE). */
  readonly abort?: SharedArrayBuffer;
  /** Which LBs are exported, by name (config/lb-filter.ts); absent: all. */
  readonly lbFilter?: LbFilter;
  /** Metric names of LB families not rendered; absent: none. */
  readonly disabledFamilies?: readonly string[];
  /** LB series (all zones) over which the account's zones fail with too_many_series; 0 or absent: no cap. */
  readonly maxSeries?: number;
}

/**
 * Rendered sample lines of the snapshot families, in LB_FAMILY_ORDER: what a worker sends, what
 * the store keeps (immutable; a collection replaces the object) and what the exposition serves.
 */
export interface Snapshot {
  /** UTF-8 exposition lines of every family, back to back. */
  readonly text: Uint8Array;
  /** Byte offsets: family i spans text[offsets[i], offsets[i + 1]). */
  readonly offsets: readonly number[];
  readonly series: number;
}


export interface ZoneSummary {
  readonly lbs: number;
  readonly lbsDown: number;
  readonly servers: number;
  readonly serversDown: number;
}

/** [command, code, count] */
export type RequestCount = readonly [string, string, number];

interface ZoneOutcomeBase {
  readonly zone: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly requests: readonly RequestCount[];
  /** The token to keep for the next cycle; null when it must be dropped. */
  readonly token: TokenInfo | null;
}

export interface ZoneSuccess extends ZoneOutcomeBase {
  readonly ok: true;
  readonly snapshot: Snapshot;
  readonly summary: ZoneSummary;
  /** Set when some load balancers' server lists failed: those LBs are exported without servers. */
  readonly partial: { readonly failedLbs: number; readonly error: ErrorInfo } | null;
  /** Label values capped and duplicates dropped in this collection (see metrics/label-safety.ts). */
  readonly hygiene?: Hygiene;
  /** LBs left out by the task's lbFilter. */
  readonly lbsFiltered?: number;
}

export interface ZoneFailure extends ZoneOutcomeBase {
  readonly ok: false;
  readonly error: ErrorInfo;
}

export type ZoneOutcome = ZoneSuccess | ZoneFailure;

export interface CollectResult {
  readonly account: string;
  readonly zones: readonly ZoneOutcome[];
}

/**
 * A log record a worker posts to the main thread (worker/log.ts → pool/worker-logs.ts), which
 * writes it with its own logger: its level, redaction and destination apply. `args` are the
 * arguments of the pino call as made in the worker (fields object and/or message).
 */
export interface WorkerLogRecord {
  readonly kind: typeof WORKER_LOG;
  /** pino's numeric level (30 info, 20 debug...). */
  readonly level: number;
  /** The worker logger's child bindings: account, zone. */
  readonly bindings: Readonly<Record<string, unknown>>;
  readonly args: readonly unknown[];
}

export const WORKER_LOG = 'ktcloud-worker-log';

/**
 * The pool's start-up check: a thread answers it with PONG once its module has loaded, so a
 * worker that cannot start is found before the exporter serves (pool/collector-pool.ts).
 */
export const PING = { kind: 'ktcloud-ping' } as const;
export const PONG = 'ktcloud-pong';
