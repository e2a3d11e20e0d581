/**
 * The kustomize trees as an operator deploys them: every overlay rendered by kubectl kustomize
 * and checked against the contract of the exporter (ports, probes, config path, sharding, the
 * account slots) and the environment table. Adding an account changes no manifest (it is one
 * Secret in a pre-declared slot), so what is rendered here is what runs with any accounts.
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
  npmModule,
  parseYamlDocs,
  ROOT,
  run,
  type K8sObject,
} from './tools.js';

const IMAGE = 'registry.example.com/ktcloud/ktcloud-lb-exporter';
const NAME = 'ktcloud-lb-exporter';
const ENVIRONMENTS = {
  // dev: from bench/memory-small --low-memory, see the dev patch; only dev trades CPU for memory.
  dev: { namespace: 'monitoring-dev', replicas: 1, tag: 'develop-latest', pull: 'Always', limits: { cpu: '50m', memory: '108Mi' }, lowMemory: true },
  staging: { namespace: 'monitoring-staging', replicas: 1, tag: 'main-latest', pull: 'Always', limits: { cpu: '100m', memory: '128Mi' }, lowMemory: false },
  prod: { namespace: 'monitoring', replicas: 2, tag: 'v0.1.0', pull: 'IfNotPresent', limits: { cpu: '200m', memory: '256Mi' }, lowMemory: false },
} as const;
type Env = keyof typeof ENVIRONMENTS;
const ENV_NAMES = Object.keys(ENVIRONMENTS) as Env[];
const SEMASCRD = 'semascrd';
/** The account slots k8s-manifests/accounts/secrets.yaml declares: ktcloud-account-00 ... -63. */
const SLOTS = Array.from({ length: 64 }, (_, i) => `ktcloud-account-${String(i).padStart(2, '0')}`);
/** Secrets named after their account, one line each after the slots. */
const PINNED = ['ktcloud-test'];

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

const ACCOUNTS_DIR = '/etc/ktcloud/accounts';
const KEYS = ['CLOUD_ID', 'CLOUD_PASSWORD', 'CLOUD_ZONE'];
const SLOT_KEYS = ['ACCOUNT_NAME', ...KEYS];

/** The projected `accounts` volume at accountsDir and its Secret sources: { secret, folder }. */
function accountSources(sts: K8sObject): { secret: string; folder: string }[] {
  const mounts = container(sts).volumeMounts.filter((m: any) => m.mountPath === ACCOUNTS_DIR);
  expect(mounts).toHaveLength(1);
  const volume = sts.spec.template.spec.volumes.find((v: any) => v.name === mounts[0].name);
  expect(volume.projected, 'accountsDir is one projected volume').toBeDefined();
  return (volume.projected.sources ?? []).map((src: any) => {
    expect(Object.keys(src), 'only Secret sources').toEqual(['secret']);
    const folders = new Set<string>(src.secret.items.map((i: any) => i.path.split('/')[0]));
    expect(folders.size, `${src.secret.name}: one folder per Secret`).toBe(1);
    return { secret: src.secret.name, folder: [...folders][0] };
  });
}

/** Each overlay, rendered once per test file. */
const renders = new Map<string, K8sObject[]>();
function rendered(env: Env): K8sObject[] {
  if (!renders.has(env)) renders.set(env, kustomize(`k8s-manifests/overlays/${env}`));
  // A deep copy: a test may modify what it gets.
  return structuredClone(renders.get(env)!);
}

