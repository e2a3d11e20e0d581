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
  await eventually(() => (s.app.scheduler.isReady() ? true : undefined), 15_000, 'first collections');
});
afterAll(() => s.close());

/** The module script the page loads, from the HTML the real route serves. */
async function scriptPath(query = ''): Promise<{ html: string; src: string }> {
  const html = await (await fetch(`${s.url}/accounts${query}`, { headers: { accept: 'text/html' } })).text();
  const src = /<script type="module" src="([^"]+)"><\/script>/.exec(html)?.[1];
  if (!src) throw new Error('no module script in the page (is dist/ built? npm run build)');
  return { html, src };
}

describe('/accounts script as a static file', () => {
  it('is served under its content hash, cached for good, and only under that hash', async () => {
    const { src } = await scriptPath();
    expect(src).toMatch(/^static\/[0-9a-f]{16}\/accounts\.js$/);
    const res = await fetch(`${s.url}/${src}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await res.text();
    expect(body).toContain("from './render.js'");
    expect(body).not.toMatch(/new Function|\beval\(/);
    const other = src.replace(/[0-9a-f]{16}/, '0123456789abcdef');
    expect((await fetch(`${s.url}/${other}`)).status).toBe(404);
    expect((await fetch(`${s.url}/${src.replace('accounts.js', '..%2Faccounts-page.js')}`)).status).toBe(404);
  });
});

describe('/accounts in Chromium', () => {
  it('shows the failing account first with its error, and no secret', async (ctx) => {
    const browser = await launchBrowser();
    if (!browser) return ctx.skip(NO_CHROMIUM);
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      const offsite: string[] = [];
      const scripts: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(s.url)) offsite.push(r.url());
        if (r.resourceType() === 'script') scripts.push(r.url().slice(s.url.length));
      });
      await page.goto(`${s.url}/accounts`);
      await page.waitForSelector('#controls:not([hidden])');
      expect(scripts).toEqual([expect.stringMatching(/^\/static\/[0-9a-f]{16}\/accounts\.js$/), expect.stringMatching(/^\/static\/[0-9a-f]{16}\/render\.js$/)]);
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
      // the page's policy lets only this server's script files run: an inline script does not
      const inlineRan = await page.evaluate(
        () =>
          new Promise<boolean>((resolve) => {
            document.addEventListener('securitypolicyviolation', () => setTimeout(() => resolve('inlineRan' in window)), { once: true });
            const el = document.createElement('script');
            el.textContent = 'window.inlineRan = true';
            document.body.append(el);
          }),
      );
      expect(inlineRan).toBe(false);
      await page.screenshot({ path: join(ARTIFACTS_DIR, 'accounts-live.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('clamps ?refresh=0.001 to 5 s: the first data refresh starts 5 s after the script ran, not at once', async (ctx) => {
    const { html } = await scriptPath('?refresh=0.001');
    expect(html).toContain('<span id="live" data-refresh="5">');
    const browser = await launchBrowser();
    if (!browser) return ctx.skip(NO_CHROMIUM);
    try {
      const page = await browser.newPage();
      await page.goto(`${s.url}/accounts?refresh=0.001`);
      await page.waitForSelector('#controls:not([hidden])');
      expect(await page.locator('#live').innerText()).toBe('auto-refresh every 5s');
      await page.waitForRequest((r) => r.url().includes('format=json'), { timeout: 15_000 });
      // Browser-side times (ms since navigation): when the last script file arrived (the page's
      // timer starts after that) and when each data refresh started.
      const timings = () =>
        page.evaluate(() => {
          const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
          return {
            scriptsLoaded: Math.max(...entries.filter((e) => e.name.includes('/static/')).map((e) => e.responseEnd)),
            refreshes: entries.filter((e) => e.name.includes('format=json')).map((e) => e.startTime),
          };
        });
      await expect.poll(async () => (await timings()).refreshes.length).toBeGreaterThan(0);
      const { scriptsLoaded, refreshes } = await timings();
      expect(refreshes[0]! - scriptsLoaded).toBeGreaterThanOrEqual(4_990);
      await page.close();
    } finally {
      await browser.close();
    }
  });
});
