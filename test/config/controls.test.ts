/** The multi-account controls: LB filters, families off, series cap. Each bad config maps to its message. */
import { describe, expect, it } from 'vitest';
import { describeConfig } from '../../src/config/describe.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const ACCOUNT = '  - { name: a, zones: [DX-M1], id: "x", password: "y" }';
const parse = (text: string) => parseConfig(text, 'c.yaml', { env: {} });
async function problems(text: string): Promise<readonly string[]> {
  try {
    await parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('config was accepted');
}

describe('loadBalancers filters', () => {
  it('the top level applies to every account, and an account of its own replaces it as a whole', async () => {
    const c = await parse(
      `loadBalancers: { include: ["web-.*"], exclude: [".*-canary"] }\naccounts:\n${ACCOUNT}\n  - { name: b, zones: [DX-M1], id: "x", password: "y", loadBalancers: { exclude: ["tmp-.*"] } }\n`,
    );
    expect(c.loadBalancers).toEqual({ include: ['web-.*'], exclude: ['.*-canary'] });
    expect(c.accounts[0]!.loadBalancers).toBeUndefined();
    expect(c.accounts[1]!.loadBalancers).toEqual({ include: [], exclude: ['tmp-.*'] });
  });

  it('an invalid pattern is a config error naming the account, the key and the line, not the pattern', async () => {
    const p = await problems(`accounts:\n  - name: a\n    zones: [DX-M1]\n    id: "x"\n    password: "y"\n    loadBalancers:\n      include: ["ok-.*", "(secret"]\n`);
    expect(p).toEqual(['c.yaml:7: account "a": loadBalancers: include[1]: invalid RE2 pattern: missing closing )']);
  });

  it('backreferences and lookaround are refused (RE2 syntax, as in Prometheus), and so are over-long patterns', async () => {
    const p = await problems(`loadBalancers:\n  exclude: ["(a)\\\\1", "(?=x)", "${'a'.repeat(257)}"]\naccounts:\n${ACCOUNT}\n`);
    expect(p).toEqual([
      'c.yaml:2: loadBalancers: exclude[0]: invalid RE2 pattern: invalid escape sequence',
      'c.yaml:2: loadBalancers: exclude[1]: invalid RE2 pattern: invalid or unsupported Perl syntax',
      'c.yaml:2: loadBalancers: exclude[2]: pattern longer than 256 characters',
    ]);
  });

  it('a typo in the section is reported with a suggestion', async () => {
    expect(await problems(`loadBalancers: { inclde: ["a"] }\naccounts:\n${ACCOUNT}\n`)).toEqual(['c.yaml:1: loadBalancers: unknown key "inclde" (did you mean "include"?)']);
  });
});

describe('metrics switches', () => {
  it('disable lists LB families; serverMetrics: false adds the five per-server families but keeps server_count', async () => {
    const c = await parse(`metrics: { disable: [ktcloud_lb_service_type_count], serverMetrics: false }\naccounts:\n${ACCOUNT}\n`);
    expect(c.metrics.serverMetrics).toBe(false);
    expect([...c.metrics.disable].sort()).toEqual(
      [
        'ktcloud_lb_service_type_count',
        'ktcloud_lb_server_state',
        'ktcloud_server_current_connections',
        'ktcloud_server_throughput_rate_kbps',
        'ktcloud_server_avg_ttfb_ms',
        'ktcloud_server_requests_rate_per_sec',
      ].sort(),
    );
  });

  it('an unknown family is an error with "did you mean"; a health family cannot be turned off', async () => {
    const p = await problems(`metrics:\n  disable: [ktcloud_lb_servr_count, ktcloud_account_up]\naccounts:\n${ACCOUNT}\n`);
    expect(p).toHaveLength(2);
    expect(p[0]).toBe('c.yaml:2: metrics: disable: unknown metric family "ktcloud_lb_servr_count" (did you mean "ktcloud_lb_server_count"?)');
    expect(p[1]).toMatch(/^c\.yaml:2: metrics: disable: "ktcloud_account_up" cannot be turned off: account and exporter health families are how failures show/);
  });
});

describe('limits.maxSeries', () => {
  it('defaults to 0 (no cap), is inherited from the top level, and an account may override it', async () => {
    const c = await parse(`limits: { maxSeries: 500 }\naccounts:\n${ACCOUNT}\n  - { name: b, zones: [DX-M1], id: "x", password: "y", limits: { maxSeries: 0 } }\n`);
    expect(c.accounts.map((a) => a.limits.maxSeries)).toEqual([500, 0]);
    expect((await parse(`accounts:\n${ACCOUNT}\n`)).accounts[0]!.limits.maxSeries).toBe(0);
  });

  it('a negative cap is refused', async () => {
    expect(await problems(`limits: { maxSeries: -1 }\naccounts:\n${ACCOUNT}\n`)).toEqual(['c.yaml:1: limits: maxSeries: expected an integer >= 0, got number -1']);
  });
});

describe('--check-config', () => {
  it('shows the filters, the disabled families and per-account caps', async () => {
    const c = await parse(
      `loadBalancers: { exclude: ["tmp-.*"] }\nmetrics: { disable: [ktcloud_lb_service_type_count] }\naccounts:\n  - { name: a, zones: [DX-M1], id: "x", password: "y", limits: { maxSeries: 9 }, loadBalancers: { include: ["web-.*"] } }\n`,
    );
    const out = describeConfig(c, { index: 0, total: 1, replicationFactor: 1 });
    expect(out).toContain('\nload balancers: include all, exclude "tmp-.*"\n');
    expect(out).toContain('\nmetrics disabled: ktcloud_lb_service_type_count\n');
    expect(out).toMatch(/^ {2}a .* maxSeries 9 {2}load balancers: include "web-\.\*", exclude none$/m);
  });
});
