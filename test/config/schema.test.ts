/** The schema table is the one statement of every option: README, defaults and parser follow it. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeConfig, valueAt } from '../../src/config/describe.js';
import { parseConfig } from '../../src/config/load.js';
import { KEYS, markdownTable, SCHEMA, type OptionSpec } from '../../src/config/schema.js';

const README = new URL('../../README.md', import.meta.url);
const MINIMAL = 'accounts:\n  - { name: a, zones: [DX-M1], id: "x", password: "y" }\n';
const SHARD = { index: 0, total: 1, replicationFactor: 1 };

describe('config schema', () => {
  it("the README's configuration table is the one generated from the schema", () => {
    const readme = readFileSync(README, 'utf8');
    const m = /<!-- config-table:start[^>]*-->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    expect(m, 'README.md lacks the config-table markers').not.toBeNull();
    expect(m![1]).toBe(markdownTable());
  });

  it('a minimal config gets every default the schema states, at the field it names', async () => {
    const c = await parseConfig(MINIMAL, 'c.yaml', { env: {} });
    const withDefault = (SCHEMA as readonly OptionSpec[]).filter((o) => o.field && o.default !== undefined);
    expect(withDefault.length).toBeGreaterThan(10);
    for (const o of withDefault) {
      const v = valueAt(c, o.field!);
      expect(o.type === 'listen' ? `${(v as { host: string }).host}:${(v as { port: number }).port}` : v, o.key).toEqual(o.default);
    }
  });

  it('every scalar option the schema lists is read from the file into its field', async () => {
    const values: Record<string, [string, unknown]> = {
      listen: ['127.0.0.1:9999', { host: '127.0.0.1', port: 9999 }],
      interval: ['2m', 120_000],
      timeout: ['30s', 30_000],
      staleAfter: ['7m', 420_000],
      spread: ['false', false],
      discoveryInterval: ['30m', 1_800_000],
      workers: ['3', 3],
      'limits.concurrency': ['7', 7],
      'limits.requestsPerSecond': ['2.5', 2.5],
      'limits.zoneRequestsPerSecond': ['9', 9],
      'limits.maxSeries': ['1000', 1000],
      'metrics.serverMetrics': ['false', false],
      'api.requestTimeout': ['3s', 3000],
      'api.retries': ['5', 5],
      'api.retryBase': ['50ms', 50],
      'api.maxResponseBytes': ['2048', 2048],
    };
    const fields = (SCHEMA as readonly OptionSpec[]).filter((o) => o.field);
    expect(fields.map((o) => o.key).sort()).toEqual(Object.keys(values).sort());
    const top = fields.filter((o) => !o.key.includes('.')).map((o) => `${o.key}: ${values[o.key]![0]}`);
    const section = (s: string) => `${s}:\n${fields.filter((o) => o.key.startsWith(`${s}.`)).map((o) => `  ${o.key.slice(s.length + 1)}: ${values[o.key]![0]}`).join('\n')}`;
    const c = await parseConfig(`${top.join('\n')}\n${section('limits')}\n${section('api')}\n${section('metrics')}\n${MINIMAL}`, 'c.yaml', { env: {} });
    for (const o of fields) expect(valueAt(c, o.field!), o.key).toEqual(values[o.key]![1]);
  });

  it('the accepted keys are the schema keys', () => {
    expect(KEYS.top).toEqual(['listen', 'interval', 'timeout', 'staleAfter', 'spread', 'discoveryInterval', 'workers', 'zones', 'limits', 'api', 'loadBalancers', 'metrics', 'accounts', 'accountsDir', 'defaultZones']);
    expect(KEYS.accountLimits).toEqual(['concurrency', 'requestsPerSecond', 'maxSeries']);
  });

  it('--check-config lists every setting with its value, and the default when it differs', async () => {
    const c = await parseConfig(`interval: 2m\n${MINIMAL}`, 'c.yaml', { env: {} });
    const out = describeConfig(c, SHARD);
    for (const o of (SCHEMA as readonly OptionSpec[]).filter((x) => x.field)) expect(out).toMatch(new RegExp(`^  ${o.key.replace('.', '\\.')} +\\S`, 'm'));
    expect(out).toMatch(/^ {2}interval +2m {2}\(default 1m\)$/m);
    expect(out).toMatch(/^ {2}workers +1$/m);
  });
});
