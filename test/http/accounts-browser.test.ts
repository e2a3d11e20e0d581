import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR, launchBrowser, NO_CHROMIUM } from '../support/browser.js';
import { eventually, startStack, type Running } from '../support/harness.js';

/** The /accounts page of a running exporter, in a real browser. */
let s: Running;

beforeAll(async () => {
  s = await startStack({
    sim: {
      accounts: [
        { id: 'good@example.com', password: 'good-pw', zones: { 'DX-M1': { lbs: 4, serversPerLb: 2 }, 'DX-G': { lbs: 1, serversPerLb: 1 } } },
        { id: 'also-good@example.com', password: 'pw', zones: { 'DX-Central': { lbs: 2, serversPerLb: 2 } } },
        { id: 'locked@example.com', password: 'the-new-one', zones: { 'DX-G-YS': { lbs: 2 } } },
      ],
    },
    accounts: [
      { name: 'alpha-healthy', zones: ['DX-M1', 'DX-G'], id: 'good@example.com', password: 'good-pw' },
      { name: 'beta-healthy', zones: ['DX-Central'], id: 'also-good@example.com', password: 'pw' },
      { name: 'zulu-locked-out', zones: ['DX-G-YS'], id: 'locked@example.com', password: 'the-old-one' },
    ],
    yaml: 'interval: 30s\ntimeout: 10s\nspread: false\nlimits: { requestsPerSecond: 50 }',
  });
  await eventually(() => (s.app.exporter.isReady() ? true : undefined), 15_000, 'first collections');
});
afterAll(() => s.close());

describe('/accounts in Chromium', () => {
  it('shows the failing account first with its error, and no secret', async (ctx) => {
    const browser = await launchBrowser();
    if (!browser) return ctx.skip(NO_CHROMIUM);
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      const offsite: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(s.url)) offsite.push(r.url());
      });
      await page.goto(`${s.url}/accounts`);
      const rows = page.locator('#rows tr.acct');
      await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(3);
      const first = rows.first();
      expect(await first.getAttribute('data-name')).toBe('zulu-locked-out');
      const text = await first.innerText();
      expect(text).toContain('failing');
      expect(text).toContain('authentication failed (HTTP 401) for DX-G-YS');
      expect(await rows.nth(1).getAttribute('data-name')).toBe('alpha-healthy');
      const html = await page.content();
      for (const secret of ['good-pw', 'the-old-one', 'good@example.com', 'locked@example.com']) expect(html).not.toContain(secret);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      expect(offsite).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'accounts-live.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
