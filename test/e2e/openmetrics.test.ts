/**
 * A real Prometheus (Debian's 2.42 negotiates OpenMetrics by default) scrapes the exporter through
 * a recording proxy: every scrape must be answered in OpenMetrics, gzipped as one member, and
 * Prometheus's own OpenMetrics parser must take all of it (target up, no scrape error, as many
 * samples as the body holds, counters stored under their _total names).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exporterYaml, type TestAccount } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';
import { requireTool } from '../support/tools.js';
import { removeTempDir, startExporterShard, trackTempDir, type ManagedProcess } from './processes.js';
import { Prometheus } from './prometheus.js';

const JOB = 'ktcloud-om';
const ACCOUNTS: TestAccount[] = [
  { name: 'shop', zones: ['DX-M1'], id: 'shop@example.com', password: 'pw-shop' },
  { name: 'legacy', zones: ['DX-G'], id: 'legacy@example.com', password: 'rotated-away' },
];

interface Scrape {
  accept: string;
  status: number;
  contentType: string;
  encoding: string;
  /** Sample lines in the body. */
  samples: number;
  eof: boolean;
}

const prometheusBin = requireTool('prometheus', 'a real Prometheus negotiating OpenMetrics');

(prometheusBin ? describe : describe.skip)('Prometheus scrapes OpenMetrics', () => {
  let sim: SimProcess | undefined;
  let exporter: { url: string; proc: ManagedProcess } | undefined;
  let prom: Prometheus | undefined;
  let proxy: Server | undefined;
  let dir: string | undefined;
  const scrapes: Scrape[] = [];

  beforeAll(async () => {
    sim = await SimProcess.start({
      seed: 5,
      accounts: [
        { id: 'shop@example.com', password: 'pw-shop', zones: { 'DX-M1': { lbs: 3, serversPerLb: 2 } } },
        { id: 'legacy@example.com', password: 'pw-legacy', zones: { 'DX-G': { lbs: 1 } } },
      ],
    });
    dir = trackTempDir(mkdtempSync(join(tmpdir(), 'ktcloud-e2e-om-')));
    const config = join(dir, 'accounts.yaml');
    writeFileSync(config, exporterYaml(sim, ACCOUNTS, ['interval: 2s', 'timeout: 2s', 'spread: false', 'workers: 1', 'limits: { requestsPerSecond: 500, zoneRequestsPerSecond: 1000, concurrency: 8 }'].join('\n')));
    exporter = await startExporterShard({ config, shard: 0, totalShards: 1 });
    const target = new URL(exporter.url);

    // Forwards each scrape unchanged and records what the exporter answered.
    proxy = createServer((req, res) => {
      const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const body = Buffer.concat(chunks);
          const encoding = String(r.headers['content-encoding'] ?? 'identity');
          const text = (encoding === 'gzip' ? gunzipSync(body) : body).toString();
          scrapes.push({
            accept: String(req.headers.accept ?? ''),
            status: r.statusCode!,
            contentType: String(r.headers['content-type']),
            encoding,
            samples: text.split('\n').filter((l) => l && !l.startsWith('#')).length,
            eof: text.endsWith('\n# EOF\n'),
          });
          res.writeHead(r.statusCode!, r.headers);
          res.end(body);
        });
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
    const proxyAddress = `127.0.0.1:${(proxy.address() as { port: number }).port}`;

    prom = await Prometheus.start({
      binary: prometheusBin!,
      name: 'prometheus (openmetrics)',
      config: () => ({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        scrape_configs: [{ job_name: JOB, static_configs: [{ targets: [proxyAddress] }] }],
      }),
    });
    await eventually(
      async () => {
        if ((await prom!.query(`up{job="${JOB}"} == 1`)).length !== 1) return undefined;
        const ups = await prom!.query('ktcloud_account_up');
        return ups.length === 2 && scrapes.length >= 3 ? true : undefined;
      },
      40_000,
      'Prometheus to scrape the exporter',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nprometheus log:\n${prom?.log}\nexporter log:\n${exporter?.proc.output.slice(-2000)}`);
    });
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled([prom?.close(), exporter?.proc.stop(8000), sim?.close(), new Promise((r) => (proxy ? proxy.close(r) : r(undefined)))]);
    if (dir) removeTempDir(dir);
  }, 30_000);

  it('is answered in OpenMetrics, gzipped, every scrape', () => {
    expect(scrapes.length).toBeGreaterThanOrEqual(3);
    for (const s of scrapes) {
      expect(s.accept).toMatch(/^application\/openmetrics-text;\s*version=1\.0\.0/);
      expect(s).toMatchObject({ status: 200, contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8', encoding: 'gzip', eof: true });
    }
  });

  it('takes every sample: target up without error, samples scraped as many as the body holds', async () => {
    const targets = (await prom!.targets()).filter((t) => t.scrapePool === JOB);
    expect(targets).toHaveLength(1);
    expect(targets[0]!.health).toBe('up');
    expect(targets[0]!.lastError).toBe('');
    const scraped = await prom!.value(`scrape_samples_scraped{job="${JOB}"}`);
    expect(scraped).toBeGreaterThan(50);
    expect(new Set(scrapes.map((s) => s.samples))).toContain(scraped);
  });

  it('stores counters under their _total names and the exporter families with their labels', async () => {
    expect(await prom!.query('ktcloud_account_collection_errors_total{account="legacy",reason="auth"} > 0')).toHaveLength(1);
    expect((await prom!.query('ktcloud_api_requests_total{account="shop"}')).length).toBeGreaterThan(0);
    expect(await prom!.query('process_cpu_user_seconds_total')).toHaveLength(1);
    expect(await prom!.value('ktcloud_lb_total_count{account="shop",zone="DX-M1"}')).toBe(3);
    expect(await prom!.query('ktcloud_lb_info{account="shop"}')).toHaveLength(3);
  });
});
