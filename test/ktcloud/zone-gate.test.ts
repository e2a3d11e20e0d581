import { describe, expect, it } from 'vitest';
import { SharedPacer } from '../../src/ktcloud/pacer.js';
import { pace, type Priority } from '../../src/ktcloud/zone-gate.js';

/** A collection's place by deadline alone (no work counted). */
const prio = (deadlineMs: number, seq: number): Priority => ({ deadlineMs, seq, msPerRequest: 0, remaining: 0 });
const zonePacer = (rate: number) => new SharedPacer(SharedPacer.createBuffer(), rate);
/** An account that never binds: only the zone decides. */
const freeAccount = () => new SharedPacer(SharedPacer.createBuffer(), 1000);

/** Queues `n` requests; `order` receives each label when it is granted. */
function queue(zone: SharedPacer, n: number, label: string, priority: Priority, ahead: boolean, order: string[], opts: { account?: SharedPacer; signal?: AbortSignal } = {}): Promise<unknown>[] {
  return Array.from({ length: n }, () => pace(zone, opts.account ?? freeAccount(), priority, ahead, opts.signal).then(() => order.push(label)));
}

/** Resolves once `order` holds at least `n` grants. */
async function grants(order: string[], n: number): Promise<void> {
  while (order.length < n) await new Promise((r) => setTimeout(r, 5));
}

describe('zone gate: which waiting request gets the next zone slot', () => {
  it('with a saturated zone, a list call waiting behind 50 queued server lists goes first', async () => {
    const zone = zonePacer(20); // a slot every 50 ms
    const order: string[] = [];
    const old = prio(1_000, 1);
    const servers = queue(zone, 50, 'server list', old, false, order);
    await grants(order, 2); // the zone is busy and 48 server lists wait
    // A younger collection's list call (its deadline is later) still goes next: it unlocks its server lists.
    const list = queue(zone, 1, 'list', prio(2_000, 2), true, order);
    await Promise.all(list);
    expect(order.indexOf('list')).toBeLessThanOrEqual(3); // the slot due while it entered may already be spoken for
    expect(order.filter((l) => l === 'server list').length).toBeLessThan(6);
    await Promise.all(servers);
  });

  it('serves the collection with the earliest deadline first, even when it queued later', async () => {
    const zone = zonePacer(20);
    const order: string[] = [];
    const young = queue(zone, 20, 'young', prio(2_000, 2), false, order);
    await grants(order, 2);
    const old = queue(zone, 5, 'old', prio(1_000, 1), false, order);
    await Promise.all(old);
    // At most one young request (a slot already due) goes between the old collection's five.
    const firstOld = order.indexOf('old');
    expect(firstOld).toBeLessThanOrEqual(3);
    expect(order.slice(firstOld, firstOld + 6).filter((l) => l === 'old').length).toBe(5);
    await Promise.all(young);
  });

  it('of collections that started together, the one with more requests left goes first, so they end together', async () => {
    const zone = zonePacer(50);
    const order: string[] = [];
    // Same deadline; B started first in this thread (it would win a tie), but A has 10 server lists left and B 2.
    const a: Priority = { deadlineMs: 5_000, seq: 2, msPerRequest: 100, remaining: 10 };
    const b: Priority = { deadlineMs: 5_000, seq: 1, msPerRequest: 100, remaining: 2 };
    await Promise.all([...queue(zone, 10, 'A', a, false, order), ...queue(zone, 2, 'B', b, false, order)]);
    // A goes until its work left is B's, then they alternate and finish together.
    expect(order.slice(0, 8)).toEqual(new Array(8).fill('A'));
    expect(order.slice(8).sort()).toEqual(['A', 'A', 'B', 'B']);
    expect(a.remaining + b.remaining).toBe(0);
  });

  it('holds the zone limit and the account limit at the moment each request is let go', async () => {
    const zone = zonePacer(20);
    const account = new SharedPacer(SharedPacer.createBuffer(), 5); // at most 5 in any second
    const zoneSends: number[] = [];
    const accountSends: number[] = [];
    const t0 = performance.now();
    // A request is let go when the pacer records its send: time it there. (Timing it where the
    // caller resumes adds that caller's own delay: a GC pause or a preempted thread in between
    // made 21 sends look like they fit in 998 ms on a busy CI machine.)
    const recordedBy = (pacer: SharedPacer, into: number[]) => {
      const record = pacer.tryRecordSend.bind(pacer);
      pacer.tryRecordSend = () => {
        const retryUs = record();
        if (retryUs === 0n) into.push(performance.now() - t0);
        return retryUs;
      };
    };
    recordedBy(zone, zoneSends);
    recordedBy(account, accountSends);
    const others = Array.from({ length: 30 }, () => pace(zone, freeAccount(), prio(2, 2), false));
    const mine = Array.from({ length: 8 }, () => pace(zone, account, prio(1, 1), false));
    await Promise.all([...others, ...mine]);
    const maxInSecond = (ts: number[]) => Math.max(...ts.map((t) => ts.filter((u) => u >= t && u < t + 1000 - 2).length));
    expect(zoneSends).toHaveLength(38);
    expect(maxInSecond(zoneSends)).toBeLessThanOrEqual(20);
    expect(maxInSecond(accountSends)).toBeLessThanOrEqual(5);
    // Earliest deadline first, but never past its own limit: 8 requests at 5/s take over a second.
    expect(Math.max(...accountSends) - Math.min(...accountSends)).toBeGreaterThan(1000);
  });
});

