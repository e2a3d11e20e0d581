/**
 * Browser script text of the /accounts page, as plain JavaScript strings (no backticks, no
 * `${` in them: they live in String.raw templates).
 *
 * RENDER_JS is the one row/summary renderer. The server runs it too (accounts-page.ts builds it
 * with `new Function`) so that the rows in the HTML, which work without JavaScript, and the rows
 * the page re-renders after each refresh are the same code. It only reads the view it is given.
 * BOOT_JS wires filter, sort, per-zone detail, the 1 s clock and the data refresh.
 */

/** Defines esc, rel, errText, zoneButtonText, rowsHtml(accounts, now, open, empty), summaryHtml(view, now), titleText(view). */
export const RENDER_JS = String.raw`
var SEVERITY = { failing: 0, stale: 1, pending: 2, ok: 3 };
var COLUMNS = 11;
function esc(s) { return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
function st(s) { return Object.prototype.hasOwnProperty.call(SEVERITY, s) ? s : 'pending'; }
function pad(n) { return (n < 10 ? '0' : '') + n; }
function tms(iso) { var t = iso ? Date.parse(iso) : NaN; return isNaN(t) ? null : t; }
function day(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); }
function clock(d) { return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()); }
function fullTime(t) {
  var d = new Date(t), o = -d.getTimezoneOffset(), a = Math.abs(o);
  return day(d) + ' ' + clock(d) + ' UTC' + (o < 0 ? '-' : '+') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
}
function shortTime(t, now) { var d = new Date(t); return day(d) === day(new Date(now)) ? clock(d) : day(d) + ' ' + clock(d).slice(0, 5); }
function span(s) {
  s = Math.max(0, Math.round(s));
  if (s < 120) return s + 's';
  var m = Math.floor(s / 60); if (m < 60) return m + 'm';
  var h = Math.floor(m / 60); if (h < 48) return h + 'h' + (m % 60 ? ' ' + (m % 60) + 'm' : '');
  return Math.floor(h / 24) + 'd';
}
/** kind 'ago' for past times, 'next' for the next scheduled run. */
function rel(iso, now, kind) {
  var t = tms(iso); if (t === null) return '';
  var d = (t - now) / 1000;
  if (kind === 'next') return d >= 0.5 ? 'in ' + span(d) : 'due';
  return -d < 1 ? 'just now' : span(-d) + ' ago';
}
function when(iso, now, kind, none) {
  var t = tms(iso);
  if (t === null) return '<span class="muted">' + none + '</span>';
  return '<time datetime="' + esc(iso) + '" title="' + esc(fullTime(t)) + '"><span data-t="' + esc(iso) + '" data-k="' + kind + '">' +
    esc(rel(iso, now, kind)) + '</span><small>' + esc(shortTime(t, now)) + '</small></time>';
}
function dur(s) { return s == null ? '<span class="muted">—</span>' : esc(s < 10 ? s.toFixed(1) + 's' : span(s)); }
function counts(n, down, known) {
  if (!known) return '<span class="muted">—</span>';
  return esc(n) + (down ? ' <span class="down">(' + esc(down) + ' down)</span>' : '');
}
function badge(s) { return '<span class="badge b-' + st(s) + '">' + esc(s) + '</span>'; }
function errText(e) { return e.reason + (e.code != null ? ' · ' + e.code : '') + ' · ' + e.message; }
function errHtml(e) {
  if (!e) return '';
  var at = tms(e.at);
  var title = errText(e) + ' (zone ' + e.zone + (at === null ? '' : ', at ' + fullTime(at)) + ')';
  return '<div class="err" title="' + esc(title) + '"><b>' + esc(e.reason) + '</b>' + (e.code != null ? ' · ' + esc(e.code) : '') + ' · ' + esc(e.message) + '</div>';
}
function partialMark() { return ' <span class="partial" title="The last collection was incomplete: some load balancers or zones could not be read">partial</span>'; }
function zoneButtonText(n, open) { return (open ? '▾ ' : '▸ ') + n + ' zones'; }
function zoneTitle(z) {
  return z.zone + ': ' + z.state + (z.partial ? ' (partial)' : '') +
    (z.lbs == null ? '' : ', ' + z.lbs + ' LBs (' + z.lbsDown + ' down), ' + z.servers + ' servers (' + z.serversDown + ' down)') +
    (z.consecutiveFailures ? ', ' + z.consecutiveFailures + ' consecutive failures' : '') + (z.lastError ? ', last error: ' + errText(z.lastError) : '');
}
function zoneRow(z, now) {
  return '<tr><td>' + esc(z.zone) + (z.partial ? partialMark() : '') + '</td><td>' + badge(z.state) + '</td><td class="t">' + when(z.lastSuccess, now, 'ago', 'never') +
    '</td><td class="t">' + when(z.lastAttempt, now, 'ago', 'never') + '</td><td class="num">' + dur(z.lastDurationSeconds) +
    '</td><td class="num">' + counts(z.lbs, z.lbsDown, z.lbs != null) + '</td><td class="num">' + counts(z.servers, z.serversDown, z.servers != null) +
    '</td><td class="num ' + (z.consecutiveFailures ? 'bad' : 'muted') + '">' + esc(z.consecutiveFailures) + '</td><td class="e">' + errHtml(z.lastError) + '</td></tr>';
}
function row(a, now, open) {
  var multi = a.zones.length > 1, isOpen = !!(open && open.has(a.name));
  var known = a.zones.some(function (z) { return z.lbs != null; });
  var zones = a.zones.map(function (z) { return '<span class="zone z-' + st(z.state) + '" title="' + esc(zoneTitle(z)) + '">' + esc(z.zone) + '</span>'; }).join(' ');
  if (multi) zones += ' <button type="button" class="zt" aria-expanded="' + isOpen + '" title="Show per-zone detail">' + zoneButtonText(a.zones.length, isOpen) + '</button>';
  var h = '<tr class="acct s-' + st(a.state) + '" data-name="' + esc(a.name) + '">' +
    '<td class="name"><span class="nm">' + esc(a.name) + '</span>' + (a.partial ? partialMark() : '') + '</td>' +
    '<td class="zones">' + zones + '</td><td>' + badge(a.state) + '</td>' +
    '<td class="t">' + when(a.lastSuccess, now, 'ago', 'never') + '</td><td class="t">' + when(a.lastAttempt, now, 'ago', 'never') + '</td>' +
    '<td class="num">' + dur(a.lastDurationSeconds) + '</td><td class="num">' + counts(a.lbs, a.lbsDown, known) + '</td>' +
    '<td class="num">' + counts(a.servers, a.serversDown, known) + '</td><td class="num ' + (a.consecutiveFailures ? 'bad' : 'muted') + '">' + esc(a.consecutiveFailures) + '</td>' +
    '<td class="t">' + when(a.nextRun, now, 'next', '—') + '</td><td class="e' + (a.state === 'ok' ? ' soft' : '') + '">' + errHtml(a.lastError) + '</td></tr>';
  if (multi) {
    h += '<tr class="zd"' + (isOpen ? '' : ' hidden') + '><td></td><td colspan="' + (COLUMNS - 1) + '"><table class="zdt"><thead><tr><th>Zone</th><th>State</th>' +
      '<th>Last success</th><th>Last attempt</th><th class="num">Duration</th><th class="num">LBs</th><th class="num">Servers</th><th class="num">Failures</th>' +
      '<th>Last error</th></tr></thead><tbody>' + a.zones.map(function (z) { return zoneRow(z, now); }).join('') + '</tbody></table></td></tr>';
  }
  return h;
}
function rowsHtml(accounts, now, open, empty) {
  if (!accounts.length) return '<tr><td colspan="' + COLUMNS + '" class="empty">' + esc(empty) + '</td></tr>';
  return accounts.map(function (a) { return row(a, now, open); }).join('');
}
function summaryHtml(v, now) {
  var s = v.summary;
  var states = ['failing', 'stale', 'pending', 'ok'].map(function (k) {
    return '<span class="badge b-' + k + (s[k] ? '' : ' zero') + '">' + esc(s[k]) + ' ' + k + '</span>';
  }).join(' ');
  return '<span><b>' + esc(s.accounts) + '</b> account' + (s.accounts === 1 ? '' : 's') + '</span> ' + states +
    ' <span title="This replica is shard ' + esc(v.shard.index) + ' (0-based) of ' + esc(v.shard.total) + '">shard ' + esc(v.shard.index) + '/' + esc(v.shard.total) + '</span>' +
    ' <span>collected every ' + esc(span(v.intervalSeconds)) + '</span> <span>generated ' + when(v.generatedAt, now, 'ago', '?') + '</span>';
}
function titleText(v) { return (v.summary.failing ? v.summary.failing + ' failing · ' : '') + 'Accounts · KT Cloud LB Exporter'; }
`;

