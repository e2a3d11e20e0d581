import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A request pacer whose state lives in a SharedArrayBuffer, so that every worker thread that
 * holds the same buffer draws from one budget: the number of threads never multiplies a limit.
 *
 * The buffer holds one 64-bit integer: the earliest time (µs since the epoch) at which the next
 * request may start. Taking a slot is one compare-and-swap; requests are spaced 1/rate apart.
 */
export class SharedPacer {
  private readonly next: BigInt64Array;
  private readonly spacingUs: bigint;

  constructor(buffer: SharedArrayBuffer, ratePerSecond: number) {
    this.next = new BigInt64Array(buffer);
    this.spacingUs = BigInt(Math.max(1, Math.round(1_000_000 / ratePerSecond)));
  }

  static createBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(8);
  }

  /** Reserves the next slot and returns how many ms to wait for it. */
  reserve(): number {
    const now = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
    for (;;) {
      const prev = Atomics.load(this.next, 0);
      const slot = prev > now ? prev : now;
      if (Atomics.compareExchange(this.next, 0, prev, slot + this.spacingUs) === prev) return Number(slot - now) / 1000;
    }
  }

  /** Waits for a slot; rejects with the signal's reason when aborted first. */
  async take(signal?: AbortSignal): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await sleep(Math.ceil(waitMs), undefined, { signal });
    else signal?.throwIfAborted();
  }
}
