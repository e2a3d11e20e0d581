/** Account health and exporter state families, rendered on the main thread from the store. */
import { ERROR_REASONS } from '../ktcloud/errors.js';
import { DUPLICATE_KINDS } from './label-safety.js';
import type { Store, ZoneState } from '../state/store.js';
import { HEALTH_FAMILIES as H, type FamilyDef } from './families.js';
import { familyHeader, sample } from './text.js';

export interface ExporterState {
  readonly version: string;
  readonly port: number;
  readonly intervalMs: number;
  readonly reload: { readonly ok: boolean; readonly lastSuccessMs: number | null };
  readonly shard: { readonly index: number; readonly total: number };
  readonly ownedAccounts: number;
  /** The collector pool's own counters; absent renders 0. */
  readonly pool?: { readonly threadsReplaced: number; readonly tasksRerun: number };
  /** Accounts in the configuration before sharding; optional so that benches need not know it. */
  readonly configuredAccounts?: number;
  /** Build info; absent in callers that predate it. */
  readonly build?: { readonly version: string; readonly revision: string; readonly nodejsVersion: string };
  /** [account, ms since the epoch] of every account with a next attempt scheduled. */
  readonly nextAttempts?: ReadonlyArray<readonly [string, number]>;
}

export function renderHealth(store: Pick<Store, 'all'>, st: ExporterState): string {
  const zones = [...store.all()];
  let out = '';
  const family = (f: FamilyDef, rows: (z: ZoneState) => Array<[string[], number]>) => {
    out += familyHeader(f);
    for (const z of zones) for (const [values, v] of rows(z)) out += sample(f.name, f.labels, values, v);
  };
  const id = (z: ZoneState) => [z.account, z.zone];
  const seconds = (ms: number) => ms / 1000;

  family(H.accountUp, (z) => [[id(z), z.up ? 1 : 0]]);
  family(H.accountLastSuccess, (z) => (z.lastSuccessMs === null ? [] : [[id(z), seconds(z.lastSuccessMs)]]));
  family(H.accountDuration, (z) => (z.lastDurationMs === null ? [] : [[id(z), seconds(z.lastDurationMs)]]));
  family(H.accountPartial, (z) => (z.attempts === 0 ? [] : [[id(z), z.partial ? 1 : 0]]));
  // Every reason starts at 0 so that rate() and increase() see the first failure.
  family(H.accountErrors, (z) => ERROR_REASONS.map((r) => [[...id(z), r], z.errors.get(r) ?? 0]));
  family(H.apiRequests, (z) => [...z.requests].map(([k, n]) => [[...id(z), ...k.split('\0')], n]));
  family(H.scrapeDuration, (z) => (z.lastSuccessDurationMs === null ? [] : [[id(z), seconds(z.lastSuccessDurationMs)]]));
  family(H.lastScrape, (z) => (z.lastSuccessMs === null ? [] : [[id(z), seconds(z.lastSuccessMs)]]));
  family(H.atomicUpdates, (z) => [[id(z), z.swaps]]);

  const single = (f: FamilyDef, values: string[], v: number) => {
    out += familyHeader(f) + sample(f.name, f.labels, values, v);
  };
  single(H.updateConflicts, [], 0);
  single(H.exporterInfo, [st.version, String(st.port), String(st.intervalMs / 1000), 'KT Cloud API (ktcloud-lb-exporter)'], 1);
  single(H.reloadSuccessful, [], st.reload.ok ? 1 : 0);
  out += familyHeader(H.reloadTimestamp);
  if (st.reload.lastSuccessMs !== null) out += sample(H.reloadTimestamp.name, [], [], seconds(st.reload.lastSuccessMs));
  single(H.shardInfo, [String(st.shard.index), String(st.shard.total)], 1);
  single(H.ownedAccounts, [], st.ownedAccounts);

  // Hostile answers and pool health: every kind starts at 0 so that increase() sees the first one.
  family(H.labelValuesTruncated, (z) => [[id(z), z.labelValuesTruncated]]);
  family(H.duplicatesDropped, (z) => DUPLICATE_KINDS.map((k) => [[...id(z), k], z.duplicatesDropped.get(k) ?? 0]));
  single(H.workerThreadsReplaced, [], st.pool?.threadsReplaced ?? 0);
  single(H.tasksRerun, [], st.pool?.tasksRerun ?? 0);
  // Unowned-account detection (ops): the config's account count, before sharding.
  if (st.configuredAccounts !== undefined) single(H.configuredAccounts, [], st.configuredAccounts);
  if (st.build) single(H.buildInfo, [st.build.version, st.build.revision, st.build.nodejsVersion], 1);
  // Scheduling (runtime).
  out += familyHeader(H.nextAttempt);
  for (const [account, atMs] of st.nextAttempts ?? []) out += sample(H.nextAttempt.name, H.nextAttempt.labels, [account], seconds(atMs));
  return out;
}
