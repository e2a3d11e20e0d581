import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The thread boundary stays visible in the tree: code under src/worker runs in worker threads
 * and reaches the main thread only through src/protocol.ts's data; main-thread code never
 * imports it (piscina loads it by file name).
 */
const SRC = new URL('../../src/', import.meta.url).pathname;
const MAIN_ONLY = ['pool', 'schedule', 'state', 'http', 'app.ts', 'main.ts', 'cli.ts', 'watch.ts'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative import targets of a file, as paths under src/ ("pool/claim.js"). */
function imports(file: string): string[] {
  const specs = [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)));
}

describe('the thread boundary', () => {
  it('worker code imports no main-thread module', () => {
    const crossing = files(join(SRC, 'worker')).flatMap((f) => imports(f).filter((t) => MAIN_ONLY.some((m) => t === m.replace(/\.ts$/, '.js') || t.startsWith(`${m}/`))).map((t) => `${relative(SRC, f)} → ${t}`));
    expect(crossing).toEqual([]);
  });

  it('main-thread code imports nothing from src/worker', () => {
    const crossing = files(SRC)
      .filter((f) => !f.startsWith(join(SRC, 'worker')))
      .flatMap((f) => imports(f).filter((t) => t.startsWith('worker/')).map((t) => `${relative(SRC, f)} → ${t}`));
    expect(crossing).toEqual([]);
  });
});
