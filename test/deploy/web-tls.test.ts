/**
 * The optional TLS + basic auth component (k8s-manifests/components/web-tls), included in each
 * overlay the way the README says: the certificate, the web config the exporter reads
 * (--web.config.file / KTCLOUD_WEB_CONFIG, exporter-toolkit schema), probes that work behind
 * basic auth, and a ServiceMonitor that scrapes with the matching scheme, CA and credentials.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeWith, find, KUBECTL, kustomize, npmModule, parseYamlDocs, ROOT, run, type K8sObject } from './tools.js';

const NAME = 'ktcloud-lb-exporter';
const COMPONENT = 'k8s-manifests/components/web-tls';
const NAMESPACES = { dev: 'monitoring-dev', staging: 'monitoring-staging', prod: 'monitoring' } as const;
type Env = keyof typeof NAMESPACES;
const ENVS = Object.keys(NAMESPACES) as Env[];

/** The overlay with `- ../../components/web-tls` added to its components, rendered from a copy. */
const cache = new Map<Env, K8sObject[]>();
function withTls(env: Env): K8sObject[] {
  if (!cache.has(env)) {
    const copy = mkdtempSync(join(tmpdir(), 'ktcloud-tls-'));
    try {
      cpSync(join(ROOT, 'k8s-manifests'), join(copy, 'k8s-manifests'), { recursive: true });
      const file = join(copy, `k8s-manifests/overlays/${env}/kustomization.yaml`);
      const text = readFileSync(file, 'utf8');
      const entry = '  - ../../components/web-tls\n';
      writeFileSync(file, /^components:\n/m.test(text) ? text.replace(/^components:\n/m, `components:\n${entry}`) : `${text}\ncomponents:\n${entry}`);
      const r = run('kubectl', ['kustomize', join(copy, `k8s-manifests/overlays/${env}`)]);
      if (r.status !== 0) throw new Error(r.stderr);
      cache.set(env, parseYamlDocs(r.stdout));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  return structuredClone(cache.get(env)!);
}

const webConfigExample = () => parse(readFileSync(join(ROOT, COMPONENT, 'web-config.example.yml'), 'utf8'));
const exporter = (objects: K8sObject[]) => find(objects, 'StatefulSet', NAME).spec.template.spec;

const MODELS = await npmModule('kubernetes-models/apps/v1/StatefulSet', 'npm devDependency kubernetes-models');
const PROM_MODELS = await npmModule('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'npm devDependency @kubernetes-models/prometheus-operator');

/**
 * No model package for cert-manager here: the fields cert-manager requires and the ones this
 * component relies on, by hand (cert-manager.io/v1 Certificate).
 */
function checkCertificate(c: K8sObject): void {
  expect(c.apiVersion).toBe('cert-manager.io/v1');
  expect(typeof c.spec.secretName).toBe('string');
  expect(c.spec.issuerRef).toMatchObject({ name: expect.any(String), kind: expect.stringMatching(/^(Cluster)?Issuer$/) });
  expect(c.spec.dnsNames.length).toBeGreaterThan(0);
  for (const d of c.spec.dnsNames) expect(d).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
  for (const k of ['duration', 'renewBefore']) if (c.spec[k]) expect(c.spec[k]).toMatch(/^(\d+h)?(\d+m)?(\d+s)?$/);
  expect(['RSA', 'ECDSA', 'Ed25519']).toContain(c.spec.privateKey.algorithm);
  expect(c.spec.usages).toContain('server auth');
  const known = ['secretName', 'issuerRef', 'dnsNames', 'duration', 'renewBefore', 'privateKey', 'usages', 'commonName', 'ipAddresses', 'secretTemplate'];
  expect(Object.keys(c.spec).filter((k) => !known.includes(k))).toEqual([]);
}

describeWith([KUBECTL], 'web-tls component', () => {
  describe.each(ENVS)('%s', (env) => {
    it('issues a certificate in the namespace, for the name the ServiceMonitor verifies', () => {
      const objects = withTls(env);
      const cert = find(objects, 'Certificate', NAME);
      checkCertificate(cert);
      expect(cert.metadata.namespace).toBe(NAMESPACES[env]);
      const ep = find(objects, 'ServiceMonitor', NAME).spec.endpoints[0];
      expect(cert.spec.dnsNames).toContain(ep.tlsConfig.serverName);
      expect(ep.tlsConfig.ca.secret).toEqual({ name: cert.spec.secretName, key: 'ca.crt' });
    });

    it('points KTCLOUD_WEB_CONFIG at the web config Secret, whose cert files are the mounted certificate', () => {
      const objects = withTls(env);
      const pod = exporter(objects);
      const c = pod.containers[0];
      const path = c.env.find((e: any) => e.name === 'KTCLOUD_WEB_CONFIG')?.value as string;
      expect(path).toBeDefined();
      const volumeAt = (dir: string) => {
        const m = c.volumeMounts.find((v: any) => v.mountPath === dir);
        expect(m, dir).toBeDefined();
        expect(m.readOnly, dir).toBe(true);
        return pod.volumes.find((v: any) => v.name === m.name);
      };
      const dir = (p: string) => p.slice(0, p.lastIndexOf('/'));
      const file = (p: string) => p.slice(p.lastIndexOf('/') + 1);
      const webConfig = volumeAt(dir(path));
      expect(webConfig.secret.secretName).toBe(`${NAME}-web-config`);
      // Not optional: a missing web config must stop the pod, not serve without TLS and auth.
      expect(webConfig.secret.optional ?? false).toBe(false);
      expect(file(path)).toBe('web-config.yml');
      const example = webConfigExample();
      const tls = example.tls_server_config;
      expect(dir(tls.cert_file)).toBe(dir(tls.key_file));
      const tlsVolume = volumeAt(dir(tls.cert_file));
      expect(tlsVolume.secret.secretName).toBe(find(objects, 'Certificate', NAME).spec.secretName);
      expect(tlsVolume.secret.optional ?? false).toBe(false);
      expect(tlsVolume.secret.items.map((i: any) => i.path).sort()).toEqual([file(tls.cert_file), file(tls.key_file)].sort());
      for (const v of [webConfig, tlsVolume]) expect(v.secret.defaultMode).toBe(0o440);
    });

    it('probes the TLS port over TCP: kubelet probes cannot send basic auth', () => {
      const c = exporter(withTls(env)).containers[0];
      for (const probe of [c.livenessProbe, c.readinessProbe]) {
        expect(probe.httpGet).toBeUndefined();
        expect(probe.tcpSocket).toEqual({ port: 'metrics' });
      }
    });

    it('scrapes over HTTPS with the basic-auth Secret, the rest of the endpoint unchanged', () => {
      const ep = find(withTls(env), 'ServiceMonitor', NAME).spec.endpoints;
      const plain = find(kustomize(`k8s-manifests/overlays/${env}`), 'ServiceMonitor', NAME).spec.endpoints;
      expect(ep).toHaveLength(1);
      const { scheme, tlsConfig, basicAuth, ...rest } = ep[0];
      expect(rest).toEqual(plain[0]);
      expect(scheme).toBe('https');
      expect(tlsConfig.insecureSkipVerify ?? false).toBe(false);
      expect(basicAuth).toEqual({
        username: { name: `${NAME}-basic-auth`, key: 'username' },
        password: { name: `${NAME}-basic-auth`, key: 'password' },
      });
    });

    it('changes nothing else in the overlay', () => {
      const plain = kustomize(`k8s-manifests/overlays/${env}`).filter((o) => !['StatefulSet', 'ServiceMonitor'].includes(o.kind));
      const tls = withTls(env).filter((o) => !['StatefulSet', 'ServiceMonitor', 'Certificate'].includes(o.kind));
      expect(tls).toEqual(plain);
    });
  });

  it('is off unless included: the shipped overlays serve plain HTTP with /healthz and /readyz probes', () => {
    for (const env of ENVS) {
      const objects = kustomize(`k8s-manifests/overlays/${env}`);
      expect(objects.some((o) => o.kind === 'Certificate')).toBe(false);
      const c = exporter(objects).containers[0];
      expect(c.env.some((e: any) => e.name === 'KTCLOUD_WEB_CONFIG')).toBe(false);
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    }
  });

  describeWith([MODELS, PROM_MODELS], 'schema (kubernetes-models)', () => {
    it.each(ENVS)('the StatefulSet and ServiceMonitor of %s with the component are valid', async (env) => {
      const { StatefulSet } = (await import('kubernetes-models/apps/v1/StatefulSet')) as any;
      const { ServiceMonitor } = (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor')) as any;
      const objects = withTls(env);
      new StatefulSet(find(objects, 'StatefulSet', NAME)).validate();
      new ServiceMonitor(find(objects, 'ServiceMonitor', NAME)).validate();
    });

    it('rejects a broken ServiceMonitor (the validator is live)', async () => {
      const { ServiceMonitor } = (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor')) as any;
      const sm = find(withTls('dev'), 'ServiceMonitor', NAME);
      sm.spec.endpoints[0].scheme = 'gopher';
      expect(() => new ServiceMonitor(sm).validate()).toThrow(/scheme/);
    });
  });
});

describe('web-config.example.yml', () => {
  it('uses the exporter-toolkit keys and holds a placeholder, not a hash', () => {
    const c = webConfigExample();
    expect(Object.keys(c).sort()).toEqual(['basic_auth_users', 'tls_server_config']);
    expect(Object.keys(c.tls_server_config).sort()).toEqual(['cert_file', 'key_file']);
    for (const hash of Object.values<string>(c.basic_auth_users)) expect(hash).toMatch(/^<.*>$/);
  });
});
