/**
 * Runs a Grafana dashboard's queries against a real Prometheus the way Grafana would, and reports
 * what a user would see broken:
 * - a panel query that returns no series (a metric renamed, a label matcher that no longer
 *   matches, a variable that offers nothing);
 * - a series without a label the panel shows: `{{label}}` in a legendFormat, a column of a table's
 *   `organize` transformation (shown, not excluded), the label of a `label_values()` variable;
 * - a template variable whose `label_values()` is empty, or does not offer the value in use.
 */
import type { Prometheus, Series } from './prometheus.js';

interface Target {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  format?: string;
  hide?: boolean;
}
interface Transformation {
  id: string;
  options?: { indexByName?: Record<string, number>; renameByName?: Record<string, string>; excludeByName?: Record<string, boolean> };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Target[];
  transformations?: Transformation[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
export interface Dashboard {
  panels: Panel[];
  templating?: { list: Variable[] };
}

export interface PanelQuery {
  readonly panelId: number;
  readonly panelTitle: string;
  readonly refId: string;
  readonly expr: string;
  /** Labels the panel displays for each series: legend `{{label}}`s and table columns. */
  readonly labels: readonly string[];
}

export interface VariableQuery {
  readonly name: string;
  readonly label: string;
  /** The series selector of label_values(SELECTOR, label); undefined for label_values(label). */
  readonly selector?: string;
  readonly regexFormatted: boolean;
  readonly allValue: string;
}

/** Grafana's built-in interval variables, for a 1 s scrape interval ($__rate_interval = 4 × scrape interval). */
export const BUILTINS: Readonly<Record<string, string>> = { __rate_interval: '4s', __interval: '1s', __range: '1m', __range_s: '60', __interval_ms: '1000' };

/** Table columns that are not labels. */
const NOT_LABELS = new Set(['Time', 'Value', '__name__']);

function panelsOf(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      out.push(p);
      if (p.panels) walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

function tableColumns(p: Panel): string[] {
  const cols = new Set<string>();
  for (const t of p.transformations ?? []) {
    if (t.id !== 'organize') continue;
    const excluded = t.options?.excludeByName ?? {};
    for (const name of [...Object.keys(t.options?.indexByName ?? {}), ...Object.keys(t.options?.renameByName ?? {})]) {
      if (!NOT_LABELS.has(name) && !name.startsWith('Value #') && excluded[name] !== true) cols.add(name);
    }
  }
  return [...cols];
}

/** Every query of every panel (rows' nested panels included), with the labels the panel shows. */
export function panelQueries(d: Dashboard): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const p of panelsOf(d)) {
    const columns = tableColumns(p);
    for (const t of p.targets ?? []) {
      if (!t.expr || t.hide) continue;
      const legend = [...(t.legendFormat ?? '').matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1]!);
      out.push({ panelId: p.id, panelTitle: p.title, refId: t.refId ?? '', expr: t.expr, labels: [...new Set([...legend, ...columns])] });
    }
  }
  return out;
}

/** The dashboard's query variables; only label_values() is supported (anything else must be added here). */
export function variableQueries(d: Dashboard): VariableQuery[] {
  const out: VariableQuery[] = [];
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = (typeof v.query === 'string' ? v.query : v.query?.query) ?? v.definition ?? '';
    const m = /^\s*label_values\(\s*(?:([\s\S]*),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(q);
    if (!m) throw new Error(`variable $${v.name}: unsupported query ${JSON.stringify(q)} (teach test/e2e/dashboard-check.ts about it)`);
    out.push({ name: v.name, label: m[2]!, selector: m[1]?.trim() || undefined, regexFormatted: !!(v.multi || v.includeAll), allValue: v.allValue ?? '.*' });
  }
  return out;
}

const regexEscape = (s: string) => s.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&');
const stringEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * Replaces `$name`, `${name}` and `${name:format}` as Grafana does before sending a query: the
 * value of a multi-value or include-All variable is regex-escaped (the All value is not). An
 * unknown variable is an error, so a new dashboard variable cannot slip through unchecked.
 */
export function substitute(text: string, values: Readonly<Record<string, string>>, vars: readonly VariableQuery[] = []): string {
  const byName = new Map(vars.map((v) => [v.name, v]));
  return text.replace(/\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (name in BUILTINS) return BUILTINS[name]!;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for $${name} in ${text}`);
    const v = byName.get(name);
    const formatted = v?.regexFormatted && value !== v.allValue ? regexEscape(value) : value;
    return stringEscape(formatted);
  });
}

/** The findings for one dashboard with the given variable values (empty: every panel has data). */
export async function checkDashboard(prom: Prometheus, d: Dashboard, values: Readonly<Record<string, string>>): Promise<string[]> {
  const findings: string[] = [];
  const vars = variableQueries(d);
  for (const v of vars) {
    const selector = v.selector === undefined ? undefined : substitute(v.selector, values, vars);
    const what = `variable $${v.name}: label_values(${selector ? `${selector}, ` : ''}${v.label})`;
    let offered: string[];
    try {
      offered = await prom.labelValues(v.label, selector);
    } catch (err) {
      findings.push(`${what} failed: ${(err as Error).message}`);
      continue;
    }
    const inUse = values[v.name];
    if (offered.length === 0) findings.push(`${what} offers nothing`);
    else if (inUse !== undefined && inUse !== v.allValue && !offered.includes(inUse)) findings.push(`${what} does not offer ${JSON.stringify(inUse)} (offers ${offered.join(', ')})`);
  }
  for (const q of panelQueries(d)) {
    const where = `panel ${q.panelId} "${q.panelTitle}" [${q.refId}]`;
    const expr = substitute(q.expr, values, vars);
    let series: Series[];
    try {
      series = await prom.query(expr);
    } catch (err) {
      findings.push(`${where}: ${expr}: query failed: ${(err as Error).message}`);
      continue;
    }
    if (series.length === 0) {
      findings.push(`${where}: ${expr}: no series`);
      continue;
    }
    for (const label of q.labels) {
      const lacking = series.filter((s) => !s.metric[label]);
      if (lacking.length > 0) findings.push(`${where}: ${expr}: ${lacking.length} of ${series.length} series lack label "${label}" (shown by the panel)`);
    }
  }
  return findings;
}
