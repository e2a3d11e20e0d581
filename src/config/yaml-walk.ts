import { isMap, isScalar, isSeq, LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';

/**
 * Reading a YAML document node by node, so that every problem can name the file and line it
 * comes from. Problems are collected, not thrown, so that a user sees all of them at once.
 */
export class Walker {
  readonly problems: string[] = [];
  constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  line(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).line;
  }

  problem(node: Node | null | undefined, context: string, message: string): void {
    const where = `${this.file}:${this.line(node)}`;
    this.problems.push(context ? `${where}: ${context}: ${message}` : `${where}: ${message}`);
  }

  /** The pairs of a mapping; reports unknown keys (with a suggestion) against `known`. */
  entries(node: Node | null | undefined, context: string, known: readonly string[]): Map<string, Pair<Node, Node | null>> {
    const out = new Map<string, Pair<Node, Node | null>>();
    if (!isMap(node)) {
      this.problem(node, context, `expected a mapping, got ${describe(node)}`);
      return out;
    }
    for (const pair of (node as YAMLMap<Node, Node | null>).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) {
        this.problem(pair.key, context, 'keys must be plain strings');
        continue;
      }
      if (!known.includes(key)) {
        const hint = closest(key, known);
        this.problem(pair.key, context, `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
        continue;
      }
      if (out.has(key)) {
        this.problem(pair.key, context, `key "${key}" is given twice`);
        continue;
      }
      out.set(key, pair);
    }
    return out;
  }

  string(node: Node | null | undefined, context: string, key: string): string | undefined {
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number') && String(node.value) !== '') {
      return String(node.value);
    }
    this.problem(node, context, `${key}: expected a non-empty string, got ${describe(node)}`);
    return undefined;
  }

  number(node: Node | null | undefined, context: string, key: string, opts: { min: number; integer?: boolean }): number | undefined {
    const v = isScalar(node) ? node.value : undefined;
    if (typeof v === 'number' && Number.isFinite(v) && v >= opts.min && (!opts.integer || Number.isInteger(v))) return v;
    const kind = opts.integer ? 'an integer' : 'a number';
    this.problem(node, context, `${key}: expected ${kind} >= ${opts.min}, got ${describe(node)}`);
    return undefined;
  }

  stringList(node: Node | null | undefined, context: string, key: string): string[] | undefined {
    if (isScalar(node) && typeof node.value === 'string') return splitList(node.value);
    if (!isSeq(node)) {
      this.problem(node, context, `${key}: expected a list, got ${describe(node)}`);
      return undefined;
    }
    const out: string[] = [];
    for (const item of node.items as Node[]) {
      const s = this.string(item, context, key);
      if (s !== undefined) out.push(s);
    }
    return out;
  }
}

export function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function describe(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    return typeof v === 'string' ? JSON.stringify(v) : `${typeof v} ${String(v)}`;
  }
  return 'an unsupported value';
}

/** The known key nearest to a typo, if it is near enough to be a likely meaning. */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
