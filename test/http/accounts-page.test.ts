import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, jsonForScript, renderAccountsPage } from '../../src/http/accounts-page.js';
import type { AccountView, AccountsView, ErrorView, ZoneView } from '../../src/http/accounts-view.js';
import { IMMUTABLE, pageAssets, type PageAssets } from '../../src/http/page-assets.js';
import { refreshSeconds } from '../../src/http/page/render.js';
import { ARTIFACTS_DIR, NO_CHROMIUM, launchBrowser } from '../support/browser.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const SEVERITY = { failing: 0, stale: 1, pending: 2, ok: 3 } as const;

function zone(name: string, base: number, o: Partial<Mutable<ZoneView>> = {}): ZoneView {
  return {
    zone: name, state: 'ok', lastSuccess: new Date(base - 20_000).toISOString(), lastAttempt: new Date(base - 20_000).toISOString(),
    lastDurationSeconds: 1.4, lbs: 6, lbsDown: 0, servers: 24, serversDown: 0, consecutiveFailures: 0, partial: false, lastError: null, ...o,
  };
}

/** An account from its zones, with the same sums as buildAccountsView. */
function account(name: string, zones: ZoneView[], base: number, o: Partial<Mutable<AccountView>> = {}): AccountView {
  const state = [...zones].sort((a, b) => SEVERITY[a.state] - SEVERITY[b.state])[0]!.state;
  const sum = (f: (z: ZoneView) => number | null) => zones.reduce((n, z) => n + (f(z) ?? 0), 0);
  return {
    name, zones, state,
    lastSuccess: zones.some((z) => !z.lastSuccess) ? null : zones.map((z) => z.lastSuccess!).sort()[0]!,
    lastAttempt: zones.map((z) => z.lastAttempt).filter(Boolean).sort().at(-1) ?? null,
    lastDurationSeconds: Math.max(0, ...zones.map((z) => z.lastDurationSeconds ?? 0)) || null,
    lbs: sum((z) => z.lbs), lbsDown: sum((z) => z.lbsDown), servers: sum((z) => z.servers), serversDown: sum((z) => z.serversDown),
    consecutiveFailures: Math.max(0, ...zones.map((z) => z.consecutiveFailures)),
    nextRun: new Date(base + 42_000).toISOString(),
    // No retry line unless a test asks for one (the page shows it only with these set).
    nextAttempt: null,
    failures: 0,
    zonesMode: 'list',
    partial: zones.some((z) => z.partial),
    lastError: zones.map((z) => z.lastError).find(Boolean) ?? null,
    ...o,
  };
}

function view(accounts: AccountView[], base: number): AccountsView {
  const sorted = [...accounts].sort((a, b) => SEVERITY[a.state] - SEVERITY[b.state] || a.name.localeCompare(b.name));
  const count = (s: keyof typeof SEVERITY) => sorted.filter((a) => a.state === s).length;
  return {
    schemaVersion: 1, generatedAt: new Date(base).toISOString(), intervalSeconds: 60, shard: { index: 0, total: 2 },
    summary: { accounts: sorted.length, ok: count('ok'), failing: count('failing'), stale: count('stale'), pending: count('pending') },
    accounts: sorted,
  };
}

/**
 * The browser build of src/http/page/ in dist/ (tests run the server from source, which serves
 * it from there), checked to be newer than its sources so a test never drives a stale script.
 */
function builtPageAssets(): PageAssets {
  const assets = pageAssets();
  const src = fileURLToPath(new URL('../../src/http/page/', import.meta.url));
  const out = fileURLToPath(new URL('../../dist/src/http/page/', import.meta.url));
  const stale = readdirSync(src).filter((f) => f.endsWith('.ts')).filter((f) => {
    try {
      return statSync(join(out, f.replace(/\.ts$/, '.js'))).mtimeMs < statSync(join(src, f)).mtimeMs;
    } catch {
      return true;
    }
  });
  if (!assets || stale.length) throw new Error(`dist/src/http/page is missing or older than ${stale.join(', ')}: run npm run build`);
  return assets;
}

const AUTH_MESSAGE = 'authentication failed (HTTP 401) for DX-M1';

