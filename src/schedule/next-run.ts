/**
 * When an account is collected next: a pure function of plain numbers (ms), so that every rule
 * of the timeline is tested without timers. The scheduler only feeds it and arms a timer.
 *
 * The timeline of one account:
 *  - cold: never attempted since it became ours (start, a reload that added it): run now; the
 *    pacers bound the burst of many cold accounts at once;
 *  - healthy: the first slot (offset + k × interval) at least one interval after the run that
 *    was last due. After a cold run that is between one and two intervals later, never less, so
 *    an account is never collected twice within one interval; from then on, exactly every slot;
 *  - failing: 1, 2, 4, 8 … intervals after the failed run started, at most 10 minutes (or one
 *    interval, if that is longer), plus up to 10 % jitter so that accounts that failed together
 *    do not retry together; a success returns the account to its slots.
 * A time already past means "now" (a slot missed while the previous run was still going).
 */
import { createHash } from 'node:crypto';

/** A slot this close to "one interval after the last" still counts (timers, float rounding). */
export const SLOT_GRACE_MS = 250;
/** A failing account waits at most this long between attempts (before jitter). */
export const MAX_BACKOFF_MS = 10 * 60_000;
/** Backoff gaps are stretched by up to this fraction. */
export const BACKOFF_JITTER = 0.1;

export interface RunState {
  readonly now: number;
  readonly intervalMs: number;
  /** Phase of the account's slots within the interval: slots are at offset + k × interval. */
  readonly offsetMs: number;
  /** When the last collection was due (for a failed one, when it really started); null while the account was never attempted (cold). */
  readonly lastDueMs: number | null;
  /** Consecutive failed collections; 0 after a success. */
  readonly failures: number;
  /** In [0, 1): where within the jitter band a backoff lands. Default 0. */
  readonly jitter?: number;
}

export function nextRunAt(s: RunState): number {
  if (s.lastDueMs === null) return s.now;
  if (s.failures > 0) return Math.max(s.now, s.lastDueMs + backoffMs(s.failures, s.intervalMs, s.jitter ?? 0));
  return Math.max(s.now, firstSlotFrom(s.lastDueMs + s.intervalMs - SLOT_GRACE_MS, s.offsetMs, s.intervalMs));
}

/** The wait after the n-th consecutive failure: interval × 2^(n-1), capped, then jittered. */
export function backoffMs(failures: number, intervalMs: number, jitter = 0): number {
  const cap = Math.max(intervalMs, MAX_BACKOFF_MS);
  const base = Math.min(intervalMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30), cap);
  return base * (1 + BACKOFF_JITTER * jitter);
}

/** The first time ≥ t of the form offset + k × interval. */
export function firstSlotFrom(t: number, offsetMs: number, intervalMs: number): number {
  return Math.ceil((t - offsetMs) / intervalMs) * intervalMs + offsetMs;
}

/** A fixed point within the interval, from the account name: accounts spread out and keep their phase across restarts. */
export function stableOffset(name: string, intervalMs: number): number {
  return (hash32(name) / 2 ** 32) * intervalMs;
}

/** A jitter in [0, 1) that differs between accounts and between failures, yet is repeatable in tests. */
export function backoffJitter(name: string, failures: number): number {
  return hash32(`${name}\0${failures}`) / 2 ** 32;
}

function hash32(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32BE(0);
}
