/**
 * Runtime state around the data set: indexes, tokens, per account-zone fault counters and
 * response caches, and the mutations the control API offers. Caches exist because the
 * benchmark hammers the same lists thousands of times per second; every mutation drops the
 * caches of the account-zones it touches.
 */
import { randomBytes } from 'node:crypto';
import type { NormalizedConfig } from './config.js';
import { FaultRuntime, mergeFaults, validateFaults } from './faults.js';
import { extraLbs } from './generate.js';
import { listLbsBody, webServersBody, weirdLbName, type ServeOptions } from './serialize.js';
import type { Faults, SimAccount, SimAccountZone, SimData, SimLoadBalancer } from './types.js';

/** Control-API style error: `status` is the HTTP status to answer with. */
export class SimulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface TokenRecord {
  account: number;
  zone: number;
  expiresAt: number;
  uses: number;
  /** Password generation at issue time: rotating the password bumps it, killing old tokens. */
  gen: number;
}

export interface LbFilter {
  name?: string;
  serviceip?: string;
  loadbalancerid?: string;
}

/** Everything the request path needs about one account in one zone. */
export class AccountZoneRuntime {
  faults: FaultRuntime;
  private lbById = new Map<number, SimLoadBalancer>();
  private extras: SimLoadBalancer[] = [];
  private listCache: Buffer | null = null;
  private hugeListCache: Buffer | null = null;
  private wsCache = new Map<number, Buffer>();
  private cacheBucket = -1;

  constructor(
    readonly state: SimState,
    readonly accountIdx: number,
    readonly account: SimAccount,
    readonly az: SimAccountZone,
  ) {
    this.faults = new FaultRuntime({});
    this.refresh();
  }

  /** Recomputes effective faults (restarting counters) and drops caches. */
  refresh(): void {
    const faults = mergeFaults(this.account.faults, this.az.faults);
    this.faults = new FaultRuntime(faults);
    const extra = faults.hugeResponse?.extraLbs ?? 0;
    this.extras = extra > 0 ? extraLbs(this.state.data.seed, this.accountIdx, this.account.id, this.state.data.zones[this.az.zone]!, extra) : [];
    this.lbById = new Map();
    for (const lb of this.az.loadBalancers) this.lbById.set(lb.loadbalancerid, lb);
    for (const lb of this.extras) this.lbById.set(lb.loadbalancerid, lb);
    this.invalidate();
  }

  invalidate(): void {
    this.listCache = null;
    this.hugeListCache = null;
    this.wsCache.clear();
  }

  lb(id: number): SimLoadBalancer | undefined {
    return this.lbById.get(id);
  }

  private options(): ServeOptions {
    const f = this.faults.faults;
    const period = this.state.config.liveFiguresPeriodMs;
    return {
      allStrings: f.numbersAsStrings === true,
      weirdNames: f.weirdNames === true,
      hugeNameBytes: f.hugeNames?.bytes,
      deepNameDepth: f.deepNesting === true ? 100_000 : f.deepNesting ? (f.deepNesting.depth ?? 100_000) : undefined,
      duplicates: f.duplicates === true,
      live: period > 0 ? { seed: this.state.data.seed, bucket: this.cacheBucket } : undefined,
    };
  }

  private checkBucket(): void {
    const period = this.state.config.liveFiguresPeriodMs;
    if (period === 0) return;
    const bucket = Math.floor(Date.now() / period);
    if (bucket !== this.cacheBucket) {
      this.cacheBucket = bucket;
      this.wsCache.clear();
    }
  }

  listBody(filter: LbFilter | null, withExtras: boolean): Buffer {
    const all = withExtras && this.extras.length > 0 ? this.az.loadBalancers.concat(this.extras) : this.az.loadBalancers;
    if (filter) {
      const weird = this.faults.faults.weirdNames === true;
      const opts = this.options();
      const picked = all.filter((lb) => {
        if (filter.loadbalancerid !== undefined && String(lb.loadbalancerid) !== filter.loadbalancerid) return false;
        if (filter.serviceip !== undefined && lb.serviceip !== filter.serviceip) return false;
        if (filter.name !== undefined) {
          if ((weird ? weirdLbName(lb) : lb.name) !== filter.name) return false;
        }
        return true;
      });
      return Buffer.from(listLbsBody(picked, opts));
    }
    if (all !== this.az.loadBalancers) return (this.hugeListCache ??= Buffer.from(listLbsBody(all, this.options())));
    return (this.listCache ??= Buffer.from(listLbsBody(all, this.options())));
  }

  /** undefined when the LB is unknown in this account-zone. */
  webServersBody(lbId: number): Buffer | undefined {
    this.checkBucket();
    const cached = this.wsCache.get(lbId);
    if (cached) return cached;
    const lb = this.lbById.get(lbId);
    if (!lb) return undefined;
    const body = Buffer.from(webServersBody(lb.servers, this.options()));
    this.wsCache.set(lbId, body);
    return body;
  }
}

export class SimState {
  readonly accountIndex = new Map<string, number>();
  readonly zoneNames: string[];
  readonly zoneIndex = new Map<string, number>();
  /** [accountIdx][zoneIdx] */
  private readonly runtimes: AccountZoneRuntime[][];
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly passwordGen: Int32Array;
  private issuedSincePrune = 0;

