/**
 * One scrape target per account, end to end: the simulator in its own process, the exporter as 2
 * shards, and a real Prometheus whose only source of targets is each replica's /sd
 * (http_sd_configs). Asserted through Prometheus's HTTP API: one healthy target per account with
 * its `account` label, values equal to the simulator's, and the replica-wide families left out of
 * the per-account bodies. It also pins down what Prometheus does with the target label `account`
 * and the series' own (equal) `account`: with honor_labels false it still renames the series'
 * one to `exported_account` on every series (a copy of the same value), which is why the
 * recommended scrape config says honor_labels: true.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exporterYaml, type TestAccount } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';
import { requireTool } from '../support/tools.js';
import { removeTempDir, startExporterShard, trackTempDir, type ManagedProcess } from './processes.js';
import { Prometheus } from './prometheus.js';

const JOB = 'ktcloud-accounts';
/** The same targets with honor_labels false (the default). */
const JOB_DISHONOURED = 'ktcloud-accounts-honor-false';
const TOTAL_SHARDS = 2;

const ACCOUNTS: TestAccount[] = [
  { name: 'shop', zones: ['DX-M1', 'DX-G'], id: 'shop@example.com', password: 'pw-shop' },
  { name: 'media', zones: ['DX-G'], id: 'media@example.com', password: 'pw-media' },
  { name: 'gov', zones: ['DX-M1'], id: 'gov@example.com', password: 'pw-gov' },
  { name: 'legacy', zones: ['DX-G'], id: 'legacy@example.com', password: 'rotated-away' },
];
/** The simulator's load balancers per account (summed over zones). */
const LBS: Record<string, number> = { shop: 5, media: 4, gov: 2 };

const prometheusBin = requireTool('prometheus', 'a real Prometheus discovering targets through /sd');