describeWith([KUBECTL], 'kustomize overlays', () => {
  describe.each(ENV_NAMES)('%s', (env) => {
    const spec = ENVIRONMENTS[env];
    const objects = () => rendered(env);
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

    it(`${spec.lowMemory ? 'runs' : 'does not run'} in low-memory mode (KTCLOUD_LOW_MEMORY), keeping the pod name`, () => {
      const env = container(sts()).env as { name: string; value?: string }[];
      expect(env.filter((e) => e.name === 'KTCLOUD_LOW_MEMORY')).toEqual(spec.lowMemory ? [{ name: 'KTCLOUD_LOW_MEMORY', value: 'true' }] : []);
      expect(env.some((e) => e.name === 'POD_NAME')).toBe(true);
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

    it('projects 64 optional account slots and the pinned Secrets, each into its own folder of one read-only accountsDir volume', () => {
      const sources = accountSources(sts());
      expect(sources.map((m) => m.secret)).toEqual([...SLOTS, ...PINNED]);
      // The folder is the Secret's name: a slot's account is named by its ACCOUNT_NAME key.
      for (const m of sources) expect(m.folder).toBe(m.secret);
      const mount = container(sts()).volumeMounts.find((m: any) => m.mountPath === ACCOUNTS_DIR);
      expect(mount.readOnly).toBe(true);
      const volume = sts().spec.template.spec.volumes.find((v: any) => v.name === mount.name);
      // 0440: the exporter reads through fsGroup; "others" cannot (the loader warns otherwise).
      expect(volume.projected.defaultMode).toBe(0o440);
      for (const src of volume.projected.sources) {
        // Optional: a Secret (or a key) missing in this namespace never holds the pod in
        // ContainerCreating, and a slot's Secret created later is projected into the running pod.
        expect(src.secret.optional, src.secret.name).toBe(true);
        const keys = SLOTS.includes(src.secret.name) ? SLOT_KEYS : KEYS;
        expect(src.secret.items).toEqual(keys.map((key) => ({ key, path: `${src.secret.name}/${key}` })));
      }
      for (const m of container(sts()).volumeMounts) {
        expect(m.subPath, 'subPath mounts never see Secret updates').toBeUndefined();
        expect(sts().spec.template.spec.volumes.some((v: any) => v.name === m.name), `volume ${m.name}`).toBe(true);
      }
      // No other Secret volume: every account goes through the optional projection.
      expect(sts().spec.template.spec.volumes.filter((v: any) => v.secret)).toEqual([]);
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
    const cm = find(rendered('prod'), 'ConfigMap', 'ktcloud-lb-dashboard');
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    expect(cm.data['ktcloud-lb-accounts.json']).toBe(readFileSync(join(ROOT, 'dashboards/ktcloud-lb-accounts.json'), 'utf8'));
  });

  it.each(ENV_NAMES)('scales %s by its replica count alone: --total-shards follows', (env) => {
    const copy = mkdtempSync(join(tmpdir(), 'ktcloud-scale-'));
    try {
      cpSync(join(ROOT, 'k8s-manifests'), join(copy, 'k8s-manifests'), { recursive: true });
      const file = join(copy, `k8s-manifests/overlays/${env}/kustomization.yaml`);
      const text = readFileSync(file, 'utf8');
      const count = new RegExp(`\\n {4}count: ${ENVIRONMENTS[env].replicas}\\n`);
      expect(text).toMatch(count);
      // The replica count is the only place the shard count is written.
      const code = text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
      expect(code).not.toMatch(/--total-shards|KTCLOUD_TOTAL_SHARDS/);
      writeFileSync(file, text.replace(count, '\n    count: 5\n'));
      const r = run('kubectl', ['kustomize', join(copy, `k8s-manifests/overlays/${env}`)]);
      expect(r.status, r.stderr).toBe(0);
      const s = find(parseYamlDocs(r.stdout), 'StatefulSet', NAME);
      expect(s.spec.replicas).toBe(5);
      expect(flag(container(s).args, '--total-shards')).toBe('5');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('adds an account with zero lines: every overlay declares the same slots, so the pod template never changes', () => {
    const volumes = ENV_NAMES.map((env) => find(rendered(env), 'StatefulSet', NAME).spec.template.spec.volumes.find((v: any) => v.name === 'accounts'));
    for (const v of volumes) expect(v).toEqual(volumes[0]);
    // add-account.sh picks among the slots of this very file, and edits no file.
    const script = readFileSync(join(ROOT, 'scripts/add-account.sh'), 'utf8');
    expect(script).toContain('LIST_FILE=k8s-manifests/accounts/secrets.yaml');
    expect(script).not.toMatch(/>>\s*"?\$LIST_FILE/);
  });

  /**
   * The rendered ConfigMap, fed to the exporter's own config loader with a folder laid out the
   * way the kubelet mounts the Secrets (filled from the Secret templates): what the pod would
   * load. Adding the semascrd line must add the account with no config edit.
   */
  describe('the exporter accepts the rendered configuration', () => {
    let mountRoot: string;
    beforeAll(() => {
      mountRoot = mkdtempSync(join(tmpdir(), 'ktcloud-mounts-'));
    });
    afterAll(() => rmSync(mountRoot, { recursive: true, force: true }));

    /** The Secrets of a namespace, by name, filled from the Secret templates. */
    const template = (file: string) => parse(readFileSync(join(ROOT, file), 'utf8')) as { metadata: { name: string }; stringData: Record<string, string> };
    const TEST = template('k8s-manifests/secrets/ktcloud-test.secret.example.yaml');
    const SEMA = template('semascrd/secret.example.yaml');
    const { CLOUD_PASSWORD: _, ...semaWithoutPassword } = SEMA.stringData;
    const cases: [string, Record<string, Record<string, string>>, [string, string[]][], number][] = [
      ['as shipped', { [TEST.metadata.name]: TEST.stringData }, [['ktcloud-test', ['DX-M1']]], 0],
      ['with semascrd in a slot', { [TEST.metadata.name]: TEST.stringData, [SEMA.metadata.name]: SEMA.stringData }, [['semascrd', ['DX-G-YS']], ['ktcloud-test', ['DX-M1']]], 0],
      // Its optional source skips the missing key: the folder lacks the file, the account alone is left out.
      ['with a semascrd Secret lacking CLOUD_PASSWORD', { [TEST.metadata.name]: TEST.stringData, [SEMA.metadata.name]: semaWithoutPassword }, [['ktcloud-test', ['DX-M1']]], 1],
    ];

    it.each(cases)('prod %s', async (what, secrets, accounts, warnings) => {
      const objects = rendered('prod');
      const sts = find(objects, 'StatefulSet', NAME);
      const dir = join(mountRoot, what.replace(/\W+/g, '-'));
      mkdirSync(dir, { recursive: true });
      const volume = sts.spec.template.spec.volumes.find((v: any) => v.projected);
      // What the kubelet projects: each item of each existing Secret whose key exists, at its path.
      for (const { secret } of volume.projected.sources) {
        const data = secrets[secret.name];
        if (!data) continue;
        for (const item of secret.items) {
          if (data[item.key] === undefined) continue;
          mkdirSync(join(dir, item.path, '..'), { recursive: true });
          writeFileSync(join(dir, item.path), data[item.key]!);
          chmodSync(join(dir, item.path), 0o440); // what defaultMode 0440 (+ fsGroup) gives in the pod
        }
      }
      const text = find(objects, 'ConfigMap', 'ktcloud-lb-exporter-config').data['accounts.yaml'].replace(/^accountsDir: .*$/m, `accountsDir: ${dir}`);
      const config = await parseConfig(text, '/etc/ktcloud/config/accounts.yaml', { env: {} });
      expect(config.accounts.map((a) => [a.name, a.zones])).toEqual(accounts);
      expect(config.listen).toEqual({ host: '0.0.0.0', port: 9105 });
      expect(config.warnings).toHaveLength(warnings);
      if (warnings) expect(config.warnings[0]).toBe(`account "semascrd" (${join(dir, SEMA.metadata.name)}) is not collected: cannot read ${join(dir, SEMA.metadata.name, 'CLOUD_PASSWORD')}: no such file`);
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
  it.each(ENV_NAMES)('every object of %s is valid', async (env) => {
    const objects = rendered(env);
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
    const sts = find(rendered('dev'), 'StatefulSet', NAME);
    sts.spec.replicas = 'two';
    await expect(validate(sts)).rejects.toThrow(/replicas/);
  });
});

describe('Secret templates', () => {
  it.each([
    ['k8s-manifests/secrets/ktcloud-test.secret.example.yaml', 'ktcloud-test', 'ktcloud-test', 'DX-M1'],
    ['semascrd/secret.example.yaml', 'ktcloud-account-00', SEMASCRD, 'DX-G-YS'],
  ])('%s holds placeholders only, with the keys its folder needs', (file, name, account, zone) => {
    const [secret] = parseYamlDocs(readFileSync(join(ROOT, file), 'utf8'));
    expect(secret.kind).toBe('Secret');
    expect(secret.metadata.name).toBe(name);
    const slot = SLOTS.includes(name);
    // A slot or a pinned Secret: anything else would never be projected.
    expect(slot || PINNED.includes(name), name).toBe(true);
    // The labels scripts/add-account.sh sets: `kubectl get secret -l ...component=account` lists accounts.
    expect(secret.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'ktcloud-lb-exporter', 'app.kubernetes.io/component': 'account' });
    // A slot's folder name says nothing: the account's name is a key of the Secret.
    expect(Object.keys(secret.stringData).sort()).toEqual(slot ? ['ACCOUNT_NAME', ...KEYS] : KEYS);
    if (slot) expect(secret.stringData.ACCOUNT_NAME).toBe(account);
    expect(secret.stringData.CLOUD_ID).toMatch(/^<.*>$/);
    expect(secret.stringData.CLOUD_PASSWORD).toMatch(/^<.*>$/);
    expect(secret.stringData.CLOUD_ZONE).toBe(zone);
    expect(secret.data).toBeUndefined();
  });

  it('the explicit accounts.yaml form of the semascrd example is a valid config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktcloud-explicit-'));
    try {
      for (const account of ['ktcloud-test', 'ktcloud-account-00']) {
        mkdirSync(join(dir, account));
        for (const k of ['CLOUD_ID', 'CLOUD_PASSWORD']) {
          writeFileSync(join(dir, account, k), `<${k}>`);
          chmodSync(join(dir, account, k), 0o440);
        }
      }
      const text = readFileSync(join(ROOT, 'semascrd/accounts.explicit.yaml'), 'utf8').replaceAll('/etc/ktcloud/accounts', dir);
      const config = await parseConfig(text, 'semascrd/accounts.explicit.yaml', { env: {} });
      expect(config.accounts.map((a) => [a.name, a.zones])).toEqual([
        ['ktcloud-test', ['DX-M1']],
        [SEMASCRD, ['DX-G-YS']],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
