/**
 * Browser entry of the /accounts page (a module script served from static/<hash>/accounts.js,
 * see ../page-assets.ts). It takes over the rows the server rendered: filter, sort, per-zone
 * detail, the 1 s clock of relative times and the data refresh (`?format=json`). Without it the
 * page is the server's snapshot, so nothing here may be needed to read the table.
 */
import { errText, esc, refreshSeconds, refreshText, rel, rowsHtml, SEVERITY, summaryHtml, titleText, zoneButtonText } from './render.js';
import type { PageAccount, PageView } from './view.js';

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

let view: PageView;
/** Server clock minus browser clock, so relative times use the server's time. */
let skew = 0;
function adopt(v: PageView): void {
  view = v;
  const g = Date.parse(v.generatedAt);
  skew = Number.isNaN(g) ? 0 : g - Date.now();
}
function now(): number {
  return Date.now() + skew;
}
adopt(JSON.parse($('accounts-data').textContent ?? '') as PageView);

const live = $('live');
// The server renders the clamped period; clamping again keeps a hand-edited or older page from polling in a loop.
const every = refreshSeconds(live.dataset.refresh ?? new URLSearchParams(location.search).get('refresh'));
const rows = $('rows');
const q = $<HTMLInputElement>('q');
const notice = $('notice');
const boxes = Array.from(document.querySelectorAll<HTMLInputElement>('#states input'));
const open = new Set<string>();
let sortKey: string | null = null;
let sortDir = 1;

function time(iso: string | null, none: number): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? none : t;
}
type SortValue = number | string | SortValue[];
/** Per column: [first-click direction, key]. */
const KEYS: Record<string, readonly [1 | -1, (a: PageAccount) => SortValue]> = {
  name: [1, (a) => a.name.toLowerCase()],
  zones: [1, (a) => a.zones.map((z) => z.zone).join(' ').toLowerCase()],
  state: [1, (a) => [SEVERITY[a.state] ?? 2, a.name.toLowerCase()]],
  lastSuccess: [1, (a) => time(a.lastSuccess, -Infinity)],
  lastAttempt: [1, (a) => time(a.lastAttempt, -Infinity)],
  duration: [-1, (a) => (a.lastDurationSeconds == null ? -1 : a.lastDurationSeconds)],
  lbs: [-1, (a) => [a.lbsDown, a.lbs]],
  servers: [-1, (a) => [a.serversDown, a.servers]],
  failures: [-1, (a) => a.consecutiveFailures],
  nextRun: [1, (a) => time(a.nextRun, Infinity)],
  error: [1, (a) => (a.lastError ? errText(a.lastError).toLowerCase() : '\uffff')],
};
function cmp(x: SortValue, y: SortValue): number {
  if (Array.isArray(x) && Array.isArray(y)) {
    for (let i = 0; i < x.length; i++) {
      const c = cmp(x[i]!, y[i]!);
      if (c) return c;
    }
    return 0;
  }
  if (typeof x === 'string' && typeof y === 'string') return x.localeCompare(y);
  return x < y ? -1 : x > y ? 1 : 0;
}
/** The text the filter searches: name, zones and errors. */
function hay(a: PageAccount): string {
  const parts = [a.name];
  if (a.lastError) parts.push(errText(a.lastError));
  for (const z of a.zones) {
    parts.push(z.zone);
    if (z.lastError) parts.push(errText(z.lastError));
  }
  return parts.join('\n').toLowerCase();
}