(prometheusBin ? describe : describe.skip)('Prometheus discovers one target per account through /sd', () => {
  let sim: SimProcess | undefined;
  const exporters: { url: string; proc: ManagedProcess }[] = [];
  let prom: Prometheus | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    sim = await SimProcess.start({
      seed: 9,
      accounts: [
        { id: 'shop@example.com', password: 'pw-shop', zones: { 'DX-M1': { lbs: 3, serversPerLb: 2 }, 'DX-G': { lbs: 2, serversPerLb: 1 } } },
        { id: 'media@example.com', password: 'pw-media', zones: { 'DX-G': { lbs: 4, serversPerLb: 2 } } },
        { id: 'gov@example.com', password: 'pw-gov', zones: { 'DX-M1': { lbs: 2, serversPerLb: 3 } } },
        { id: 'legacy@example.com', password: 'pw-legacy', zones: { 'DX-G': { lbs: 1 } } },
      ],
    });
    dir = trackTempDir(mkdtempSync(join(tmpdir(), 'ktcloud-e2e-sd-')));
    const config = join(dir, 'accounts.yaml');
    writeFileSync(config, exporterYaml(sim, ACCOUNTS, ['interval: 2s', 'timeout: 2s', 'spread: false', 'workers: 1', 'limits: { requestsPerSecond: 500, zoneRequestsPerSecond: 1000, concurrency: 8 }'].join('\n')));
    for (let shard = 0; shard < TOTAL_SHARDS; shard++) exporters.push(await startExporterShard({ config, shard, totalShards: TOTAL_SHARDS }));

    // Only the discovered targets: every replica's /sd, as the README recommends.
    const sd = exporters.map((e) => ({ url: `${e.url}/sd`, refresh_interval: '1s' }));
    prom = await Prometheus.start({
      binary: prometheusBin!,
      name: 'prometheus (http_sd)',
      config: () => ({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          // The recommended config (README, "One scrape target per account").
          { job_name: JOB, honor_labels: true, http_sd_configs: sd },
          { job_name: JOB_DISHONOURED, honor_labels: false, http_sd_configs: sd },
        ],
      }),
    });
    await eventually(
      async () => {
        // Both jobs: every target scraped at least once (up == 1), and every LB count stored.
        const up = await prom!.query(`up{job=~"${JOB}|${JOB_DISHONOURED}"} == 1`);
        const lb = await prom!.query(`ktcloud_lb_total_count{job=~"${JOB}|${JOB_DISHONOURED}"}`);
        return up.length === 2 * ACCOUNTS.length && lb.length === 8 ? true : undefined;
      },
      60_000,
      'Prometheus to scrape one target per account',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nprometheus log:\n${prom?.log}\nexporter logs:\n${exporters.map((e) => e.proc.output.slice(-1500)).join('\n')}`);
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([prom?.close(), ...exporters.map((e) => e.proc.stop(8000)), sim?.close()]);
    if (dir) removeTempDir(dir);
  }, 30_000);

  it('each replica lists only its own accounts, and together they list each account once', async () => {
    const listed = await Promise.all(exporters.map(async (e) => ((await (await fetch(`${e.url}/sd`)).json()) as Array<{ labels: Record<string, string> }>).map((g) => g.labels.account!)));
    expect(listed.every((l) => l.length > 0)).toBe(true);
    expect(listed.flat().sort()).toEqual(ACCOUNTS.map((a) => a.name).sort());
  });

  it('has one healthy target per account, up = 1 with the account label', async () => {
    const targets = (await prom!.targets()).filter((t) => t.scrapePool === JOB);
    expect(targets.map((t) => t.labels.account).sort()).toEqual(ACCOUNTS.map((a) => a.name).sort());
    for (const t of targets) {
      expect(t.health, t.labels.account).toBe('up');
      expect(t.lastError).toBe('');
      // __meta_ labels are for relabelling only: not kept as target labels.
      expect(Object.keys(t.labels).filter((k) => k.startsWith('__') || k === 'zones')).toEqual([]);
    }
    const up = await prom!.query(`up{job="${JOB}"}`);
    expect(Object.fromEntries(up.map((s) => [s.metric.account, s.value]))).toEqual({ shop: 1, media: 1, gov: 1, legacy: 1 });
    // up is about the scrape; the failing account says so in its own series.
    expect(await prom!.value(`ktcloud_account_up{job="${JOB}",account="legacy"}`)).toBe(0);
  });

  it('stores the simulator’s values under the account label, nothing renamed to exported_account', async () => {
    const totals = await prom!.query(`sum by (account) (ktcloud_lb_total_count{job="${JOB}"})`);
    expect(Object.fromEntries(totals.map((s) => [s.metric.account, s.value]))).toEqual(LBS);
    expect(await prom!.query(`ktcloud_lb_info{job="${JOB}",account="shop"}`)).toHaveLength(5);
    expect(await prom!.query(`count({job="${JOB}",exported_account!=""})`)).toEqual([]);
    // The series of a target come from its account only.
    const mixed = await prom!.query(`count by (account) (count by (account, instance) (ktcloud_lb_info{job="${JOB}"}))`);
    for (const m of mixed) expect(m.value).toBe(1);
  });

  it('gives each target its own scrape_samples_scraped, without the replica-wide families', async () => {
    const samples = await prom!.query(`scrape_samples_scraped{job="${JOB}"}`);
    expect(samples).toHaveLength(ACCOUNTS.length);
    const byAccount = Object.fromEntries(samples.map((s) => [s.metric.account, s.value]));
    expect(byAccount.shop).toBeGreaterThan(byAccount.gov!);
    expect(await prom!.query(`ktcloud_exporter_shard_info{job="${JOB}"}`)).toEqual([]);
    expect(await prom!.query(`ktcloud_exporter_build_info{job="${JOB}"}`)).toHaveLength(ACCOUNTS.length);
  });

  it('with honor_labels false, copies every series’ account into exported_account even though the values are equal', async () => {
    const lb = await prom!.query(`ktcloud_lb_total_count{job="${JOB_DISHONOURED}"}`);
    expect(lb).toHaveLength(4);
    for (const s of lb) expect(s.metric.exported_account).toBe(s.metric.account);
    // Series without an account label of their own just get the target's.
    const build = await prom!.query(`ktcloud_exporter_build_info{job="${JOB_DISHONOURED}"}`);
    expect(build.map((s) => s.metric.account).sort()).toEqual(ACCOUNTS.map((a) => a.name).sort());
    for (const s of build) expect(s.metric.exported_account).toBeUndefined();
  });
});
