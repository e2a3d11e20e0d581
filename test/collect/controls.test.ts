import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exporterYaml, only, scrape, startStack, type Running, type Sample, type TestAccount } from '../support/harness.js';
import type { AccountConfig as SimAccount } from '@ktcloud-lb-exporter/simulator';
import { SimProcess } from '../support/sim-process.js';

/**
 * The multi-account controls against a real exporter and the simulator in its own process:
 * what the API was asked is counted at the simulator, what is exported is read from /metrics.
 */
const servers = (...ips: string[]) => ips.map((ipaddress) => ({ ipaddress }));
const SIM_ACCOUNTS: SimAccount[] = [
  {
    id: 'shop@example.com',
    password: 'shop-pw',
    zones: {
      'DX-M1': {
        loadBalancers: [
          { name: 'web-1', servers: servers('10.0.0.1', '10.0.0.2') },
          { name: 'web-2', servers: servers('10.0.0.3') },
          { name: 'db-1', servers: servers('10.0.0.4') },
          { name: 'web-canary', servers: servers('10.0.0.5') },
        ],
      },
    },
  },
  { id: 'other@example.com', password: 'other-pw', zones: { 'DX-M1': { loadBalancers: [{ name: 'app-1', servers: servers('10.1.0.1') }, { name: 'db-main', servers: servers('10.1.0.2') }] } } },
  { id: 'big@example.com', password: 'big-pw', zones: { 'DX-G': { lbs: 6, serversPerLb: 3 } } },
];
const ACCOUNTS: TestAccount[] = [
  // Its own filter replaces the top-level one (which would keep db-1 out but web-canary in).
  { name: 'shop', zones: ['DX-M1'], id: 'shop@example.com', password: 'shop-pw', yaml: 'loadBalancers: { include: ["web-.*"], exclude: [".*-canary"] }' },
  { name: 'other', zones: ['DX-M1'], id: 'other@example.com', password: 'other-pw' },
  { name: 'big', zones: ['DX-G'], id: 'big@example.com', password: 'big-pw', yaml: 'limits: { maxSeries: 20 }' },
];
const BASE = 'interval: 1m\ntimeout: 20s\nlimits: { zoneRequestsPerSecond: 40 }\nzones: {}\nloadBalancers: { exclude: ["db-.*"] }';
const LB_FAMILY = /^ktcloud_(lb_(total_count|info|server_count|server_state|service_type_count)|server_.*)$/;

let s: Running<SimProcess>;
beforeAll(async () => {
  s = await startStack({
    sim: { external: await SimProcess.start({ latencyMs: 1, accounts: SIM_ACCOUNTS }) },
    accounts: ACCOUNTS,
    yaml: `${BASE.replace('zones: {}\n', '')}\nmetrics: { disable: [ktcloud_lb_service_type_count, ktcloud_server_avg_ttfb_ms] }`,
    schedule: false,
    reloadFromFile: true,
  });
});
afterAll(() => s.close());

/** Server-list requests the simulator saw for an account since the last reset. */
async function serverListRequests(account: string): Promise<number> {
  return ((await s.sim.stats({ account, command: 'listLoadBalancerWebServers' })) as { matching: number }).matching;
}

/** Runs one collection of every account and scrapes once the exposition shows it. */
async function collectAndScrape(): Promise<Sample[]> {
  const before = (await scrape(s.url)).filter((x) => x.name === 'ktcloud_lb_atomic_updates_total' || x.name === 'ktcloud_account_collection_errors_total').reduce((n, x) => n + x.value, 0);
  await s.app.scheduler.collectAll();
  return eventually(async () => {
    const samples = await scrape(s.url);
    const after = samples.filter((x) => x.name === 'ktcloud_lb_atomic_updates_total' || x.name === 'ktcloud_account_collection_errors_total').reduce((n, x) => n + x.value, 0);
    return after >= before + 3 ? samples : undefined;
  }, 15_000, 'the collection in /metrics');
}

async function reloadWith(metrics: string): Promise<void> {
  writeFileSync(s.configFile, exporterYaml(s.sim, ACCOUNTS, `${BASE.replace('zones: {}\n', '')}\nmetrics: ${metrics}`));
  const outcome = await s.app.reload('test');
  expect(outcome.ok, outcome.error).toBe(true);
}

const names = (samples: Sample[], account: string) => only(samples, 'ktcloud_lb_info', { account }).map((x) => x.labels.lb_name).sort();

