/**
 * The kustomize trees as an operator deploys them: every overlay, with and without the
 * semascrd account component, rendered by kubectl kustomize and checked against the contract
 * of the exporter (ports, probes, config path, sharding) and the environment table.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import {
  describeWith,
  find,
  KUBECTL,
  kustomize,
  kustomizeWith,
  npmModule,
  parseYamlDocs,
  ROOT,
  run,
  type K8sObject,
} from './tools.js';

const IMAGE = 'registry.example.com/ktcloud/ktcloud-lb-exporter';
const NAME = 'ktcloud-lb-exporter';
const ENVIRONMENTS = {
  dev: { namespace: 'monitoring-dev', replicas: 1, tag: 'develop-latest', pull: 'Always', limits: { cpu: '50m', memory: '128Mi' } }, // from bench/memory-small: see the dev patch
  staging: { namespace: 'monitoring-staging', replicas: 1, tag: 'main-latest', pull: 'Always', limits: { cpu: '100m', memory: '128Mi' } },
  prod: { namespace: 'monitoring', replicas: 2, tag: 'v0.1.0', pull: 'IfNotPresent', limits: { cpu: '200m', memory: '256Mi' } },
} as const;
type Env = keyof typeof ENVIRONMENTS;
const ENV_NAMES = Object.keys(ENVIRONMENTS) as Env[];
const SEMASCRD = 'semascrd';

/** "50m" -> 0.05 cores, "64Mi" -> bytes: enough of the quantity grammar for these manifests. */
function quantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`unexpected quantity ${q}`);
  const unit = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

function container(sts: K8sObject) {
  const c = sts.spec.template.spec.containers;
  expect(c).toHaveLength(1);
  return c[0];
}

/** The value following a flag in args (`--flag value`). */
function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Account Secret volumes: volume name -> { secret, mountPath }. */
function accountMounts(sts: K8sObject): { secret: string; mountPath: string }[] {
  const volumes = new Map<string, any>(sts.spec.template.spec.volumes.map((v: any) => [v.name, v]));
  return container(sts)
    .volumeMounts.filter((m: any) => volumes.get(m.name)?.secret)
    .map((m: any) => ({ secret: volumes.get(m.name).secret.secretName, mountPath: m.mountPath }));
}

/** Each overlay, plain or with the semascrd component, rendered once per test file. */
const renders = new Map<string, K8sObject[]>();
function rendered(env: Env, withSemascrd: boolean): K8sObject[] {
  const key = `${env}${withSemascrd ? '+semascrd' : ''}`;
  if (!renders.has(key)) {
    const overlay = `k8s-manifests/overlays/${env}`;
    renders.set(key, withSemascrd ? kustomizeWith(overlay, [SEMASCRD]) : kustomize(overlay));
  }
  // A deep copy: a test may modify what it gets.
  return structuredClone(renders.get(key)!);
}

