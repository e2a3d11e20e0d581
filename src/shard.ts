/**
 * Splitting accounts between replicas by rendezvous (highest-random-weight) hashing: each
 * account goes to the R shards with the highest hash of (shard, account). Adding a shard moves
 * only the accounts the new shard wins, about 1/(M+1) of them.
 */
import { createHash } from 'node:crypto';

export interface ShardSpec {
  /** This replica's shard, 0-based. */
  readonly index: number;
  readonly total: number;
  /** How many distinct shards own each account. */
  readonly replicationFactor: number;
}

export const SINGLE_SHARD: ShardSpec = Object.freeze({ index: 0, total: 1, replicationFactor: 1 });

function weight(shard: number, account: string): bigint {
  return createHash('sha256').update(`${shard}\0${account}`).digest().readBigUInt64BE(0);
}

/** The shards that own an account, highest weight first. */
export function ownersOf(account: string, total: number, replicationFactor: number): number[] {
  const shards = Array.from({ length: total }, (_, i) => ({ i, w: weight(i, account) }));
  shards.sort((a, b) => (a.w === b.w ? a.i - b.i : a.w > b.w ? -1 : 1));
  return shards.slice(0, Math.min(replicationFactor, total)).map((s) => s.i);
}

export function owns(spec: ShardSpec, account: string): boolean {
  return spec.total <= 1 || ownersOf(account, spec.total, spec.replicationFactor).includes(spec.index);
}

/** The StatefulSet ordinal at the end of a pod name such as `ktcloud-lb-exporter-2`. */
export function ordinalFromPodName(name: string | undefined): number | undefined {
  const m = name ? /-(\d+)$/.exec(name) : null;
  return m ? Number(m[1]) : undefined;
}

/** Validates a shard spec; returns an error text or undefined. */
export function checkShardSpec(s: ShardSpec): string | undefined {
  if (!Number.isInteger(s.total) || s.total < 1) return `--total-shards must be a whole number >= 1, got ${s.total}`;
  if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.total) return `--shard must be between 0 and ${s.total - 1}, got ${s.index}`;
  if (!Number.isInteger(s.replicationFactor) || s.replicationFactor < 1 || s.replicationFactor > s.total) {
    return `--replication-factor must be between 1 and --total-shards (${s.total}), got ${s.replicationFactor}`;
  }
  return undefined;
}
