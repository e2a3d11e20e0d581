import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORIGINAL_METRIC_NAMES } from '../../src/metrics/families.js';
import { startStack, type Running } from '../support/harness.js';
import { checkMetrics } from '../support/promtool.js';
import { requireTool } from '../support/tools.js';

const GOLDEN = new URL('../fixtures/metrics/expected.prom', import.meta.url).pathname;
let s: Running;

beforeAll(async () => {
  s = await startStack({
    sim: {
      accounts: [
        {
          id: 'golden@example.com',
          password: 'golden-pw',
          zones: {
            'DX-M1': {
              loadBalancers: [
                { loadbalancerid: 45486, name: 'yeonglb1', serviceip: '172.25.0.181', serviceport: '80', servicetype: 'HTTP', loadbalanceroption: 'SOURCEIPHASH', healthchecktype: 'tcp', state: 'UP', servers: [
                  { ipaddress: '172.25.0.178', publicport: '80', state: 'UP', cursrvrconnections: 15, throughputrate: '10', avgsvrttfb: 10, requestsrate: 10 },
                  { ipaddress: '172.25.0.179', publicport: 80, state: 'DOWN', cursrvrconnections: '0', throughputrate: 0, avgsvrttfb: '0', requestsrate: 0 },
                ] },
                { loadbalancerid: 45487, name: '웹 "LB" \\ new\nline, 1', serviceip: '172.25.0.182', serviceport: 443, servicetype: 'HTTPS', loadbalanceroption: 'ROUNDROBIN', healthchecktype: 'http', state: 'MAINTENANCE', servers: [] },
              ],
            },
            'DX-G': { lbs: 0 },
          },
        },
      ],
    },
    accounts: [{ name: 'golden', zones: ['DX-M1', 'DX-G'], id: 'golden@example.com', password: 'golden-pw' }],
    schedule: false,
  });
  await s.app.scheduler.collectAll();
  await s.app.exposition.flush();
});
afterAll(() => s.close());

/** The body without process metrics and with times and durations masked: what must not change. */
function stable(body: string): string {
  return body
    .split('\n')
    .filter((l) => l.includes('ktcloud_'))
    .map((l) => l.replace(/^((?:ktcloud_account_last_success_timestamp_seconds|ktcloud_lb_last_scrape_timestamp|ktcloud_exporter_config_last_reload_success_timestamp_seconds|ktcloud_account_collection_duration_seconds|ktcloud_lb_scrape_duration_seconds)(?:\{[^}]*\})?) \S+$/, '$1 <masked>'))
    .join('\n')
    .replace(/(ktcloud_lb_exporter_info\{version=")[^"]*(",port=")\d+/, '$1<version>$2<port>')
    .replace(/(ktcloud_exporter_build_info\{version=")[^"]*(",revision=")[^"]*(",nodejs_version=")[^"]*/, '$1<version>$2<revision>$3<node>');
}

describe('/metrics exposition', () => {
  it('matches the expected output (set UPDATE_GOLDEN=1 to rewrite it after a deliberate change)', async () => {
    const body = stable(await (await fetch(`${s.url}/metrics`)).text());
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, `${body}\n`);
    expect(body).toBe(readFileSync(GOLDEN, 'utf8').trimEnd());
  });

  it('has every original metric name, each HELP/TYPE once, each family contiguous', async () => {
    const body = await (await fetch(`${s.url}/metrics`)).text();
    for (const name of ORIGINAL_METRIC_NAMES) expect(body).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
    const seen = new Set<string>();
    let current = '';
    for (const line of body.split('\n')) {
      const m = /^# TYPE (\S+)/.exec(line);
      if (m) {
        expect(seen.has(m[1]!), `TYPE ${m[1]} twice`).toBe(false);
        seen.add(m[1]!);
        current = m[1]!;
      } else if (line && !line.startsWith('#')) {
        const name = /^[^{ ]+/.exec(line)![0];
        expect([current, `${current}_bucket`, `${current}_sum`, `${current}_count`, `${current}_total`, `${current}_created`]).toContain(name);
      }
    }
  });

  it('passes promtool check metrics, weird label values included', async (ctx) => {
    const promtool = requireTool('promtool', 'validates the exposition format');
    if (!promtool) return ctx.skip();
    const body = await (await fetch(`${s.url}/metrics`)).text();
    expect(body).toContain('lb_name="웹 \\"LB\\" \\\\ new\\nline, 1"');
    const report = checkMetrics(promtool, body);
    expect(report.problems).toEqual([]);
    // It does lint: the original names it dislikes are reported and accepted on purpose.
    expect(report.acceptedLint).toContain('ktcloud_lb_total_count non-histogram and non-summary metrics should not have "_count" suffix');
  });

  it('serves gzip to clients that ask for it, identical once inflated', async () => {
    const plain = await (await fetch(`${s.url}/metrics`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer();
    const res = await fetch(`${s.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    // fetch inflates transparently; check the raw bytes with a request that keeps them.
    const raw = await new Promise<Buffer>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(`${s.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
          expect(r.headers['content-encoding']).toBe('gzip');
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject),
      );
    });
    const inflated = gunzipSync(raw).toString();
    expect(stable(inflated)).toBe(stable(Buffer.from(plain).toString()));
    expect(raw.length).toBeLessThan(plain.byteLength);
  });

  it('does not render per scrape when nothing changed', async () => {
    const before = await s.app.exposition.flush();
    for (let i = 0; i < 5; i++) await (await fetch(`${s.url}/metrics`)).arrayBuffer();
    expect(await s.app.exposition.flush()).toBe(before);
  });
});
