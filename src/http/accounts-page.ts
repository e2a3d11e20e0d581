/**
 * The /accounts HTML page: one row per account, failing first, for operators watching dozens to
 * hundreds of accounts. Offline (inline CSS, scripts from this server, no CDN, no fonts, no
 * images) and, without JavaScript, a static snapshot: the server renders every row.
 *
 * With JavaScript (./page/accounts.ts, a module script served as a static file, see
 * page-assets.ts) the page filters and sorts in place, ticks relative times every second and
 * re-fetches its data every 10 s from the same URL with `?format=json` (`Accept:
 * application/json`), keeping filter, sort and opened zone details. `?refresh=SECONDS` overrides
 * that period (0 turns it off; clamped to 5 s..1 h). Links are relative (`./`, `metrics`,
 * `static/...`) so the page also works behind a path prefix. A Content-Security-Policy lets only
 * this server's scripts run: no inline script, so markup slipped into a name or error message
 * cannot run either.
 */
import type { AccountsView } from './accounts-view.js';
import { pageAssets } from './page-assets.js';
import { esc, refreshSeconds, rowsHtml, summaryHtml, titleText } from './page/render.js';

export interface PageOptions {
  /** The `?refresh` query parameter as parsed (string, array or absent); clamped here and again by the script. */
  readonly refresh?: unknown;
}

/** Inline styles stay (one document, nothing to fetch without JavaScript); scripts only from this origin, fetches only to it. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'";

/** [sort key, label, tooltip, numeric] */
const COLUMNS: ReadonlyArray<readonly [string, string, string, boolean]> = [
  ['name', 'Account', 'Account name; "partial" when the last collection was incomplete', false],
  ['zones', 'Zones', 'Zones of the account; hover a zone for its detail', false],
  ['state', 'State', 'failing, stale, pending or ok', false],
  ['lastSuccess', 'Last success', 'Last complete collection', false],
  ['lastAttempt', 'Last attempt', 'Last collection attempt', false],
  ['duration', 'Duration', 'Duration of the last collection', true],
  ['lbs', 'LBs', 'Load balancers (how many are DOWN)', true],
  ['servers', 'Servers', 'Backend servers (how many are DOWN)', true],
  ['failures', 'Failures', 'Consecutive failed collections', true],
  ['nextRun', 'Next run', 'Next scheduled collection', false],
  ['error', 'Last error', 'reason · code · message', false],
];

const STATES = ['failing', 'stale', 'pending', 'ok'] as const;

const CSS = String.raw`
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d8dee4;--head:#f6f8fa;--hover:#f1f5f9;--link:#0969da;
--ok:#1a7f37;--ok-bg:#dafbe1;--failing:#c9252d;--failing-bg:#ffebe9;--failing-row:#fff6f5;--stale:#9a6700;--stale-bg:#fff8c5;--pending:#505a66;--pending-bg:#eaeef2}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--head:#161b22;--hover:#1c222b;--link:#4493f8;
--ok:#3fb950;--ok-bg:#12261e;--failing:#ff7b72;--failing-bg:#3a1719;--failing-row:#1f1214;--stale:#d29922;--stale-bg:#2e2512;--pending:#9198a1;--pending-bg:#262c36}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
a{color:var(--link)}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px;padding:10px 16px 8px;border-bottom:1px solid var(--line)}
h1{font-size:16px;margin:0}
nav{display:flex;gap:12px}
#not-collected{border-left:4px solid #c62828;padding:4px 12px;margin:8px 0}#not-collected h2{font-size:1em;margin:4px 0}#not-collected ul{margin:4px 0;padding-left:20px}
#summary{display:flex;flex-wrap:wrap;gap:4px 10px;align-items:baseline;margin-left:auto}
#summary time small,.muted{color:var(--muted)}
#summary time small{margin-left:4px}
main{padding:8px 16px 24px}
#controls{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin-bottom:8px}
#controls[hidden]{display:none}
#q{width:22em;max-width:100%;padding:4px 8px;font:inherit;color:inherit;background:var(--bg);border:1px solid var(--line);border-radius:4px}
#states{display:flex;gap:10px;border:0;margin:0;padding:0}
#states legend{float:left;margin-right:6px;color:var(--muted)}
#states label{cursor:pointer;white-space:nowrap}
#shown,#live{color:var(--muted)}
#notice{color:var(--failing);background:var(--failing-bg);padding:1px 8px;border-radius:4px}
#notice[hidden]{display:none}
table{border-collapse:collapse;width:100%}
th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
#accounts>thead th{position:sticky;top:0;z-index:1;background:var(--head);white-space:nowrap;font-weight:600}
th>button{all:unset;cursor:pointer}
th>button:focus-visible{outline:2px solid var(--link)}
th[aria-sort=ascending]>button::after{content:" ▲";font-size:10px}
th[aria-sort=descending]>button::after{content:" ▼";font-size:10px}
tr.acct:hover{background:var(--hover)}
tr.s-failing{background:var(--failing-row)}
tr.s-failing>td:first-child{box-shadow:inset 3px 0 var(--failing)}
tr.s-stale>td:first-child{box-shadow:inset 3px 0 var(--stale)}
.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.t{white-space:nowrap;font-variant-numeric:tabular-nums}
td.t small{display:block;color:var(--muted);font-size:11px}
td.name{font-weight:600;min-width:11em;max-width:18em;overflow-wrap:anywhere}
td.zones{max-width:13em}
td.e{min-width:16em;width:30%;overflow-wrap:anywhere}
td.e.soft{color:var(--muted)}
.err{display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden}
.zdt .err{display:block}
.retry{color:var(--muted);font-size:12px;white-space:nowrap}
.retry time small{display:none}
.disc{color:var(--muted);font-size:12px;white-space:nowrap}
.disc time small{display:none}
.down,.bad{color:var(--failing);font-weight:600}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;white-space:nowrap;border:1px solid currentColor}
.b-ok{color:var(--ok);background:var(--ok-bg)}.b-failing{color:var(--failing);background:var(--failing-bg)}
.b-stale{color:var(--stale);background:var(--stale-bg)}.b-pending{color:var(--pending);background:var(--pending-bg)}
.badge.zero{opacity:.55}
.partial{font-size:11px;font-weight:600;color:var(--stale);border:1px dashed var(--stale);border-radius:3px;padding:0 4px;white-space:nowrap}
.zone{display:inline-block;font-size:12px;padding:0 4px;border-left:3px solid var(--ok);background:var(--head);border-radius:2px;white-space:nowrap}
.zone.z-failing{border-left-color:var(--failing)}.zone.z-stale{border-left-color:var(--stale)}.zone.z-pending{border-left-color:var(--pending)}
.zt{font:inherit;font-size:11px;color:var(--link);background:none;border:0;padding:0 2px;cursor:pointer;white-space:nowrap}
tr.zd>td{padding-top:0;background:var(--head)}
.zdt{margin:2px 0 4px;font-size:12px}
.zdt th{font-weight:600;color:var(--muted);white-space:nowrap}
.zdt td.e{width:auto}
td.empty{text-align:center;color:var(--muted);padding:16px}
`;

