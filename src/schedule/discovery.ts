/**
 * `zones: auto`: which zones an account is collected in. Discovery is not a task of its own: a
 * collection that is due while discovery is due runs over every known zone instead of the
 * discovered ones. Each zone then costs what a collection costs anyway (a token, kept in the
 * sessions, and one load-balancer list); zones with load balancers are collected in the same
 * task, so the first collection needs no second call, and discovery never runs more often than
 * collections do. The rules, as a pure function of the outcomes:
 *  - a zone with at least one load balancer is collected until the next discovery;
 *  - a zone that answers an empty list is not (no series, no `up`);
 *  - a zone where authentication fails is not an error of the account: most accounts exist in
 *    some zones only. It is logged once per failure streak. Except in a zone where the account
 *    was found before: there it is the account's error, as in any collection;
 *  - a zone that could not be checked (timeout, rate limit, 5xx …) is kept and shows failing, so
 *    the operator sees what could not be told, and the next collection discovers again.
 */
import { SLOT_GRACE_MS } from './next-run.js';
import type { AccountConfig, ExporterConfig } from '../config/types.js';
import type { ZoneOutcome } from '../protocol.js';

/** What one zone's outcome says about the account there. */
export type ZoneVerdict = 'lbs' | 'empty' | 'auth' | 'unknown';

export interface DiscoveryState {
  /** Zones where the account was found; null until its first discovery. */
  readonly zones: readonly string[] | null;
  /** When the last discovery ended (ms since the epoch); null before the first. */
  readonly discoveredAtMs: number | null;
  /** When the last discovery's collection was due: the next is due a discoveryInterval later. */
  readonly dueAtMs: number | null;
  /** Some zone could not be checked: the next collection discovers again. */
  readonly incomplete: boolean;
  /** Zones whose authentication failed in the current streak (not collected unless found before). */
  readonly authFailed: readonly string[];
}

export const NEVER_DISCOVERED: DiscoveryState = Object.freeze({ zones: null, discoveredAtMs: null, dueAtMs: null, incomplete: false, authFailed: Object.freeze([]) });

export function verdictOf(o: ZoneOutcome): ZoneVerdict {
  if (o.ok) return o.summary.lbs > 0 ? 'lbs' : 'empty';
  return o.error.reason === 'auth' ? 'auth' : 'unknown';
}

export interface DiscoveryDecision {
  readonly state: DiscoveryState;
  /** Zones whose authentication started failing with this discovery (to log once). */
  readonly authFailing: readonly string[];
  /** Zones whose authentication works again. */
  readonly authRecovered: readonly string[];
}

/** The state after a discovery whose collection was due at dueAtMs and ended at nowMs. */
export function decideDiscovery(prev: DiscoveryState, outcomes: readonly ZoneOutcome[], dueAtMs: number, nowMs: number): DiscoveryDecision {
  const zones: string[] = [];
  const authFailed: string[] = [];
  let incomplete = false;
  for (const o of outcomes) {
    const v = verdictOf(o);
    if (v === 'auth') authFailed.push(o.zone);
    if (v === 'unknown') incomplete = true;
    const foundBefore = prev.zones?.includes(o.zone) ?? false;
    if (v === 'lbs' || v === 'unknown' || (v === 'auth' && foundBefore)) zones.push(o.zone);
  }
  return {
    state: { zones, discoveredAtMs: nowMs, dueAtMs, incomplete, authFailed },
    authFailing: authFailed.filter((z) => !prev.authFailed.includes(z)),
    authRecovered: prev.authFailed.filter((z) => !authFailed.includes(z) && outcomes.some((o) => o.zone === z)),
  };
}

/** Whether a collection due at nowMs must discover first. */
export function discoveryDue(s: DiscoveryState, nowMs: number, discoveryIntervalMs: number): boolean {
  return s.zones === null || s.incomplete || s.dueAtMs === null || nowMs >= s.dueAtMs + discoveryIntervalMs - SLOT_GRACE_MS;
}

/** The zones one collection runs over, and whether it is a discovery. */
export interface ZonePlan {
  readonly zones: readonly string[];
  readonly discover: boolean;
}

/** What /accounts and the metrics show of an account with `zones: auto`. */
export interface DiscoveryView {
  readonly zones: readonly string[];
  readonly discoveredAtMs: number | null;
  readonly authFailed: readonly string[];
}

/** The discovery state of every `zones: auto` account of the runtime. */
export class ZoneDiscovery {
  private readonly states = new Map<string, DiscoveryState>();

  /** The zones of the account's collection due at dueMs: the discovered ones, or every known zone. */
  plan(acc: AccountConfig, c: ExporterConfig, dueMs: number): ZonePlan {
    if (!acc.autoZones) return { zones: acc.zones, discover: false };
    const s = this.states.get(acc.name) ?? NEVER_DISCOVERED;
    if (discoveryDue(s, dueMs, c.discoveryIntervalMs)) return { zones: Object.keys(c.zones), discover: true };
    // A zone a reload removed from `zones:` is not collected (expireAll() rediscovers anyway).
    return { zones: (s.zones ?? []).filter((z) => c.zones[z]), discover: false };
  }

  record(account: string, outcomes: readonly ZoneOutcome[], dueAtMs: number, nowMs: number): DiscoveryDecision {
    const d = decideDiscovery(this.states.get(account) ?? NEVER_DISCOVERED, outcomes, dueAtMs, nowMs);
    this.states.set(account, d.state);
    return d;
  }

  /** Forgets the account (removed, or no longer `zones: auto`, or back to auto: discovers afresh). */
  remove(account: string): void {
    this.states.delete(account);
  }

  /** Every account discovers again at its next collection (a reload changed the known zones). */
  expireAll(): void {
    for (const [name, s] of this.states) this.states.set(name, { ...s, incomplete: true });
  }

  view(account: string): DiscoveryView {
    const s = this.states.get(account) ?? NEVER_DISCOVERED;
    return { zones: s.zones ?? [], discoveredAtMs: s.discoveredAtMs, authFailed: s.authFailed };
  }
}