describeWith([KUBECTL], 'kustomize overlays', () => {
  describe.each(ENV_NAMES.flatMap((env) => [[env, false] as const, [env, true] as const]))('%s (with semascrd: %s)', (env, withSemascrd) => {
    const spec = ENVIRONMENTS[env];
    const objects = () => rendered(env, withSemascrd);
    const sts = () => find(objects(), 'StatefulSet', NAME);

    it('renders exactly the objects of the exporter, all in the environment namespace', () => {
      const kinds = objects().map((o) => `${o.kind}/${o.metadata.name}`).sort();
      const expected = [
        'ConfigMap/ktcloud-lb-exporter-config',
        'NetworkPolicy/ktcloud-lb-exporter',
        'PodDisruptionBudget/ktcloud-lb-exporter',
        'PrometheusRule/ktcloud-lb-exporter',
        'Service/ktcloud-lb-exporter',
        'Service/ktcloud-lb-exporter-headless',
        'ServiceAccount/ktcloud-lb-exporter',
        'ServiceMonitor/ktcloud-lb-exporter',
        'StatefulSet/ktcloud-lb-exporter',
        ...(env === 'prod' ? ['ConfigMap/ktcloud-lb-dashboard'] : []),
      ].sort();
      expect(kinds).toEqual(expected);
      // No Secret (credentials never come from git) and no Namespace (prod shares `monitoring`).
      for (const o of objects()) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(spec.namespace);
    });

    it('runs the environment\'s replicas, image tag and resources', () => {
      const s = sts();
      const c = container(s);
      expect(s.spec.replicas).toBe(spec.replicas);
      expect(c.image).toBe(`${IMAGE}:${spec.tag}`);
      expect(c.imagePullPolicy).toBe(spec.pull);
      expect(c.resources.limits).toEqual(spec.limits);
      for (const r of ['cpu', 'memory'] as const) {
        const request = quantity(c.resources.requests[r]);
        expect(request).toBeGreaterThan(0);
        expect(request).toBeLessThanOrEqual(quantity(c.resources.limits[r]));
      }
    });

    it('passes --total-shards equal to the replica count, and the pod name for the shard ordinal', () => {
      const c = container(sts());
      expect(flag(c.args, '--total-shards')).toBe(String(sts().spec.replicas));
      expect(c.args).not.toContain('--shard');
      expect(c.env).toContainEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    });

    it('runs locked down: non-root numeric UID, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
      const pod = sts().spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container(sts()).securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(find(objects(), 'ServiceAccount', NAME).automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe(NAME);
      // The only writable path: an emptyDir on /tmp.
      const tmp = container(sts()).volumeMounts.find((m: any) => m.mountPath === '/tmp');
      expect(pod.volumes.find((v: any) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    });

    it('probes /healthz for liveness and /readyz for readiness on the metrics port 9105', () => {
      const c = container(sts());
      expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9105, protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    });

    it('mounts the ConfigMap where --config points, and its accounts.yaml scans the account Secrets folder', () => {
      const c = container(sts());
      const configMount = c.volumeMounts.find((m: any) => m.name === 'config');
      const cm = find(objects(), 'ConfigMap', 'ktcloud-lb-exporter-config');
      const volume = sts().spec.template.spec.volumes.find((v: any) => v.name === 'config');
      expect(volume.configMap.name).toBe(cm.metadata.name);
      expect(flag(c.args, '--config')).toBe(`${configMount.mountPath}/accounts.yaml`);
      expect(flag(c.args, '--config')).toBe('/etc/ktcloud/config/accounts.yaml');
      const config = parse(cm.data['accounts.yaml']);
      expect(config).toMatchObject({ listen: '0.0.0.0:9105', interval: '60s', accountsDir: '/etc/ktcloud/accounts' });
    });

    it('mounts one Secret per account, whole and read-only, at /etc/ktcloud/accounts/<account>', () => {
      const mounts = accountMounts(sts());
      const expected = ['ktcloud-test', ...(withSemascrd ? [SEMASCRD] : [])];
      expect(mounts.map((m) => m.secret).sort()).toEqual(expected.sort());
      for (const m of mounts) expect(m.mountPath).toBe(`/etc/ktcloud/accounts/${m.secret}`);
      for (const m of container(sts()).volumeMounts) {
        expect(m.subPath, 'subPath mounts never see Secret updates').toBeUndefined();
        expect(sts().spec.template.spec.volumes.some((v: any) => v.name === m.name), `volume ${m.name}`).toBe(true);
      }
      for (const v of sts().spec.template.spec.volumes.filter((x: any) => x.secret)) {
        // 0440: the exporter reads through fsGroup; "others" cannot (the loader warns otherwise).
        expect(v.secret.defaultMode).toBe(0o440);
        expect(v.secret.optional ?? false).toBe(false);
      }
      expect(sts().spec.template.spec.securityContext.fsGroup).toBe(10001);
    });

    it('gives the pod a stable identity (headless Service) and one metrics Service the ServiceMonitor scrapes as job ktcloud-lb', () => {
      const s = sts();
      const podLabels = s.spec.template.metadata.labels;
      expect(selects(s.spec.selector.matchLabels, podLabels)).toBe(true);
      const headless = find(objects(), 'Service', s.spec.serviceName);
      expect(headless.spec.clusterIP).toBe('None');
      const metrics = find(objects(), 'Service', NAME);
      for (const svc of [headless, metrics]) {
        expect(selects(svc.spec.selector, podLabels)).toBe(true);
        expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 9105, targetPort: 'metrics', protocol: 'TCP' }]);
      }
      const sm = find(objects(), 'ServiceMonitor', NAME);
      const services = objects().filter((o) => o.kind === 'Service');
      expect(services.filter((svc) => selects(sm.spec.selector.matchLabels, svc.metadata.labels)).map((svc) => svc.metadata.name)).toEqual([NAME]);
      expect(metrics.metadata.labels?.[sm.spec.jobLabel]).toBe('ktcloud-lb');
      expect(sm.spec.endpoints).toHaveLength(1);
      const ep = sm.spec.endpoints[0];
      expect(ep).toMatchObject({ port: 'metrics', path: '/metrics', interval: '60s' });
      const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)![1]);
      // A ~12 MB (1 MB gzipped) body needs more than the 10s default, and must fit in the interval.
      expect(seconds(ep.scrapeTimeout)).toBeGreaterThanOrEqual(20);
      expect(seconds(ep.scrapeTimeout)).toBeLessThan(seconds(ep.interval));
      expect(sm.metadata.labels?.release).toBe('prometheus');
    });

    it('limits traffic to 9105 in, DNS and HTTPS out', () => {
      const np = find(objects(), 'NetworkPolicy', NAME);
      expect(selects(np.spec.podSelector.matchLabels, sts().spec.template.metadata.labels)).toBe(true);
      expect(np.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
      expect(np.spec.ingress).toEqual([{ ports: [{ port: 9105, protocol: 'TCP' }] }]);
      const egress = np.spec.egress.flatMap((rule: any) => {
        expect(rule.to, 'egress by port only').toBeUndefined();
        return rule.ports.map((p: any) => `${p.protocol}/${p.port}`);
      });
      expect(egress.sort()).toEqual(['TCP/443', 'TCP/53', 'UDP/53']);
    });

    it('lets at most one shard be evicted at a time, without blocking single-replica drains', () => {
      const pdb = find(objects(), 'PodDisruptionBudget', NAME);
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec.minAvailable).toBeUndefined();
      expect(selects(pdb.spec.selector.matchLabels, sts().spec.template.metadata.labels)).toBe(true);
    });

    it('ships the alert rules, labelled for the Prometheus rule selector', () => {
      const rule = find(objects(), 'PrometheusRule', NAME);
      expect(rule.metadata.labels?.release).toBe('prometheus');
      expect(rule.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert))).toContain('KtcloudAccountCollectionFailing');
    });
  });

  it('keeps the prod dashboard ConfigMap under a fixed name with the Grafana sidecar label', () => {
    const cm = find(rendered('prod', false), 'ConfigMap', 'ktcloud-lb-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(cm.data['ktcloud-lb-accounts.json']).toBe(readFileSync(join(ROOT, 'dashboards/ktcloud-lb-accounts.json'), 'utf8'));
  });

  it('scales prod by its replica count alone: --total-shards follows', () => {
    const copy = mkdtempSync(join(tmpdir(), 'ktcloud-scale-'));
    try {
      cpSync(join(ROOT, 'k8s-manifests'), join(copy, 'k8s-manifests'), { recursive: true });
      const file = join(copy, 'k8s-manifests/overlays/prod/kustomization.yaml');
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/\n {4}count: 2\n/);
      writeFileSync(file, text.replace(/\n {4}count: 2\n/, '\n    count: 5\n'));
      const r = run('kubectl', ['kustomize', join(copy, 'k8s-manifests/overlays/prod')]);
      expect(r.status, r.stderr).toBe(0);
      const s = find(parseYamlDocs(r.stdout), 'StatefulSet', NAME);
      expect(s.spec.replicas).toBe(5);
      expect(flag(container(s).args, '--total-shards')).toBe('5');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it.each(ENV_NAMES)('the commented `components:` line of %s adds semascrd once uncommented', (env) => {
    const copy = mkdtempSync(join(tmpdir(), 'ktcloud-uncomment-'));
    try {
      for (const dir of ['k8s-manifests', SEMASCRD]) cpSync(join(ROOT, dir), join(copy, dir), { recursive: true });
      const file = join(copy, `k8s-manifests/overlays/${env}/kustomization.yaml`);
      const text = readFileSync(file, 'utf8');
      const uncommented = text
        .replace(/^# components:\n# {3}- \.\.\/\.\.\/\.\.\/semascrd$/m, 'components:\n  - ../../../semascrd')
        .replace(/^ {2}# - \.\.\/\.\.\/\.\.\/semascrd$/m, '  - ../../../semascrd');
      expect(uncommented).not.toBe(text);
      writeFileSync(file, uncommented);
      const r = run('kubectl', ['kustomize', join(copy, `k8s-manifests/overlays/${env}`)]);
      expect(r.status, r.stderr).toBe(0);
      const mounts = accountMounts(find(parseYamlDocs(r.stdout), 'StatefulSet', NAME));
      expect(mounts).toContainEqual({ secret: SEMASCRD, mountPath: '/etc/ktcloud/accounts/semascrd' });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  /**
   * The rendered ConfigMap, fed to the exporter's own config loader with a folder laid out the
   * way the kubelet mounts the Secrets (filled from the Secret templates): what the pod would
   * load. Adding the semascrd component must add the account with no config edit.
   */
  describe('the exporter accepts the rendered configuration', () => {
    let mountRoot: string;
    beforeAll(() => {
      mountRoot = mkdtempSync(join(tmpdir(), 'ktcloud-mounts-'));
    });
    afterAll(() => rmSync(mountRoot, { recursive: true, force: true }));

    const templates: Record<string, string> = {
      'ktcloud-test': 'k8s-manifests/secrets/ktcloud-test.secret.example.yaml',
      semascrd: 'semascrd/secret.example.yaml',
    };

    it.each([false, true])('prod with semascrd: %s', (withSemascrd) => {
      const objects = rendered('prod', withSemascrd);
      const sts = find(objects, 'StatefulSet', NAME);
      const dir = join(mountRoot, String(withSemascrd));
      for (const { secret, mountPath } of accountMounts(sts)) {
        const folder = join(dir, mountPath.replace('/etc/ktcloud/accounts/', ''));
        mkdirSync(folder, { recursive: true });
        const template = parse(readFileSync(join(ROOT, templates[secret]), 'utf8'));
        for (const [k, v] of Object.entries<string>(template.stringData)) {
          writeFileSync(join(folder, k), v);
          chmodSync(join(folder, k), 0o440); // what defaultMode 0440 (+ fsGroup) gives in the pod
        }
      }
      const text = find(objects, 'ConfigMap', 'ktcloud-lb-exporter-config').data['accounts.yaml'].replace(/^accountsDir: .*$/m, `accountsDir: ${dir}`);
      const config = parseConfig(text, '/etc/ktcloud/config/accounts.yaml', { env: {} });
      expect(config.accounts.map((a) => [a.name, a.zones])).toEqual([
        ['ktcloud-test', ['DX-M1']],
        ...(withSemascrd ? [['semascrd', ['DX-G-YS']]] : []),
      ]);
      expect(config.listen).toEqual({ host: '0.0.0.0', port: 9105 });
      expect(config.warnings).toEqual([]);
    });
  });
});

/**
 * Schema check with kubernetes-models: Kubernetes' own OpenAPI schemas (and the CRD schemas of
 * prometheus-operator and Argo CD) compiled into JS validators, so it runs offline. It checks
 * types, required fields and enums, not unknown fields: the assertions above read each field
 * we rely on by its exact path, which catches a misspelt key.
 */
const MODELS = await npmModule('kubernetes-models/v1/Service', 'npm devDependency kubernetes-models@^4.5.1');
const PROM_MODELS = await npmModule(
  '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  'npm devDependency @kubernetes-models/prometheus-operator@^4.4.4',
);
const ARGO_MODELS = await npmModule('@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application', 'npm devDependency @kubernetes-models/argo-cd@^2.7.2');

/** apiVersion + kind -> the module of its model. Unknown kinds fail: nothing is skipped silently. */
function modelModule(o: K8sObject): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${o.kind}`;
  if (group === 'argoproj.io') return `@kubernetes-models/argo-cd/${group}/${version}/${o.kind}`;
  return group ? `kubernetes-models/${group}/${version}/${o.kind}` : `kubernetes-models/${version}/${o.kind}`;
}

async function validate(o: K8sObject): Promise<void> {
  const mod = (await import(/* @vite-ignore */ modelModule(o))) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[o.kind];
  if (!Model) throw new Error(`no model for ${o.apiVersion} ${o.kind}`);
  try {
    new Model(o).validate();
  } catch (err) {
    throw new Error(`${o.kind}/${o.metadata.name}: ${(err as Error).message}`);
  }
}

describeWith([KUBECTL, MODELS, PROM_MODELS, ARGO_MODELS], 'schema (kubernetes-models)', () => {
  it.each(ENV_NAMES.flatMap((env) => [[env, false] as const, [env, true] as const]))('every object of %s (with semascrd: %s) is valid', async (env, withSemascrd) => {
    const objects = rendered(env, withSemascrd);
    for (const o of objects) await validate(o);
  });

  it('the ArgoCD Applications and the Secret templates are valid', async () => {
    const objects = [
      ...kustomize('k8s-manifests/argocd-apps'),
      ...parseYamlDocs(readFileSync(join(ROOT, 'k8s-manifests/secrets/ktcloud-test.secret.example.yaml'), 'utf8')),
      ...parseYamlDocs(readFileSync(join(ROOT, 'semascrd/secret.example.yaml'), 'utf8')),
    ];
    expect(objects.map((o) => o.kind).sort()).toEqual(['Application', 'Application', 'Application', 'Secret', 'Secret']);
    for (const o of objects) await validate(o);
  });

  it('rejects a broken object (the validator is live)', async () => {
    const sts = find(rendered('dev', false), 'StatefulSet', NAME);
    sts.spec.replicas = 'two';
    await expect(validate(sts)).rejects.toThrow(/replicas/);
  });
});

describe('Secret templates', () => {
  it.each([
    ['k8s-manifests/secrets/ktcloud-test.secret.example.yaml', 'ktcloud-test', 'DX-M1'],
    ['semascrd/secret.example.yaml', SEMASCRD, 'DX-G-YS'],
  ])('%s holds placeholders only, with the keys of the original Secret', (file, name, zone) => {
    const [secret] = parseYamlDocs(readFileSync(join(ROOT, file), 'utf8'));
    expect(secret.kind).toBe('Secret');
    expect(secret.metadata.name).toBe(name);
    expect(Object.keys(secret.stringData).sort()).toEqual(['CLOUD_ID', 'CLOUD_PASSWORD', 'CLOUD_ZONE']);
    expect(secret.stringData.CLOUD_ID).toMatch(/^<.*>$/);
    expect(secret.stringData.CLOUD_PASSWORD).toMatch(/^<.*>$/);
    expect(secret.stringData.CLOUD_ZONE).toBe(zone);
    expect(secret.data).toBeUndefined();
  });

  it('the explicit accounts.yaml form of the semascrd example is a valid config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktcloud-explicit-'));
    try {
      for (const account of ['ktcloud-test', SEMASCRD]) {
        mkdirSync(join(dir, account));
        for (const k of ['CLOUD_ID', 'CLOUD_PASSWORD']) {
          writeFileSync(join(dir, account, k), `<${k}>`);
          chmodSync(join(dir, account, k), 0o440);
        }
      }
      const text = readFileSync(join(ROOT, 'semascrd/accounts.explicit.yaml'), 'utf8').replaceAll('/etc/ktcloud/accounts', dir);
      const config = parseConfig(text, 'semascrd/accounts.explicit.yaml', { env: {} });
      expect(config.accounts.map((a) => [a.name, a.zones])).toEqual([
        ['ktcloud-test', ['DX-M1']],
        [SEMASCRD, ['DX-G-YS']],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
