/**
 * The two exposition formats /metrics serves, and the conversion of text 0.0.4 into OpenMetrics 1.0.
 *
 * Sample lines of gauges, counters (already named `…_total`), histograms and summaries are the
 * same in both formats; only the metadata differs. So the OpenMetrics body reuses every sample
 * line (the workers' snapshot bytes, the health text, prom-client's process metrics) and this
 * module rewrites the metadata lines only:
 *  - a counter's family is named without `_total` in `# TYPE` and `# HELP` (its samples keep it);
 *    a counter whose name lacks `_total` cannot be an OpenMetrics counter and becomes `unknown`;
 *  - `# UNIT` when the family name ends with a base unit;
 *  - `"` is escaped in HELP (OpenMetrics escapes it there, text 0.0.4 does not);
 *  - blank lines and other comments, which OpenMetrics does not allow, are dropped.
 * The caller ends the body with `# EOF`.
 *
 * (prom-client can render OpenMetrics itself, but doing so renames its counter objects in place
 * — `metric.name = standardizeCounterName(metric.name)` — which would change the text 0.0.4
 * output of the same registry from then on.)
 */
export type Format = 'text' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

export const OPENMETRICS_EOF = '# EOF\n';

/** Base units of the Prometheus naming conventions that a family name may end with. */
const UNITS = ['seconds', 'bytes', 'ratio', 'volts', 'amperes', 'joules', 'grams', 'meters', 'celsius'];

const OPENMETRICS_TYPES = new Set(['gauge', 'counter', 'histogram', 'summary', 'gaugehistogram', 'stateset', 'info', 'unknown']);

/** The metadata lines of one family in OpenMetrics (help: as escaped in text 0.0.4, or null). */
export function openMetricsHeader(name: string, type: string, help: string | null): string {
  let family = name;
  let omType = type === 'untyped' || !OPENMETRICS_TYPES.has(type) ? 'unknown' : type;
  if (omType === 'counter') {
    if (name.endsWith('_total')) family = name.slice(0, -'_total'.length);
    else omType = 'unknown';
  }
  let out = help === null ? '' : `# HELP ${family} ${help.replace(/"/g, '\\"')}\n`;
  out += `# TYPE ${family} ${omType}\n`;
  const unit = UNITS.find((u) => family.endsWith(`_${u}`));
  if (unit) out += `# UNIT ${family} ${unit}\n`;
  return out;
}

/** Text 0.0.4 → OpenMetrics 1.0 without `# EOF`: metadata rewritten, sample lines copied as they are. */
export function toOpenMetrics(text: string): string {
  const out: string[] = [];
  /** A `# HELP` line waits for its `# TYPE` line, which names the family. */
  let pending: { name: string; help: string } | null = null;
  const flushHelp = () => {
    if (pending) out.push(`# HELP ${pending.name} ${pending.help.replace(/"/g, '\\"')}\n`);
    pending = null;
  };
  let at = 0;
  let blank = text.indexOf('\n\n');
  while (at < text.length) {
    // Copy sample lines up to the next comment or blank line in one slice.
    let next = text[at] === '#' || text[at] === '\n' ? at : -1;
    if (next < 0) {
      if (blank >= 0 && blank < at) blank = text.indexOf('\n\n', at);
      const comment = text.indexOf('\n#', at);
      const cands = [comment, blank].filter((i) => i >= 0);
      next = cands.length ? Math.min(...cands) + 1 : text.length;
      flushHelp();
      out.push(text.slice(at, next));
      at = next;
      continue;
    }
    let end = text.indexOf('\n', at);
    end = end < 0 ? text.length : end + 1;
    const line = text.slice(at, end).replace(/\n$/, '');
    at = end;
    const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (!m) continue; // a blank line or another comment
    const [, kind, name, rest = ''] = m;
    if (kind === 'HELP') {
      flushHelp();
      pending = { name: name!, help: rest };
      continue;
    }
    const help = pending?.name === name ? pending.help : null;
    if (help !== null) pending = null;
    flushHelp();
    out.push(openMetricsHeader(name!, rest.trim(), help));
  }
  flushHelp();
  return out.join('');
}
