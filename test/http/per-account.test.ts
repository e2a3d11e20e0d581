/**
 * One scrape target per account, on the real server, pool and simulator: `/metrics?account=`
 * bodies hold only the named accounts' series (plus the exporter's identity and process metrics)
 * in both formats and both encodings, an account this replica does not collect is a 404 naming
 * it alone, and `/sd` lists one http_sd target group per account.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as zc, gunzipSync, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountConfig as SimAccount } from '@ktcloud-lb-exporter/simulator';
import { AccountBodies } from '../../src/metrics/account-body.js';
import { parseExposition, startStack, type Running, type Sample } from '../support/harness.js';
import { checkMetrics } from '../support/promtool.js';
import { requireTool } from '../support/tools.js';

const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const TEXT = 'text/plain; version=0.0.4; charset=utf-8';

const SIM_ACCOUNTS: SimAccount[] = [
  { id: 'big@example.com', password: 'pw-big', zones: { 'DX-M1': { lbs: 20, serversPerLb: 4 } } },
  { id: 'two@example.com', password: 'pw-two', zones: { 'DX-M1': { lbs: 3, serversPerLb: 2 }, 'DX-G': { lbs: 2, serversPerLb: 1 } } },
  { id: 'other@example.com', password: 'pw-other', zones: { 'DX-G': { lbs: 4, serversPerLb: 2 } } },
];
const LB_COUNT: Record<string, Record<string, number>> = { big: { 'DX-M1': 20 }, two: { 'DX-M1': 3, 'DX-G': 2 }, other: { 'DX-G': 4 } };
const promtool = requireTool('promtool', 'promtool check metrics of the per-account bodies');

let s: Running;

beforeAll(async () => {
  s = await startStack({
    sim: { seed: 11, accounts: SIM_ACCOUNTS },
    accounts: [
      { name: 'big', zones: ['DX-M1'], id: 'big@example.com', password: 'pw-big' },
      { name: 'two', zones: ['DX-M1', 'DX-G'], id: 'two@example.com', password: 'pw-two' },
      { name: 'other', zones: ['DX-G'], id: 'other@example.com', password: 'pw-other' },
    ],
    yaml: 'interval: 30s\ntimeout: 10s\nlimits: { requestsPerSecond: 500, zoneRequestsPerSecond: 1000, concurrency: 8 }',
    schedule: false,
  });
  await s.app.scheduler.collectAll();
  await s.app.exposition.flush();
}, 60_000);
afterAll(() => s.close());

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request that keeps the bytes as sent (fetch would inflate them). */
function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Inflates exactly one gzip member and checks it spans the whole body. */
function oneMember(body: Buffer): string {
  const { buffer, engine } = inflateRawSync(body.subarray(10), { info: true, finishFlush: zc.Z_FINISH }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  expect(10 + engine.bytesWritten + 8).toBe(body.length);
  expect(buffer.toString()).toBe(gunzipSync(body).toString());
  return buffer.toString();
}

const accountsIn = (samples: readonly Sample[]) => new Set(samples.filter((x) => 'account' in x.labels).map((x) => x.labels.account));
const names = (samples: readonly Sample[]) => new Set(samples.map((x) => x.name));
/** Without the process metrics, which change between two requests. */
const ktcloud = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.includes('ktcloud_'))
    .join('\n');

