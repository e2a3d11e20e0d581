/**
 * The alert rules (k8s-manifests/rules/ktcloud-lb-alerts.yaml, the single source), their copy
 * in the PrometheusRule, and the kube-prometheus-stack values that load both the rules and
 * the ServiceMonitor.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeWith, exporterFamilies, metricSelectors, PROMTOOL, ROOT, run, SYNC, TARGET_LABELS } from './tools.js';

const RULES_FILE = 'k8s-manifests/rules/ktcloud-lb-alerts.yaml';
const RULES_TEST = 'k8s-manifests/rules/ktcloud-lb-alerts.test.yaml';
const PROMETHEUS_RULE = 'k8s-manifests/base/prometheusrule.yaml';
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (): { name: string; rules: AlertRule[] }[] => parse(read(RULES_FILE)).groups;
const alerts = () => new Map(groups().flatMap((g) => g.rules.map((r) => [r.alert, r] as const)));

/**
 * The PrometheusRule is the rules file's `groups:` block under `spec:`, text and comments kept.
 * Its header (everything up to `spec:`) is hand-written and kept as it is.
 */
function prometheusRuleFromRulesFile(current: string): string {
  const header = current.slice(0, current.indexOf('\nspec:\n') + '\nspec:\n'.length);
  const source = read(RULES_FILE);
  const block = source.slice(source.indexOf('\ngroups:\n') + 1);
  return header + block.split('\n').map((line) => (line ? `  ${line}` : line)).join('\n');
}

describe('PrometheusRule', () => {
  beforeAll(() => {
    if (SYNC) writeFileSync(join(ROOT, PROMETHEUS_RULE), prometheusRuleFromRulesFile(read(PROMETHEUS_RULE)));
  });

  it(`carries exactly the groups of ${RULES_FILE} (KTCLOUD_SYNC=1 copies them)`, () => {
    const rule = parse(read(PROMETHEUS_RULE));
    expect(rule).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(rule.spec.groups).toEqual(groups());
    expect(read(PROMETHEUS_RULE)).toBe(prometheusRuleFromRulesFile(read(PROMETHEUS_RULE)));
  });
});

describe('alert rules', () => {
  it('cover the failure modes of the exporter and of the load balancers', () => {
    const a = alerts();
    const expected: Record<string, { expr: RegExp; for: string }> = {
      KtcloudAccountCollectionFailing: { expr: /^ktcloud_account_up == 0$/, for: '10m' },
      KtcloudAccountDataStale: { expr: /^time\(\) - ktcloud_account_last_success_timestamp_seconds > 300$/, for: '5m' },
      KtcloudLbDown: { expr: /^ktcloud_lb_info == 0$/, for: '5m' },
      KtcloudLbServerDown: { expr: /^ktcloud_lb_server_state == 0$/, for: '5m' },
      KtcloudLbExporterShardMissing: { expr: /count by \(namespace, total_shards\) \(ktcloud_exporter_shard_info\)/, for: '15m' },
      KtcloudLbExporterDown: { expr: /^up\{job="ktcloud-lb"\} == 0$/, for: '5m' },
      // Gaps in sharding: must fire within 5 minutes (for + one scrape).
      KtcloudLbExporterAccountsUnowned: { expr: /^max by \(namespace\) \(ktcloud_exporter_configured_accounts\)\n- \(/, for: '4m' },
      KtcloudLbExporterShardDuplicated: { expr: /^count by \(namespace, shard\) \(ktcloud_exporter_shard_info\) > 1$/, for: '5m' },
      // API budget: sustained > 90 % of a zone's requests-per-second limit.
      KtcloudLbExporterZoneApiBudgetHigh: { expr: /rate\(ktcloud_api_requests_total\[5m\]\)\)\n\s+\/ on \(namespace, pod, zone\) ktcloud_api_zone_requests_per_second_limit\n\s+> 0\.9$/, for: '10m' },
    };
    for (const [name, want] of Object.entries(expected)) {
      const rule = a.get(name);
      expect(rule, name).toBeDefined();
      expect(rule!.expr.trim()).toMatch(want.expr);
      expect(rule!.for).toBe(want.for);
    }
  });

  it('each carry a severity, a summary and a description naming what failed', () => {
    for (const [name, rule] of alerts()) {
      expect(['critical', 'warning'], name).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, name).toBeTruthy();
      expect(rule.annotations?.description, name).toBeTruthy();
      const text = `${rule.annotations!.summary} ${rule.annotations!.description}`;
      // Account-level alerts name the account and zone; exporter-level ones the pod or namespace.
      // (An exporter-level alert may count account series, as the unowned-accounts one does.)
      if (/ktcloud_(account|lb)_/.test(rule.expr) && !/ktcloud_exporter_/.test(rule.expr)) {
        expect(text, name).toContain('{{ $labels.account }}');
        expect(text, name).toContain('{{ $labels.zone }}');
      } else {
        expect(text, name).toMatch(/\{\{ \$labels\.(pod|namespace|instance) \}\}|job ktcloud-lb/);
      }
    }
  });

  it('read only metrics and labels the exporter publishes', async () => {
    const families = await exporterFamilies();
    for (const [name, rule] of alerts()) {
      for (const { metric, labels } of metricSelectors(rule.expr)) {
        expect(families.has(metric), `${name}: ${metric}`).toBe(true);
        for (const l of labels) expect([...families.get(metric)!, ...TARGET_LABELS], `${name}: ${metric}{${l}}`).toContain(l);
      }
    }
  });
});