/** One failing (auth 401), one pending and eight ok accounts (one of them partial, over two zones): ten rows. */
function fixture(base: number): AccountsView {
  const authError: ErrorView = { reason: 'auth', code: 401, message: AUTH_MESSAGE, zone: 'DX-M1', at: new Date(base - 5_000).toISOString() };
  const timeout: ErrorView = {
    reason: 'timeout', code: null, zone: 'KR-M2', at: new Date(base - 30_000).toISOString(),
    message: 'listLoadBalancerWebServers timed out after 10 s for KR-M2 (load balancer web-frontend-production-blue-green-01, 3 of 14 server lists missing)',
  };
  const ok = (name: string, lbs: number, down = 0) => account(name, [zone('KR-M', base, { lbs, servers: lbs * 4, serversDown: down })], base);
  return view([
    ok('shop-kr-production', 14, 2), ok('analytics-batch', 3), ok('billing-platform-main', 8),
    account('team-payments-korea-central', [zone('KR-M', base), zone('KR-M2', base, { partial: true, lastError: timeout })], base),
    account('acme-prod', [zone('DX-M1', base, {
      state: 'failing', lastSuccess: new Date(base - 3_600_000).toISOString(), lastAttempt: new Date(base - 5_000).toISOString(),
      lbs: 12, lbsDown: 1, servers: 48, serversDown: 3, consecutiveFailures: 4, lastError: authError,
    })], base),
    account('new-account-staging', [zone('KR-M', base, {
      state: 'pending', lastSuccess: null, lastAttempt: null, lastDurationSeconds: null, lbs: null, lbsDown: null, servers: null, serversDown: null,
    })], base),
    ok('devops-shared', 2), ok('marketing-web', 5, 1), ok('research-gpu', 1), ok('zeta-archive', 4),
  ], base);
}

