/**
 * Shared by the deployment tests: finding the external tools they need, running them, and
 * rendering the kustomize trees.
 *
 * A test that needs a missing tool FAILS under CI (CI=true), where `.ci/run` must have
 * installed it, and is skipped with the reason in its title elsewhere.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
/** `KTCLOUD_SYNC=1 npx vitest run test/deploy` rewrites the derived copies instead of only comparing them. */
export const SYNC = process.env.KTCLOUD_SYNC === '1';

export interface Requirement {
  readonly name: string;
  readonly available: boolean;
  /** How to get it, shown when it is missing. */
  readonly install: string;
}

/** An executable on PATH. */
export function program(name: string, install: string): Requirement {
  const available = (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return { name, available, install };
}

/** An npm package the tests import; returns the module too when it loads. */
export async function npmModule<T = unknown>(specifier: string, install: string): Promise<Requirement & { module?: T }> {
  try {
    // A variable specifier keeps Vite from resolving it at transform time.
    const module = (await import(/* @vite-ignore */ specifier)) as T;
    return { name: specifier, available: true, install, module };
  } catch {
    return { name: specifier, available: false, install };
  }
}

export const KUBECTL = program('kubectl', 'kubectl >= 1.27 (its kustomize must support components)');
export const PROMTOOL = program('promtool', 'Debian package prometheus');
export const SHELLCHECK = program('shellcheck', 'Debian package shellcheck');

/** describe() when every requirement is met; otherwise a failing test in CI, a skip elsewhere. */
export function describeWith(requirements: readonly Requirement[], title: string, body: () => void): void {
  const missing = requirements.filter((r) => !r.available);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const what = missing.map((r) => `${r.name} (${r.install})`).join(', ');
  if (IN_CI) {
    describe(title, () => {
      it('has the tools it needs', () => {
        throw new Error(`required under CI=true but missing: ${what}`);
      });
    });
  } else {
    describe.skip(`${title} [skipped: missing ${what}]`, body);
  }
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A Kubernetes object as rendered; only the fields the tests read are typed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function parseYamlDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** `kubectl kustomize DIR` (relative to the repository root), parsed. */
export function kustomize(dir: string): K8sObject[] {
  const r = run('kubectl', ['kustomize', dir]);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseYamlDocs(r.stdout);
}

/**
 * Renders a throw-away kustomization that adds `components` (repository-relative folders) to an
 * existing overlay, the way an operator would include them. Kustomize wants relative paths.
 */
export function kustomizeWith(overlay: string, components: readonly string[]): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'ktcloud-overlay-'));
  try {
    const rel = (p: string) => relative(dir, join(ROOT, p));
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `resources: [${JSON.stringify(rel(overlay))}]`,
        `components: [${components.map((c) => JSON.stringify(rel(c))).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const r = run('kubectl', ['kustomize', dir]);
    if (r.status !== 0) throw new Error(`kubectl kustomize (${overlay} + ${components.join(', ')}) failed:\n${r.stderr}`);
    return parseYamlDocs(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/** Writes each expression as a recording rule into a temporary rules file and runs `promtool check rules` on it. */
export function promtoolCheckExpressions(exprs: readonly string[]): RunResult {
  const dir = mkdtempSync(join(tmpdir(), 'ktcloud-promql-'));
  try {
    const file = join(dir, 'exprs.rules.json');
    // JSON is YAML: no quoting rules to get wrong for PromQL's quotes and braces.
    const rules = exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'exprs', rules }] }, null, 1));
    return run('promtool', ['check', 'rules', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Names of the KT Cloud metrics (ktcloud_*) an expression reads, with the label names it matches on. */
export function metricSelectors(expr: string): { metric: string; labels: string[] }[] {
  const out: { metric: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/\b(ktcloud_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = m[3] ? [...m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]) : [];
    out.push({ metric: m[1], labels });
  }
  return out;
}

/** Labels Prometheus adds to every series from a ServiceMonitor target. */
export const TARGET_LABELS = ['namespace', 'pod', 'service', 'endpoint', 'container', 'instance', 'job'];

/** Every metric family the exporter declares (src/metrics/families.ts), by name: its labels. */
export async function exporterFamilies(): Promise<Map<string, readonly string[]>> {
  const { LB_FAMILIES, HEALTH_FAMILIES } = await import('../../src/metrics/families.js');
  const all = [...Object.values(LB_FAMILIES), ...Object.values(HEALTH_FAMILIES)] as { name: string; labels: readonly string[] }[];
  return new Map(all.map((f) => [f.name, f.labels]));
}
