/**
 * The optional per-account-targets component (k8s-manifests/components/per-account-targets),
 * included in each overlay the way the README says (with the overlay's patch listing one /sd URL
 * per replica in its namespace): a ScrapeConfig discovering every replica's /sd, pods that hand out
 * their own IP (--web.external-address $(POD_IP):9105), and a ServiceMonitor reduced to the
 * replica-wide families so that no series is stored twice.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli.js';
import { HEALTH_FAMILIES, LB_FAMILIES } from '../../src/metrics/families.js';
import { describeWith, find, KUBECTL, kustomize, kustomizeWith, npmModule, parseYamlDocs, ROOT, run, type K8sObject } from './tools.js';

const NAME = 'ktcloud-lb-exporter';
const SCRAPE_CONFIG = `${NAME}-accounts`;
const ENVS = { dev: { namespace: 'monitoring-dev', replicas: 1 }, staging: { namespace: 'monitoring-staging', replicas: 1 }, prod: { namespace: 'monitoring', replicas: 2 } } as const;
type Env = keyof typeof ENVS;
const ENV_NAMES = Object.keys(ENVS) as Env[];

/** The overlay's patch, as the README shows it: one /sd URL per replica in its namespace, and the namespace label. */
const overlayPatch = (namespace: string, replicas: number) =>
  [
    '# One /sd per replica (ktcloud-lb-exporter-<ordinal>), in this overlay\'s namespace.',
    '- op: replace',
    '  path: /spec/httpSDConfigs',
    '  value:',
    ...Array.from({ length: replicas }, (_, i) => `    - url: http://${NAME}-${i}.${NAME}-headless.${namespace}.svc:9105/sd\n      refreshInterval: 60s`),
    '- op: replace',
    '  path: /spec/relabelings/0/replacement',
    `  value: ${namespace}`,
    '',
  ].join('\n');

