import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStack, type Running } from '../support/harness.js';

let s: Running;

beforeAll(async () => {
  s = await startStack({
    sim: { accounts: [{ id: 'ok@example.com', password: 'ok-pw', zones: { 'DX-M1': { lbs: 2, serversPerLb: 2 } } }, { id: 'bad@example.com', password: 'right', zones: { 'DX-G': { lbs: 1 } } }] },
    accounts: [
      { name: 'healthy', zones: ['DX-M1'], id: 'ok@example.com', password: 'ok-pw' },
      { name: 'broken', zones: ['DX-G'], id: 'bad@example.com', password: 'wrong-pw' },
    ],
    schedule: false,
    app: { enableLifecycle: true },
  });
});
afterAll(() => s.close());

describe('HTTP routes (real server on 127.0.0.1)', () => {
  it('/healthz answers while /readyz waits for the first collection of every account', async () => {
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const before = await fetch(`${s.url}/readyz`);
    expect(before.status).toBe(503);
    await s.app.scheduler.collectAll();
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  });

  it('/ links every endpoint', async () => {
    const html = await (await fetch(`${s.url}/`)).text();
    for (const href of ['metrics', 'accounts', 'healthz', 'readyz', '-/healthy', '-/ready']) expect(html).toContain(`href="${href}"`);
  });

  it('/-/healthy and /-/ready answer like /healthz and /readyz', async () => {
    for (const [a, b] of [['/healthz', '/-/healthy'], ['/readyz', '/-/ready']]) {
      const [ra, rb] = [await fetch(`${s.url}${a}`), await fetch(`${s.url}${b}`)];
      expect(rb.status).toBe(ra.status);
      expect(await rb.json()).toEqual(await ra.json());
    }
  });

  it('/accounts gives JSON on request, failing accounts first, with a human error and no secret', async () => {
    await s.app.scheduler.collectAll();
    for (const req of [fetch(`${s.url}/accounts?format=json`), fetch(`${s.url}/accounts`, { headers: { accept: 'application/json' } })]) {
      const res = await req;
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const view = (await res.json()) as { schemaVersion: number; summary: Record<string, number>; accounts: Array<{ name: string; state: string; lbs: number; servers: number; lastError: { reason: string; code: number; message: string } | null }> };
      expect(view.schemaVersion).toBe(1);
      expect(view.summary).toMatchObject({ accounts: 2, ok: 1, failing: 1 });
      expect(view.accounts.map((a) => [a.name, a.state])).toEqual([
        ['broken', 'failing'],
        ['healthy', 'ok'],
      ]);
      expect(view.accounts[0]!.lastError).toMatchObject({ reason: 'auth', code: 401, message: 'authentication failed (HTTP 401) for DX-G' });
      expect(view.accounts[1]).toMatchObject({ lbs: 2, servers: 4, lastError: null });
    }
    const html = await (await fetch(`${s.url}/accounts`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('broken');
    expect(html).toContain('authentication failed (HTTP 401) for DX-G');
    for (const body of [html, await (await fetch(`${s.url}/accounts?format=json`)).text()]) {
      for (const secret of ['ok-pw', 'wrong-pw', 'ok@example.com', 'bad@example.com']) expect(body).not.toContain(secret);
    }
  });

  it('POST /-/reload reloads and reports what changed', async () => {
    const res = await fetch(`${s.url}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', added: [], removed: [], changed: [] });
  });

  it('POST /-/reload refuses form content types (a cross-site form cannot trigger it) and other methods', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain;charset=UTF-8']) {
      const res = await fetch(`${s.url}/-/reload`, { method: 'POST', headers: { 'content-type': type }, body: 'a=b' });
      expect(res.status, type).toBe(415);
    }
    const get = await fetch(`${s.url}/-/reload`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const json = await fetch(`${s.url}/-/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(200);
  });

  it('unknown paths are 404', async () => {
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  });
});

describe('lifecycle API and reload coalescing', () => {
  let l: Running;
  let loads = 0;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    l = await startStack({
      sim: { accounts: [{ id: 'lc@example.com', password: 'lc-pw', zones: { 'DX-M1': { lbs: 1 } } }] },
      accounts: [{ name: 'lc', zones: ['DX-M1'], id: 'lc@example.com', password: 'lc-pw' }],
      schedule: false,
      app: {
        // Each load waits for the test to release it, so that requests pile up meanwhile.
        loadConfig: async () => {
          loads++;
          await new Promise<void>((r) => (release = r));
          return l.config;
        },
      },
    });
  });
  afterAll(() => l.close());

  it('POST /-/reload is 403 "Lifecycle API is not enabled." without --web.enable-lifecycle; SIGHUP-style reloads still work', async () => {
    const res = await fetch(`${l.url}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Lifecycle API is not enabled.');
    expect(loads).toBe(0);
    const sighup = l.app.reload('SIGHUP');
    await vi.waitFor(() => expect(loads).toBe(1));
    release();
    expect((await sighup).ok).toBe(true);
  });

  it('concurrent reloads coalesce: one running and one pending, whatever the number of requests', async () => {
    loads = 0;
    const first = l.app.reload('SIGHUP');
    await vi.waitFor(() => expect(loads).toBe(1));
    // Arrive while the first runs: they all share one pending reload.
    const waiting = Array.from({ length: 5 }, () => l.app.reload('SIGHUP'));
    expect(new Set(waiting).size).toBe(1);
    release();
    await first;
    await vi.waitFor(() => expect(loads).toBe(2));
    // A request arriving now (the pending one runs) waits for a further one: it may carry a newer change.
    const later = l.app.reload('SIGHUP');
    expect(later).not.toBe(waiting[0]);
    release();
    expect((await waiting[0])!.ok).toBe(true);
    await vi.waitFor(() => expect(loads).toBe(3));
    release();
    expect((await later).ok).toBe(true);
    expect(loads).toBe(3);
  });
});
