/**
 * Benchmark tiers. Each account has one zone, round-robin over the five DX zones (as the
 * simulator's `generate:` section spreads them). Limits are chosen so that the API rate limit
 * per zone is what binds (the realistic case), at a request rate this 2-core machine sustains
 * next to the simulator; interval = timeout, with room for the cycle.
 */
export const ZONES = ['DX-M1', 'DX-Central', 'DX-DCN-CJ', 'DX-G', 'DX-G-YS'] as const;

export interface Tier {
  readonly name: 'S' | 'M' | 'L' | 'XL';
  readonly accounts: number;
  readonly lbsPerAccount: number;
  readonly serversPerLb: number;
  readonly intervalS: number;
  /** Warm cycles after the measured one, for RSS growth. */
  readonly cycles: number;
  /** Processes when --shards is not given. */
  readonly shards: number;
  /** Largest RSS one exporter process may reach (the target for this tier), if any. */
  readonly maxProcessRssMB?: number;
  readonly limits: { readonly concurrency: number; readonly requestsPerSecond: number; readonly zoneRequestsPerSecond: number };
}

export const TIERS: Readonly<Record<Tier['name'], Tier>> = {
  // 110 requests per cycle; the per-account rate binds (11 requests at 10/s).
  S: { name: 'S', accounts: 10, lbsPerAccount: 10, serversPerLb: 4, intervalS: 4, cycles: 50, shards: 1, limits: { concurrency: 4, requestsPerSecond: 10, zoneRequestsPerSecond: 50 } },
  // 4,200 requests per warm cycle, 840 per zone at 100/s: the zone limit binds (8.4 s).
  M: { name: 'M', accounts: 200, lbsPerAccount: 20, serversPerLb: 5, intervalS: 15, cycles: 50, shards: 1, limits: { concurrency: 4, requestsPerSecond: 10, zoneRequestsPerSecond: 100 } },
  // 21,000 requests per warm cycle, 4,200 per zone at 100/s: the zone limit binds (42 s < 60 s).
  L: { name: 'L', accounts: 1000, lbsPerAccount: 20, serversPerLb: 5, intervalS: 60, cycles: 50, shards: 1, limits: { concurrency: 4, requestsPerSecond: 10, zoneRequestsPerSecond: 100 } },
  // ~1.1 M series on 4 shards. 42,000 requests per warm cycle, 8,400 per zone: at Tier L's
  // 100/s per zone that is 84 s, over the interval, so the zone limit is 200/s (42 s < 60 s;
  // 50/s per shard). Target: each shard's RSS <= 400 MB.
  XL: { name: 'XL', accounts: 2000, lbsPerAccount: 20, serversPerLb: 5, intervalS: 60, cycles: 50, shards: 4, maxProcessRssMB: 400, limits: { concurrency: 4, requestsPerSecond: 10, zoneRequestsPerSecond: 200 } },
};
