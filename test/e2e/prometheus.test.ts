/**
 * End to end with a real Prometheus: the simulator (5 accounts over 5 zones, one with a wrong
 * password) in its own process, the exporter as 3 shards, and Prometheus scraping them with the
 * shipped alert rules (their `for:` shortened). Everything is asserted through Prometheus's HTTP
 * API: scrape health, sharding, per-account values against the simulator's data, every PromQL
 * expression of the original and of our dashboard, the alerts, and a server going DOWN.
 *
 * A second Prometheus scrapes the same shards with metric_relabel_configs that rename a metric and
 * drop two labels, to prove the dashboard check fails when the exporter's output changes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { SimulatorConfig } from '@ktcloud-lb-exporter/simulator';
import { ownersOf } from '../../src/shard.js';
import { eventually, exporterYaml, type TestAccount } from '../support/harness.js';
import { checkMetrics } from '../support/promtool.js';
import { SimProcess } from '../support/sim-process.js';
import { requireTool } from '../support/tools.js';
import { checkDashboard, panelQueries, variableQueries, type Dashboard } from './dashboard-check.js';
import { ManagedProcess, removeTempDir, ROOT, startExporterShard, trackTempDir } from './processes.js';
import { Prometheus, type Alert, type Series } from './prometheus.js';

/** A copy of ../shared/reference/original-dashboard-account-all.json (the dashboard users run today), kept in the repository so the suite does not depend on what lies beside the clone; test/dashboard-copy.test.ts checks they are identical. */
const ORIGINAL_DASHBOARD = join(ROOT, 'test/fixtures/original-dashboard-account-all.json');
const OUR_DASHBOARD = join(ROOT, 'dashboards/ktcloud-lb-accounts.json');
const RULES_FILE = join(ROOT, 'k8s-manifests/rules/ktcloud-lb-alerts.yaml');

const TOTAL_SHARDS = 3;
const INTERVAL_MS = 2000; // exporter `interval`
const SCRAPE_MS = 1000; // Prometheus scrape_interval and evaluation_interval
const TEST_FOR = '2s'; // every rule's `for:` in the test copy
const JOB = 'ktcloud-lb'; // the job name the shipped rules expect (ServiceMonitor jobLabel k8s-app=ktcloud-lb)
const NAMESPACE = 'ktcloud-e2e';
const pod = (shard: number) => `ktcloud-lb-exporter-${shard}`;

// ---------- the KT Cloud the exporter sees ----------

const SIM: SimulatorConfig = {
  seed: 3,
  accounts: [
    {
      id: 'shop@example.com',
      password: 'pw-shop',
      zones: {
        // Explicit data: an LB with busy servers (one DOWN), an LB without servers, an LB DOWN.
        'DX-M1': {
          loadBalancers: [
            {
              name: 'shop-frontend',
              servicetype: 'HTTP',
              serviceport: 80,
              state: 'UP',
              servers: [
                { ipaddress: '172.25.0.10', publicport: 80, state: 'UP', cursrvrconnections: 15, throughputrate: 10, avgsvrttfb: 12, requestsrate: 30 },
                { ipaddress: '172.25.0.11', publicport: 80, state: 'UP', cursrvrconnections: 7, throughputrate: 5, avgsvrttfb: 9, requestsrate: 12 },
                { ipaddress: '172.25.0.12', publicport: 80, state: 'DOWN', cursrvrconnections: 0, throughputrate: 0, avgsvrttfb: 0, requestsrate: 0 },
              ],
            },
            { name: '결제 API', servicetype: 'HTTPS', serviceport: 443, state: 'UP', servers: [] },
            { name: 'shop-legacy', servicetype: 'TCP', serviceport: 8080, state: 'DOWN', servers: [{ ipaddress: '172.25.0.20', publicport: 8080, state: 'DOWN' }] },
          ],
        },
        'DX-Central': { lbs: 3, serversPerLb: 2 },
      },
    },
    { id: 'analytics@example.com', password: 'pw-analytics', faults: { numbersAsStrings: true }, zones: { 'DX-G': { lbs: 4, serversPerLb: 2 } } },
    { id: 'media@example.com', password: 'pw-media', zones: { 'DX-DCN-CJ': { lbs: 3, serversPerLb: 2 } } },
    { id: 'gov@example.com', password: 'pw-gov', zones: { 'DX-G-YS': { lbs: 2, serversPerLb: 3 }, 'DX-G': { lbs: 0 } } },
    { id: 'legacy@example.com', password: 'pw-legacy', zones: { 'DX-Central': { lbs: 2, serversPerLb: 2 } } },
  ],
};

