/** Prometheus text exposition format primitives. */
import type { FamilyDef } from './families.js';

/** Escapes a label value: backslash, double quote and line feed (the format's three escapes). */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function familyHeader(f: FamilyDef): string {
  return `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
}

/**
 * `name{a="1",b="2"} value\n`; `labels` must follow the family's label order. Joined from an
 * array so that the line is one flat string: callers append thousands of lines, and a line
 * built by `+=` is a tree of small strings that the collector then has to walk.
 */
export function sample(name: string, labels: readonly string[], values: readonly string[], value: number): string {
  if (labels.length === 0) return `${name} ${formatValue(value)}\n`;
  const parts: string[] = [name, '{'];
  for (let i = 0; i < labels.length; i++) parts.push(i ? ',' : '', labels[i]!, '="', escapeLabelValue(values[i] ?? ''), '"');
  parts.push('} ', formatValue(value), '\n');
  return parts.join('');
}
