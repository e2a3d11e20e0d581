import { randomBytes } from 'node:crypto';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { LoadBalancer, WebServer } from '../../src/ktcloud/parse.js';
import { Exposition } from '../../src/metrics/exposition.js';
import { LB_FAMILIES, LB_FAMILY_ORDER } from '../../src/metrics/families.js';
import { renderSnapshot } from '../../src/worker/render-snapshot.js';
import { familyHeader } from '../../src/metrics/text.js';
import type { CollectResult } from '../../src/protocol.js';
import { Store } from '../../src/state/store.js';

/**
 * The exposition reuses compressed groups of account-zones between rebuilds (see the
 * performance notes in BENCHMARKS.md). Whatever changes in between (a few accounts, every
 * account, accounts added, removed or gone stale), the gzip body must be one gzip member that
 * inflates to exactly the plain body, and the plain body must be what a rendering from scratch
 * gives.
 */
function result(account: string, zone: string, lbs: number, seq: number, noise = 0): CollectResult {
  const items = Array.from({ length: lbs }, (_, l) => ({
    // noise: random hex in each name, so that the body does not compress (a large gzip body).
    lb: { id: String(1000 + l), name: `lb-${l}-"${account}"${noise ? randomBytes(noise).toString('hex') : ''}`, serviceIp: '10.0.0.1', servicePort: '80', serviceType: l % 2 ? 'HTTP' : 'TCP', option: 'ROUNDROBIN', healthcheckType: 'http', state: 'UP' } as LoadBalancer,
    servers: l % 3 === 2 ? null : Array.from({ length: 1 + (l % 3) }, (_, s): WebServer => ({ ip: `10.1.${l}.${s}`, port: '8080', state: s ? 'DOWN' : 'UP', connections: seq + s, throughputKbps: seq * 2, ttfbMs: 5, requestsPerSec: seq })),
  }));
  return {
    account,
    zones: [{ zone, ok: true, startedAtMs: 0, durationMs: 10, requests: [['listLoadBalancers', '200', 1]], token: null, snapshot: renderSnapshot(account, zone, items), summary: { lbs, lbsDown: 0, servers: 0, serversDown: 0 }, partial: null }],
  };
}