const FAILING = 'legacy';
const ACCOUNTS: TestAccount[] = [
  { name: 'shop', zones: ['DX-M1', 'DX-Central'], id: 'shop@example.com', password: 'pw-shop' },
  { name: 'analytics', zones: ['DX-G'], id: 'analytics@example.com', password: 'pw-analytics' },
  { name: 'media', zones: ['DX-DCN-CJ'], id: 'media@example.com', password: 'pw-media' },
  { name: 'gov-project', zones: ['DX-G-YS', 'DX-G'], id: 'gov@example.com', password: 'pw-gov' },
  // The exporter has an old password: every collection of this account fails with `auth`.
  { name: FAILING, zones: ['DX-Central'], id: 'legacy@example.com', password: 'rotated-away' },
];
const HEALTHY = ACCOUNTS.filter((a) => a.name !== FAILING);
const ownerOf = (account: string) => ownersOf(account, TOTAL_SHARDS, 1)[0]!;

const EXPORTER_EXTRA = [
  `interval: ${INTERVAL_MS / 1000}s`,
  `timeout: ${INTERVAL_MS / 1000}s`,
  'spread: false',
  'workers: 1',
  // The default 5 requests/s per account would make a two-zone account take ~2 s per collection.
  'limits: { requestsPerSecond: 500, zoneRequestsPerSecond: 1000, concurrency: 8 }',
].join('\n');

// ---------- what the simulator holds ----------

interface SimServerData {
  ipaddress: string;
  publicport: number;
  state: string;
  cursrvrconnections: number;
}
interface SimLbData {
  loadbalancerid: number;
  name: string;
  state: string;
  servicetype: string;
  serviceport: number;
  servers: SimServerData[];
}
type SimData = { accounts: Array<{ id: string; zones: Record<string, { loadBalancers: SimLbData[] } | undefined> }> };

/** The simulator's LBs of each exporter account and zone. */
async function simLbs(sim: SimProcess): Promise<{ account: string; zone: string; lbs: SimLbData[] }[]> {
  const data = (await sim.data()) as unknown as SimData;
  return ACCOUNTS.flatMap((a) => {
    const acc = data.accounts.find((x) => x.id === a.id);
    if (!acc) throw new Error(`simulator has no account ${a.id}`);
    return a.zones.map((zone) => ({ account: a.name, zone, lbs: acc.zones[zone]?.loadBalancers ?? [] }));
  });
}

const byKey = (series: readonly Series[], key: (m: Record<string, string>) => string): Record<string, number> =>
  Object.fromEntries(series.map((s) => [key(s.metric), s.value]));

// ---------- the alert rules, `for:` shortened by YAML transformation of the shipped file ----------

interface RuleGroup {
  name: string;
  rules: { alert?: string; record?: string; expr: string; for?: string }[];
}
const shippedGroups = (): RuleGroup[] => (parse(readFileSync(RULES_FILE, 'utf8')) as { groups: RuleGroup[] }).groups;
const shippedExpr = (alert: string): string => shippedGroups().flatMap((g) => g.rules).find((r) => r.alert === alert)!.expr;
function testRules(): string {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: RuleGroup[] };
  for (const g of doc.groups) for (const r of g.rules) if (r.for !== undefined) r.for = TEST_FOR;
  return stringify(doc);
}