function render(): void {
  const text = q.value.trim().toLowerCase();
  const states = new Set(boxes.filter((b) => b.checked).map((b) => b.value));
  const list = view.accounts.map((a, i) => ({ a, i })).filter((x) => states.has(x.a.state) && (!text || hay(x.a).includes(text)));
  if (sortKey) {
    const key = KEYS[sortKey]![1];
    list.sort((x, y) => sortDir * cmp(key(x.a), key(y.a)) || x.i - y.i);
  }
  const t = now();
  rows.innerHTML = rowsHtml(list.map((x) => x.a), t, open, view.accounts.length ? 'No account matches the filter.' : 'No accounts on this shard.');
  $('summary').innerHTML = summaryHtml(view, t);
  document.title = titleText(view);
  $('shown').textContent = list.length === view.accounts.length ? '' : 'showing ' + list.length + ' of ' + view.accounts.length;
  document.querySelectorAll<HTMLElement>('th[data-k]').forEach((th) => {
    th.setAttribute('aria-sort', th.dataset.k !== sortKey ? 'none' : sortDir > 0 ? 'ascending' : 'descending');
  });
}

document.querySelector('#accounts > thead')!.addEventListener('click', (e) => {
  const th = (e.target as Element).closest<HTMLElement>('th[data-k]');
  const k = th?.dataset.k;
  if (!k || !KEYS[k]) return;
  const natural = KEYS[k][0];
  // first click: the column's natural direction; second: reversed; third: back to the server's order (failing first)
  if (sortKey !== k) {
    sortKey = k;
    sortDir = natural;
  } else if (sortDir === natural) sortDir = -sortDir;
  else sortKey = null;
  render();
});
rows.addEventListener('click', (e) => {
  const b = (e.target as Element).closest<HTMLButtonElement>('button.zt');
  const tr = b?.closest<HTMLTableRowElement>('tr');
  if (!b || !tr) return;
  const name = tr.dataset.name ?? '';
  const detail = tr.nextElementSibling as HTMLElement | null;
  const isOpen = !open.has(name);
  if (isOpen) open.add(name);
  else open.delete(name);
  if (detail && detail.classList.contains('zd')) detail.hidden = !isOpen;
  b.setAttribute('aria-expanded', String(isOpen));
  b.textContent = zoneButtonText(tr.querySelectorAll('.zone').length, isOpen);
});
q.addEventListener('input', render);
for (const b of boxes) b.addEventListener('change', render);
document.addEventListener('keydown', (e) => {
  const tag = document.activeElement?.tagName ?? '';
  if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(tag)) {
    e.preventDefault();
    q.focus();
  }
});
setInterval(() => {
  const t = now();
  document.querySelectorAll<HTMLElement>('[data-t]').forEach((el) => {
    el.textContent = rel(el.dataset.t, t, el.dataset.k);
  });
}, 1000);

let timer: ReturnType<typeof setTimeout> | undefined;
let busy = false;
function schedule(): void {
  clearTimeout(timer);
  if (every > 0) timer = setTimeout(() => void refresh(), every * 1000);
}
function isView(v: unknown): v is PageView {
  return typeof v === 'object' && v !== null && (v as PageView).schemaVersion === 1 && Array.isArray((v as PageView).accounts);
}
async function refresh(): Promise<void> {
  if (busy) return;
  if (document.hidden) return schedule(); // a background tab does not poll; it refreshes when shown again
  busy = true;
  const url = new URL(location.href);
  url.hash = '';
  url.searchParams.set('format', 'json');
  const ctl = new AbortController();
  const kill = setTimeout(() => ctl.abort(), 15_000);
  try {
    const res = await fetch(url.href, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin', signal: ctl.signal });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    const v: unknown = await res.json();
    if (!isView(v)) throw new Error('unexpected answer');
    adopt(v);
    render();
    notice.hidden = true;
  } catch (err) {
    const why = err instanceof Error ? (err.name === 'AbortError' ? 'timed out' : err.message || 'error') : 'error';
    notice.innerHTML = 'refresh failed (' + esc(why) + '); showing data from <span data-t="' + esc(view.generatedAt) + '" data-k="ago">' +
      esc(rel(view.generatedAt, now(), 'ago')) + '</span>';
    notice.hidden = false;
  } finally {
    clearTimeout(kill);
    busy = false;
    schedule();
  }
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && every > 0) void refresh();
});
live.textContent = refreshText(every);
$('controls').hidden = false;
render();
schedule();
