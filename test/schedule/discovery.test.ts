import { describe, expect, it } from 'vitest';
import { Errors } from '../../src/ktcloud/errors.js';
import type { ZoneOutcome } from '../../src/protocol.js';
import { decideDiscovery, discoveryDue, NEVER_DISCOVERED, type DiscoveryState } from '../../src/schedule/discovery.js';

/** The discovery decision as a pure function of zone outcomes (no pool, no timers). */
const ctx = (zone: string) => ({ account: 'a', zone, secrets: [] });
const lbs = (zone: string, n: number): ZoneOutcome => ({
  zone,
  ok: true,
  startedAtMs: 0,
  durationMs: 1,
  requests: [],
  token: null,
  snapshot: { text: new Uint8Array(), offsets: [], series: 0 },
  summary: { lbs: n, lbsDown: 0, servers: 0, serversDown: 0 },
  partial: null,
});
const failed = (zone: string, reason: 'auth' | 'timeout'): ZoneOutcome => ({
  zone,
  ok: false,
  startedAtMs: 0,
  durationMs: 1,
  requests: [],
  token: null,
  error: (reason === 'auth' ? Errors.authFailed(ctx(zone), 401) : Errors.requestTimeout({ ...ctx(zone), command: 'listLoadBalancers' }, 10_000)).toInfo(),
});
const found = (zones: string[], authFailed: string[] = []): DiscoveryState => ({ zones, discoveredAtMs: 1, dueAtMs: 1, incomplete: false, authFailed });

describe('discovery decision', () => {
  it('collects the zones with at least one LB and drops empty ones', () => {
    const d = decideDiscovery(NEVER_DISCOVERED, [lbs('A', 2), lbs('B', 0), lbs('C', 1)], 100, 200);
    expect(d.state).toEqual({ zones: ['A', 'C'], discoveredAtMs: 200, dueAtMs: 100, incomplete: false, authFailed: [] });
  });

  it('leaves out a zone whose authentication fails, and reports it once per failure streak', () => {
    const first = decideDiscovery(NEVER_DISCOVERED, [lbs('A', 1), failed('B', 'auth')], 0, 1);
    expect(first.state.zones).toEqual(['A']);
    expect(first.authFailing).toEqual(['B']);
    const again = decideDiscovery(first.state, [lbs('A', 1), failed('B', 'auth')], 2, 3);
    expect(again.authFailing).toEqual([]);
    const recovered = decideDiscovery(again.state, [lbs('A', 1), lbs('B', 0)], 4, 5);
    expect(recovered.authRecovered).toEqual(['B']);
    expect(decideDiscovery(recovered.state, [lbs('A', 1), failed('B', 'auth')], 6, 7).authFailing).toEqual(['B']);
  });

  it('keeps a zone where the account was found before when its authentication fails there (an error of the account)', () => {
    const d = decideDiscovery(found(['A', 'B']), [lbs('A', 1), failed('B', 'auth')], 0, 1);
    expect(d.state.zones).toEqual(['A', 'B']);
    expect(d.state.authFailed).toEqual(['B']);
  });

  it('keeps a zone that could not be checked, and asks for a new discovery at the next collection', () => {
    const d = decideDiscovery(NEVER_DISCOVERED, [lbs('A', 0), failed('B', 'timeout')], 0, 1);
    expect(d.state.zones).toEqual(['B']);
    expect(d.state.incomplete).toBe(true);
    expect(discoveryDue(d.state, 2, 3_600_000)).toBe(true);
  });

  it('finding no zone is a complete discovery: nothing to collect until the next one', () => {
    const d = decideDiscovery(NEVER_DISCOVERED, [lbs('A', 0), lbs('B', 0)], 0, 1);
    expect(d.state).toMatchObject({ zones: [], incomplete: false });
    expect(discoveryDue(d.state, 1000, 3_600_000)).toBe(false);
  });

  it('is due before the first discovery, then one discoveryInterval after the last was due', () => {
    expect(discoveryDue(NEVER_DISCOVERED, 0, 60_000)).toBe(true);
    const s = found(['A']);
    expect(discoveryDue({ ...s, dueAtMs: 10_000 }, 69_000, 60_000)).toBe(false);
    // A collection due a few ms early (timer lag, slot rounding) still discovers.
    expect(discoveryDue({ ...s, dueAtMs: 10_000 }, 69_900, 60_000)).toBe(true);
    expect(discoveryDue({ ...s, dueAtMs: 10_000 }, 70_000, 60_000)).toBe(true);
  });
});
