import { setTimeout as sleep } from 'node:timers/promises';

/** Send times remembered per pacer; rates above this many per second use a shorter window. */
const RING = 256;
const LOCK = 0;
const HEAD = 1;
/** Byte offsets: [lock i32, head i32][next slot i64][ring of send times i64 × RING][id f64]. */
const SLOT_AT = 8;
const RING_AT = 16;
const ID_AT = RING_AT + RING * 8;

/**
 * A request pacer whose state lives in a SharedArrayBuffer, so that every worker thread that
 * holds the same buffer draws from one budget: the number of threads never multiplies a limit.
 *
 * Two mechanisms, both in µs since the epoch:
 *  - slots: callers queue 1/rate apart (one compare-and-swap), which spreads requests evenly;
 *  - a window: a shared ring of the last N send times (N = the rate, W = N / rate seconds) lets a
 *    request leave only if the N-th send before it is at least W ago. A thread that wakes late
 *    from its timer would otherwise send right behind the next slot's request and the API would
 *    see a burst; this holds "at most N in any W" as the API counts, without making every
 *    later request pay for one late timer.
 * Requests of a collection go through zone-gate.ts, which books and records here but decides which
 * of its thread's waiting requests uses each slot; `take` is the same wait for a single caller.
 */
export class SharedPacer {
  private readonly ints: Int32Array;
  private readonly slot: BigInt64Array;
  private readonly ring: BigInt64Array;
  private readonly spacingUs: bigint;
  private readonly n: number;
  private readonly windowUs: bigint;
  /**
   * Names the shared state across threads: each thread receives its own SharedArrayBuffer object
   * for the same memory, so object identity cannot tell two tasks that they share a zone.
   */
  readonly id: number;

  constructor(buffer: SharedArrayBuffer, ratePerSecond: number) {
    this.id = new Float64Array(buffer, ID_AT, 1)[0]!;
    this.ints = new Int32Array(buffer, 0, 2);
    this.slot = new BigInt64Array(buffer, SLOT_AT, 1);
    this.ring = new BigInt64Array(buffer, RING_AT, RING);
    this.spacingUs = BigInt(Math.max(1, Math.round(1_000_000 / ratePerSecond)));
    this.n = Math.min(RING, Math.max(1, Math.floor(ratePerSecond)));
    this.windowUs = BigInt(Math.round((this.n / ratePerSecond) * 1_000_000));
  }

  static createBuffer(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(ID_AT + 8);
    new Float64Array(buffer, ID_AT, 1)[0] = ++created + Math.floor(Math.random() * 2 ** 32) * 2 ** 20;
    return buffer;
  }

  /** Books the next slot; returns its time (µs). */
  book(): bigint {
    const now = nowUs();
    for (;;) {
      const prev = Atomics.load(this.slot, 0);
      const at = prev > now ? prev : now;
      if (Atomics.compareExchange(this.slot, 0, prev, at + this.spacingUs) === prev) return at;
    }
  }

  /**
   * Gives back a slot booked for `at` that will not be used: the next booking moves one spacing
   * earlier (never into the past). Without this, every queued request of a collection that timed
   * out kept its slot, the schedule ran minutes into the future and later cycles got nothing.
   * The window below still bounds what is sent, so a returned slot can never make a burst.
   */
  unbook(at: bigint): void {
    for (;;) {
      const now = nowUs();
      if (at <= now) return; // its time has passed: nothing left to give back
      const prev = Atomics.load(this.slot, 0);
      const back = prev - this.spacingUs;
      const next = back > now ? back : now;
      if (next >= prev || Atomics.compareExchange(this.slot, 0, prev, next) === prev) return;
    }
  }

  /** Books the next slot and sleeps until it; an abort gives the slot back, so it books nothing. */
  async waitForSlot(signal?: AbortSignal): Promise<void> {
    const at = this.book();
    const waitMs = Number(at - nowUs()) / 1000;
    if (waitMs <= 0) return;
    try {
      await sleep(Math.ceil(waitMs), undefined, { signal });
    } catch (err) {
      this.unbook(at);
      throw err;
    }
  }

  /** Waits for a slot, then until the window allows one more send; rejects when aborted, and then books nothing. */
  async take(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.waitForSlot(signal);
    for (;;) {
      signal?.throwIfAborted();
      const retryInUs = this.tryRecordSend();
      if (retryInUs === 0n) return;
      await sleep(Math.max(1, Math.ceil(Number(retryInUs) / 1000)), undefined, { signal });
    }
  }

  /**
   * How long until the window allows `k + 1` more sends (µs; 0: now), recording nothing. The ring
   * holds send times oldest first from its head, so that is when the (k+1)-th oldest is a window old.
   */
  waitForSends(k: number): bigint {
    if (k >= this.n) return this.windowUs / BigInt(this.n); // needs sends to happen first: look again later
    const i = (Atomics.load(this.ints, HEAD) + k) % this.n;
    const freeAt = Atomics.load(this.ring, i) + this.windowUs;
    const now = nowUs();
    return now < freeAt ? freeAt - now : 0n;
  }

  /** Records a send now if the window allows it (0), else how long until it will (µs). */
  tryRecordSend(): bigint {
    // A tiny critical section (a few loads and stores); threads only ever spin for that long.
    while (Atomics.compareExchange(this.ints, LOCK, 0, 1) !== 0);
    try {
      const now = nowUs();
      const head = Atomics.load(this.ints, HEAD) % this.n;
      const oldest = Atomics.load(this.ring, head);
      const freeAt = oldest + this.windowUs;
      if (now < freeAt) return freeAt - now;
      Atomics.store(this.ring, head, now);
      Atomics.store(this.ints, HEAD, (head + 1) % this.n);
      return 0n;
    } finally {
      Atomics.store(this.ints, LOCK, 0);
    }
  }
}

/** Part of every pacer id, so that ids of one process never repeat. */
let created = 0;

export function nowUs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}