// ---------- tools ----------

let tools: { prometheus: string; promtool: string } | undefined;
let toolError: Error | undefined;
try {
  const prometheus = requireTool('prometheus', 'end-to-end tests with a real Prometheus');
  const promtool = requireTool('promtool', 'promtool check metrics on the live /metrics');
  if (prometheus && promtool) tools = { prometheus, promtool };
} catch (err) {
  toolError = err as Error;
}

if (toolError) {
  describe('end to end with a real Prometheus', () => {
    it('has prometheus and promtool', () => {
      throw toolError;
    });
  });
} else {
  const title = 'end to end with a real Prometheus';
  (tools ? describe : describe.skip)(tools ? title : `${title} [skipped: prometheus or promtool not on PATH]`, () => {
    const bin = tools!;
    let sim: SimProcess | undefined;
    const shards: { url: string; proc: ManagedProcess }[] = [];
    let prom: Prometheus;
    let doctored: Prometheus;
    const started: { close(): Promise<void> }[] = [];
    let configDir: string | undefined;
    let simDir: string | undefined;
    let simProc: ManagedProcess | undefined;

    beforeAll(async () => {
      sim = await SimProcess.start(SIM);
      // Adopt the simulator's process so that the suite's signal handlers kill it too.
      const simChild = sim.child;
      if (simChild) {
        simProc = new ManagedProcess('simulator', simChild);
        const cfg = simChild.spawnargs[simChild.spawnargs.indexOf('--config') + 1];
        if (cfg && basename(dirname(cfg)).startsWith('ktcloud-sim-')) simDir = trackTempDir(dirname(cfg));
      }

      configDir = trackTempDir(mkdtempSync(join(tmpdir(), 'ktcloud-e2e-exporter-')));
      const configFile = join(configDir, 'accounts.yaml');
      writeFileSync(configFile, exporterYaml(sim, ACCOUNTS, EXPORTER_EXTRA));
      const results = await Promise.allSettled(Array.from({ length: TOTAL_SHARDS }, (_, shard) => startExporterShard({ config: configFile, shard, totalShards: TOTAL_SHARDS })));
      for (const r of results) if (r.status === 'fulfilled') shards.push(r.value);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;

      const targets = shards.map((s, i) => ({ targets: [new URL(s.url).host], labels: { namespace: NAMESPACE, pod: pod(i) } }));
      const global = { scrape_interval: `${SCRAPE_MS / 1000}s`, scrape_timeout: `${SCRAPE_MS / 1000}s`, evaluation_interval: `${SCRAPE_MS / 1000}s` };
      const [main, doc] = await Promise.allSettled([
        Prometheus.start({
          binary: bin.prometheus,
          name: 'prometheus',
          files: { 'ktcloud-lb-alerts.yaml': testRules() },
          config: (self) => ({
            global,
            rule_files: ['ktcloud-lb-alerts.yaml'],
            scrape_configs: [
              { job_name: JOB, static_configs: targets },
              // Prometheus's own metrics: the scrape sample-error counters.
              { job_name: 'prometheus', static_configs: [{ targets: [self] }] },
            ],
          }),
        }),
        Prometheus.start({
          binary: bin.prometheus,
          name: 'doctored prometheus',
          config: () => ({
            global,
            scrape_configs: [
              {
                job_name: JOB,
                static_configs: targets,
                // What a careless exporter change would look like to Prometheus.
                metric_relabel_configs: [
                  // a metric of the original dashboard renamed
                  { source_labels: ['__name__'], regex: 'ktcloud_server_avg_ttfb_ms', target_label: '__name__', replacement: 'ktcloud_server_ttfb_milliseconds' },
                  // a table column of the original dashboard dropped (an empty value removes the label)
                  { source_labels: ['__name__'], regex: 'ktcloud_lb_info', target_label: 'service_type', replacement: '' },
                  // a label used in a legend and a matcher dropped
                  { source_labels: ['__name__'], regex: 'ktcloud_lb_server_count', target_label: 'lb_name', replacement: '' },
                ],
              },
            ],
          }),
        }),
      ]);
      for (const r of [main, doc]) if (r.status === 'fulfilled') started.push(r.value);
      if (main.status === 'rejected') throw main.reason;
      if (doc.status === 'rejected') throw doc.reason;
      prom = main.value;
      doctored = doc.value;

      // Ready: every target up, every account-zone reported with its expected state, and at least
      // two samples of each (rate() over $__rate_interval needs two).
      const accountZones = ACCOUNTS.reduce((n, a) => n + a.zones.length, 0);
      for (const p of [prom, doctored]) {
        await eventually(
          async () => {
            if ((await p.query(`up{job="${JOB}"} == 1`)).length !== TOTAL_SHARDS) return undefined;
            const ups = await p.query('ktcloud_account_up');
            const wanted = ups.filter((s) => s.value === (s.metric.account === FAILING ? 0 : 1));
            if (wanted.length !== accountZones || ups.length !== accountZones) return undefined;
            return (await p.query(`count(count_over_time(ktcloud_account_up[4s]) >= 2) == ${accountZones}`)).length === 1 || undefined;
          },
          40_000,
          `${p === prom ? 'prometheus' : 'doctored prometheus'} to see every shard and account`,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\nprometheus log:\n${p.log}\nexporter logs:\n${shards.map((s) => s.proc.output.slice(-2000)).join('\n')}`);
        });
      }
    }, 90_000);

    afterAll(async () => {
      const stops = [...started.map((p) => p.close()), ...shards.map((s) => s.proc.stop(8000)), ...(simProc ? [simProc.stop(5000)] : sim ? [sim.close()] : [])];
      const results = await Promise.allSettled(stops);
      for (const dir of [configDir, simDir]) if (dir) removeTempDir(dir);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }, 30_000);

    it('scrapes every shard: up is 1, no sample errors, samples scraped', async () => {
      const up = await prom.query(`up{job="${JOB}"}`);
      expect(up.map((s) => [s.metric.pod, s.value]).sort()).toEqual(shards.map((_, i) => [pod(i), 1]));
      for (const t of (await prom.targets()).filter((t) => t.scrapePool === JOB)) {
        expect(t.health, `${t.labels.pod}: ${t.lastError}`).toBe('up');
        expect(t.lastError).toBe('');
      }
      for (const counter of [
        'prometheus_target_scrapes_sample_out_of_order_total',
        'prometheus_target_scrapes_sample_duplicate_timestamp_total',
        'prometheus_target_scrapes_sample_out_of_bounds_total',
        'prometheus_target_scrapes_exceeded_sample_limit_total',
      ]) {
        expect(await prom.value(counter), counter).toBe(0);
      }
      const scraped = await prom.query(`scrape_samples_scraped{job="${JOB}"}`);
      expect(scraped).toHaveLength(TOTAL_SHARDS);
      for (const s of scraped) expect(s.value, s.metric.pod).toBeGreaterThan(0);
      // Nothing dropped on the way in.
      expect(await prom.query(`scrape_samples_post_metric_relabeling{job="${JOB}"} != ignoring() scrape_samples_scraped{job="${JOB}"}`)).toEqual([]);
    });

    it('passes promtool check metrics on every shard’s live /metrics', async () => {
      for (const [i, s] of shards.entries()) {
        const res = await fetch(`${s.url}/metrics`);
        expect(res.status).toBe(200);
        const report = checkMetrics(bin.promtool, await res.text());
        expect(report.problems, `shard ${i}`).toEqual([]);
      }
    });

    it('exports each account from the shard that owns it, and from no other', async () => {
      for (let i = 0; i < TOTAL_SHARDS; i++) expect(ACCOUNTS.some((a) => ownerOf(a.name) === i), `shard ${i} owns no test account: rename one`).toBe(true);
      const ups = await prom.query('ktcloud_account_up');
      expect(ups.map((s) => `${s.metric.account}/${s.metric.zone}@${s.metric.pod}`).sort()).toEqual(
        ACCOUNTS.flatMap((a) => a.zones.map((z) => `${a.name}/${z}@${pod(ownerOf(a.name))}`)).sort(),
      );
      const info = await prom.query('ktcloud_exporter_shard_info');
      expect(info.map((s) => [s.metric.pod, s.metric.shard, s.metric.total_shards, s.value]).sort()).toEqual(
        shards.map((_, i) => [pod(i), String(i), String(TOTAL_SHARDS), 1]),
      );
      const owned = byKey(await prom.query('ktcloud_exporter_owned_accounts'), (m) => m.pod!);
      expect(owned).toEqual(Object.fromEntries(shards.map((_, i) => [pod(i), ACCOUNTS.filter((a) => ownerOf(a.name) === i).length])));
      // Every shard reports the whole configuration's account count, and with every shard up the
      // shipped unowned-accounts expression finds no gap.
      const configured = byKey(await prom.query('ktcloud_exporter_configured_accounts'), (m) => m.pod!);
      expect(configured).toEqual(Object.fromEntries(shards.map((_, i) => [pod(i), ACCOUNTS.length])));
      expect(await prom.query(shippedExpr('KtcloudLbExporterAccountsUnowned'))).toEqual([]);
      // No LB series of an account on a shard that does not own it.
      const misplaced = (await prom.query('ktcloud_lb_info')).filter((s) => s.metric.pod !== pod(ownerOf(s.metric.account!)));
      expect(misplaced).toEqual([]);
    });

    it('matches what the simulator holds, account by account', async () => {
      const sims = await simLbs(sim!);
      const healthy = sims.filter((x) => x.account !== FAILING);
      const expected = {
        total: Object.fromEntries(healthy.map((x) => [`${x.account}/${x.zone}`, x.lbs.length])),
        info: Object.fromEntries(healthy.flatMap((x) => x.lbs.map((lb) => [`${x.account}/${x.zone}/${lb.loadbalancerid}/${lb.name}/${lb.servicetype}/${lb.serviceport}`, lb.state === 'UP' ? 1 : 0]))),
        serverCount: Object.fromEntries(healthy.flatMap((x) => x.lbs.map((lb) => [`${x.account}/${x.zone}/${lb.loadbalancerid}`, lb.servers.length]))),
        serverState: Object.fromEntries(healthy.flatMap((x) => x.lbs.flatMap((lb) => lb.servers.map((s) => [`${x.account}/${x.zone}/${lb.loadbalancerid}/${s.ipaddress}:${s.publicport}`, s.state === 'UP' ? 1 : 0])))),
        connections: Object.fromEntries(healthy.flatMap((x) => x.lbs.flatMap((lb) => lb.servers.map((s) => [`${x.account}/${x.zone}/${lb.loadbalancerid}/${s.ipaddress}:${s.publicport}`, s.cursrvrconnections])))),
      };
      // Sanity of the test data: something DOWN, and busy servers.
      expect(Object.values(expected.info)).toContain(0);
      expect(Object.values(expected.serverState)).toContain(0);
      expect(Math.max(...Object.values(expected.connections))).toBeGreaterThan(0);

      const az = (m: Record<string, string>) => `${m.account}/${m.zone}`;
      const server = (m: Record<string, string>) => `${az(m)}/${m.lb_id}/${m.server_ip}:${m.server_port}`;
      expect(byKey(await prom.query('ktcloud_lb_total_count'), az)).toEqual(expected.total);
      expect(byKey(await prom.query('ktcloud_lb_info'), (m) => `${az(m)}/${m.lb_id}/${m.lb_name}/${m.service_type}/${m.service_port}`)).toEqual(expected.info);
      expect(byKey(await prom.query('ktcloud_lb_server_count'), (m) => `${az(m)}/${m.lb_id}`)).toEqual(expected.serverCount);
      expect(byKey(await prom.query('ktcloud_lb_server_state'), server)).toEqual(expected.serverState);
      expect(byKey(await prom.query('ktcloud_server_current_connections'), server)).toEqual(expected.connections);
      for (const a of HEALTHY) {
        const lbs = sims.filter((x) => x.account === a.name).reduce((n, x) => n + x.lbs.length, 0);
        expect(await prom.value(`sum(ktcloud_lb_total_count{account="${a.name}"})`), a.name).toBe(lbs);
      }
      // The failing account: down, counted as an auth error, and no LB series.
      expect(byKey(await prom.query(`ktcloud_account_up{account="${FAILING}"}`), az)).toEqual({ [`${FAILING}/DX-Central`]: 0 });
      expect(await prom.value(`ktcloud_account_collection_errors_total{account="${FAILING}", reason="auth"}`)).toBeGreaterThan(0);
      expect(await prom.query(`{__name__=~"ktcloud_lb_info|ktcloud_lb_server_state|ktcloud_lb_total_count", account="${FAILING}"}`)).toEqual([]);
    });

    /** Real values for the dashboards' variables, taken from Prometheus: an LB whose servers have connections. */
    async function dashboardValues(): Promise<{ real: Record<string, string>; all: Record<string, string> }> {
      const busy = (await prom.query('ktcloud_server_current_connections > 0')).map((s) => s.metric);
      busy.sort((a, b) => `${a.account}/${a.zone}/${a.lb_name}`.localeCompare(`${b.account}/${b.zone}/${b.lb_name}`));
      const lb = busy[0];
      if (!lb) throw new Error('no LB has a server with connections > 0: fix the simulator data');
      const real = { namespace: NAMESPACE, account: lb.account!, zone: lb.zone!, lb_name: lb.lb_name!, selected_lb: lb.lb_name! };
      // Grafana's "All" (allValue .*) for every variable that has it; the detail LB stays one LB.
      const all = { namespace: '.*', account: '.*', zone: '.*', lb_name: '.*', selected_lb: lb.lb_name! };
      return { real, all };
    }

    const loadDashboard = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Dashboard;

    it.each([
      ['the original dashboard (shared/reference)', ORIGINAL_DASHBOARD],
      ['our dashboard (dashboards/ktcloud-lb-accounts.json)', OUR_DASHBOARD],
    ])('answers every PromQL expression of %s with data and the labels it shows', async (_, file) => {
      const d = loadDashboard(file);
      expect(panelQueries(d).length).toBeGreaterThan(5);
      expect(variableQueries(d).length).toBeGreaterThan(0);
      const { real, all } = await dashboardValues();
      expect(await checkDashboard(prom, d, real), `variables ${JSON.stringify(real)}`).toEqual([]);
      expect(await checkDashboard(prom, d, all), `variables ${JSON.stringify(all)}`).toEqual([]);
    });

    it('reports a renamed metric and a dropped label of the original dashboard (doctored Prometheus)', async () => {
      const d = loadDashboard(ORIGINAL_DASHBOARD);
      const { real, all } = await dashboardValues();
      const panelsIn = (findings: string[]) => [...new Set(findings.map((f) => Number(/^panel (\d+) /.exec(f)?.[1])))].sort((a, b) => a - b);
      // The checker is precise: the same dashboard is clean on the honest Prometheus...
      expect(await checkDashboard(prom, d, real)).toEqual([]);
      for (const values of [real, all]) {
        const findings = await checkDashboard(doctored, d, values);
        // ...and on the doctored one it flags exactly the three panels that lost something.
        expect(panelsIn(findings), findings.join('\n')).toEqual([6, 7, 21]);
        expect(findings.find((f) => f.startsWith('panel 21 '))).toMatch(/ktcloud_server_avg_ttfb_ms.*no series/);
        expect(findings.find((f) => f.startsWith('panel 7 '))).toMatch(/lack label "service_type"/);
        expect(findings.find((f) => f.startsWith('panel 6 '))).toMatch(values === real ? /\{lb_name=~"[^"]+"\}: no series/ : /lack label "lb_name"/);
      }
      expect(await checkDashboard(doctored, loadDashboard(OUR_DASHBOARD), real)).not.toEqual([]);
    });

    it('loads the shipped alert rules and fires the account alert for the failing account only', async () => {
      const groups = await prom.rules();
      const shipped = shippedGroups();
      // Every shipped group and rule loaded (Prometheus lists groups in its own order).
      const names = (gs: { name: string; rules: { name: string }[] }[]) => Object.fromEntries(gs.map((g) => [g.name, g.rules.map((r) => r.name)]));
      expect(names(groups)).toEqual(names(shipped.map((g) => ({ name: g.name, rules: g.rules.map((r) => ({ name: (r.alert ?? r.record)! })) }))));
      for (const r of groups.flatMap((g) => g.rules)) {
        expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');
        expect(r.lastError ?? '', r.name).toBe('');
        if (r.type === 'alerting') expect(r.duration, r.name).toBe(Number.parseFloat(TEST_FOR));
      }

      const sims = (await simLbs(sim!)).filter((x) => x.account !== FAILING);
      const downLbs = sims.flatMap((x) => x.lbs.filter((lb) => lb.state !== 'UP').map((lb) => `${x.account}/${x.zone}/${lb.loadbalancerid}`)).sort();
      const downServers = sims.flatMap((x) => x.lbs.flatMap((lb) => lb.servers.filter((s) => s.state !== 'UP').map((s) => `${x.account}/${x.zone}/${lb.loadbalancerid}/${s.ipaddress}`))).sort();
      const named = (alerts: Alert[], name: string) => alerts.filter((a) => a.labels.alertname === name);

      const alerts = await eventually(
        async () => {
          const a = await prom.alerts();
          const failing = named(a, 'KtcloudAccountCollectionFailing');
          if (failing.length === 0 || !failing.every((x) => x.state === 'firing')) return undefined;
          if (named(a, 'KtcloudLbDown').filter((x) => x.state === 'firing').length < downLbs.length) return undefined;
          if (named(a, 'KtcloudLbServerDown').filter((x) => x.state === 'firing').length < downServers.length) return undefined;
          return a;
        },
        20_000,
        'the account, LB and server alerts to fire',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nprometheus log:\n${prom.log}`);
      });
      // Pending or firing, the account alert concerns the failing account only.
      expect(named(alerts, 'KtcloudAccountCollectionFailing').map((a) => `${a.labels.account}/${a.labels.zone}/${a.state}/${a.labels.severity}`)).toEqual([`${FAILING}/DX-Central/firing/critical`]);
      expect(named(alerts, 'KtcloudAccountCollectionFailing')[0]!.annotations.summary).toContain(FAILING);
      // The load balancers and servers DOWN in the simulator, and only those.
      expect(named(alerts, 'KtcloudLbDown').map((a) => `${a.labels.account}/${a.labels.zone}/${a.labels.lb_id}`).sort()).toEqual(downLbs);
      expect(named(alerts, 'KtcloudLbServerDown').map((a) => `${a.labels.account}/${a.labels.zone}/${a.labels.lb_id}/${a.labels.server_ip}`).sort()).toEqual(downServers);
      // All shards report, none is down, the config loaded, nothing is partial or stale.
      expect([...new Set(alerts.map((a) => a.labels.alertname))].sort()).toEqual(['KtcloudAccountCollectionFailing', 'KtcloudLbDown', 'KtcloudLbServerDown']);
    }, 40_000);

    it('shows a server set DOWN in the simulator as 0 within two intervals', async () => {
      const shop = ACCOUNTS.find((a) => a.name === 'shop')!;
      const lb = (await simLbs(sim!)).find((x) => x.account === 'shop' && x.zone === 'DX-M1')!.lbs.find((l) => l.name === 'shop-frontend')!;
      const ip = '172.25.0.11';
      const selector = `ktcloud_lb_server_state{account="shop", zone="DX-M1", lb_id="${lb.loadbalancerid}", server_ip="${ip}"}`;
      expect(await prom.value(selector)).toBe(1);
      const before = byKey(await prom.query('ktcloud_lb_server_state'), (m) => `${m.account}/${m.zone}/${m.lb_id}/${m.server_ip}`);

      const t0 = Date.now();
      await sim!.setServerState(shop.id, 'DX-M1', lb.loadbalancerid, ip, 'DOWN');
      await eventually(async () => ((await prom.value(selector)) === 0 ? true : undefined), 2 * INTERVAL_MS + 5000, `${selector} to become 0`);
      const elapsed = Date.now() - t0;
      expect(elapsed, `${selector} took ${elapsed} ms to become 0`).toBeLessThanOrEqual(2 * INTERVAL_MS);

      // Only that server changed.
      const after = byKey(await prom.query('ktcloud_lb_server_state'), (m) => `${m.account}/${m.zone}/${m.lb_id}/${m.server_ip}`);
      expect(after).toEqual({ ...before, [`shop/DX-M1/${lb.loadbalancerid}/${ip}`]: 0 });
      // And its alert follows.
      await eventually(
        async () => (await prom.alerts()).find((a) => a.labels.alertname === 'KtcloudLbServerDown' && a.labels.server_ip === ip && a.labels.account === 'shop'),
        10_000,
        `KtcloudLbServerDown for ${ip}`,
      );
    }, 40_000);

    it('fires KtcloudLbExporterDown, ShardMissing and AccountsUnowned (with the victim\'s account count) when a shard stops', async () => {
      const victim = TOTAL_SHARDS - 1;
      // 2 pods left of --total-shards 3: the accounts only the victim owned are collected by no one.
      const unowned = ACCOUNTS.filter((a) => ownerOf(a.name) === victim).length;
      expect(unowned).toBeGreaterThan(0);
      await shards[victim]!.proc.stop(8000);
      const alerts = await eventually(
        async () => {
          const a = (await prom.alerts()).filter((x) => x.state === 'firing');
          const down = a.filter((x) => x.labels.alertname === 'KtcloudLbExporterDown');
          const missing = a.filter((x) => x.labels.alertname === 'KtcloudLbExporterShardMissing');
          const gap = a.filter((x) => x.labels.alertname === 'KtcloudLbExporterAccountsUnowned');
          return down.length > 0 && missing.length > 0 && gap.length > 0 ? { down, missing, gap } : undefined;
        },
        20_000,
        'the shard alerts to fire',
      );
      expect(alerts.down.map((a) => a.labels.pod)).toEqual([pod(victim)]);
      // Its value is the number of shards still reporting.
      expect(alerts.missing.map((a) => [a.labels.namespace, a.labels.total_shards, Number(a.value)])).toEqual([[NAMESPACE, String(TOTAL_SHARDS), TOTAL_SHARDS - 1]]);
      // The unowned-accounts alert and its expression both say how many accounts went dark.
      expect(alerts.gap.map((a) => [a.labels.namespace, Number(a.value), a.labels.severity])).toEqual([[NAMESPACE, unowned, 'critical']]);
      expect(alerts.gap[0]!.annotations.summary).toContain(`${unowned} configured KT Cloud accounts`);
      const expr = await prom.query(shippedExpr('KtcloudLbExporterAccountsUnowned'));
      expect(expr.map((x) => x.value)).toEqual([unowned]);
      // No replica claims another's shard index.
      expect((await prom.alerts()).filter((x) => x.labels.alertname === 'KtcloudLbExporterShardDuplicated')).toEqual([]);
    }, 40_000);
  });
}
