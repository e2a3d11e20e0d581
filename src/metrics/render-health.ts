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
  /** [zone, requests per second allowed] of the zones this replica's accounts use. */
  readonly zoneRequestLimits?: ReadonlyArray<readonly [string, number]>;
  /** Owned accounts with `zones: auto`: [account, what their last discovery found]. */
  readonly discoveries?: ReadonlyArray<readonly [string, { readonly zones: readonly string[]; readonly discoveredAtMs: number | null; readonly authFailed: readonly string[] }]>;
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
  // Unowned-account detection: the config's account count, before sharding.
  if (st.configuredAccounts !== undefined) single(H.configuredAccounts, [], st.configuredAccounts);
  if (st.build) single(H.buildInfo, [st.build.version, st.build.revision, st.build.nodejsVersion], 1);
  // Scheduling.
  out += familyHeader(H.nextAttempt);
  for (const [account, atMs] of st.nextAttempts ?? []) out += sample(H.nextAttempt.name, H.nextAttempt.labels, [account], seconds(atMs));
  // Multi-account controls: what the filter left out, each account's share of the
  // series, and the per-zone API budget (`sum by (zone) (rate(ktcloud_api_requests_total[1m]))` is what is spent).
  family(H.lbsFiltered, (z) => (z.lbsFiltered === null ? [] : [[id(z), z.lbsFiltered]]));
  const perAccount = new Map<string, number>();
  for (const z of zones) perAccount.set(z.account, (perAccount.get(z.account) ?? 0) + (z.snapshot?.series ?? 0));
  out += familyHeader(H.accountSeries);
  for (const [account, n] of perAccount) out += sample(H.accountSeries.name, H.accountSeries.labels, [account], n);
  out += familyHeader(H.zoneRequestsLimit);
  for (const [zone, rps] of st.zoneRequestLimits ?? []) out += sample(H.zoneRequestsLimit.name, H.zoneRequestsLimit.labels, [zone], rps);
  // Zone discovery: only with `zones: auto` accounts, so other configurations show no empty families.
  const found = st.discoveries ?? [];
  if (found.length > 0) {
    const perAccount = (f: FamilyDef, v: (d: (typeof found)[number][1]) => number | null) => {
      out += familyHeader(f);
      for (const [account, d] of found) {
        const n = v(d);
        if (n !== null) out += sample(f.name, f.labels, [account], n);
      }
    };
    // Before the first discovery nothing is known: no sample rather than a 0 that means "none found".
    perAccount(H.zonesDiscovered, (d) => (d.discoveredAtMs === null ? null : d.zones.length));
    perAccount(H.zonesAuthFailed, (d) => (d.discoveredAtMs === null ? null : d.authFailed.length));
    perAccount(H.lastDiscovery, (d) => (d.discoveredAtMs === null ? null : seconds(d.discoveredAtMs)));
  }
  return out;
}
