/**
 * Which request gets a zone's next send when the zone's limit binds.
 *
 * Why: in arrival order, every collection got a share of the zone and they all crept forward
 * together; with a bounded number of collections in flight, those that started last found the
 * others done, ran alone at their own account rate and left the zone's budget unused at the end
 * of the cycle (Tier M: 1.14-1.19 x its bound). The order here:
 *  1. auth and load-balancer lists first: each unlocks more requests, and a collection that has
 *     its list early is ready to take over slots the moment others finish;
 *  2. then the collection whose latest start is earliest: its deadline minus the time its
 *     remaining requests need at its own rate. Collections that started at different times go
 *     oldest first (they finish, and the next ones start while the zone stays busy); those that
 *     started together go most-work-left first, so they end together at the zone's full rate
 *     instead of a few stragglers trickling at their own. When a zone cannot fit its cycle, the
 *     collections that started first finish rather than all of them half done.
 *
 * How, without changing what the API sees:
 *  - each waiting request books one slot of the zone's shared pacer (same spacing, same window,
 *    shared with every thread), but whichever slot comes due goes to the best waiter of this
 *    thread, not necessarily to the one that booked it;
 *  - a request waits here only once its account's window has room for it (counting the account's
 *    requests already waiting), and the account's send is recorded at the same moment as the
 *    zone's: both limits hold at the instant the request leaves, as the API counts them;
 *  - a waiter that is aborted leaves, and gives back a booked slot that has not come due and its
 *    room in the account's window (so a cancelled wait books nothing, as with SharedPacer.take).
 * Threads order their own waiters; across threads slots are shared in booking order.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { nowUs, type SharedPacer } from './pacer.js';

/** One collection's place in the order (shared by its zones; `remaining` changes as it goes). */
export interface Priority {
  /** When the collection must be done (ms since the epoch). */
  readonly deadlineMs: number;
  /** Orders collections of equal standing: the order they started in this thread. */
  readonly seq: number;
  /** How long one request of the account takes at its own rate (ms): 1000 / requestsPerSecond. */
  readonly msPerRequest: number;
  /** Server lists the collection still has to send, as far as it knows; the gate counts them down. */
  remaining: number;
}

interface Waiter {
  readonly priority: Priority;
  /** Auth and load-balancer lists: each unlocks more requests, so it goes ahead of those that unlock none. */
  readonly ahead: boolean;
  /** Arrival order among waiters of equal priority (one collection's own requests go in order). */
  readonly arrival: number;
  readonly account: SharedPacer;
  readonly resolve: () => void;
}

interface Slot {
  readonly at: bigint;
  timer: NodeJS.Timeout;
  /** True once it came due (it may still wait for the window): it can no longer be given back. */
  due: boolean;
}

/** Requests of an account admitted to some gate and not yet sent: they hold room in its window. */
const admitted = new WeakMap<SharedPacer, number>();
/** One gate per zone pacer per thread, by the pacer's shared id. */
const gates = new Map<number, ZoneGate>();
let arrivals = 0;

/**
 * Waits until this request may be sent to the zone under both pacers; records the send in both.
 * Rejects when `signal` aborts, and then has booked nothing.
 */
export async function pace(zone: SharedPacer, account: SharedPacer, priority: Priority, ahead: boolean, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  await roomInAccount(account, signal);
  let gate = gates.get(zone.id);
  if (!gate) {
    const created = new ZoneGate(zone, () => gates.get(zone.id) === created && gates.delete(zone.id));
    gates.set(zone.id, (gate = created));
  }
  await gate.enter(priority, ahead, account, signal);
}

/**
 * Waits for the account's next slot (its requests stay 1/rate apart: with the window alone, accounts
 * that start together spend their windows in a burst and then all pause together), then until its
 * window has room for one more request than it has admitted, and admits it.
 */