describeWith([PROMTOOL], 'promtool', () => {
  it('check rules accepts the rules file', () => {
    const r = run('promtool', ['check', 'rules', RULES_FILE]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the unit tests of the rules pass (firing times, labels and rendered annotations)', () => {
    const r = run('promtool', ['test', 'rules', RULES_TEST]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('every alert is exercised by the unit tests', () => {
    const tested = new Set(
      parse(read(RULES_TEST)).tests.flatMap((t: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    expect([...alerts().keys()].filter((a) => !tested.has(a))).toEqual([]);
  });
});

describe('kube-prometheus-stack values', () => {
  const values = () => parse(read('k8s-manifests/prometheus-values.yaml'));
  const base = (file: string) => parse(read(`k8s-manifests/base/${file}`));

  it('select the ServiceMonitor of every environment and the PrometheusRule', () => {
    const spec = values().prometheus.prometheusSpec;
    const sm = base('servicemonitor.yaml');
    const rule = base('prometheusrule.yaml');
    expect(spec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(spec.ruleSelectorNilUsesHelmValues).toBe(false);
    for (const [selector, labels] of [
      [spec.serviceMonitorSelector.matchLabels, sm.metadata.labels],
      [spec.ruleSelector.matchLabels, rule.metadata.labels],
    ]) {
      for (const [k, v] of Object.entries(selector)) expect(labels[k], k).toBe(v);
    }
    // {} = every namespace: monitoring-dev and monitoring-staging are scraped too.
    expect(spec.serviceMonitorNamespaceSelector).toEqual({});
    expect(spec.ruleNamespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } });
  });

  it('do not scrape the exporter a second time through additionalScrapeConfigs', () => {
    const extra = values().prometheus.prometheusSpec.additionalScrapeConfigs ?? [];
    expect(extra.filter((c: { job_name: string }) => c.job_name === 'ktcloud-lb')).toEqual([]);
  });

  it('expose Grafana and Prometheus through an Ingress, Prometheus behind a login', () => {
    const v = values();
    for (const [name, ingress] of [
      ['grafana', v.grafana.ingress],
      ['prometheus', v.prometheus.ingress],
    ]) {
      expect(ingress.enabled, name).toBe(true);
      expect(ingress.hosts, name).toEqual([`${name}.example.com`]);
      expect(ingress.tls[0].hosts, name).toEqual(ingress.hosts);
    }
    expect(v.prometheus.ingress.annotations['nginx.ingress.kubernetes.io/auth-type']).toBe('basic');
    expect(v.grafana.adminPassword).toBeUndefined();
  });

  it('let the Grafana sidecar load the dashboard ConfigMap', () => {
    const sidecar = values().grafana.sidecar.dashboards;
    const component = parse(read('k8s-manifests/components/grafana-dashboard/kustomization.yaml'));
    expect(sidecar.enabled).toBe(true);
    expect(component.configMapGenerator[0].options.labels[sidecar.label]).toBe(sidecar.labelValue);
  });
});
