/**
 * The one renderer of the /accounts rows and summary, run by the server (the HTML that works
 * without JavaScript) and by the browser (after each filter, sort and refresh), so both show the
 * same thing. Plain string building over the view it is given: no DOM, no Node, no globals
 * besides Date, so it compiles into both builds (see ./tsconfig.json).
 */
import type { PageAccount, PageError, PageView, PageZone } from './view.js';

export const SEVERITY: Readonly<Record<string, number>> = { failing: 0, stale: 1, pending: 2, ok: 3 };
const COLUMNS = 11;

/** Data refresh period of the page, in seconds, when `?refresh` does not say. */
export const REFRESH_DEFAULT = 10;
/** Shortest period `?refresh` may ask: below it a few open tabs would load the exporter like a scraper. */
export const REFRESH_MIN = 5;
export const REFRESH_MAX = 3600;

/**
 * `?refresh=SECONDS` as a period: 0 turns refreshing off, other values are clamped to
 * [REFRESH_MIN, REFRESH_MAX]; absent, negative or not a number gives the default. `raw` is
 * whatever the query parser made of it (a repeated parameter is an array: the first wins).
 */
export function refreshSeconds(raw: unknown): number {
  const first: unknown = Array.isArray(raw) ? raw[0] : raw;
  if (typeof first !== 'string' || first.trim() === '') return REFRESH_DEFAULT;
  const n = Number(first);
  if (!(n >= 0)) return REFRESH_DEFAULT;
  if (n === 0) return 0;
  return Math.min(REFRESH_MAX, Math.max(REFRESH_MIN, n));
}