const cache = new Map<Env, K8sObject[]>();
/** The overlay with the component in its `components:` and one extra /sd entry per replica beyond the first. */
function withComponent(env: Env): K8sObject[] {
  if (!cache.has(env)) {
    const copy = mkdtempSync(join(tmpdir(), 'ktcloud-sd-'));
    try {
      cpSync(join(ROOT, 'k8s-manifests'), join(copy, 'k8s-manifests'), { recursive: true });
      const dir = join(copy, `k8s-manifests/overlays/${env}`);
      const file = join(dir, 'kustomization.yaml');
      let text = readFileSync(file, 'utf8');
      const entry = '  - ../../components/per-account-targets\n';
      text = /^components:\n/m.test(text) ? text.replace(/^components:\n/m, `components:\n${entry}`) : `${text}\ncomponents:\n${entry}`;
      const { namespace, replicas } = ENVS[env];
      writeFileSync(join(dir, 'per-account-targets-patch.yaml'), overlayPatch(namespace, replicas));
      const patch = `  - path: per-account-targets-patch.yaml\n    target:\n      kind: ScrapeConfig\n      name: ${SCRAPE_CONFIG}\n`;
      text = /^patches:\n/m.test(text) ? text.replace(/^patches:\n/m, `patches:\n${patch}`) : `${text}\npatches:\n${patch}`;
      writeFileSync(file, text);
      const r = run('kubectl', ['kustomize', dir]);
      if (r.status !== 0) throw new Error(r.stderr);
      cache.set(env, parseYamlDocs(r.stdout));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  return structuredClone(cache.get(env)!);
}

const container = (objects: K8sObject[]) => find(objects, 'StatefulSet', NAME).spec.template.spec.containers[0];
/** Prometheus relabel regexes are anchored at both ends. */
const anchored = (regex: string) => new RegExp(`^(?:${regex})$`);

const MODELS = await npmModule('kubernetes-models/apps/v1/StatefulSet', 'npm devDependency kubernetes-models');
const SC_MODEL = await npmModule('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/ScrapeConfig', 'npm devDependency @kubernetes-models/prometheus-operator');

/**
 * The model package knows an early ScrapeConfig (no scrapeInterval, sampleLimit, …) and accepts
 * unknown keys, so what it does not check is checked here by hand, against prometheus-operator's
 * v1alpha1 ScrapeConfig CRD (operator >= 0.65).
 */
function checkScrapeConfigByHand(sc: K8sObject): void {
  const known = ['jobName', 'staticConfigs', 'fileSDConfigs', 'httpSDConfigs', 'kubernetesSDConfigs', 'relabelings', 'metricsPath', 'scrapeInterval', 'scrapeTimeout', 'honorTimestamps', 'honorLabels', 'params', 'scheme', 'basicAuth', 'authorization', 'tlsConfig', 'sampleLimit', 'targetLimit', 'labelLimit', 'labelNameLengthLimit', 'labelValueLengthLimit', 'keepDroppedTargets', 'metricRelabelings', 'proxyUrl'];
  expect(Object.keys(sc.spec).filter((k) => !known.includes(k))).toEqual([]);
  const duration = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;
  for (const k of ['scrapeInterval', 'scrapeTimeout']) expect(sc.spec[k]).toMatch(duration);
  for (const h of sc.spec.httpSDConfigs) {
    expect(Object.keys(h).filter((k) => !['url', 'refreshInterval', 'basicAuth', 'authorization', 'tlsConfig', 'proxyUrl'].includes(k))).toEqual([]);
    expect(h.url).toMatch(/^https?:\/\//);
    expect(h.refreshInterval).toMatch(duration);
  }
  expect(Number.isInteger(sc.spec.sampleLimit) && sc.spec.sampleLimit > 0).toBe(true);
}

const seconds = (d: string) => Number(/^(\d+)s$/.exec(d)![1]);

describeWith([KUBECTL], 'per-account-targets component', () => {
  describe.each(ENV_NAMES)('%s', (env) => {
    const { namespace, replicas } = ENVS[env];

    it('discovers every replica’s /sd by its stable name on the headless Service, in the namespace', () => {
      const objects = withComponent(env);
      const sc = find(objects, 'ScrapeConfig', SCRAPE_CONFIG);
      expect(sc.metadata.namespace).toBe(namespace);
      const sts = find(objects, 'StatefulSet', NAME);
      const headless = find(objects, 'Service', sts.spec.serviceName);
      const port = headless.spec.ports.find((p: any) => p.name === 'metrics').port;
      expect(sts.spec.replicas).toBe(replicas);
      expect(sc.spec.httpSDConfigs.map((h: any) => h.url)).toEqual(Array.from({ length: replicas }, (_, i) => `http://${NAME}-${i}.${headless.metadata.name}.${namespace}.svc:${port}/sd`));
      expect(sc.spec.metricsPath).toBe('/metrics');
    });

    it('labels the series as the ServiceMonitor does (namespace, pod) and honours the body’s account label', () => {
      const sc = find(withComponent(env), 'ScrapeConfig', SCRAPE_CONFIG);
      expect(sc.spec.honorLabels).toBe(true);
      expect(sc.spec.relabelings).toEqual([
        { targetLabel: 'namespace', replacement: namespace },
        { sourceLabels: ['__meta_ktcloud_shard'], targetLabel: 'pod', replacement: `${NAME}-$1` },
      ]);
      const sm = find(withComponent(env), 'ServiceMonitor', NAME);
      expect(sc.metadata.labels?.release).toBe(sm.metadata.labels?.release);
      expect(sc.metadata.labels?.release).toBeTruthy();
      expect(sc.spec.scrapeInterval).toBe(sm.spec.endpoints[0].interval);
      expect(seconds(sc.spec.scrapeTimeout)).toBeLessThanOrEqual(seconds(sc.spec.scrapeInterval));
    });

    it('has each pod hand out its own IP: POD_IP from the downward API, --web.external-address $(POD_IP):port, --total-shards kept at args.3', () => {
      const c = container(withComponent(env));
      const podIp = c.env.findIndex((e: any) => e.name === 'POD_IP');
      expect(c.env[podIp].valueFrom).toEqual({ fieldRef: { fieldPath: 'status.podIP' } });
      const port = c.ports.find((p: any) => p.name === 'metrics').containerPort;
      const at = c.args.indexOf('--web.external-address');
      expect(c.args[at + 1]).toBe(`$(POD_IP):${port}`);
      expect(c.args.slice(2, 4)).toEqual(['--total-shards', String(replicas)]);
      // As the kubelet expands it, the exporter accepts it.
      const args = c.args.map((a: string) => a.replace('$(POD_IP)', '10.42.0.7'));
      expect(parseCli(args, { POD_NAME: `${NAME}-0` }).externalAddress).toBe(`10.42.0.7:${port}`);
    });

    it('keeps on the ServiceMonitor exactly the replica-wide families (no account label), so no series is stored twice', () => {
      const ep = find(withComponent(env), 'ServiceMonitor', NAME).spec.endpoints[0];
      expect(ep.metricRelabelings).toHaveLength(1);
      const keep = ep.metricRelabelings[0];
      expect(keep).toMatchObject({ sourceLabels: ['__name__'], action: 'keep' });
      const re = anchored(keep.regex);
      const replicaWide = Object.values(HEALTH_FAMILIES).filter((f) => !(f.labels as readonly string[]).includes('account'));
      const perAccount = [...Object.values(HEALTH_FAMILIES).filter((f) => (f.labels as readonly string[]).includes('account')), ...Object.values(LB_FAMILIES)];
      // Counters are stored under their _total sample names.
      for (const f of replicaWide) expect(re.test(f.name), f.name).toBe(true);
      for (const f of perAccount) expect(re.test(f.name), f.name).toBe(false);
      expect(re.test('process_cpu_user_seconds_total')).toBe(false);
    });

    it('changes nothing else in the overlay', () => {
      const strip = (objects: K8sObject[]) => objects.filter((o) => !['StatefulSet', 'ServiceMonitor', 'ScrapeConfig'].includes(o.kind));
      expect(strip(withComponent(env))).toEqual(strip(kustomize(`k8s-manifests/overlays/${env}`)));
      const plain = find(kustomize(`k8s-manifests/overlays/${env}`), 'ServiceMonitor', NAME).spec.endpoints[0];
      const { metricRelabelings, ...rest } = find(withComponent(env), 'ServiceMonitor', NAME).spec.endpoints[0];
      expect(metricRelabelings).toBeDefined();
      expect(rest).toEqual(plain);
    });
  });

  it('names no real namespace unless the overlay patches it (the component cannot know it)', () => {
    const sc = find(kustomizeWith('k8s-manifests/overlays/dev', ['k8s-manifests/components/per-account-targets']), 'ScrapeConfig', SCRAPE_CONFIG);
    for (const h of sc.spec.httpSDConfigs) expect(h.url.split('.')[2]).toBe('NAMESPACE');
    expect(sc.spec.relabelings[0]).toEqual({ targetLabel: 'namespace', replacement: 'NAMESPACE' });
  });

  it('is what the README shows: its prod patch and its keep regex are the ones rendered here', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## One scrape target per account'));
    const block = /# k8s-manifests\/overlays\/prod\/per-account-targets-patch\.yaml[^\n]*\n([\s\S]*?)```/.exec(section)![1]!;
    expect(block).toBe(overlayPatch(ENVS.prod.namespace, ENVS.prod.replicas).split('\n').slice(1).join('\n'));
    const keep = find(withComponent('prod'), 'ServiceMonitor', NAME).spec.endpoints[0].metricRelabelings[0].regex;
    expect(section).toContain(`regex: ${keep}\n`);
  });

  it('is off unless included: the shipped overlays have no ScrapeConfig and no --web.external-address', () => {
    for (const env of ENV_NAMES) {
      const objects = kustomize(`k8s-manifests/overlays/${env}`);
      expect(objects.some((o) => o.kind === 'ScrapeConfig')).toBe(false);
      expect(container(objects).args).not.toContain('--web.external-address');
    }
  });

  describeWith([MODELS, SC_MODEL], 'schema (kubernetes-models, and by hand what the model lacks)', () => {
    it.each(ENV_NAMES)('the StatefulSet and ScrapeConfig of %s with the component are valid', async (env) => {
      const { StatefulSet } = (await import('kubernetes-models/apps/v1/StatefulSet')) as any;
      const { ScrapeConfig } = (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/ScrapeConfig')) as any;
      const objects = withComponent(env);
      new StatefulSet(find(objects, 'StatefulSet', NAME)).validate();
      const sc = find(objects, 'ScrapeConfig', SCRAPE_CONFIG);
      new ScrapeConfig(sc).validate();
      checkScrapeConfigByHand(sc);
    });

    it('rejects a broken ScrapeConfig (the validators are live)', async () => {
      const { ScrapeConfig } = (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/ScrapeConfig')) as any;
      const sc = find(withComponent('dev'), 'ScrapeConfig', SCRAPE_CONFIG);
      const noUrl = structuredClone(sc);
      delete noUrl.spec.httpSDConfigs[0].url;
      expect(() => new ScrapeConfig(noUrl).validate()).toThrow(/url/);
      const typo = structuredClone(sc);
      typo.spec.scrapeIntervall = '60s';
      expect(() => checkScrapeConfigByHand(typo)).toThrow();
    });
  });
});
