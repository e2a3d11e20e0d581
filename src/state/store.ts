/**
 * What the exporter knows about each account-zone: the last good snapshot (rendered bytes) and
 * the health around it. Every change happens in one synchronous step on the main thread and
 * bumps `version`, so a reader never sees an account half-updated.
 */
import type { ErrorInfo, ErrorReason } from '../ktcloud/errors.js';
import type { DuplicateKind } from '../metrics/label-safety.js';
import type { CollectResult, Snapshot, ZoneSummary } from '../protocol.js';

export type ZoneHealth = 'ok' | 'failing' | 'stale' | 'pending';

export interface ZoneState {
  readonly account: string;
  readonly zone: string;
  /** The last good snapshot; kept through failures until it is older than staleAfter. */
  snapshot: Snapshot | null;
  summary: ZoneSummary | null;
  /** Whether the last attempt succeeded. */
  up: boolean;
  attempts: number;
  lastSuccessMs: number | null;
  lastAttemptMs: number | null;
  lastDurationMs: number | null;
  lastSuccessDurationMs: number | null;
  consecutiveFailures: number;
  lastError: (ErrorInfo & { readonly atMs: number }) | null;
  partial: { readonly failedLbs: number; readonly error: ErrorInfo } | null;
  readonly errors: Map<ErrorReason, number>;
  /** `command\0code` → count. */
  readonly requests: Map<string, number>;
  swaps: number;
  /** Label values capped at MAX_LABEL_BYTES, summed over collections. */
  labelValuesTruncated: number;
  /** Items dropped as duplicates (or without identity), by kind, summed over collections. */
  readonly duplicatesDropped: Map<DuplicateKind, number>;
  /** LBs the loadBalancers filter left out in the last successful collection; null before one. */
  lbsFiltered: number | null;
}

export class Store {
  private readonly zones = new Map<string, ZoneState>();
  /** Bumped on every change; the exposition cache compares it. */
  version = 0;

  /** Makes sure an account's zones exist (pending until their first attempt) and drops zones it no longer has. */
  ensureAccount(account: string, zones: readonly string[]): void {
    for (const z of zones) {
      const key = keyOf(account, z);
      if (!this.zones.has(key)) {
        this.zones.set(key, newZone(account, z));
        this.version++;
      }
    }
    for (const [key, s] of this.zones) {
      if (s.account === account && !zones.includes(s.zone)) {
        this.zones.delete(key);
        this.version++;
      }
    }
  }

  removeAccount(account: string): void {
    for (const [key, s] of this.zones) if (s.account === account) this.zones.delete(key);
    this.version++;
  }

  /** Applies one collection result: successful zones swap in their snapshot, failed zones keep the old one. */
  apply(result: CollectResult, now = Date.now()): void {
    for (const outcome of result.zones) {
      const s = this.zones.get(keyOf(result.account, outcome.zone));
      if (!s) continue; // the account or zone was removed while it was being collected
      s.attempts++;
      s.lastAttemptMs = outcome.startedAtMs;
      s.lastDurationMs = outcome.durationMs;
      for (const [command, code, n] of outcome.requests) {
        const k = `${command}\0${code}`;
        s.requests.set(k, (s.requests.get(k) ?? 0) + n);
      }
      if (outcome.ok) {
        s.snapshot = outcome.snapshot;
        s.summary = outcome.summary;
        s.up = true;
        s.lastSuccessMs = now;
        s.lastSuccessDurationMs = outcome.durationMs;
        s.consecutiveFailures = 0;
        s.partial = outcome.partial;
        if (outcome.partial) s.lastError = { ...outcome.partial.error, atMs: now };
        s.swaps++;
        s.lbsFiltered = outcome.lbsFiltered ?? 0;
        if (outcome.hygiene) {
          s.labelValuesTruncated += outcome.hygiene.labelValuesTruncated;
          for (const [kind, n] of Object.entries(outcome.hygiene.duplicatesDropped) as Array<[DuplicateKind, number]>) s.duplicatesDropped.set(kind, (s.duplicatesDropped.get(kind) ?? 0) + n);
        }
      } else {
        s.up = false;
        s.consecutiveFailures++;
        s.lastError = { ...outcome.error, atMs: now };
        s.partial = null;
        s.errors.set(outcome.error.reason, (s.errors.get(outcome.error.reason) ?? 0) + 1);
        // Over limits.maxSeries the account's LB series go at once, not after staleAfter:
        // keeping the last good snapshot would keep exactly what the cap is there to stop.
        if (outcome.error.reason === 'too_many_series') {
          s.snapshot = null;
          s.summary = null;
        }
      }
    }
    this.version++;
  }

  /** Drops the LB series of zones whose last success is older than staleAfterMs. Returns whether anything changed. */
  expireStale(now: number, staleAfterMs: number): boolean {
    let changed = false;
    for (const s of this.zones.values()) {
      if (s.snapshot && !s.up && s.lastSuccessMs !== null && now - s.lastSuccessMs >= staleAfterMs) {
        s.snapshot = null;
        s.summary = null;
        changed = true;
      }
    }
    if (changed) this.version++;
    return changed;
  }

  all(): IterableIterator<ZoneState> {
    return this.zones.values();
  }

  get(account: string, zone: string): ZoneState | undefined {
    return this.zones.get(keyOf(account, zone));
  }

  accounts(): string[] {
    return [...new Set([...this.zones.values()].map((s) => s.account))];
  }
}

export function healthOf(s: ZoneState): ZoneHealth {
  if (s.attempts === 0) return 'pending';
  if (s.up) return 'ok';
  // Stale: it worked once, has failed since, and its last good data has aged out.
  return s.lastSuccessMs !== null && !s.snapshot ? 'stale' : 'failing';
}

function keyOf(account: string, zone: string): string {
  return `${account}\0${zone}`;
}

function newZone(account: string, zone: string): ZoneState {
  return {
    account,
    zone,
    snapshot: null,
    summary: null,
    up: false,
    attempts: 0,
    lastSuccessMs: null,
    lastAttemptMs: null,
    lastDurationMs: null,
    lastSuccessDurationMs: null,
    consecutiveFailures: 0,
    lastError: null,
    partial: null,
    errors: new Map(),
    requests: new Map(),
    swaps: 0,
    labelValuesTruncated: 0,
    duplicatesDropped: new Map(),
    lbsFiltered: null,
  };
}
