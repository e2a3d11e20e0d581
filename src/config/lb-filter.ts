/**
 * Load balancer filters: RE2 patterns matched against the whole LB name, as Prometheus
 * relabelling matches (`^(?:re)$`). Validated when the config is read, compiled again in each
 * worker thread (patterns cross the thread boundary as text).
 *
 * Why RE2 (the re2js port) and not RegExp: the patterns are the operator's, the names are the
 * API's, and a backtracking engine can take exponential time on a pattern like `(a+)+$` — one
 * such pattern would stall a worker thread and every account on it. RE2 matches in time linear
 * in pattern × name, has Prometheus's syntax, and refuses backreferences and lookaround.
 * Patterns are capped at MAX_PATTERN_LENGTH characters and names at 256 bytes (label-safety),
 * so one match costs a bounded amount of work.
 */
import { RE2JS } from 're2js';
import type { LbFilter } from './types.js';

export const MAX_PATTERN_LENGTH = 256;
export const MAX_PATTERNS = 64;

/** A compiled pattern, or why it is not one (the reason never quotes the pattern: it is config text). */
export function compilePattern(pattern: string): RE2JS | string {
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    // re2js ends its messages with the offending text in backquotes: keep only the reason.
    const msg = err instanceof Error ? err.message : String(err);
    return `invalid RE2 pattern: ${msg.replace(/: `[\s\S]*$/, '').replace(/^error parsing regexp: /, '')}`;
  }
}

export type LbNameTest = (name: string) => boolean;

/** Whether an LB of this name is exported. Throws on a pattern the config check should have refused. */
export function lbNameTest(f: LbFilter | undefined): LbNameTest {
  if (!f || (f.include.length === 0 && f.exclude.length === 0)) return () => true;
  const compile = (p: string) => {
    const r = compilePattern(p);
    if (typeof r === 'string') throw new Error(r);
    return r;
  };
  const include = f.include.map(compile);
  const exclude = f.exclude.map(compile);
  return (name) => (include.length === 0 || include.some((r) => r.matches(name))) && !exclude.some((r) => r.matches(name));
}
