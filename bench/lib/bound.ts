/**
 * What a full collection must cost at least: the minimum number of API requests, and the
 * shortest wall time the configured limits and the API latency allow. Pure functions, so the
 * figures the benchmark prints can be checked by hand.
 */

export interface AccountZone {
  readonly account: string;
  readonly zone: string;
  readonly lbs: number;
}

export interface ProcessLimits {
  /** Requests in flight per account. */
  readonly concurrency: number;
  /** Requests per second per account (all its zones). */
  readonly accountRps: number;
  /** Requests per second per zone in this process (each exporter process paces its own). */
  readonly zoneRps: number;
}

export interface MinimumRequests {
  readonly total: number;
  readonly auth: number;
  readonly listLoadBalancers: number;
  readonly listLoadBalancerWebServers: number;
}

/** Whether an account-zone needs a token in this cycle: for all, or per account-zone. */
export type NeedsAuth = boolean | ((z: AccountZone) => boolean);

const authOf = (needsAuth: NeedsAuth, z: AccountZone): boolean => (typeof needsAuth === 'boolean' ? needsAuth : needsAuth(z));

/** One list per account-zone, one server list per LB, one auth per account-zone that needs a token. */
export function minimumRequests(zones: readonly AccountZone[], needsAuth: NeedsAuth): MinimumRequests {
  let servers = 0;
  let auth = 0;
  for (const z of zones) {
    servers += z.lbs;
    if (authOf(needsAuth, z)) auth++;
  }
  return { total: auth + zones.length + servers, auth, listLoadBalancers: zones.length, listLoadBalancerWebServers: servers };
}

export interface Bound {
  readonly seconds: number;
  /** What sets the bound: `zone <name>`, `account <name> rate`, `account <name> round trips`. */
  readonly binding: string;
  readonly zoneSeconds: number;
  readonly accountRateSeconds: number;
  readonly accountRoundTripSeconds: number;
}

/**
 * The lower bound on one full collection in one process:
 *  - per zone: its N requests leave at most zoneRps apart: (N - 1) / zoneRps, plus one latency
 *    for the last answer;
 *  - per account: likewise (n - 1) / accountRps + latency; and round trips: the chain
 *    auth → list → server lists, the server lists `concurrency` at a time, or n × latency /
 *    concurrency, whichever is longer.
 * The largest of these. Across processes (shards), the largest over processes.
 */
export function lowerBound(zones: readonly AccountZone[], needsAuth: NeedsAuth, limits: ProcessLimits, latencyMs: number): Bound {
  const L = latencyMs / 1000;
  const perZone = new Map<string, number>();
  const perAccount = new Map<string, { n: number; chain: number }>();
  for (const z of zones) {
    const auth = authOf(needsAuth, z) ? 1 : 0;
    const n = auth + 1 + z.lbs;
    perZone.set(z.zone, (perZone.get(z.zone) ?? 0) + n);
    const a = perAccount.get(z.account) ?? { n: 0, chain: 0 };
    // Zones of one account run in parallel: the chain is the longest zone's.
    const chain = auth + 1 + Math.ceil(z.lbs / limits.concurrency);
    perAccount.set(z.account, { n: a.n + n, chain: Math.max(a.chain, chain) });
  }
  let best: Bound = { seconds: 0, binding: 'nothing to collect', zoneSeconds: 0, accountRateSeconds: 0, accountRoundTripSeconds: 0 };
  let zoneSeconds = 0;
  let accountRateSeconds = 0;
  let accountRoundTripSeconds = 0;
  const consider = (seconds: number, binding: string) => {
    if (seconds > best.seconds) best = { ...best, seconds, binding };
  };
  for (const [zone, n] of perZone) {
    const s = (n - 1) / limits.zoneRps + L;
    zoneSeconds = Math.max(zoneSeconds, s);
    consider(s, `zone ${zone} (${n} requests at ${limits.zoneRps}/s)`);
  }
  for (const [account, { n, chain }] of perAccount) {
    const rate = (n - 1) / limits.accountRps + L;
    accountRateSeconds = Math.max(accountRateSeconds, rate);
    consider(rate, `account ${account} rate (${n} requests at ${limits.accountRps}/s)`);
    const trips = Math.max(chain * L, (n * L) / limits.concurrency);
    accountRoundTripSeconds = Math.max(accountRoundTripSeconds, trips);
    consider(trips, `account ${account} round trips (${chain} sequential x ${latencyMs} ms)`);
  }
  return { ...best, zoneSeconds, accountRateSeconds, accountRoundTripSeconds };
}

/** The bound of a deployment of several processes: the slowest process. */
export function deploymentBound(processes: ReadonlyArray<{ zones: readonly AccountZone[]; limits: ProcessLimits }>, needsAuth: NeedsAuth, latencyMs: number): Bound {
  let best: Bound | undefined;
  for (const p of processes) {
    const b = lowerBound(p.zones, needsAuth, p.limits, latencyMs);
    if (!best || b.seconds > best.seconds) best = b;
  }
  return best ?? lowerBound([], needsAuth, { concurrency: 1, accountRps: 1, zoneRps: 1 }, latencyMs);
}
