import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from '../../src/ktcloud/http-request.js';

let server: Server;
let base: string;
const seen: Array<{ method: string; url: string; body: string; header: string | undefined }> = [];
const dispatcher = new Agent({ keepAliveTimeout: 5_000 });

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body, header: req.headers['x-test'] as string | undefined });
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await dispatcher.close();
  await new Promise((r) => server.close(r));
});

describe('request without the undici index', () => {
  it('sends a GET with its path and query to the URL origin and returns status, headers and body', async () => {
    const res = await request(`${base}/a/b?x=1&y=2`, { dispatcher, headers: { 'x-test': 'h' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['retry-after']).toBe('3');
    expect(await res.body.json()).toEqual({ ok: true });
    expect(seen.at(-1)).toEqual({ method: 'GET', url: '/a/b?x=1&y=2', body: '', header: 'h' });
  });

  it('sends a POST body and reports non-2xx statuses as data', async () => {
    const res = await request(`${base}/missing`, { dispatcher, method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
    expect(seen.at(-1)).toMatchObject({ method: 'POST', url: '/missing', body: '{"a":1}' });
  });

  it('rejects when the signal aborts', async () => {
    await expect(request(`${base}/slow`, { dispatcher, signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('does not evaluate undici/index.js (fetch, WebSocket, mocks, caches)', () => {
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.some((f) => /[\\/]undici[\\/]lib[\\/]api[\\/]api-request\.js$/.test(f))).toBe(true);
    expect(loaded.filter((f) => /[\\/]undici[\\/]index\.js$/.test(f))).toEqual([]);
  });
});
