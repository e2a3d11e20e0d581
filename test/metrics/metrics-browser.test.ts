/**
 * /metrics opened in Chromium, which asks for gzip and reads one gzip member: every line of the
 * body must show (a multi-member body showed the first family's two header lines only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, NO_CHROMIUM } from '../support/browser.js';
import { startStack, type Running } from '../support/harness.js';

let s: Running;

beforeAll(async () => {
  s = await startStack({
    sim: { accounts: [{ id: 'b@example.com', password: 'b-pw', zones: { 'DX-M1': { lbs: 20, serversPerLb: 3 }, 'DX-G': { lbs: 5, serversPerLb: 1 } } }] },
    accounts: [{ name: 'browsed', zones: ['DX-M1', 'DX-G'], id: 'b@example.com', password: 'b-pw' }],
    // The default 5 requests/s per account would take seconds to list every LB's servers.
    yaml: 'interval: 30s\ntimeout: 10s\nlimits: { requestsPerSecond: 500, zoneRequestsPerSecond: 1000, concurrency: 8 }',
    schedule: false,
  });
  await s.app.scheduler.collectAll();
  await s.app.exposition.flush();
});
afterAll(() => s.close());

/** Lines that do not change between two requests (process metrics do). */
const stable = (body: string) => body.split('\n').filter((l) => l.includes('ktcloud_'));

describe('/metrics in Chromium', () => {
  it('shows every line of the body, served gzipped', async (ctx) => {
    const browser = await launchBrowser();
    if (!browser) return ctx.skip(NO_CHROMIUM);
    try {
      const page = await browser.newPage();
      const res = await page.goto(`${s.url}/metrics`);
      expect(res?.status()).toBe(200);
      const headers = await res!.allHeaders();
      expect(headers['content-encoding']).toBe('gzip');
      expect(headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const shown = await page.evaluate(() => document.body.innerText);
      const plain = await (await fetch(`${s.url}/metrics`, { headers: { 'accept-encoding': 'identity' } })).text();
      expect(stable(plain).length).toBeGreaterThan(300);
      expect(stable(shown)).toEqual(stable(plain));
      expect(shown).toMatch(/^process_cpu_user_seconds_total /m);
    } finally {
      await browser.close();
    }
  });
});