export function esc(s: unknown): string {
  return String(s == null ? '' : s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
}
function st(s: string): string {
  return Object.prototype.hasOwnProperty.call(SEVERITY, s) ? s : 'pending';
}
function pad(n: number): string {
  return (n < 10 ? '0' : '') + n;
}
function tms(iso: string | null | undefined): number | null {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? null : t;
}
function day(d: Date): string {
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
}
function clock(d: Date): string {
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
}
function fullTime(t: number): string {
  const d = new Date(t);
  const o = -d.getTimezoneOffset();
  const a = Math.abs(o);
  return day(d) + ' ' + clock(d) + ' UTC' + (o < 0 ? '-' : '+') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
}
function shortTime(t: number, now: number): string {
  const d = new Date(t);
  return day(d) === day(new Date(now)) ? clock(d) : day(d) + ' ' + clock(d).slice(0, 5);
}

/** A duration in seconds, as 42s, 5m, 3h 20m or 2d. */
export function span(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm';
  const h = Math.floor(m / 60);
  if (h < 48) return h + 'h' + (m % 60 ? ' ' + (m % 60) + 'm' : '');
  return Math.floor(h / 24) + 'd';
}

/** 'ago' for past times, 'next' for a time to come. */
export type RelKind = 'ago' | 'next';

export function rel(iso: string | null | undefined, now: number, kind: string | undefined): string {
  const t = tms(iso);
  if (t === null) return '';
  const d = (t - now) / 1000;
  if (kind === 'next') return d >= 0.5 ? 'in ' + span(d) : 'due';
  return -d < 1 ? 'just now' : span(-d) + ' ago';
}

/** A time as relative text the page ticks every second (data-t, data-k), the clock time below it and the full time on hover. */
export function when(iso: string | null | undefined, now: number, kind: RelKind, none: string): string {
  const t = tms(iso);
  if (t === null) return '<span class="muted">' + none + '</span>';
  return '<time datetime="' + esc(iso) + '" title="' + esc(fullTime(t)) + '"><span data-t="' + esc(iso) + '" data-k="' + kind + '">' +
    esc(rel(iso, now, kind)) + '</span><small>' + esc(shortTime(t, now)) + '</small></time>';
}
function dur(s: number | null): string {
  return s == null ? '<span class="muted">—</span>' : esc(s < 10 ? s.toFixed(1) + 's' : span(s));
}
function counts(n: number | null, down: number | null, known: boolean): string {
  if (!known) return '<span class="muted">—</span>';
  return esc(n) + (down ? ' <span class="down">(' + esc(down) + ' down)</span>' : '');
}
function badge(s: string): string {
  return '<span class="badge b-' + st(s) + '">' + esc(s) + '</span>';
}
export function errText(e: PageError): string {
  return e.reason + (e.code != null ? ' · ' + e.code : '') + ' · ' + e.message;
}
function errHtml(e: PageError | null): string {
  if (!e) return '';
  const at = tms(e.at);
  const title = errText(e) + ' (zone ' + e.zone + (at === null ? '' : ', at ' + fullTime(at)) + ')';
  return '<div class="err" title="' + esc(title) + '"><b>' + esc(e.reason) + '</b>' + (e.code != null ? ' · ' + esc(e.code) : '') + ' · ' + esc(e.message) + '</div>';
}

/**
 * "next attempt in 2m (after 3 failures)" for an account that is backing off. Both fields are
 * newer than schema version 1's first release: read defensively, nothing when absent.
 */
function retryHtml(a: PageAccount, now: number): string {
  const next = typeof a.nextAttempt === 'string' ? a.nextAttempt : null;
  if (tms(next) === null) return '';
  const n = typeof a.failures === 'number' && a.failures > 0 ? a.failures : 0;
  if (!n && a.state !== 'failing' && a.state !== 'stale') return '';
  return '<div class="retry">next attempt ' + when(next, now, 'next', '') + (n ? ' <span>(after ' + esc(n) + ' failure' + (n === 1 ? '' : 's') + ')</span>' : '') + '</div>';
}

/**
 * "zones auto · found 2 · 5m ago" under the zones of a `zones: auto` account, with the zones where
 * authentication failed on hover. Nothing for listed zones or from servers that predate it.
 */
export function discoveryHtml(a: PageAccount, now: number): string {
  if (a.zonesMode !== 'auto') return '';
  const found = Array.isArray(a.discoveredZones) ? a.discoveredZones : [];
  const failed = Array.isArray(a.authFailedZones) ? a.authFailedZones : [];
  const at = typeof a.discoveredAt === 'string' ? a.discoveredAt : null;
  const title = 'Zones discovered: the account is collected only where it has load balancers' +
    (failed.length ? '. Authentication failed in ' + failed.join(', ') + ' (not an error of the account)' : '');
  const what = at === null ? 'discovering…' : found.length ? 'found ' + found.length + ' · ' + when(at, now, 'ago', '') : 'no zone with load balancers · ' + when(at, now, 'ago', '');
  return '<div class="disc" title="' + esc(title) + '">zones auto · ' + what + (failed.length ? ' · <span>auth failed in ' + esc(failed.length) + '</span>' : '') + '</div>';
}

function partialMark(): string {
  return ' <span class="partial" title="The last collection was incomplete: some load balancers or zones could not be read">partial</span>';
}
export function zoneButtonText(n: number, open: boolean): string {
  return (open ? '▾ ' : '▸ ') + n + ' zones';
}
function zoneTitle(z: PageZone): string {
  return z.zone + ': ' + z.state + (z.partial ? ' (partial)' : '') +
    (z.lbs == null ? '' : ', ' + z.lbs + ' LBs (' + z.lbsDown + ' down), ' + z.servers + ' servers (' + z.serversDown + ' down)') +
    (z.consecutiveFailures ? ', ' + z.consecutiveFailures + ' consecutive failures' : '') + (z.lastError ? ', last error: ' + errText(z.lastError) : '');
}
function zoneRow(z: PageZone, now: number): string {
  return '<tr><td>' + esc(z.zone) + (z.partial ? partialMark() : '') + '</td><td>' + badge(z.state) + '</td><td class="t">' + when(z.lastSuccess, now, 'ago', 'never') +
    '</td><td class="t">' + when(z.lastAttempt, now, 'ago', 'never') + '</td><td class="num">' + dur(z.lastDurationSeconds) +
    '</td><td class="num">' + counts(z.lbs, z.lbsDown, z.lbs != null) + '</td><td class="num">' + counts(z.servers, z.serversDown, z.servers != null) +
    '</td><td class="num ' + (z.consecutiveFailures ? 'bad' : 'muted') + '">' + esc(z.consecutiveFailures) + '</td><td class="e">' + errHtml(z.lastError) + '</td></tr>';
}
function row(a: PageAccount, now: number, open: ReadonlySet<string> | null): string {
  const multi = a.zones.length > 1;
  const isOpen = !!(open && open.has(a.name));
  const known = a.zones.some((z) => z.lbs != null);
  let zones = a.zones.map((z) => '<span class="zone z-' + st(z.state) + '" title="' + esc(zoneTitle(z)) + '">' + esc(z.zone) + '</span>').join(' ');
  if (multi) zones += ' <button type="button" class="zt" aria-expanded="' + isOpen + '" title="Show per-zone detail">' + zoneButtonText(a.zones.length, isOpen) + '</button>';
  let h = '<tr class="acct s-' + st(a.state) + '" data-name="' + esc(a.name) + '">' +
    '<td class="name"><span class="nm">' + esc(a.name) + '</span>' + (a.partial ? partialMark() : '') + '</td>' +
    '<td class="zones">' + zones + discoveryHtml(a, now) + '</td><td>' + badge(a.state) + '</td>' +
    '<td class="t">' + when(a.lastSuccess, now, 'ago', 'never') + '</td><td class="t">' + when(a.lastAttempt, now, 'ago', 'never') + '</td>' +
    '<td class="num">' + dur(a.lastDurationSeconds) + '</td><td class="num">' + counts(a.lbs, a.lbsDown, known) + '</td>' +
    '<td class="num">' + counts(a.servers, a.serversDown, known) + '</td><td class="num ' + (a.consecutiveFailures ? 'bad' : 'muted') + '">' + esc(a.consecutiveFailures) + '</td>' +
    '<td class="t">' + when(a.nextRun, now, 'next', '—') + '</td><td class="e' + (a.state === 'ok' ? ' soft' : '') + '">' + errHtml(a.lastError) + retryHtml(a, now) + '</td></tr>';
  if (multi) {
    h += '<tr class="zd"' + (isOpen ? '' : ' hidden') + '><td></td><td colspan="' + (COLUMNS - 1) + '"><table class="zdt"><thead><tr><th>Zone</th><th>State</th>' +
      '<th>Last success</th><th>Last attempt</th><th class="num">Duration</th><th class="num">LBs</th><th class="num">Servers</th><th class="num">Failures</th>' +
      '<th>Last error</th></tr></thead><tbody>' + a.zones.map((z) => zoneRow(z, now)).join('') + '</tbody></table></td></tr>';
  }
  return h;
}

/** The table body: one row per account (plus its hidden per-zone detail), or `empty` in one cell. `open`: accounts whose detail is shown. */
export function rowsHtml(accounts: readonly PageAccount[], now: number, open: ReadonlySet<string> | null, empty: string): string {
  if (!accounts.length) return '<tr><td colspan="' + COLUMNS + '" class="empty">' + esc(empty) + '</td></tr>';
  return accounts.map((a) => row(a, now, open)).join('');
}

export function summaryHtml(v: PageView, now: number): string {
  const s = v.summary;
  const states = (['failing', 'stale', 'pending', 'ok'] as const)
    .map((k) => '<span class="badge b-' + k + (s[k] ? '' : ' zero') + '">' + esc(s[k]) + ' ' + k + '</span>')
    .join(' ');
  return '<span><b>' + esc(s.accounts) + '</b> account' + (s.accounts === 1 ? '' : 's') + '</span> ' + states +
    ' <span title="This replica is shard ' + esc(v.shard.index) + ' (0-based) of ' + esc(v.shard.total) + '">shard ' + esc(v.shard.index) + '/' + esc(v.shard.total) + '</span>' +
    ' <span>collected every ' + esc(span(v.intervalSeconds)) + '</span> <span>generated ' + when(v.generatedAt, now, 'ago', '?') + '</span>';
}

export function titleText(v: PageView): string {
  return (v.summary.failing ? v.summary.failing + ' failing · ' : '') + 'Accounts · KT Cloud LB Exporter';
}

/** The words next to the filter that say how often the page refreshes its data. */
export function refreshText(every: number): string {
  return every > 0 ? 'auto-refresh every ' + span(every) : 'auto-refresh off';
}