async function roomInAccount(account: SharedPacer, signal?: AbortSignal): Promise<void> {
  await account.waitForSlot(signal);
  for (;;) {
    const waitUs = account.waitForSends(admitted.get(account) ?? 0);
    if (waitUs === 0n) break;
    await sleep(Math.max(1, Math.ceil(Number(waitUs) / 1000)), undefined, { signal });
  }
  admitted.set(account, (admitted.get(account) ?? 0) + 1);
}

function release(account: SharedPacer): void {
  const n = (admitted.get(account) ?? 1) - 1;
  if (n > 0) admitted.set(account, n);
  else admitted.delete(account);
}

/** When the collection must start sending at its own rate to meet its deadline: lower goes first. */
const latestStart = (p: Priority) => p.deadlineMs - p.remaining * p.msPerRequest;

function before(a: Waiter, b: Waiter): boolean {
  if (a.ahead !== b.ahead) return a.ahead;
  const p = a.priority;
  const q = b.priority;
  if (p !== q) {
    const [x, y] = [latestStart(p), latestStart(q)];
    if (x !== y) return x < y;
    if (p.seq !== q.seq) return p.seq < q.seq;
  }
  return a.arrival < b.arrival;
}

class ZoneGate {
  /** In arrival order; the best is found when a slot comes due, as `remaining` changes the order. */
  private readonly waiters: Waiter[] = [];
  private readonly slots = new Set<Slot>();

  constructor(
    private readonly zone: SharedPacer,
    private readonly onIdle: () => void,
  ) {}

  enter(priority: Priority, ahead: boolean, account: SharedPacer, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        release(account);
        this.idleCheck();
        return reject(signal.reason);
      }
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        release(account);
        this.giveBackSlot();
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        priority,
        ahead,
        arrival: ++arrivals,
        account,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.bookSlot();
    });
  }

  private bookSlot(): void {
    const at = this.zone.book();
    const slot: Slot = { at, due: false, timer: undefined as unknown as NodeJS.Timeout };
    slot.timer = setTimeout(() => this.due(slot), Math.max(0, Math.ceil(Number(at - nowUs()) / 1000)));
    this.slots.add(slot);
  }

  /** The slot booked last that has not come due goes back to the shared schedule. */
  private giveBackSlot(): void {
    let last: Slot | undefined;
    for (const s of this.slots) if (!s.due && (!last || s.at > last.at)) last = s;
    if (last) {
      clearTimeout(last.timer);
      this.slots.delete(last);
      this.zone.unbook(last.at);
    }
    this.idleCheck();
  }

  /** A slot came due: once the zone's window allows, the best waiter goes. */
  private due(slot: Slot): void {
    slot.due = true;
    if (this.waiters.length === 0) {
      // Its waiter was aborted after the slot came due: nothing was recorded, the slot lapses.
      this.slots.delete(slot);
      this.idleCheck();
      return;
    }
    const retryUs = this.zone.tryRecordSend();
    if (retryUs > 0n) {
      slot.timer = setTimeout(() => this.due(slot), Math.max(1, Math.ceil(Number(retryUs) / 1000)));
      return;
    }
    // Synchronous with the zone's record: the account's send is recorded at the same instant. Its
    // room was reserved when it was admitted, and only this thread sends for this account.
    // A thread holds at most its tasks x concurrency waiters per zone: a scan is cheap enough.
    let b = 0;
    for (let i = 1; i < this.waiters.length; i++) if (before(this.waiters[i]!, this.waiters[b]!)) b = i;
    const best = this.waiters[b]!;
    this.slots.delete(slot);
    this.waiters.splice(b, 1);
    best.account.tryRecordSend();
    release(best.account);
    if (!best.ahead && best.priority.remaining > 0) best.priority.remaining--;
    best.resolve();
    this.idleCheck();
  }

  private idleCheck(): void {
    if (this.waiters.length === 0 && this.slots.size === 0) this.onIdle();
  }
}