describe('/metrics?account=', () => {
  it('serves only that account’s series, with its LB counts, the build info and the process metrics', async () => {
    const r = await raw('/metrics?account=two', { 'accept-encoding': 'identity' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(TEXT);
    const samples = parseExposition(r.body.toString());
    expect(accountsIn(samples)).toEqual(new Set(['two']));
    const totals = samples.filter((x) => x.name === 'ktcloud_lb_total_count');
    expect(Object.fromEntries(totals.map((x) => [x.labels.zone, x.value]))).toEqual(LB_COUNT.two);
    expect(samples.filter((x) => x.name === 'ktcloud_lb_info')).toHaveLength(5);
    expect(samples.filter((x) => x.name === 'ktcloud_account_up').map((x) => [x.labels.zone, x.value])).toEqual([
      ['DX-M1', 1],
      ['DX-G', 1],
    ]);
    const n = names(samples);
    for (const kept of ['ktcloud_exporter_build_info', 'ktcloud_lb_exporter_info', 'ktcloud_account_collection_errors_total', 'ktcloud_api_requests_total', 'process_cpu_user_seconds_total']) expect(n, kept).toContain(kept);
    // Replica-wide: one copy per account target would make the shipped rules count accounts.
    for (const left of ['ktcloud_exporter_shard_info', 'ktcloud_exporter_owned_accounts', 'ktcloud_exporter_configured_accounts', 'ktcloud_exporter_config_last_reload_successful', 'ktcloud_exporter_worker_threads_replaced_total'])
      expect(n, left).not.toContain(left);
    // Every LB series of the account, exactly as in the full body.
    const full = parseExposition((await raw('/metrics', { 'accept-encoding': 'identity' })).body.toString());
    const lbLines = (xs: readonly Sample[]) => xs.filter((x) => x.name.startsWith('ktcloud_') && x.labels.account === 'two' && !x.name.startsWith('ktcloud_account_next')).map((x) => JSON.stringify(x)).sort();
    expect(lbLines(samples)).toEqual(lbLines(full));
  });

  it('takes the parameter repeatedly: both accounts, not the third', async () => {
    const r = await raw('/metrics?account=big&account=other&account=big', { 'accept-encoding': 'identity' });
    expect(r.status).toBe(200);
    const samples = parseExposition(r.body.toString());
    expect(accountsIn(samples)).toEqual(new Set(['big', 'other']));
    expect(samples.filter((x) => x.name === 'ktcloud_lb_total_count').map((x) => x.value).sort((a, b) => a - b)).toEqual([4, 20]);
    // Each family's metadata once: the two accounts' lines are grouped under one header.
    const types = r.body.toString().split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });

  it('gzips as one member equal to the plain body, and is served from the cache until the account changes', async () => {
    const plain = await raw('/metrics?account=big', { 'accept-encoding': 'identity' });
    const gz = await raw('/metrics?account=big', { 'accept-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept-Encoding, Accept');
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
    expect(ktcloud(oneMember(gz.body))).toBe(ktcloud(plain.body.toString()));
    // Unchanged account: the compressed account part is the cached buffer itself.
    const segmentNow = async () => {
      const b = await s.app.accountBodies.parts(['big'], 'text');
      if ('unknown' in b) throw new Error('unknown');
      return (await b.gzip())[1];
    };
    const cached = await segmentNow();
    expect(await segmentNow()).toBe(cached);
    // Cached in a buffer of its own size (not a slice of zlib's 64 KB output chunk).
    expect(cached!.buffer.byteLength).toBe(cached!.length);

    const lbId = parseExposition(plain.body.toString()).find((x) => x.name === 'ktcloud_lb_info' && x.value === 1)!.labels.lb_id!;
    s.sim.setLbState('big@example.com', 'DX-M1', Number(lbId), 'DOWN');
    await s.app.scheduler.collectAll();
    const after = oneMember((await raw('/metrics?account=big', { 'accept-encoding': 'gzip' })).body);
    const info = parseExposition(after).find((x) => x.name === 'ktcloud_lb_info' && x.labels.lb_id === lbId)!;
    expect(info.value).toBe(0);
    expect(ktcloud(after)).toBe(ktcloud((await raw('/metrics?account=big', { 'accept-encoding': 'identity' })).body.toString()));
    expect(await segmentNow()).not.toBe(cached);
  });

  it('negotiates OpenMetrics like /metrics: metadata rewritten, # EOF last, gzip and identity alike', async () => {
    const accept = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
    const gz = await raw('/metrics?account=two', { accept, 'accept-encoding': 'gzip' });
    const plain = await raw('/metrics?account=two', { accept, 'accept-encoding': 'identity' });
    for (const r of [gz, plain]) expect(r.headers['content-type']).toBe(OPENMETRICS);
    const text = oneMember(gz.body);
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    expect(plain.body.toString().endsWith('\n# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE ktcloud_account_collection_errors counter\n');
    expect(ktcloud(text)).toBe(ktcloud(plain.body.toString()));
    expect(accountsIn(parseExposition(text.replace('# EOF\n', '')))).toEqual(new Set(['two']));
  });

  (promtool ? it : it.skip)('passes promtool check metrics in both formats', async () => {
    const text = await raw('/metrics?account=big&account=two', { accept: 'text/plain;version=0.0.4', 'accept-encoding': 'gzip' });
    expect(checkMetrics(promtool!, gunzipSync(text.body)).problems).toEqual([]);
    // promtool 2.42 reads OpenMetrics with its text 0.0.4 parser (see test/metrics/openmetrics.test.ts):
    // a counter's _total samples look help-less to it, and it rejects the \" OpenMetrics needs in HELP.
    const om = gunzipSync((await raw('/metrics?account=big&account=two', { accept: 'application/openmetrics-text;version=1.0.0', 'accept-encoding': 'gzip' })).body).toString();
    const counters = new Set([...om.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => `${m[1]}_total no help text`));
    const report = checkMetrics(promtool!, om.replace(/^# HELP .*$/gm, (l) => l.replace(/\\"/g, '"')));
    expect(report.problems.filter((p) => !counters.has(p))).toEqual([]);
  });

  it('answers 404 naming the unknown account, and no other account', async () => {
    for (const path of ['/metrics?account=nobody', '/metrics?account=big&account=nobody']) {
      const r = await raw(path, { 'accept-encoding': 'gzip' });
      expect(r.status, path).toBe(404);
      expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
      const body = r.body.toString();
      expect(body).toBe('account "nobody" is not collected by this replica\n');
    }
    const hostile = await raw(`/metrics?account=${encodeURIComponent('x"\n<b>')}`);
    expect(hostile.status).toBe(404);
    expect(hostile.body.toString()).toBe('account "x\\"\\n<b>" is not collected by this replica\n');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const head = await raw('/metrics?account=two', { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect(head.body.length).toBe(0);
  });

  it('leaves the full /metrics with every account', async () => {
    const full = parseExposition((await raw('/metrics')).body.toString());
    expect(accountsIn(full)).toEqual(new Set(['big', 'two', 'other']));
    expect(names(full)).toContain('ktcloud_exporter_shard_info');
  });

  it('builds a 20-LB account’s plain body (health rows included) in under a millisecond', async () => {
    const ab = s.app.accountBodies;
    for (let i = 0; i < 50; i++) await ab.parts(['big'], 'text');
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const body = await ab.parts(['big'], 'text');
      if ('unknown' in body) throw new Error('unknown');
      body.plain();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const median = times[100]!;
    console.log(`per-account plain body, 20 LBs x 4 servers: median ${(median * 1000).toFixed(0)} µs, p90 ${(times[180]! * 1000).toFixed(0)} µs`);
    expect(median).toBeLessThan(1);
    // Gzip: compressed on the thread pool once per change, then served from the cache.
    const body = await ab.parts(['big'], 'text');
    if ('unknown' in body) throw new Error('unknown');
    let t0 = performance.now();
    const cold = await new AccountBodies(s.app.store, () => '', s.app.exposition.process).parts(['big'], 'text');
    if ('unknown' in cold) throw new Error('unknown');
    await cold.gzip();
    const coldMs = performance.now() - t0;
    await body.gzip();
    t0 = performance.now();
    for (let i = 0; i < 100; i++) await body.gzip();
    const warmMs = (performance.now() - t0) / 100;
    const size = body.plain().reduce((n, b) => n + b.length, 0);
    console.log(`gzip of the ${(size / 1024).toFixed(0)} KiB body: first ${(coldMs * 1000).toFixed(0)} µs (off the event loop), cached ${(warmMs * 1000).toFixed(0)} µs`);
  });
});

describe('/sd', () => {
  it('lists one http_sd target group per account, scraping this server with the account parameter', async () => {
    const r = await fetch(`${s.url}/sd`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const groups = (await r.json()) as Array<{ targets: string[]; labels: Record<string, string> }>;
    const address = new URL(s.url).host;
    expect(groups).toEqual([
      { targets: [address], labels: { __param_account: 'big', account: 'big', __meta_ktcloud_zones: 'DX-M1', __meta_ktcloud_shard: '0' } },
      { targets: [address], labels: { __param_account: 'other', account: 'other', __meta_ktcloud_zones: 'DX-G', __meta_ktcloud_shard: '0' } },
      { targets: [address], labels: { __param_account: 'two', account: 'two', __meta_ktcloud_zones: 'DX-M1,DX-G', __meta_ktcloud_shard: '0' } },
    ]);
    // No label named zone: it would overwrite the series' own zone label.
    for (const g of groups) expect(Object.keys(g.labels)).not.toContain('zone');
  });
});

describe('basic auth (web config)', () => {
  // bcrypt of "s3cret-pw", cost 10 (as in web-config.test.ts).
  const HASH = '$2b$10$GuEPJY0p5PtiYluK9SO4J.9qIp3RnxBZefl66UbYPuh7U451dLoCq';
  const basic = (pw: string) => `Basic ${Buffer.from(`prometheus:${pw}`).toString('base64')}`;

  it('guards /sd and /metrics?account= like every route', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ktcloud-sd-auth-')), 'web.yml');
    writeFileSync(file, `basic_auth_users:\n  prometheus: "${HASH}"\n`);
    const guarded = await startStack({
      sim: { accounts: [{ id: 'a@example.com', password: 'pw-a', zones: { 'DX-M1': { lbs: 1 } } }] },
      accounts: [{ name: 'a', zones: ['DX-M1'], id: 'a@example.com', password: 'pw-a' }],
      schedule: false,
      app: { webConfigFile: file },
    });
    try {
      for (const path of ['/sd', '/metrics?account=a', '/metrics?account=nobody']) {
        expect((await fetch(`${guarded.url}${path}`)).status, path).toBe(401);
        expect((await fetch(`${guarded.url}${path}`, { headers: { authorization: basic('wrong') } })).status, path).toBe(401);
      }
      const sd = await fetch(`${guarded.url}/sd`, { headers: { authorization: basic('s3cret-pw') } });
      expect(sd.status).toBe(200);
      expect(((await sd.json()) as Array<{ labels: { account: string } }>).map((g) => g.labels.account)).toEqual(['a']);
      expect((await fetch(`${guarded.url}/metrics?account=a`, { headers: { authorization: basic('s3cret-pw') } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
