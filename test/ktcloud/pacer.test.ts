import { describe, expect, it } from 'vitest';
import { SharedPacer } from '../../src/ktcloud/pacer.js';

/** How long one more take() waits on this pacer now (ms). */
async function nextWaitMs(p: SharedPacer): Promise<number> {
  const t = performance.now();
  await p.take();
  return performance.now() - t;
}

describe('SharedPacer and aborted collections', () => {
  it('an already aborted take books no slot', async () => {
    const p = new SharedPacer(SharedPacer.createBuffer(), 5); // one slot per 200 ms
    await p.take(); // the window starts
    const aborted = AbortSignal.abort();
    for (let i = 0; i < 50; i++) await expect(p.take(aborted)).rejects.toThrow();
    // 50 booked slots would be 10 s; none booked: the next one is one spacing away at most.
    expect(await nextWaitMs(p)).toBeLessThan(600);
  });

  it('slots booked by takes aborted while waiting are given back', async () => {
    const p = new SharedPacer(SharedPacer.createBuffer(), 5);
    await p.take();
    const ctl = new AbortController();
    const waits = Array.from({ length: 30 }, () => p.take(ctl.signal).catch(() => 'aborted'));
    ctl.abort();
    expect(await Promise.all(waits)).toEqual(new Array(30).fill('aborted'));
    // Before the fix these 30 kept their slots: the next take waited ~6 s.
    expect(await nextWaitMs(p)).toBeLessThan(600);
  });

  it('still spaces takes that are not aborted', async () => {
    const p = new SharedPacer(SharedPacer.createBuffer(), 10);
    const t = performance.now();
    for (let i = 0; i < 6; i++) await p.take();
    // 10/s with a 1 s window: six sends fit in the window, spaced 100 ms by their slots.
    expect(performance.now() - t).toBeGreaterThanOrEqual(480);
  });
});