/** Runs after RENDER_JS in the page. */
export const BOOT_JS = String.raw`
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var view, skew = 0; // skew: server clock minus browser clock, so relative times use the server's time
  function adopt(v) { view = v; var g = Date.parse(v.generatedAt); skew = isNaN(g) ? 0 : g - Date.now(); }
  function now() { return Date.now() + skew; }
  adopt(JSON.parse($('accounts-data').textContent));
  // ?refresh=SECONDS overrides the 10 s data refresh (fractions allowed, 0 turns it off); the tests use it.
  var qs = new URLSearchParams(location.search);
  var every = qs.has('refresh') ? Number(qs.get('refresh')) : 10;
  if (!(every >= 0)) every = 10;
  var rows = $('rows'), q = $('q'), notice = $('notice');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('#states input'));
  var open = new Set(), sortKey = null, sortDir = 1;
  function time(iso, none) { var t = iso ? Date.parse(iso) : NaN; return isNaN(t) ? none : t; }
  // [first-click direction, key]
  var KEYS = {
    name: [1, function (a) { return a.name.toLowerCase(); }],
    zones: [1, function (a) { return a.zones.map(function (z) { return z.zone; }).join(' ').toLowerCase(); }],
    state: [1, function (a) { return [SEVERITY[a.state], a.name.toLowerCase()]; }],
    lastSuccess: [1, function (a) { return time(a.lastSuccess, -Infinity); }],
    lastAttempt: [1, function (a) { return time(a.lastAttempt, -Infinity); }],
    duration: [-1, function (a) { return a.lastDurationSeconds == null ? -1 : a.lastDurationSeconds; }],
    lbs: [-1, function (a) { return [a.lbsDown, a.lbs]; }],
    servers: [-1, function (a) { return [a.serversDown, a.servers]; }],
    failures: [-1, function (a) { return a.consecutiveFailures; }],
    nextRun: [1, function (a) { return time(a.nextRun, Infinity); }],
    error: [1, function (a) { return a.lastError ? errText(a.lastError).toLowerCase() : '\uffff'; }],
  };
  function cmp(x, y) {
    if (Array.isArray(x)) { for (var i = 0; i < x.length; i++) { var c = cmp(x[i], y[i]); if (c) return c; } return 0; }
    if (typeof x === 'string') return x.localeCompare(y);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function hay(a) {
    var parts = [a.name];
    if (a.lastError) parts.push(errText(a.lastError));
    a.zones.forEach(function (z) { parts.push(z.zone); if (z.lastError) parts.push(errText(z.lastError)); });
    return parts.join('\n').toLowerCase();
  }
  function render() {
    var text = q.value.trim().toLowerCase();
    var states = new Set(boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }));
    var list = view.accounts.map(function (a, i) { return { a: a, i: i }; })
      .filter(function (x) { return states.has(x.a.state) && (!text || hay(x.a).indexOf(text) >= 0); });
    if (sortKey) { var key = KEYS[sortKey][1]; list.sort(function (x, y) { return sortDir * cmp(key(x.a), key(y.a)) || x.i - y.i; }); }
    var t = now();
    rows.innerHTML = rowsHtml(list.map(function (x) { return x.a; }), t, open, view.accounts.length ? 'No account matches the filter.' : 'No accounts on this shard.');
    $('summary').innerHTML = summaryHtml(view, t);
    document.title = titleText(view);
    $('shown').textContent = list.length === view.accounts.length ? '' : 'showing ' + list.length + ' of ' + view.accounts.length;
    document.querySelectorAll('th[data-k]').forEach(function (th) {
      th.setAttribute('aria-sort', th.dataset.k !== sortKey ? 'none' : sortDir > 0 ? 'ascending' : 'descending');
    });
  }
  document.querySelector('#accounts > thead').addEventListener('click', function (e) {
    var th = e.target.closest('th[data-k]'); if (!th) return;
    var k = th.dataset.k;
    // first click: the column's natural direction; second: reversed; third: back to the server's order (failing first)
    if (sortKey !== k) { sortKey = k; sortDir = KEYS[k][0]; } else if (sortDir === KEYS[k][0]) sortDir = -sortDir; else sortKey = null;
    render();
  });
  rows.addEventListener('click', function (e) {
    var b = e.target.closest('button.zt'); if (!b) return;
    var tr = b.closest('tr'), name = tr.dataset.name, detail = tr.nextElementSibling, isOpen = !open.has(name);
    if (isOpen) open.add(name); else open.delete(name);
    if (detail && detail.classList.contains('zd')) detail.hidden = !isOpen;
    b.setAttribute('aria-expanded', String(isOpen));
    b.textContent = zoneButtonText(tr.querySelectorAll('.zone').length, isOpen);
  });
  q.addEventListener('input', render);
  boxes.forEach(function (b) { b.addEventListener('change', render); });
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) { e.preventDefault(); q.focus(); }
  });
  setInterval(function () {
    var t = now();
    document.querySelectorAll('[data-t]').forEach(function (el) { el.textContent = rel(el.dataset.t, t, el.dataset.k); });
  }, 1000);
  var timer = 0, busy = false;
  function schedule() { clearTimeout(timer); if (every > 0) timer = setTimeout(refresh, every * 1000); }
  async function refresh() {
    if (busy) return;
    if (document.hidden) return schedule(); // a background tab does not poll; it refreshes when shown again
    busy = true;
    var url = new URL(location.href); url.hash = ''; url.searchParams.set('format', 'json');
    var ctl = new AbortController(), kill = setTimeout(function () { ctl.abort(); }, 15000);
    try {
      var res = await fetch(url.href, { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin', signal: ctl.signal });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      var v = await res.json();
      if (!v || v.schemaVersion !== 1 || !Array.isArray(v.accounts)) throw new Error('unexpected answer');
      adopt(v); render(); notice.hidden = true;
    } catch (err) {
      var why = err && err.name === 'AbortError' ? 'timed out' : (err && err.message) || 'error';
      notice.innerHTML = 'refresh failed (' + esc(why) + '); showing data from <span data-t="' + esc(view.generatedAt) + '" data-k="ago">' +
        esc(rel(view.generatedAt, now(), 'ago')) + '</span>';
      notice.hidden = false;
    } finally { clearTimeout(kill); busy = false; schedule(); }
  }
  document.addEventListener('visibilitychange', function () { if (!document.hidden && every > 0) refresh(); });
  $('live').textContent = every > 0 ? 'auto-refresh every ' + span(every) : 'auto-refresh off';
  $('controls').hidden = false;
  render();
  schedule();
})();
`;
