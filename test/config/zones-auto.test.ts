import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeConfig } from '../../src/config/describe.js';
import { ConfigError, configFromEnvironment, parseConfig } from '../../src/config/load.js';
import { SINGLE_SHARD } from '../../src/shard.js';

/** `zones: auto` in every place a zone list is written, and `discoveryInterval`. */
const ACC = `  - { name: a, zones: auto, id: "x", password: "y" }\n`;

async function problems(text: string, env: NodeJS.ProcessEnv = {}): Promise<readonly string[]> {
  try {
    await parseConfig(text, 'c.yaml', { env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('accepted');
}

function folder(dir: string, name: string, files: Record<string, string>): void {
  mkdirSync(join(dir, name), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, name, f), text, { mode: 0o600 });
}

describe('config: zones: auto', () => {
  it('an account with zones: auto (or [auto]) has no listed zone and discovers hourly by default', async () => {
    const c = await parseConfig(`accounts:\n${ACC}  - { name: b, zones: [auto], id: "x", password: "y" }\n`, 'c.yaml');
    expect(c.accounts.map((a) => [a.name, a.autoZones, a.zones])).toEqual([
      ['a', true, []],
      ['b', true, []],
    ]);
    expect(c.discoveryIntervalMs).toBe(3_600_000);
    expect(describeConfig(c, SINGLE_SHARD)).toContain('  a  zones auto (discovered)');
  });

  it('discoveryInterval is a duration of at least 1s', async () => {
    expect((await parseConfig(`discoveryInterval: 10m\naccounts:\n${ACC}`, 'c.yaml')).discoveryIntervalMs).toBe(600_000);
    expect(await problems(`discoveryInterval: 500ms\naccounts:\n${ACC}`)).toEqual(['c.yaml:1: discoveryInterval: 500ms is too short (at least 1s)']);
  });

  it('auto stands alone in a zone list, and no zone may be named auto', async () => {
    expect(await problems(`accounts:\n  - { name: a, zones: [auto, DX-M1], id: "x", password: "y" }\n`)).toEqual([
      'c.yaml:2: account "a": "auto" stands alone: it discovers the zones, so list no other zone with it',
    ]);
    expect(await problems(`zones:\n  auto: { endpoint: "http://127.0.0.1:1" }\naccounts:\n${ACC}`)).toEqual([
      'c.yaml:2: zone "auto": "auto" is reserved (`zones: auto` discovers an account\'s zones): name the zone otherwise',
    ]);
  });

  it('accountsDir: CLOUD_ZONE=auto in a folder, and defaultZones: auto for folders without CLOUD_ZONE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktcloud-auto-'));
    folder(dir, 'listed', { CLOUD_ID: 'i', CLOUD_PASSWORD: 'p', CLOUD_ZONE: 'DX-M1' });
    folder(dir, 'by-file', { CLOUD_ID: 'i', CLOUD_PASSWORD: 'p', CLOUD_ZONE: 'auto\n' });
    folder(dir, 'by-default', { CLOUD_ID: 'i', CLOUD_PASSWORD: 'p' });
    const c = await parseConfig(`accountsDir: ${dir}\ndefaultZones: auto\n`, 'c.yaml');
    expect(c.accounts.map((a) => [a.name, !!a.autoZones, a.zones.join(',')])).toEqual([
      ['by-default', true, ''],
      ['by-file', true, ''],
      ['listed', false, 'DX-M1'],
    ]);
  });

  it('the environment mode takes CLOUD_ZONE=auto', () => {
    const c = configFromEnvironment({ CLOUD_ID: 'me@example.com', CLOUD_PASSWORD: 'pw', CLOUD_ZONE: 'auto' })!;
    expect(c.accounts.map((a) => [a.name, a.autoZones, a.zones])).toEqual([['default', true, []]]);
    expect(() => configFromEnvironment({ CLOUD_ID: 'x', CLOUD_PASSWORD: 'y', CLOUD_ZONE: 'auto,DX-G' })).toThrow('environment: CLOUD_ZONE: "auto" stands alone');
  });
});
