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

  column(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 1 : this.lines.linePos(offset).col;
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
        // A key that is not a plain name is usually a line that lost its ':' or its indentation,
        // and may well be a password: name only its position.
        if (!PLAIN_KEY.test(key)) {
          this.problem(pair.key, context, `unknown key at column ${this.column(pair.key)} (not shown: not a plain name; a missing ":" or wrong indentation?)`);
          continue;
        }
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

  /**
   * A credential or a credential's file or variable name: only a YAML string. An unquoted
   * `0123`, `007` or `1e3` is a number to YAML and would reach the API as 123, 7 or 1000.
   * Messages name the type, never the value.
   */
  secretString(node: Node | null | undefined, context: string, key: string): string | undefined {
    if (isScalar(node) && typeof node.value === 'string' && node.value !== '') return node.value;
    if (isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean')) {
      this.problem(node, context, `${key}: YAML reads this unquoted value as a ${typeof node.value}, which can change it (0123 becomes 123); quote it: ${key}: "..."`);
    } else this.problem(node, context, `${key}: expected a non-empty quoted string, got ${kind(node)}`);
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

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const NAME_LIKE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Text of the file is repeated in a message only when it is a well-formed name (no spaces,
 * short): a line folded into a value by a bad indent, password included, never is.
 */
export function isShowable(text: string): boolean {
  return NAME_LIKE.test(text);
}

/**
 * What a node is, for messages. Text is never quoted back: a mis-indented line can fold a
 * password into a neighbouring value. Numbers and booleans are shown (`got number 0`).
 */
export function describe(node: Node | null | undefined): string {
  if (isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'boolean')) return `${typeof node.value} ${String(node.value)}`;
  return kind(node);
}

/** The type of a node alone. */
export function kind(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'null';
    if (v === '') return 'an empty string';
    return typeof v === 'string' ? 'a string' : `a ${typeof v}`;
  }
  return 'an unsupported value';
}

/** A YAML syntax error without any text of the file (some parser messages quote the source). */
export function syntaxMessage(code: string, message: string): string {
  if (code === 'BAD_DQ_ESCAPE') return 'invalid escape sequence in a double-quoted string';
  return message.split('\n')[0]!.replace(/:\s.*$/, '').replace(/ at line \d+.*$/, '');
}

/** The known key nearest to a typo, if it is near enough to be a likely meaning. */
export function closest(word: string, known: readonly string[]): string | undefined {
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
