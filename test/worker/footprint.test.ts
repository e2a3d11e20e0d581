import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * What a worker thread loads is what it costs: every package on the static import graph of the
 * worker entry is loaded into each thread at start (BENCHMARKS.md "Memory"). pino (logging is
 * written by the main thread) and re2js (only when an account has an LB filter, imported then)
 * must stay off it; type-only imports cost nothing and are skipped.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function staticPackages(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:') && !packages.has(spec)) packages.set(spec, file.slice(ROOT.length));
    }
  };
  visit(resolve(ROOT, entry));
  return packages;
}

describe('the worker thread footprint', () => {
  it("the worker entry statically imports only piscina and p-limit (undici's agent is required by http-request), not pino or re2js", () => {
    const pkgs = staticPackages('src/worker/entry.ts');
    expect(pkgs.has('pino'), `pino imported by ${pkgs.get('pino')}`).toBe(false);
    expect(pkgs.has('re2js'), `re2js imported by ${pkgs.get('re2js')}`).toBe(false);
    expect([...pkgs.keys()].sort()).toEqual(['p-limit', 'piscina']);
  });

  it('the import scan sees packages (the main entry loads pino, fastify and re2js)', () => {
    const pkgs = staticPackages('src/main.ts');
    for (const p of ['pino', 'fastify', 're2js', 'piscina']) expect(pkgs.has(p), p).toBe(true);
  });
});
