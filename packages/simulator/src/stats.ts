/**
 * Request log for rate-limit and API-economy assertions. Entries live in parallel typed arrays
 * (16 bytes each) that grow by doubling up to `capacity` and then wrap, dropping the oldest;
 * totals are exact counters and never drop. Entries are written at arrival (so timestamps are
 * sorted) and their status is filled in when the answer is sent (0 = never answered, e.g. hang).
 * Every request to a zone path or an unknown path is recorded (unknown paths and methods as
 * command `other`); `/_sim/*` control requests are not, so tests do not measure themselves.
 */
export const COMMANDS = ['auth', 'listLoadBalancers', 'listLoadBalancerWebServers', 'other'] as const;
export type StatsCommand = (typeof COMMANDS)[number];

export interface StatsFilter {
  /** Account id; `null` selects requests with no known account. */
  account?: string | null;
  /** Zone name; `null` selects requests to no known zone. */
  zone?: string | null;
  command?: StatsCommand;
  status?: number;
  /** Inclusive lower bound on the time (ms since epoch, fractional). */
  since?: number;
  until?: number;
}

export interface StatsEntry {
  time: number;
  account: string | null;
  zone: string | null;
  command: StatsCommand;
  status: number;
}

export interface StatsTotals {
  total: number;
  /** Requests not answered yet (including hung ones). */
  pending: number;
  byAccount: Record<string, number>;
  byZone: Record<string, number>;
  byCommand: Record<string, number>;
  byStatus: Record<string, number>;
  /** Raw entries still held (may be fewer than total once the log wrapped). */
  retained: number;
  capacity: number;
}

const NONE = -1;

export class SimStats {
  private time: Float64Array;
  private account: Int32Array;
  private zone: Int16Array;
  private command: Uint8Array;
  private status: Uint16Array;
  /** Sequence number of the first entry since the last reset. */
  private startSeq = 0;
  private nextSeq = 0;
  private byAccount: Float64Array;
  private byZone: Float64Array;
  private byCommand = new Float64Array(COMMANDS.length);
  private byStatus = new Map<number, number>();
  private readonly accountIndex = new Map<string, number>();
  private readonly zoneIndex = new Map<string, number>();

  constructor(
    private readonly accountIds: readonly string[],
    private readonly zoneNames: readonly string[],
    readonly capacity = 4_194_304,
  ) {
    const initial = Math.min(65536, capacity);
    this.time = new Float64Array(initial);
    this.account = new Int32Array(initial);
    this.zone = new Int16Array(initial);
    this.command = new Uint8Array(initial);
    this.status = new Uint16Array(initial);
    accountIds.forEach((id, i) => this.accountIndex.set(id, i));
    zoneNames.forEach((z, i) => this.zoneIndex.set(z, i));
    // One extra slot at the end counts the unknown (null) account / zone.
    this.byAccount = new Float64Array(accountIds.length + 1);
    this.byZone = new Float64Array(zoneNames.length + 1);
  }

  /** Hot path: returns a handle for `complete`. accountIdx/zoneIdx are -1 when unknown. */
  record(time: number, accountIdx: number, zoneIdx: number, commandIdx: number): number {
    const seq = this.nextSeq++;
    const n = seq - this.startSeq;
    if (n >= this.time.length && this.time.length < this.capacity) this.grow();
    const pos = n % this.capacity;
    this.time[pos] = time;
    this.account[pos] = accountIdx;
    this.zone[pos] = zoneIdx;
    this.command[pos] = commandIdx;
    this.status[pos] = 0;
    this.byAccount[accountIdx === NONE ? this.accountIds.length : accountIdx]!++;
    this.byZone[zoneIdx === NONE ? this.zoneNames.length : zoneIdx]!++;
    this.byCommand[commandIdx]!++;
    return seq;
  }

  complete(seq: number, status: number): void {
    if (seq < this.startSeq) return; // answered after a reset: belongs to the old period
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    if (seq >= this.nextSeq - this.capacity) this.status[(seq - this.startSeq) % this.capacity] = status;
  }