describe('renderAccountsPage', () => {
  const base = Date.parse('2025-03-01T12:00:00Z');
  const html = renderAccountsPage(fixture(base));

  it('is a complete document with the table rows already rendered, in view order', () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.trimEnd()).toMatch(/<\/html>$/);
    const tbody = html.slice(html.indexOf('<tbody id="rows">'), html.indexOf('</tbody></table>\n</main>'));
    const names = [...tbody.matchAll(/<tr class="acct [^"]*" data-name="([^"]*)"/g)].map((m) => m[1]);
    expect(names).toEqual(fixture(base).accounts.map((a) => a.name));
    expect(names[0]).toBe('acme-prod');
    expect(html).toContain('<span class="badge b-failing">failing</span>');
    expect(html).toContain(`<b>auth</b> · 401 · ${AUTH_MESSAGE}`);
    expect(html).toMatch(/12 <span class="down">\(1 down\)<\/span>/);
    expect(html).toMatch(/48 <span class="down">\(3 down\)<\/span>/);
    expect(html).toContain('>1h ago<');
    expect(html).toContain('>in 42s<');
    expect(html).toContain('class="partial"');
    expect(html).toContain('<button type="button" class="zt" aria-expanded="false"');
    expect(html).toMatch(/<tr class="zd" hidden>.*KR-M2/);
  });

  it('has every column, the summary, the links and no external resource', () => {
    for (const label of ['Account', 'Zones', 'State', 'Last success', 'Last attempt', 'Duration', 'LBs', 'Servers', 'Failures', 'Next run', 'Last error']) {
      expect(html).toContain(`<button type="button">${label}</button>`);
    }
    expect(html).toMatch(/<b>10<\/b> accounts/);
    expect(html).toContain('1 failing</span>');
    expect(html).toContain('8 ok</span>');
    expect(html).toContain('shard 0/2');
    expect(html).toContain('collected every 60s');
    expect(html).toContain('<a href="./">Home</a>');
    expect(html).toContain('<a href="metrics">Metrics</a>');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
  });

  it('escapes names and error messages', () => {
    const evil = '<b>"x"&</b>';
    const err: ErrorView = { reason: 'api_error', code: 530, message: `<img src=x onerror="alert('x')"> & </script>`, zone: "K<R>'", at: new Date(base).toISOString() };
    const page = renderAccountsPage(view([account(evil, [zone("K<R>'", base, { state: 'failing', lastError: err })], base)], base));
    expect(page).not.toContain('<b>"x"&</b>');
    expect(page).not.toContain('<img');
    expect(page).toContain('data-name="&#60;b&#62;&#34;x&#34;&#38;&#60;/b&#62;"');
    expect(page).toContain('<span class="nm">&#60;b&#62;&#34;x&#34;&#38;&#60;/b&#62;</span>');
    expect(page).toContain('&#60;img src=x onerror=&#34;alert(&#39;x&#39;)&#34;&#62; &#38; &#60;/script&#62;');
    expect(page).toContain('K&#60;R&#62;&#39;');
    // the only literal </script> are the ends of the two script elements
    expect(page.match(/<\/script/gi)).toHaveLength(2);
  });

  it('embeds the view as JSON that cannot end its script element', () => {
    const v = view([account('</script><script>alert(1)</script><!--', [zone('KR-M', base)], base)], base);
    const page = renderAccountsPage(v);
    const m = /<script type="application\/json" id="accounts-data">([^]*?)<\/script>/.exec(page);
    expect(m).not.toBeNull();
    expect(m![1]).not.toMatch(/[<>]/);
    expect(JSON.parse(m![1]!)).toEqual(v);
    expect(jsonForScript({ s: '</script>\u2028&' })).toBe('{"s":"\\u003c/script\\u003e\\u2028\\u0026"}');
  });

  it('lists the accountsDir folders left out, with their problems, escaped, and nothing when there are none', () => {
    const v = { ...view([account('ok-one', [zone('DX-M1', base)], base)], base), notCollected: [
      { name: 'team-b', folder: '/etc/ktcloud/accounts/ktcloud-account-03', problems: ['CLOUD_PASSWORD: missing'] },
      { name: null, folder: '/etc/ktcloud/accounts/<x>', problems: ['folder name may only contain letters'] },
    ] };
    const page = renderAccountsPage(v);
    const section = /<section id="not-collected"[^]*?<\/section>/.exec(page)?.[0] ?? '';
    expect(section).toContain('2 account folders not collected');
    expect(section).toContain('<b>team-b</b> <code>/etc/ktcloud/accounts/ktcloud-account-03</code>: CLOUD_PASSWORD: missing');
    expect(section).toContain('<b>(no valid name)</b> <code>/etc/ktcloud/accounts/&#60;x&#62;</code>');
    expect(renderAccountsPage(view([account('ok-one', [zone('DX-M1', base)], base)], base))).not.toContain('<section id="not-collected"');
  });

  it('says so when there is no account', () => {
    expect(renderAccountsPage(view([], base))).toContain('No accounts on this shard.');
  });

  it('loads its script from this server under a content hash, and allows no inline script', () => {
    const assets = builtPageAssets();
    expect(html).toContain(`<script type="module" src="static/${assets.hash}/accounts.js"></script>`);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`);
    expect(CONTENT_SECURITY_POLICY).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    // every script element either loads a file or holds data the browser never runs
    const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]!.trim());
    expect(scripts).toEqual(['type="application/json" id="accounts-data"', `type="module" src="static/${assets.hash}/accounts.js"`]);
    expect(assets.get(assets.hash, 'accounts.js')?.body.toString()).toMatch(/from '\.\/render\.js'/);
    expect(assets.get(assets.hash, 'render.js')).toBeDefined();
    expect(assets.get('0'.repeat(16), 'accounts.js')).toBeUndefined();
    expect(assets.get(assets.hash, '../accounts-page.js')).toBeUndefined();
  });

  it('clamps ?refresh to 5 s..1 h, 0 turning it off, in the page and in the shared rule the script applies', () => {
    const refreshOf = (raw: unknown) => /<span id="live" data-refresh="([^"]*)">/.exec(renderAccountsPage(fixture(base), { refresh: raw }))?.[1];
    expect(refreshOf(undefined)).toBe('10');
    expect(refreshOf('0.001')).toBe('5');
    expect(refreshOf('1')).toBe('5');
    expect(refreshOf('0')).toBe('0');
    expect(refreshOf('30')).toBe('30');
    expect(refreshOf('1e9')).toBe('3600');
    expect(refreshOf(['0.001', '60'])).toBe('5');
    for (const bad of ['', 'x', '-3', 'NaN']) expect(refreshOf(bad)).toBe('10');
    expect(refreshSeconds('0.001')).toBe(5);
    expect(refreshSeconds(null)).toBe(10);
  });

  it('says when a backing-off account is tried next and after how many failures, and nothing without those fields', () => {
    const failing = fixture(base).accounts[0]!;
    expect(failing.state).toBe('failing');
    const withRetry = { ...failing, nextAttempt: new Date(base + 120_000).toISOString(), failures: 3 };
    const page = renderAccountsPage(view([withRetry], base));
    const retry = /<div class="retry">(.*?)<\/div>/.exec(page)?.[1] ?? '';
    expect(retry.replace(/<small>.*?<\/small>/g, '').replace(/<[^>]+>/g, '')).toBe('next attempt in 2m (after 3 failures)');
    expect(retry).toContain(`data-t="${withRetry.nextAttempt}" data-k="next"`);
    const noNext = { ...withRetry, nextAttempt: null };
    expect(renderAccountsPage(view([noNext], base))).not.toContain('class="retry"');
    expect(renderAccountsPage(view([failing], base))).not.toContain('class="retry"');
    // a healthy account with no failure has nothing to say about retries
    const healthy = fixture(base).accounts.find((a) => a.state === 'ok')!;
    const calm = { ...healthy, nextAttempt: healthy.nextRun, failures: 0 };
    expect(renderAccountsPage(view([calm], base))).not.toContain('class="retry"');
  });
});

describe('accounts page in chromium', () => {
  let browser: Browser | undefined;
  let server: Server;
  let origin = '';
  let served: AccountsView = view([], Date.now());
  let assets: PageAssets;
  let json: () => { status: number; body: string } = () => ({ status: 500, body: '' });
  /** Like the real server: a view made at request time. */
  const fresh = (v: AccountsView) => () => ({ status: 200, body: JSON.stringify({ ...v, generatedAt: new Date().toISOString() }) });
  const jsonAccepts: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    if (!browser) return;
    assets = builtPageAssets();
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const file = /^\/static\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (file) {
        // what registerPageAssets serves (its headers are checked against the real server in accounts-browser.test.ts)
        const asset = assets.get(file[1]!, file[2]!);
        if (!asset) return void res.writeHead(404).end();
        return void res.writeHead(200, { 'content-type': asset.contentType, 'cache-control': IMMUTABLE }).end(asset.body);
      }
      if (url.pathname !== '/accounts') return void res.writeHead(404).end();
      if (url.searchParams.get('format') === 'json') {
        jsonAccepts.push(String(req.headers.accept));
        const r = json();
        return void res.writeHead(r.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(r.body);
      }
      const html = renderAccountsPage(served, { refresh: url.searchParams.get('refresh') });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  /** The account rows in the table, in order (the page removes filtered-out rows). */
  const names = (page: Page) => page.$$eval('#rows tr.acct', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.name));

  it('shows failing first, filters, sorts, fits 1366x768, stays local and refreshes itself', async (ctx) => {
    if (!browser) return ctx.skip(NO_CHROMIUM);
    // acme-prod backs off: the fields a newer view adds (nextAttempt, failures) show under its error
    const plain = fixture(Date.now());
    const retrying = { ...plain.accounts[0]!, nextAttempt: new Date(Date.now() + 150_000).toISOString(), failures: 4 };
    const first: AccountsView = { ...plain, accounts: [retrying, ...plain.accounts.slice(1)] };
    served = first;
    json = fresh(first);

    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    // Time flows as usual; fastForward jumps to the next data refresh instead of waiting 10 s for it.
    await page.clock.install();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    await page.goto(`${origin}/accounts`);
    await page.waitForSelector('#controls:not([hidden])');
    expect(await page.locator('#live').innerText()).toBe('auto-refresh every 10s');
    expect(requests).toContain(`${origin}/${assets.scriptPath}`);
    expect(requests).toContain(`${origin}/static/${assets.hash}/render.js`);
    expect((await names(page))[0]).toBe('acme-prod');
    const firstRow = page.locator('#rows tr.acct').first();
    await expect.poll(() => firstRow.innerText()).toContain(AUTH_MESSAGE);
    expect(await firstRow.innerText()).toMatch(/auth · 401/);
    expect(await firstRow.locator('.retry').innerText()).toBe('next attempt in 2m (after 4 failures)');
    expect(await firstRow.locator('.badge').innerText()).toBe('failing');
    expect(await page.locator('tr[data-name="team-payments-korea-central"] .partial').count()).toBe(1);

    // no horizontal scrollbar with ten accounts on a laptop screen
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'accounts-page.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.locator('tr[data-name="team-payments-korea-central"] button.zt').click();
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'accounts-page-dark.png'), fullPage: true });
    expect(await page.locator('tr.zd:not([hidden])').innerText()).toContain('timed out after 10 s');
    await page.emulateMedia({ colorScheme: 'light' });

    // the filter hides rows that match neither name, zone nor error
    await page.fill('#q', 'DX-M1');
    expect(await names(page)).toEqual(['acme-prod']);
    await page.fill('#q', 'timed out');
    expect(await names(page)).toEqual(['team-payments-korea-central']);
    await page.fill('#q', '');
    await page.uncheck('#states input[value=ok]');
    expect(await names(page)).toEqual(['acme-prod', 'new-account-staging']);
    await page.check('#states input[value=ok]');
    expect(await names(page)).toHaveLength(10);

    // header clicks: ascending, descending, then back to the server's order
    const sorted = first.accounts.map((a) => a.name).sort((a, b) => a.localeCompare(b));
    await page.click('th[data-k=name] button');
    expect(await names(page)).toEqual(sorted);
    expect(await page.getAttribute('th[data-k=name]', 'aria-sort')).toBe('ascending');
    await page.click('th[data-k=name] button');
    expect(await names(page)).toEqual([...sorted].reverse());
    await page.click('th[data-k=name] button');
    expect((await names(page))[0]).toBe('acme-prod');
    await page.click('th[data-k=servers] button');
    expect((await names(page)).slice(0, 3)).toEqual(['acme-prod', 'shop-kr-production', 'marketing-web']);

    // relative times tick every second
    const rel = page.locator('tr[data-name="zeta-archive"] td.t [data-t]').first();
    const before = await rel.innerText();
    await expect.poll(() => rel.innerText(), { timeout: 5000 }).not.toBe(before);

    // a failed refresh keeps the old rows and says so
    await page.fill('#q', '-');
    json = () => ({ status: 503, body: '{}' });
    await page.clock.fastForward(10_000);
    await page.waitForSelector('#notice:not([hidden])', { timeout: 5000 });
    expect(await page.locator('#notice').innerText()).toMatch(/refresh failed \(HTTP 503\)/);
    expect(await page.locator('#rows tr.acct').count()).toBeGreaterThan(5);

    // the next good refresh picks up a changed view, keeping filter and sort
    const recovered = account('acme-prod', [zone('DX-M1', Date.now(), { lbs: 12, lbsDown: 0, servers: 48 })], Date.now());
    const second = view([recovered, ...first.accounts.filter((a) => a.name !== 'acme-prod'), account('zz-new', [zone('KR-M', Date.now())], Date.now())], Date.now());
    json = fresh(second);
    await page.clock.fastForward(10_000);
    await page.waitForSelector('tr[data-name="zz-new"]', { timeout: 5000 });
    expect(await page.locator('#notice').isHidden()).toBe(true);
    expect(await page.locator('tr[data-name="acme-prod"] .badge').innerText()).toBe('ok');
    expect(await page.inputValue('#q')).toBe('-');
    expect(await page.getAttribute('th[data-k=servers]', 'aria-sort')).toBe('descending');
    expect(await page.title()).not.toContain('failing');
    expect(jsonAccepts.length).toBeGreaterThan(0);
    expect(jsonAccepts.every((a) => a.includes('application/json'))).toBe(true);

    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThan(2);
    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    await page.close();
  });

  it('runs its own module script but no inline one: the Content-Security-Policy blocks it', async (ctx) => {
    if (!browser) return ctx.skip(NO_CHROMIUM);
    served = fixture(Date.now());
    const page = await browser.newPage();
    await page.goto(`${origin}/accounts`);
    await page.waitForSelector('#controls:not([hidden])'); // only the module script shows the controls
    const inline = await page.evaluate(
      () =>
        new Promise<{ directive: string; ran: boolean }>((resolve) => {
          document.addEventListener('securitypolicyviolation', (e) => setTimeout(() => resolve({ directive: e.effectiveDirective, ran: 'inlineRan' in window })), { once: true });
          const el = document.createElement('script');
          el.textContent = 'window.inlineRan = true';
          document.body.append(el);
        }),
    );
    expect(inline).toEqual({ directive: 'script-src-elem', ran: false });
    await page.close();
  });

  it('works without JavaScript from the server-rendered rows', async (ctx) => {
    if (!browser) return ctx.skip(NO_CHROMIUM);
    served = fixture(Date.now());
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${origin}/accounts`);
    expect((await names(page))[0]).toBe('acme-prod');
    expect(await page.locator('#rows tr.acct').first().innerText()).toContain(AUTH_MESSAGE);
    expect(await page.locator('tr.zd').first().isVisible()).toBe(true);
    expect(await page.locator('#controls').isHidden()).toBe(true);
    await context.close();
  });
});
