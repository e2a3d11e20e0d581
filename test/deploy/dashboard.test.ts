/**
 * dashboards/*.json: every panel of the dashboard users run today (KT Cloud Account - ALL),
 * filtered by account and zone, plus account health; every expression parses (promtool).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeWith, exporterFamilies, metricSelectors, PROMTOOL, promtoolCheckExpressions, ROOT, SYNC, TARGET_LABELS } from './tools.js';

const DASHBOARD = 'dashboards/ktcloud-lb-accounts.json';
const COMPONENT_COPY = 'k8s-manifests/components/grafana-dashboard/ktcloud-lb-accounts.json';
const FILTER = 'namespace=~"$namespace", account=~"$account", zone=~"$zone"';

/** The panels and queries of the original dashboard (shared/reference/original-dashboard-account-all.json). */
const ORIGINAL: { title: string; type: string; exprs: string[] }[] = [
  { title: '총 LB 수', type: 'stat', exprs: ['ktcloud_lb_total_count'] },
  { title: '정상 LB 수', type: 'stat', exprs: ['sum(ktcloud_lb_info)'] },
  { title: '다운 LB 수', type: 'stat', exprs: ['count(ktcloud_lb_info == 0)'] },
  { title: '서비스 타입별 로드밸런서', type: 'piechart', exprs: ['ktcloud_lb_service_type_count'] },
  { title: 'Load Balancer별 연결된 서버 수', type: 'timeseries', exprs: ['ktcloud_lb_server_count{lb_name=~"$lb_name"}'] },
  { title: 'Load Balancer 현황', type: 'table', exprs: ['ktcloud_lb_info'] },
  { title: '🔽 Load Balancer 선택: $selected_lb | 연결된 서버 상태', type: 'table', exprs: ['ktcloud_lb_server_state{lb_name="$selected_lb"}'] },
  { title: 'TTFB (Time To First Byte)', type: 'timeseries', exprs: ['ktcloud_server_avg_ttfb_ms{lb_name="$selected_lb"}'] },
  { title: 'Throughput', type: 'timeseries', exprs: ['ktcloud_server_throughput_rate_kbps{lb_name="$selected_lb"}'] },
  { title: 'Requests', type: 'timeseries', exprs: ['ktcloud_server_requests_rate_per_sec{lb_name="$selected_lb"}'] },
  {
    title: 'Connections',
    type: 'timeseries',
    exprs: ['ktcloud_server_current_connections{lb_name="$selected_lb"} > 0', 'sum(ktcloud_server_current_connections{lb_name="$selected_lb"} > 0)'],
  },
];

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
}

const dashboards = readdirSync(join(ROOT, 'dashboards')).filter((f) => f.endsWith('.json'));
const load = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));
const panelsOf = (d: { panels: Panel[] }): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const exprsOf = (d: { panels: Panel[] }): string[] => panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const variablesOf = (d: { templating: { list: Variable[] } }) => new Map(d.templating.list.map((v) => [v.name, v]));
const queryOf = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query?.query ?? '');

/** Grafana's variables replaced by values PromQL accepts, as Grafana would before sending the query. */
function substitute(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '5m')
    .replace(/\$__interval|\$\{__interval\}/g, '1m')
    .replace(/\$__range|\$\{__range\}/g, '1h')
    .replace(/\$\{([A-Za-z_]\w*)(:\w+)?\}|\$([A-Za-z_]\w*)/g, 'x');
}