export function renderAccountsPage(view: AccountsView, opts: PageOptions = {}): string {
  const assets = pageAssets();
  const every = refreshSeconds(opts.refresh);
  const generated = Date.parse(view.generatedAt);
  const now = Number.isNaN(generated) ? Date.now() : generated;
  const head = COLUMNS.map(
    ([key, label, tip, num]) => `<th data-k="${key}" aria-sort="none"${num ? ' class="num"' : ''} title="${esc(tip)}"><button type="button">${label}</button></th>`,
  ).join('');
  const states = STATES.map((s) => `<label><input type="checkbox" name="state" value="${s}" checked> <span class="badge b-${s}">${s}</span></label>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(titleText(view))}</title>
<style>${CSS}</style>
<noscript><style>.zt{display:none}tr.zd[hidden]{display:table-row}</style></noscript>
</head><body>
<header><h1>KT Cloud LB Exporter · Accounts</h1>
<nav><a href="./">Home</a><a href="metrics">Metrics</a><a href="?format=json">JSON</a></nav>
<div id="summary">${summaryHtml(view, now)}</div></header>
<main>
<div id="controls" hidden>
<input id="q" type="search" placeholder="Filter: name, zone or error   ( / )" aria-label="Filter by account name, zone or error" autocomplete="off">
<fieldset id="states"><legend>Show</legend>${states}</fieldset>
<span id="shown"></span><span id="live" data-refresh="${every}"></span><span id="notice" role="status" hidden></span>
</div>
<noscript><p class="muted">JavaScript is off: this is a snapshot; reload the page for fresh data.</p></noscript>
${notCollectedHtml(view)}<table id="accounts"><thead><tr>${head}</tr></thead>
<tbody id="rows">${rowsHtml(view.accounts, now, null, 'No accounts on this shard.')}</tbody></table>
</main>
<script type="application/json" id="accounts-data">${jsonForScript(view)}</script>
${assets ? `<script type="module" src="${esc(assets.scriptPath)}"></script>` : '<p class="muted">The page script is not built (npm run build): this is a snapshot.</p>'}
</body></html>
`;
}

/** JSON safe inside a <script> element: no `<` (so no `</script>` or `<!--`), `>`, `&`, U+2028 or U+2029. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * accountsDir folders left out of collection (a Secret missing a key, a bad name…): they have no
 * row, so they are listed above the table, each with its problems. Rendered by the server only:
 * a reload that fixes them is seen at the next page load.
 */
function notCollectedHtml(view: AccountsView): string {
  const list = view.notCollected ?? [];
  if (list.length === 0) return '';
  const items = list.map((n) => `<li><b>${esc(n.name ?? '(no valid name)')}</b> <code>${esc(n.folder)}</code>: ${n.problems.map(esc).join('; ')}</li>`).join('');
  return `<section id="not-collected" role="alert"><h2>${list.length} account folder${list.length === 1 ? '' : 's'} not collected</h2><ul>${items}</ul></section>\n`;
}
