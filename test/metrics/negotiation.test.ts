/**
 * /metrics content negotiation on the real server: Accept-Encoding with q-values (gzip, identity,
 * 406), Accept (text 0.0.4 or OpenMetrics), Vary, HEAD; and the gzip body read as browsers and
 * curl read it: one gzip member, to the end.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { constants as zc, gunzipSync, inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Running } from '../support/harness.js';
import { requireTool } from '../support/tools.js';

const TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
/** What Prometheus 2.x sends by default. */
const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
/** What Prometheus 3 sends by default (its names may be UTF-8, so it says which escaping it allows). */
const PROMETHEUS3_ACCEPT = 'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

let s: Running;

beforeAll(async () => {
  s = await startStack({
    sim: { accounts: [{ id: 'n@example.com', password: 'n-pw', zones: { 'DX-M1': { lbs: 30, serversPerLb: 4 }, 'DX-G': { lbs: 12, serversPerLb: 2 } } }] },
    accounts: [{ name: 'negotiated', zones: ['DX-M1', 'DX-G'], id: 'n@example.com', password: 'n-pw' }],
    // The default 5 requests/s per account would take seconds to list every LB's servers.
    yaml: 'interval: 30s\ntimeout: 10s\nlimits: { requestsPerSecond: 500, zoneRequestsPerSecond: 1000, concurrency: 8 }',
    schedule: false,
  });
  await s.app.scheduler.collectAll();
  await s.app.exposition.flush();
});
afterAll(() => s.close());

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request that keeps the bytes as sent (fetch would inflate them). */
function raw(headers: Record<string, string>, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}/metrics`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The body without the process metrics, which change between two requests. */
const ktcloud = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.includes('ktcloud_'))
    .join('\n');

/** Inflates exactly one gzip member and checks it spans the whole body (no second member, nothing after). */
function oneMember(body: Buffer): string {
  expect(body.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
  const { buffer, engine } = inflateRawSync(body.subarray(10), { info: true, finishFlush: zc.Z_FINISH }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  expect(10 + engine.bytesWritten + 8).toBe(body.length);
  return buffer.toString();
}

describe('/metrics content negotiation', () => {
  it('serves gzip as one member holding the whole body, equal to the plain body', async () => {
    const plain = await raw({ 'accept-encoding': 'identity' });
    const gz = await raw({ 'accept-encoding': 'gzip, deflate, br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const inflated = oneMember(gz.body);
    expect(inflated).toBe(gunzipSync(gz.body).toString());
    expect(ktcloud(inflated)).toBe(ktcloud(plain.body.toString()));
    expect(inflated.split('\n').length).toBeGreaterThan(600);
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
  });

  it('honours q-values of Accept-Encoding: gzip;q=0 gets identity, no header gets identity', async () => {
    for (const ae of ['gzip;q=0, identity', 'gzip;q=0', 'br']) {
      const r = await raw({ 'accept-encoding': ae });
      expect(r.status, ae).toBe(200);
      expect(r.headers['content-encoding'], ae).toBeUndefined();
      expect(r.body.toString(), ae).toMatch(/^# HELP ktcloud_lb_total_count /);
    }
    const none = await raw({});
    expect(none.headers['content-encoding']).toBeUndefined();
    expect(none.body.toString()).toContain('ktcloud_account_up{account="negotiated",zone="DX-G"} 1');
    expect((await raw({ 'accept-encoding': 'gzip, identity;q=0' })).headers['content-encoding']).toBe('gzip');
    expect((await raw({ 'accept-encoding': 'identity;q=0.5, gzip;q=0.1' })).headers['content-encoding']).toBeUndefined();
  });

  it('answers 406 when no acceptable encoding is left (identity;q=0 without gzip)', async () => {
    for (const ae of ['identity;q=0', '*;q=0', 'br, identity;q=0']) {
      const r = await raw({ 'accept-encoding': ae });
      expect(r.status, ae).toBe(406);
      expect(r.headers.vary).toBe('Accept-Encoding, Accept');
      expect(r.body.toString()).not.toContain('ktcloud_');
    }
  });

  it('chooses the format from Accept: OpenMetrics when preferred (Prometheus default), else text 0.0.4', async () => {
    const cases: Array<[string | undefined, string]> = [
      [undefined, TEXT],
      ['*/*', TEXT],
      [BROWSER_ACCEPT, TEXT],
      ['text/plain', TEXT],
      // Nothing we offer is acceptable: text 0.0.4 anyway, as Go's promhttp does.
      ['application/json', TEXT],
      ['application/openmetrics-text;version=0.0.1', TEXT],
      ['text/plain;version=0.0.4;q=0.5,application/openmetrics-text;q=0.4', TEXT],
      [PROMETHEUS_ACCEPT, OPENMETRICS],
      [PROMETHEUS3_ACCEPT, OPENMETRICS],
      ['application/openmetrics-text; version=1.0.0', OPENMETRICS],
      ['application/openmetrics-text', OPENMETRICS],
    ];
    for (const [accept, type] of cases) {
      for (const ae of ['gzip', 'identity']) {
        const r = await raw({ ...(accept === undefined ? {} : { accept }), 'accept-encoding': ae });
        expect(r.status, `${accept} ${ae}`).toBe(200);
        expect(r.headers['content-type'], `${accept} ${ae}`).toBe(type);
        expect(r.headers.vary).toBe('Accept-Encoding, Accept');
        const body = ae === 'gzip' ? oneMember(r.body) : r.body.toString();
        expect(body.endsWith('# EOF\n'), `${accept} ${ae}`).toBe(type === OPENMETRICS);
      }
    }
  });

  it('negotiates each header pair on its own when pairs alternate (results are kept per pair)', async () => {
    const pairs: Array<[Record<string, string>, number, string | undefined, string | undefined]> = [
      [{ accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'gzip' }, 200, OPENMETRICS, 'gzip'],
      [{ accept: 'text/plain', 'accept-encoding': 'gzip' }, 200, TEXT, 'gzip'],
      [{ accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'identity' }, 200, OPENMETRICS, undefined],
      [{ accept: PROMETHEUS_ACCEPT, 'accept-encoding': 'identity;q=0' }, 406, undefined, undefined],
      [{ 'accept-encoding': 'gzip' }, 200, TEXT, 'gzip'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [headers, status, type, encoding] of pairs) {
        const r = await raw(headers);
        const what = JSON.stringify(headers);
        expect(r.status, what).toBe(status);
        if (status !== 200) continue;
        expect(r.headers['content-type'], what).toBe(type);
        expect(r.headers['content-encoding'], what).toBe(encoding);
      }
    }
  });

  it('answers HEAD with the headers and length of GET and no body', async () => {
    for (const ae of ['gzip', 'identity']) {
      const head = await raw({ 'accept-encoding': ae, accept: PROMETHEUS_ACCEPT }, 'HEAD');
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.headers['content-type']).toBe(OPENMETRICS);
      expect(Number(head.headers['content-length'])).toBeGreaterThan(1000);
    }
  });

  it('curl --compressed prints every line of the body', async (ctx) => {
    const curl = requireTool('curl', 'reads gzip as a single stream, like browsers');
    if (!curl) return ctx.skip();
    // Asynchronously: the server answering curl runs in this process.
    const { stdout: viaCurl } = await promisify(execFile)(curl, ['-sS', '--compressed', '-D', '-', `${s.url}/metrics`], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const [head, body] = viaCurl.split('\r\n\r\n', 2) as [string, string];
    expect(head).toMatch(/^content-encoding: gzip$/im);
    const plain = (await raw({})).body.toString();
    expect(ktcloud(body)).toBe(ktcloud(plain));
    expect(body).toMatch(/^process_cpu_user_seconds_total /m);
  });
});