  private grow(): void {
    const len = Math.min(this.capacity, this.time.length * 2);
    const copy = <T extends Float64Array | Int32Array | Int16Array | Uint8Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(len);
      b.set(a);
      return b;
    };
    this.time = copy(this.time, (n) => new Float64Array(n));
    this.account = copy(this.account, (n) => new Int32Array(n));
    this.zone = copy(this.zone, (n) => new Int16Array(n));
    this.command = copy(this.command, (n) => new Uint8Array(n));
    this.status = copy(this.status, (n) => new Uint16Array(n));
  }

  reset(): void {
    this.startSeq = this.nextSeq;
    this.byAccount.fill(0);
    this.byZone.fill(0);
    this.byCommand.fill(0);
    this.byStatus.clear();
  }

  get total(): number {
    return this.nextSeq - this.startSeq;
  }

  totals(): StatsTotals {
    const byAccount: Record<string, number> = {};
    this.accountIds.forEach((id, i) => {
      if (this.byAccount[i]) byAccount[id] = this.byAccount[i]!;
    });
    if (this.byAccount[this.accountIds.length]) byAccount['null'] = this.byAccount[this.accountIds.length]!;
    const byZone: Record<string, number> = {};
    this.zoneNames.forEach((z, i) => {
      if (this.byZone[i]) byZone[z] = this.byZone[i]!;
    });
    if (this.byZone[this.zoneNames.length]) byZone['null'] = this.byZone[this.zoneNames.length]!;
    const byCommand: Record<string, number> = {};
    COMMANDS.forEach((c, i) => {
      if (this.byCommand[i]) byCommand[c] = this.byCommand[i]!;
    });
    const byStatus: Record<string, number> = {};
    let answered = 0;
    for (const [s, n] of [...this.byStatus].sort((a, b) => a[0] - b[0])) {
      byStatus[String(s)] = n;
      answered += n;
    }
    return {
      total: this.total,
      pending: this.total - answered,
      byAccount,
      byZone,
      byCommand,
      byStatus,
      retained: Math.min(this.total, this.capacity),
      capacity: this.capacity,
    };
  }

  /** Calls fn(pos) for each retained entry matching the filter, oldest first. */
  private scan(filter: StatsFilter, fn: (pos: number) => void): void {
    let acct: number | undefined;
    if (filter.account !== undefined) {
      acct = filter.account === null ? NONE : this.accountIndex.get(filter.account);
      if (acct === undefined) return; // unknown account: nothing can match
    }
    let zone: number | undefined;
    if (filter.zone !== undefined) {
      zone = filter.zone === null ? NONE : this.zoneIndex.get(filter.zone);
      if (zone === undefined) return;
    }
    const cmd = filter.command === undefined ? undefined : COMMANDS.indexOf(filter.command);
    if (cmd === -1) return;
    const since = filter.since ?? -Infinity;
    const until = filter.until ?? Infinity;
    const first = Math.max(this.startSeq, this.nextSeq - this.capacity);
    for (let seq = first; seq < this.nextSeq; seq++) {
      const pos = (seq - this.startSeq) % this.capacity;
      if (acct !== undefined && this.account[pos] !== acct) continue;
      if (zone !== undefined && this.zone[pos] !== zone) continue;
      if (cmd !== undefined && this.command[pos] !== cmd) continue;
      if (filter.status !== undefined && this.status[pos] !== filter.status) continue;
      const t = this.time[pos]!;
      if (t < since || t > until) continue;
      fn(pos);
    }
  }

  count(filter: StatsFilter = {}): number {
    let n = 0;
    this.scan(filter, () => n++);
    return n;
  }

  /** Sorted arrival times (ms since epoch) of matching requests. */
  timestamps(filter: StatsFilter = {}): Float64Array {
    const out: number[] = [];
    this.scan(filter, (pos) => out.push(this.time[pos]!));
    return Float64Array.from(out);
  }

  entries(filter: StatsFilter = {}): StatsEntry[] {
    const out: StatsEntry[] = [];
    this.scan(filter, (pos) => out.push(this.entryAt(pos)));
    return out;
  }

  /** Compact rows [time, account, zone, command, status] for the HTTP control API. */
  rows(filter: StatsFilter = {}): Array<[number, string | null, string | null, string, number]> {
    const out: Array<[number, string | null, string | null, string, number]> = [];
    this.scan(filter, (pos) => {
      const e = this.entryAt(pos);
      out.push([e.time, e.account, e.zone, e.command, e.status]);
    });
    return out;
  }

  private entryAt(pos: number): StatsEntry {
    const a = this.account[pos]!;
    const z = this.zone[pos]!;
    return {
      time: this.time[pos]!,
      account: a === NONE ? null : (this.accountIds[a] ?? null),
      zone: z === NONE ? null : (this.zoneNames[z] ?? null),
      command: COMMANDS[this.command[pos]!] ?? 'other',
      status: this.status[pos]!,
    };
  }

  /** Most matching requests that arrived within any window [t, t + windowMs). */
  maxInWindow(filter: StatsFilter = {}, windowMs = 1000): number {
    return maxInSortedWindow(this.timestamps(filter), windowMs);
  }

  /** maxInWindow for every account (or zone) at once, in one pass over the log. */
  maxInWindowBy(dimension: 'account' | 'zone', filter: StatsFilter = {}, windowMs = 1000): Record<string, number> {
    const groups = new Map<number, number[]>();
    this.scan(filter, (pos) => {
      const key = dimension === 'account' ? this.account[pos]! : this.zone[pos]!;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(this.time[pos]!);
    });
    const names = dimension === 'account' ? this.accountIds : this.zoneNames;
    const out: Record<string, number> = {};
    for (const [key, times] of groups) out[key === NONE ? 'null' : (names[key] ?? 'null')] = maxInSortedWindow(times, windowMs);
    return out;
  }
}

/** Two-pointer sweep over ascending times. */
export function maxInSortedWindow(times: ArrayLike<number>, windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= windowMs) lo++;
    if (hi - lo + 1 > best) best = hi - lo + 1;
  }
  return best;
}