  constructor(
    readonly config: NormalizedConfig,
    readonly data: SimData,
  ) {
    this.zoneNames = Object.keys(data.zones);
    this.zoneNames.forEach((z, i) => this.zoneIndex.set(z, i));
    data.accounts.forEach((a, i) => this.accountIndex.set(a.id, i));
    this.passwordGen = new Int32Array(data.accounts.length);
    this.runtimes = data.accounts.map((a, i) => this.zoneNames.map((z) => new AccountZoneRuntime(this, i, a, a.zones[z]!)));
  }

  runtime(accountIdx: number, zoneIdx: number): AccountZoneRuntime {
    return this.runtimes[accountIdx]![zoneIdx]!;
  }

  issueToken(accountIdx: number, zoneIdx: number, now: number): { token: string; expiresAt: number } {
    if (++this.issuedSincePrune >= 10_000) this.pruneTokens(now);
    // Keystone (fernet) tokens look like this: long, url-safe base64 starting with gAAAAA.
    const token = `gAAAAA${randomBytes(42).toString('base64url')}`;
    const expiresAt = now + this.config.tokenTtlMs;
    this.tokens.set(token, { account: accountIdx, zone: zoneIdx, expiresAt, uses: 0, gen: this.passwordGen[accountIdx]! });
    return { token, expiresAt };
  }

  /** The token's record (even if no longer valid, so stats can name the account), or undefined. */
  lookupToken(token: string): TokenRecord | undefined {
    return this.tokens.get(token);
  }

  tokenValid(rec: TokenRecord, zoneIdx: number, now: number): boolean {
    return rec.zone === zoneIdx && now < rec.expiresAt && rec.gen === this.passwordGen[rec.account];
  }

  revokeToken(token: string): void {
    // Keep the record (expired) so later calls with it are still attributed to the account.
    const rec = this.tokens.get(token);
    if (rec) rec.expiresAt = 0;
  }

  private pruneTokens(now: number): void {
    this.issuedSincePrune = 0;
    for (const [t, rec] of this.tokens) {
      if (rec.expiresAt < now - 3_600_000 || rec.gen !== this.passwordGen[rec.account]) this.tokens.delete(t);
    }
  }

  // ---------- mutations (programmatic and control API) ----------

  private accountIdx(accountId: unknown): number {
    const idx = typeof accountId === 'string' ? this.accountIndex.get(accountId) : undefined;
    if (idx === undefined) throw new SimulatorError(404, `unknown account: ${JSON.stringify(accountId)}`);
    return idx;
  }

  private zoneIdx(zone: unknown): number {
    const idx = typeof zone === 'string' ? this.zoneIndex.get(zone) : undefined;
    if (idx === undefined) throw new SimulatorError(404, `unknown zone: ${JSON.stringify(zone)} (known: ${this.zoneNames.join(', ')})`);
    return idx;
  }

  private lbIn(rt: AccountZoneRuntime, lbId: unknown): SimLoadBalancer {
    const id = typeof lbId === 'string' ? Number(lbId) : lbId;
    const lb = typeof id === 'number' ? rt.az.loadBalancers.find((l) => l.loadbalancerid === id) : undefined;
    if (!lb) throw new SimulatorError(404, `unknown load balancer ${JSON.stringify(lbId)} for ${rt.account.id} in ${rt.az.zone}`);
    return lb;
  }

  private checkState(state: unknown): string {
    if (typeof state !== 'string' || state === '') throw new SimulatorError(400, 'state must be a non-empty string such as "UP" or "DOWN"');
    return state;
  }

  /** Replaces the account's faults (all zones) or one account-zone's; `{}` clears them. */
  setFaults(accountId: string, faults: Faults, zone?: string): void {
    const a = this.accountIdx(accountId);
    let valid: Faults;
    try {
      valid = validateFaults(faults);
    } catch (err) {
      throw new SimulatorError(400, (err as Error).message);
    }
    const account = this.data.accounts[a]!;
    if (zone !== undefined) {
      const z = this.zoneIdx(zone);
      account.zones[zone]!.faults = valid;
      this.runtime(a, z).refresh();
    } else {
      account.faults = valid;
      for (let z = 0; z < this.zoneNames.length; z++) this.runtime(a, z).refresh();
    }
  }

  setServerState(accountId: string, zone: string, lbId: number | string, ip: string, state: string): void {
    const rt = this.runtime(this.accountIdx(accountId), this.zoneIdx(zone));
    const lb = this.lbIn(rt, lbId);
    const st = this.checkState(state);
    const servers = lb.servers.filter((s) => s.ipaddress === ip);
    if (servers.length === 0) throw new SimulatorError(404, `no server ${JSON.stringify(ip)} behind load balancer ${lb.loadbalancerid}`);
    for (const s of servers) s.state = st;
    rt.invalidate();
  }

  setLbState(accountId: string, zone: string, lbId: number | string, state: string): void {
    const rt = this.runtime(this.accountIdx(accountId), this.zoneIdx(zone));
    const lb = this.lbIn(rt, lbId);
    lb.state = this.checkState(state);
    rt.invalidate();
  }

  /** Rotates the password; every token issued before stops working. */
  setPassword(accountId: string, password: string): void {
    const a = this.accountIdx(accountId);
    if (typeof password !== 'string') throw new SimulatorError(400, 'password must be a string');
    this.data.accounts[a]!.password = password;
    this.passwordGen[a]!++;
  }
}
