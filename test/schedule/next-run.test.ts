import { describe, expect, it } from 'vitest';
import { backoffJitter, backoffMs, BACKOFF_JITTER, MAX_BACKOFF_MS, nextRunAt, stableOffset, type RunState } from '../../src/schedule/next-run.js';

/** Plain numbers: interval 60 s, the account's slots at 15 s past each minute (t = 0 is a minute). */
const I = 60_000;
const OFF = 15_000;
const at = (s: Partial<RunState> & { now: number }): number => nextRunAt({ intervalMs: I, offsetMs: OFF, lastDueMs: null, failures: 0, ...s });

/** Walks an account through outcomes, each run starting when it was due; returns the gaps between runs. */
function gaps(outcomes: readonly boolean[], jitter = 0): number[] {
  let due = at({ now: 1_000 }); // cold
  const out: number[] = [];
  let failures = 0;
  for (const ok of outcomes) {
    failures = ok ? 0 : failures + 1;
    const next = at({ now: due + 2_000, lastDueMs: due, failures, jitter }); // each run took 2 s
    out.push(next - due);
    due = next;
  }
  return out;
}

describe('next run of an account', () => {
  it('a cold account runs at once, whatever its offset', () => {
    expect(at({ now: 1_000 })).toBe(1_000);
    expect(at({ now: 59_000, offsetMs: 0 })).toBe(59_000);
  });

  it('after a cold run, the first slot at least one interval later: between one and two intervals, never twice in one interval', () => {
    // Cold at 1 s; the slot at 15 s is too close, the one at 75 s is 74 s later.
    expect(at({ now: 3_000, lastDueMs: 1_000, failures: 0 })).toBe(75_000);
    // Cold at 20 s (just past this minute's slot): the slot at 135 s is the first at least 60 s later.
    expect(at({ now: 22_000, lastDueMs: 20_000, failures: 0 })).toBe(135_000);
    for (let cold = 0; cold < 3 * I; cold += 997) {
      const next = at({ now: cold + 100, lastDueMs: cold, failures: 0 });
      expect(next - cold).toBeGreaterThanOrEqual(I - 250);
      expect(next - cold).toBeLessThan(2 * I);
      expect(((next - OFF) % I + I) % I).toBe(0); // on the slot
    }
  });

  it('a healthy account then runs exactly every slot, even when noticed a little late', () => {
    expect(at({ now: 75_400, lastDueMs: 75_000, failures: 0 })).toBe(135_000);
    expect(at({ now: 136_000, lastDueMs: 135_000 - 200, failures: 0 })).toBe(195_000); // a due time 200 ms early still maps to its slot
  });

  it('a slot missed while the last run was still going means now', () => {
    expect(at({ now: 140_000, lastDueMs: 75_000, failures: 0 })).toBe(140_000);
  });

  it('a failing account retries 1, 2, 4, 8 intervals apart and returns to its slots after a success', () => {
    expect(gaps([false, false, false, false])).toEqual([I, 2 * I, 4 * I, 8 * I]);
    const g = gaps([false, false, true, true]);
    expect(g.slice(0, 2)).toEqual([I, 2 * I]);
    expect(g[3]).toBe(I); // back on its slot, every interval
  });

  it('backoff is capped at 10 minutes (or the interval when that is longer)', () => {
    expect(backoffMs(5, I)).toBe(MAX_BACKOFF_MS); // 16 min → 10
    expect(backoffMs(40, I)).toBe(MAX_BACKOFF_MS);
    expect(backoffMs(3, 2_000)).toBe(8_000);
    expect(backoffMs(3, 15 * 60_000)).toBe(15 * 60_000);
  });

  it('jitter stretches a gap by at most 10 %, repeatably per account and failure', () => {
    const [one, two] = gaps([false, false], 0.5);
    expect(one).toBe(I * (1 + BACKOFF_JITTER * 0.5));
    expect(two).toBe(2 * I * (1 + BACKOFF_JITTER * 0.5));
    expect(backoffMs(5, I, 0.999)).toBeLessThan(MAX_BACKOFF_MS * 1.1);
    expect(backoffJitter('a', 1)).toBe(backoffJitter('a', 1));
    const js = Array.from({ length: 50 }, (_, i) => backoffJitter(`acc-${i}`, 1));
    expect(Math.min(...js)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...js)).toBeLessThan(1);
    expect(new Set(js.map((j) => Math.floor(j * 10))).size).toBeGreaterThan(5); // accounts do not retry together
  });

  it('stable offsets lie within the interval and differ between accounts', () => {
    const offs = Array.from({ length: 20 }, (_, i) => stableOffset(`acc-${i}`, I));
    for (const o of offs) expect(o).toBeGreaterThanOrEqual(0), expect(o).toBeLessThan(I);
    expect(stableOffset('acc-1', I)).toBe(offs[1]);
    expect(Math.max(...offs) - Math.min(...offs)).toBeGreaterThan(I / 2);
  });
});