describe('load balancer filters, families off and the series cap', () => {
  let samples: Sample[];
  beforeAll(async () => {
    await s.sim.resetStats();
    samples = await collectAndScrape();
  });

  it('exports only the LBs the filters keep, counts the rest, and never asks for their server lists', async () => {
    expect(names(samples, 'shop')).toEqual(['web-1', 'web-2']);
    expect(names(samples, 'other')).toEqual(['app-1']);
    expect(only(samples, 'ktcloud_lb_total_count', { account: 'shop' })[0]!.value).toBe(2);
    expect(only(samples, 'ktcloud_lb_total_count', { account: 'other' })[0]!.value).toBe(1);
    expect(only(samples, 'ktcloud_account_lbs_filtered', { account: 'shop', zone: 'DX-M1' })[0]!.value).toBe(2);
    expect(only(samples, 'ktcloud_account_lbs_filtered', { account: 'other', zone: 'DX-M1' })[0]!.value).toBe(1);
    expect(await serverListRequests('shop@example.com')).toBe(2);
    expect(await serverListRequests('other@example.com')).toBe(1);
    expect(only(samples, 'ktcloud_lb_server_state', { account: 'shop' }).map((x) => x.labels.server_ip).sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('leaves disabled families out and keeps the others', () => {
    expect(only(samples, 'ktcloud_lb_service_type_count')).toEqual([]);
    expect(only(samples, 'ktcloud_server_avg_ttfb_ms')).toEqual([]);
    expect(only(samples, 'ktcloud_server_current_connections', { account: 'shop' })).toHaveLength(3);
    expect(only(samples, 'ktcloud_lb_server_count', { account: 'shop' })).toHaveLength(2);
  });

  it('drops the LB series of the one account over limits.maxSeries and marks it too_many_series; the others are untouched', () => {
    expect(samples.filter((x) => LB_FAMILY.test(x.name) && x.labels.account === 'big')).toEqual([]);
    expect(only(samples, 'ktcloud_account_up', { account: 'big' })[0]!.value).toBe(0);
    expect(only(samples, 'ktcloud_account_collection_errors_total', { account: 'big', reason: 'too_many_series' })[0]!.value).toBe(1);
    expect(only(samples, 'ktcloud_account_series', { account: 'big' })[0]!.value).toBe(0);
    expect(s.app.store.get('big', 'DX-G')!.lastError!.message).toMatch(/made 85 LB series in all its zones, more than limits\.maxSeries \(20\)/);
    for (const account of ['shop', 'other']) {
      expect(only(samples, 'ktcloud_account_up', { account })[0]!.value).toBe(1);
      expect(only(samples, 'ktcloud_account_collection_errors_total', { account, reason: 'too_many_series' })[0]!.value).toBe(0);
      // ktcloud_account_series is what the account really has in /metrics.
      expect(only(samples, 'ktcloud_account_series', { account })[0]!.value).toBe(samples.filter((x) => LB_FAMILY.test(x.name) && x.labels.account === account).length);
    }
  });

  it('shows each zone\'s request budget, and the requests sent per zone are the sum of ktcloud_api_requests_total', async () => {
    expect(only(samples, 'ktcloud_api_zone_requests_per_second_limit').map((x) => [x.labels.zone, x.value]).sort()).toEqual([['DX-G', 40], ['DX-M1', 40]]);
    const stats = (await s.sim.stats()) as { byZone: Record<string, number> };
    for (const zone of ['DX-M1', 'DX-G']) expect(only(samples, 'ktcloud_api_requests_total', { zone }).reduce((n, x) => n + x.value, 0), zone).toBe(stats.byZone[zone]);
  });
});

describe('server lists and the serverMetrics shortcut', () => {
  it('serverMetrics: false drops the per-server families but keeps server_count, so lists are still fetched', async () => {
    await reloadWith('{ serverMetrics: false }');
    await s.sim.resetStats();
    const samples = await collectAndScrape();
    for (const name of ['ktcloud_lb_server_state', 'ktcloud_server_current_connections', 'ktcloud_server_throughput_rate_kbps', 'ktcloud_server_avg_ttfb_ms', 'ktcloud_server_requests_rate_per_sec']) expect(only(samples, name), name).toEqual([]);
    expect(only(samples, 'ktcloud_lb_server_count', { account: 'shop' }).map((x) => x.value).sort()).toEqual([1, 2]);
    expect(await serverListRequests('shop@example.com')).toBe(2);
    // 1 total + 6 info + 6 server_count + a few service types: under the cap now, and exported again.
    expect(only(samples, 'ktcloud_account_up', { account: 'big' })[0]!.value).toBe(1);
    const big = samples.filter((x) => LB_FAMILY.test(x.name) && x.labels.account === 'big').length;
    expect(big).toBeGreaterThanOrEqual(14);
    expect(only(samples, 'ktcloud_account_series', { account: 'big' })[0]!.value).toBe(big);
  });

  it('with server_count off too, no server list is asked for at all', async () => {
    await reloadWith('{ serverMetrics: false, disable: [ktcloud_lb_server_count] }');
    await s.sim.resetStats();
    const samples = await collectAndScrape();
    const stats = (await s.sim.stats()) as { byCommand: Record<string, number> };
    expect(stats.byCommand.listLoadBalancers).toBe(3);
    expect(stats.byCommand.listLoadBalancerWebServers ?? 0).toBe(0);
    expect(only(samples, 'ktcloud_lb_server_count')).toEqual([]);
    expect(names(samples, 'shop')).toEqual(['web-1', 'web-2']);
    expect(only(samples, 'ktcloud_lb_total_count', { account: 'big' })[0]!.value).toBe(6);
  });
});
