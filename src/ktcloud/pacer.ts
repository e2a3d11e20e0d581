import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A request pacer whose state lives in a SharedArrayBuffer, so that every worker thread that
 * holds the same buffer draws from one budget: the number of threads never multiplies a limit.
 *
 * Two 64-bit cells (µs since the epoch): the next free slot, which queues callers 1/rate
 * apart, and the time the last request really left. A thread can wake late from its timer
 * (a busy 2-core machine); without the second cell its request would leave close behind the
 * next one and the API would see a burst. With it, two requests never leave closer than
 * 1/rate, as the API counts them.
 */
export class SharedPacer {
  private readonly cells: BigInt64Array;
  private readonly spacingUs: bigint;

  constructor(buffer: SharedArrayBuffer, ratePerSecond: number) {
    this.cells = new BigInt64Array(buffer);
    this.spacingUs = BigInt(Math.max(1, Math.round(1_000_000 / ratePerSecond)));
  }

  static createBuffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(16);
  }

  /** Reserves the next slot and returns how many ms to wait for it. */
  reserve(): number {
    const now = nowUs();
    for (;;) {
      const prev = Atomics.load(this.cells, 0);
      const slot = prev > now ? prev : now;
      if (Atomics.compareExchange(this.cells, 0, prev, slot + this.spacingUs) === prev) return Number(slot - now) / 1000;
    }
  }

  /** Waits for a slot, then until 1/rate has passed since the last request left; rejects when aborted. */
  async take(signal?: AbortSignal): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await sleep(Math.ceil(waitMs), undefined, { signal });
    for (;;) {
      signal?.throwIfAborted();
      const now = nowUs();
      const last = Atomics.load(this.cells, 1);
      const earliest = last + this.spacingUs;
      if (now < earliest) {
        await sleep(Math.ceil(Number(earliest - now) / 1000), undefined, { signal });
        continue;
      }
      if (Atomics.compareExchange(this.cells, 1, last, now) === last) return;
    }
  }
}

function nowUs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}
