/**
 * GET /sd: a Prometheus `http_sd_configs` endpoint, one target group per account this replica
 * collects, each target scraping `/metrics?account=NAME` (README "One scrape target per account").
 *
 * Labels of each group:
 *  - `__param_account`: Prometheus turns it into the `account` URL parameter of the scrape;
 *  - `account`: a target label, so `up`, `scrape_duration_seconds` and `scrape_samples_scraped`
 *    are per account, and the series without an account label (build info, process metrics)
 *    get it too. Scrape with `honor_labels: true`: the series' own `account` is the same value,
 *    yet with `honor_labels: false` Prometheus (2.42, checked in test/e2e/per-account-sd.test.ts)
 *    copies it into `exported_account` on every series whenever the target has the label;
 *  - `__meta_ktcloud_zones` (the account's zones, comma-separated) and `__meta_ktcloud_shard`:
 *    for relabelling only, dropped after it. A plain `zones` target label would be stamped on
 *    every series and rename all of them whenever a zone is added; a `zone` label would
 *    overwrite the series' own `zone` (honor_labels false) with the list.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../state/store.js';

export interface TargetGroup {
  readonly targets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface SdDeps {
  readonly store: Store;
  /** --web.external-address, when given. */
  readonly externalAddress?: string;
  /** The address the server listens on (bound port). */
  readonly listen: () => { readonly host: string; readonly port: number };
  readonly shard: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * Where Prometheus should scrape: the external address, else the listen address; when that is a
 * wildcard (0.0.0.0, ::), the host the /sd request was addressed to (Prometheus reached it there),
 * else this host's name.
 */
export function targetAddress(externalAddress: string | undefined, listen: { host: string; port: number }, hostHeader: string | undefined, hostname: string): string {
  if (externalAddress) return externalAddress;
  if (!WILDCARDS.has(listen.host)) return listen.host.includes(':') ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
  if (hostHeader && /^[A-Za-z0-9.\-[\]:]+$/.test(hostHeader)) return /:\d+$/.test(hostHeader) ? hostHeader : `${hostHeader}:${listen.port}`;
  return `${hostname}:${listen.port}`;
}

/** One group per account in the store (the accounts this replica owns), by name. */
export function targetGroups(store: Store, address: string, shard: number): TargetGroup[] {
  const zones = new Map<string, string[]>();
  for (const z of store.all()) {
    const list = zones.get(z.account) ?? [];
    list.push(z.zone);
    zones.set(z.account, list);
  }
  return [...zones.keys()].sort().map((account) => ({
    targets: [address],
    labels: { __param_account: account, account, __meta_ktcloud_zones: zones.get(account)!.join(','), __meta_ktcloud_shard: String(shard) },
  }));
}

export function registerSdRoute(app: FastifyInstance, d: SdDeps, hostname: string): void {
  app.get('/sd', async (req, reply) => {
    const address = targetAddress(d.externalAddress, d.listen(), req.headers.host, hostname);
    return reply.header('cache-control', 'no-store').type('application/json').send(JSON.stringify(targetGroups(d.store, address, d.shard)));
  });
}
