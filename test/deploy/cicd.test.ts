/**
 * CI (GitHub Actions) and CD (ArgoCD): the workflows run what the project runs locally, publish
 * the tags the overlays use, and the Applications point at the overlays with the sync policy
 * of each environment.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseYamlDocs, ROOT } from './tools.js';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const workflow = (name: string) => parse(read(`.github/workflows/${name}`));
/** Every `run:` script and `uses:` reference of a workflow. */
const steps = (wf: any): { run?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string> }[] =>
  Object.values<any>(wf.jobs).flatMap((job) => job.steps ?? []);

const ENVIRONMENTS = {
  dev: { namespace: 'monitoring-dev', branch: 'develop', moving: 'develop-latest', automated: true },
  staging: { namespace: 'monitoring-staging', branch: 'main', moving: 'main-latest', automated: true },
  prod: { namespace: 'monitoring', branch: undefined, moving: undefined, automated: false },
} as const;

describe('.github/workflows', () => {
  it.each(readdirSync(join(ROOT, '.github/workflows')))('%s pins every action to a version', (file) => {
    for (const s of steps(workflow(file))) {
      if (s.uses) expect(s.uses).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+)*|\d+\.\d+\.\d+)$/);
    }
  });

  describe('ci-pipeline.yml', () => {
    const wf = workflow('ci-pipeline.yml');
    const text = read('.github/workflows/ci-pipeline.yml');

    it('runs on pushes to main and develop, release tags and pull requests', () => {
      expect(wf.on.push.branches.sort()).toEqual(['develop', 'main']);
      expect(wf.on.push.tags).toEqual(['v*']);
      expect(wf.on.pull_request).toBeDefined();
      expect(wf.permissions).toEqual({ contents: 'read' });
    });

    it('lints, typechecks and tests the way developers do (npm ci, npm test via .ci/run, on Debian)', () => {
      const lint = wf.jobs.lint.steps.map((s: any) => s.run).filter(Boolean);
      expect(lint).toEqual(expect.arrayContaining(['npm ci', 'npm run typecheck', 'shellcheck scripts/*.sh']));
      const test = wf.jobs.test;
      // On Node 24 (the image's runtime) and 22 (the engines minimum), each through .ci/run.
      expect(test.strategy.matrix.node).toEqual([24, 22]);
      expect(test.container).toBe('node:${{ matrix.node }}-bookworm');
      expect(test.steps.find((s: any) => s.run === 'bash .ci/run').env.NODE_MAJOR).toBe('${{ matrix.node }}');
      expect(wf.jobs.lint.steps.find((s: any) => s.uses?.startsWith('actions/setup-node@')).with['node-version']).toBe(24);
      expect(test.steps.map((s: any) => s.run).filter(Boolean)).toEqual(['bash .ci/run']);
      expect(test.steps.find((s: any) => s.run === 'bash .ci/run').env.CI).toBe('true');
      expect(test.steps.some((s: any) => s.uses?.startsWith('azure/setup-kubectl@'))).toBe(true);
    });

    it('builds the image on every run and pushes it, with the registry secrets, only on pushes', () => {
      const image = wf.jobs.image;
      expect(image.needs.sort()).toEqual(['lint', 'test']);
      const login = image.steps.find((s: any) => s.uses?.startsWith('docker/login-action@'));
      expect(login.if).toBe("github.event_name == 'push'");
      expect(login.with).toMatchObject({ username: '${{ secrets.REGISTRY_USERNAME }}', password: '${{ secrets.REGISTRY_PASSWORD }}' });
      const build = image.steps.find((s: any) => s.uses?.startsWith('docker/build-push-action@'));
      expect(build.with.push).toBe("${{ github.event_name == 'push' }}");
    });

    it('tags images as the overlays expect: develop-latest, main-latest, release tags', () => {
      const choose = wf.jobs.image.steps.find((s: any) => s.id === 'target').run as string;
      for (const [env, e] of Object.entries(ENVIRONMENTS)) {
        const branch = e.branch ? `refs/heads/${e.branch}` : 'refs/tags/v*';
        const line = choose.split('\n').find((l) => l.trim().startsWith(`${branch})`));
        expect(line, branch).toBeDefined();
        expect(line).toContain(`environment=${env}`);
        if (e.moving) expect(line).toContain(`moving=${e.moving}`);
        const overlay = read(`k8s-manifests/overlays/${env}/kustomization.yaml`);
        if (e.moving) expect(overlay).toContain(`newTag: ${e.moving}`);
      }
    });

    it('writes the immutable tag into the GitOps repository with GITOPS_REPO and GITOPS_TOKEN', () => {
      const gitops = wf.jobs.gitops;
      expect(gitops.needs).toBe('image');
      expect(gitops.if).toContain("github.event_name == 'push'");
      const step = gitops.steps[0];
      expect(step.env).toMatchObject({ GITOPS_REPO: '${{ secrets.GITOPS_REPO }}', GITOPS_TOKEN: '${{ secrets.GITOPS_TOKEN }}' });
      expect(step.run).toContain('kustomize edit set image "$MANIFEST_IMAGE=$REGISTRY/$IMAGE_NAME:$TAG"');
      expect(step.run).toContain('k8s-manifests/overlays/$ENVIRONMENT');
      // The name kustomize replaces must be the one the manifests use.
      const base = parse(read('k8s-manifests/base/statefulset.yaml'));
      expect(`${wf.env.MANIFEST_IMAGE}:`).toBe(base.spec.template.spec.containers[0].image.replace(/[^:]+$/, ''));
      for (const env of Object.keys(ENVIRONMENTS)) {
        expect(read(`k8s-manifests/overlays/${env}/kustomization.yaml`)).toContain(`- name: ${wf.env.MANIFEST_IMAGE}\n`);
      }
    });

    it('never prints or stores a credential in the workflow itself', () => {
      expect(text).not.toMatch(/password:\s*['"]?[^$\s'"{]/i);
      expect(text).not.toMatch(/echo[^\n]*secrets\./);
    });
  });

  describe('security-scan.yml', () => {
    const wf = workflow('security-scan.yml');
    const all = steps(wf);

    it('runs daily and on demand', () => {
      expect(wf.on.schedule).toHaveLength(1);
      expect(wf.on.schedule[0].cron).toMatch(/^\d+ \d+ \* \* \*$/);
      expect(wf.on).toHaveProperty('workflow_dispatch');
    });

    it('audits npm dependencies, scans the image and the rendered manifests, and uploads SARIF', () => {
      expect(all.some((s) => s.run?.startsWith('npm audit --omit=dev --audit-level=high'))).toBe(true);
      const trivy = all.filter((s) => s.uses?.startsWith('aquasecurity/trivy-action@'));
      expect(trivy.some((s) => s.with?.['image-ref'])).toBe(true);
      expect(trivy.some((s) => s.with?.['scan-type'] === 'config')).toBe(true);
      expect(all.some((s) => s.run?.includes('kubectl kustomize "k8s-manifests/overlays/$env"'))).toBe(true);
      const uploads = all.filter((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'));
      expect(uploads.map((s) => s.with?.category).sort()).toEqual(['trivy-config', 'trivy-image']);
      for (const job of Object.values<any>(wf.jobs)) {
        if (job.steps.some((s: any) => s.uses?.startsWith('github/codeql-action/'))) expect(job.permissions['security-events']).toBe('write');
      }
    });
  });
});

describe('k8s-manifests/argocd-apps', () => {
  const apps = new Map(
    Object.keys(ENVIRONMENTS).map((env) => [env, parseYamlDocs(read(`k8s-manifests/argocd-apps/${env}.yaml`))[0]] as const),
  );

  it('lists every Application in its kustomization', () => {
    expect(parse(read('k8s-manifests/argocd-apps/kustomization.yaml')).resources.sort()).toEqual(['dev.yaml', 'prod.yaml', 'staging.yaml']);
  });

  it.each(Object.entries(ENVIRONMENTS))('%s deploys its overlay into its namespace', (env, e) => {
    const app = apps.get(env)!;
    expect(app).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: `ktcloud-lb-exporter-${env}`, namespace: 'argocd' } });
    expect(app.spec.source.path).toBe(`k8s-manifests/overlays/${env}`);
    expect(existsSync(join(ROOT, app.spec.source.path, 'kustomization.yaml'))).toBe(true);
    expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: e.namespace });
    expect(parse(read(`k8s-manifests/overlays/${env}/kustomization.yaml`)).namespace).toBe(e.namespace);
    // deploy.sh <env> argocd syncs the Application by this name.
    expect(read('scripts/deploy.sh')).toContain('app=ktcloud-lb-exporter-$env_name');
  });

  it.each(Object.entries(ENVIRONMENTS))('%s syncs automatically with prune and self-heal only outside prod', (env, e) => {
    const automated = apps.get(env)!.spec.syncPolicy?.automated;
    if (e.automated) expect(automated).toEqual({ prune: true, selfHeal: true });
    else expect(automated).toBeUndefined();
  });
});
