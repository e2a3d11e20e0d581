import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    await s.app.exporter.collectAll();
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  });

  it('/ links every endpoint', async () => {
    const html = await (await fetch(`${s.url}/`)).text();
    for (const href of ['metrics', 'accounts', 'healthz', 'readyz']) expect(html).toContain(`href="${href}"`);
  });

  it('/accounts gives JSON on request, failing accounts first, with a human error and no secret', async () => {
    await s.app.exporter.collectAll();
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

  it('unknown paths are 404', async () => {
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  });
});