/** Inflates exactly one gzip member, which must span the whole body. */
function oneMember(body: Buffer): string {
  const { buffer, engine } = inflateRawSync(body.subarray(10), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
  expect(10 + engine.bytesWritten + 8).toBe(body.length);
  expect(gunzipSync(body).equals(buffer)).toBe(true);
  return buffer.toString();
}

/** The LB families of the store rendered in one go: header, then every account-zone in order. */
function fromScratch(store: Store): string {
  const zones = [...store.all()].filter((z) => z.snapshot !== null);
  let out = '';
  LB_FAMILY_ORDER.forEach((key, f) => {
    out += familyHeader(LB_FAMILIES[key]);
    for (const z of zones) out += Buffer.from(z.snapshot!.text.subarray(z.snapshot!.offsets[f], z.snapshot!.offsets[f + 1])).toString();
  });
  return out;
}

describe('incremental exposition', () => {
  it('serves, after every kind of change, a gzip body equal to the plain one and to a fresh rendering', async () => {
    const store = new Store();
    let health = 0;
    const exposition = new Exposition(store, () => `# health ${++health}\nktcloud_account_up{account="x"} 1\n`.repeat(3000), new Registry(), 0);
    const names = Array.from({ length: 23 }, (_, i) => `acc-${i}`);
    for (const n of names) store.ensureAccount(n, ['DX-M1']);
    let seq = 0;
    const check = async () => {
      await exposition.flush();
      const parts = await exposition.parts();
      const plain = Buffer.concat(parts.plain).toString();
      expect(oneMember(Buffer.concat(parts.gzip))).toBe(plain);
      expect(plain.startsWith(fromScratch(store))).toBe(true);
      expect(plain).toContain(`# health ${health}\n`);
      // OpenMetrics shares the LB segments: same sample lines, its own headers, # EOF last.
      const om = await exposition.parts('openmetrics');
      const omPlain = Buffer.concat(om.plain).toString();
      expect(oneMember(Buffer.concat(om.gzip))).toBe(omPlain);
      const samples = (b: string) => b.split('\n').filter((l) => l.startsWith('ktcloud_lb_') || l.startsWith('ktcloud_server_'));
      expect(samples(omPlain)).toEqual(samples(plain));
      expect(omPlain.endsWith('# EOF\n')).toBe(true);
    };
    await check(); // nothing collected yet
    for (const n of names) store.apply(result(n, 'DX-M1', 1 + (names.indexOf(n) % 5), ++seq));
    await check(); // everything new
    for (const i of [0, 5, 22]) store.apply(result(names[i]!, 'DX-M1', 3, ++seq));
    await check(); // a few groups change
    store.ensureAccount('acc-new', ['DX-G']);
    store.apply(result('acc-new', 'DX-G', 2, ++seq));
    store.removeAccount('acc-3');
    await check(); // groups shift
    for (const z of store.all()) if (z.account === 'acc-7') z.up = false;
    store.expireStale(Date.now() + 1e9, 1);
    await check(); // a stale account's series are gone
    for (const n of names) if (n !== 'acc-3') store.apply(result(n, 'DX-M1', 4, ++seq));
    await check(); // everything again
    exposition.close();
  });

  it('keeps the groups that did not change (no recompression of the whole body)', async () => {
    const store = new Store();
    const exposition = new Exposition(store, () => '', new Registry(), 0);
    const groups = () => (exposition as unknown as { lb: { groups: object[] } }).lb.groups;
    const names = Array.from({ length: 40 }, (_, i) => `acc-${i}`);
    for (const n of names) store.ensureAccount(n, ['DX-M1']);
    for (const n of names) store.apply(result(n, 'DX-M1', 4, 1));
    await exposition.flush();
    const before = [...groups()];
    expect(before.length).toBeGreaterThan(2);
    store.apply(result('acc-39', 'DX-M1', 4, 2));
    await exposition.flush();
    const after = groups();
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
    after.slice(0, -1).forEach((g, i) => expect(g).toBe(before[i]));
    expect(after[after.length - 1]).not.toBe(before[before.length - 1]);
    expect(gunzipSync(Buffer.concat((await exposition.parts()).gzip)).toString()).toContain('acc-39');
    exposition.close();
  });

  it('keeps the compressed LB lines once: one buffer of exactly their size, every group segment and served family a view of it', async () => {
    const store = new Store();
    const exposition = new Exposition(store, () => '', new Registry(), 0);
    type View = { deflated: Buffer; size: number };
    const lb = () => (exposition as unknown as { lb: { groups: Array<{ segments: View[] }>; families: View[] } }).lb;
    // Large enough (> 256 KiB compressed) to be served as references, not joined.
    const names = Array.from({ length: 30 }, (_, i) => `acc-${i}`);
    for (const n of names) store.ensureAccount(n, ['DX-M1']);
    for (const n of names) store.apply(result(n, 'DX-M1', 40, 1, 48));
    await exposition.flush();
    const oldBuffer = lb().families[0]!.deflated.buffer;
    store.apply(result('acc-2', 'DX-M1', 40, 2, 48));
    await exposition.flush();
    const { groups, families } = lb();
    const buffer = families[0]!.deflated.buffer;
    expect(buffer).not.toBe(oldBuffer);
    const used = families.reduce((n, f) => n + f.deflated.length, 0);
    expect(buffer.byteLength).toBe(used);
    for (const f of families) if (f.size > 0) expect(f.deflated.buffer).toBe(buffer);
    for (const g of groups) for (const s of g.segments) if (s.size > 0) expect(s.deflated.buffer).toBe(buffer);
    // The gzip scrape writes references to that buffer (no joined copy).
    expect(used).toBeGreaterThan(256 * 1024);
    const gzip = (await exposition.parts()).gzip;
    expect(gzip.filter((b) => b.buffer === buffer).reduce((n, b) => n + b.length, 0)).toBe(used);
    expect(gunzipSync(Buffer.concat(gzip)).toString()).toContain('acc-2');
    exposition.close();
  });

  it('serves a small gzip body (under 256 KiB) as one buffer, the same member the pieces make', async () => {
    const store = new Store();
    const exposition = new Exposition(store, () => 'ktcloud_exporter_up 1\n', new Registry(), 0);
    for (const n of ['a', 'b', 'c']) {
      store.ensureAccount(n, ['DX-M1']);
      store.apply(result(n, 'DX-M1', 5, 1));
    }
    await exposition.flush();
    for (const format of ['text', 'openmetrics'] as const) {
      const parts = await exposition.parts(format);
      expect(parts.gzip).toHaveLength(1);
      expect(oneMember(Buffer.from(parts.gzip[0]!))).toBe(Buffer.concat(parts.plain).toString());
    }
    exposition.close();
  });
});