describe('zone gate and aborted collections', () => {
  /** How long one more request waits for this zone now (ms). */
  async function nextWaitMs(zone: SharedPacer): Promise<number> {
    const t = performance.now();
    await pace(zone, freeAccount(), prio(0, 0), false);
    return performance.now() - t;
  }

  it('an already aborted request books no slot', async () => {
    const zone = zonePacer(5); // a slot every 200 ms
    await nextWaitMs(zone);
    const aborted = AbortSignal.abort();
    for (let i = 0; i < 50; i++) await expect(pace(zone, freeAccount(), prio(0, 0), false, aborted)).rejects.toThrow();
    expect(await nextWaitMs(zone)).toBeLessThan(600);
  });

  it('slots booked by requests aborted while waiting are given back', async () => {
    const zone = zonePacer(5);
    await nextWaitMs(zone);
    const ctl = new AbortController();
    const waits = Array.from({ length: 30 }, () => pace(zone, freeAccount(), prio(0, 0), false, ctl.signal).catch(() => 'aborted'));
    await new Promise((r) => setTimeout(r, 20)); // all of them wait in the gate now
    ctl.abort();
    expect(await Promise.all(waits)).toEqual(new Array(30).fill('aborted'));
    // Kept, their 30 slots would make the next request wait ~6 s.
    expect(await nextWaitMs(zone)).toBeLessThan(600);
  });

  it('an aborted request gives back its room in the account window', async () => {
    const zone = zonePacer(1000);
    const account = new SharedPacer(SharedPacer.createBuffer(), 2); // 2 in any second, 500 ms apart
    const ctl = new AbortController();
    const slowZone = zonePacer(1); // holds the request in the gate until it is aborted
    await pace(slowZone, freeAccount(), prio(0, 0), false);
    const stuck = pace(slowZone, account, prio(0, 0), false, ctl.signal).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 20));
    ctl.abort();
    expect(await stuck).toBe('aborted');
    const t = performance.now();
    await pace(zone, account, prio(0, 0), false);
    await pace(zone, account, prio(0, 0), false);
    // Their slots are 500 ms apart (the aborted one's slot had come due: ~1 s for both). Had the
    // aborted request kept its room in the window, the second would wait for the first's send to
    // be a second old (~1.5 s).
    expect(performance.now() - t).toBeLessThan(1250);
  });
});