/** The variables an expression or title uses. */
const variablesUsed = (text: string) => [...text.matchAll(/\$\{?([A-Za-z_]\w*)/g)].map((m) => m[1]).filter((n) => !n.startsWith('__'));

describe.each(dashboards)('dashboards/%s', (file) => {
  const d = load(`dashboards/${file}`);

  it('uses only template variables it defines', () => {
    const defined = variablesOf(d);
    const texts = [...exprsOf(d), ...panelsOf(d).map((p) => p.title), ...d.templating.list.map(queryOf)];
    for (const text of texts) for (const name of variablesUsed(text)) expect(defined.has(name), `$${name} in ${text}`).toBe(true);
  });

  it('reads only metrics and labels the exporter publishes', async () => {
    const families = await exporterFamilies();
    for (const expr of [...exprsOf(d), ...d.templating.list.map(queryOf)]) {
      for (const { metric, labels } of metricSelectors(expr)) {
        expect(families.has(metric), `${metric} in ${expr}`).toBe(true);
        for (const l of labels) expect([...families.get(metric)!, ...TARGET_LABELS], `${metric}{${l}} in ${expr}`).toContain(l);
      }
    }
  });

  it('lays out panels without overlap inside 24 columns', () => {
    const boxes = panelsOf(d).map((p) => ({ id: p.id, ...p.gridPos }));
    for (const b of boxes) expect(b.x + b.w, `panel ${b.id}`).toBeLessThanOrEqual(24);
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `panels ${a.id} and ${b.id}`).toBe(false);
      }
    }
    const ids = boxes.map((b) => b.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describeWith([PROMTOOL], 'dashboard PromQL (promtool)', () => {
  it.each(dashboards)('every expression of dashboards/%s parses', (file) => {
    const d = load(`dashboards/${file}`);
    // Variable queries are label_values(SELECTOR, label): their selector must parse too.
    const selectors = d.templating.list
      .map((v: Variable) => /^label_values\((.*),\s*\w+\)$/.exec(queryOf(v))?.[1])
      .filter((s: string | undefined): s is string => !!s);
    const exprs = [...exprsOf(d), ...selectors].map(substitute);
    expect(exprs.length).toBeGreaterThan(0);
    for (const e of exprs) expect(e, 'a variable was left unsubstituted').not.toContain('$');
    const r = promtoolCheckExpressions(exprs);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('promtool rejects a broken expression (the check is live)', () => {
    expect(promtoolCheckExpressions(['sum(ktcloud_lb_info{account=~"x"}']).status).not.toBe(0);
  });
});

describe(DASHBOARD, () => {
  const d = load(DASHBOARD);
  const panels = panelsOf(d);

  it('keeps every panel of the original dashboard, with its query filtered by account and zone', () => {
    for (const original of ORIGINAL) {
      const panel = panels.find((p) => p.title === original.title);
      expect(panel, original.title).toBeDefined();
      expect(panel!.type).toBe(original.type);
      const exprs = (panel!.targets ?? []).map((t) => t.expr);
      expect(exprs).toHaveLength(original.exprs.length);
      for (const [i, expr] of exprs.entries()) {
        expect(expr, original.title).toContain(FILTER);
        // Without the filter, the original query is still there (at most wrapped in sum() for many accounts).
        const unfiltered = expr.replaceAll(`{${FILTER}}`, '').replaceAll(`${FILTER}, `, '');
        expect(unfiltered, original.title).toContain(original.exprs[i]);
      }
    }
  });

  it('filters every account-level query by $namespace, $account and $zone', async () => {
    const families = await exporterFamilies();
    for (const expr of exprsOf(d)) {
      for (const { metric } of metricSelectors(expr)) {
        if (families.get(metric)?.includes('account')) expect(expr, metric).toContain(FILTER);
        else expect(expr, metric).toContain('namespace=~"$namespace"');
      }
    }
  });

  it('offers account and zone variables from the exporter\'s series, multi-select with All', () => {
    const vars = variablesOf(d);
    expect(queryOf(vars.get('account')!)).toMatch(/^label_values\(ktcloud_account_up\{.*\}, account\)$/);
    expect(queryOf(vars.get('zone')!)).toMatch(/^label_values\(ktcloud_account_up\{.*account=~"\$account".*\}, zone\)$/);
    expect(queryOf(vars.get('lb_name')!)).toMatch(/^label_values\(ktcloud_lb_info\{.*\}, lb_name\)$/);
    expect(queryOf(vars.get('selected_lb')!)).toMatch(/^label_values\(ktcloud_lb_info\{.*\}, lb_name\)$/);
    for (const name of ['namespace', 'account', 'zone', 'lb_name']) {
      expect(vars.get(name), name).toMatchObject({ type: 'query', multi: true, includeAll: true, allValue: '.*' });
    }
    expect(vars.get('selected_lb')).toMatchObject({ multi: false, includeAll: false });
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  it('adds an account health row: status table, last success age, collection duration, errors by reason, API request rate', () => {
    const row = panels.findIndex((p) => p.type === 'row' && /Account health/.test(p.title));
    expect(row).toBeGreaterThan(0);
    const health = panels.slice(row + 1).flatMap((p) => (p.targets ?? []).map((t) => ({ type: p.type, expr: t.expr })));
    const has = (re: RegExp, type?: string) => expect(health.some((h) => re.test(h.expr) && (!type || h.type === type)), String(re)).toBe(true);
    has(/^ktcloud_account_up\{/, 'table');
    has(/^time\(\) - ktcloud_account_last_success_timestamp_seconds\{/);
    has(/^ktcloud_account_collection_duration_seconds\{/);
    has(/^sum by \([^)]*\breason\b[^)]*\) \(rate\(ktcloud_account_collection_errors_total\{.*\}\[\$__rate_interval\]\)\)$/);
    has(/rate\(ktcloud_api_requests_total\{.*\}\[\$__rate_interval\]\)/);
  });

  it('shows the API budget used per zone (requests over the zone limit), series per account and LBs filtered out', () => {
    const all = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ p, expr: t.expr })));
    const budget = all.find(({ expr }) => /^sum by \([^)]*\bzone\b[^)]*\) \(rate\(ktcloud_api_requests_total\{.*\}\[\$__rate_interval\]\)\) \/ on \([^)]*\bzone\b[^)]*\) ktcloud_api_zone_requests_per_second_limit\{/.test(expr));
    expect(budget, 'API budget panel').toBeDefined();
    expect((budget!.p as unknown as { fieldConfig: { defaults: { unit: string } } }).fieldConfig.defaults.unit).toBe('percentunit');
    expect(all.some(({ expr }) => /^ktcloud_account_series\{/.test(expr)), 'series per account').toBe(true);
    expect(all.some(({ expr }) => /^ktcloud_account_lbs_filtered\{/.test(expr)), 'LBs filtered').toBe(true);
  });

  it('takes its data source from a variable and can be imported anywhere', () => {
    expect(d.id).toBeNull();
    expect(d.uid).toBe('ktcloud-lb-accounts');
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect((p as unknown as { datasource: unknown }).datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });
});

describe('dashboard ConfigMap copy', () => {
  beforeAll(() => {
    if (SYNC) writeFileSync(join(ROOT, COMPONENT_COPY), readFileSync(join(ROOT, DASHBOARD)));
  });

  it(`${COMPONENT_COPY} is ${DASHBOARD} byte for byte (KTCLOUD_SYNC=1 copies it)`, () => {
    expect(readFileSync(join(ROOT, COMPONENT_COPY), 'utf8')).toBe(readFileSync(join(ROOT, DASHBOARD), 'utf8'));
  });
});
