import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/config/duration.js';
import { ConfigError, configFromEnvironment, loadConfig, loadConfigFile, parseListen } from '../../src/config/load.js';

const F = 'test/config/fixtures';

async function problemsOf(file: string, env: NodeJS.ProcessEnv = {}): Promise<readonly string[]> {
  try {
    await loadConfigFile(`${F}/${file}`, { env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`${file} was accepted`);
}

describe('config: each bad fixture gives its exact message', () => {
  const cases: Array<[string, string[]]> = [
    ['unknown-key.yaml', [`${F}/unknown-key.yaml:6: account "team-a": unknown key "pasword" (did you mean "password"?)`, `${F}/unknown-key.yaml:3: account "team-a": password: required (one of password, passwordFile, passwordEnv)`]],
    ['duplicate-name.yaml', [`${F}/duplicate-name.yaml:6: account "team-a": duplicate account name (first defined at ${F}/duplicate-name.yaml:2)`]],
    ['unknown-zone.yaml', [`${F}/unknown-zone.yaml:3: account "team-a": unknown zone "DX-M9" (known: DX-M1, DX-Central, DX-DCN-CJ, DX-G, DX-G-YS)`]],
    ['missing-credential-file.yaml', [`${F}/missing-credential-file.yaml:5: account "team-a": passwordFile: cannot read ${F}/secrets/nobody/CLOUD_PASSWORD: no such file`]],
    ['bad-duration.yaml', [`${F}/bad-duration.yaml:1: interval: not a duration (use e.g. 500ms, 30s, 5m)`]],
    ['timeout-over-interval.yaml', [`${F}/timeout-over-interval.yaml:2: timeout: 1m is longer than the interval (10s)`]],
    ['two-password-sources.yaml', [`${F}/two-password-sources.yaml:2: account "team-a": password: give only one of password, passwordEnv`]],
    ['bad-name.yaml', [`${F}/bad-name.yaml:2: accounts[0]: name: may only contain letters, digits, "_", "." and "-" (not shown)`]],
    ['bad-limits.yaml', [`${F}/bad-limits.yaml:3: limits: unknown key "requestsPerSecnd" (did you mean "requestsPerSecond"?)`, `${F}/bad-limits.yaml:2: limits: concurrency: expected an integer >= 1, got number 0`]],
    ['no-accounts.yaml', [`${F}/no-accounts.yaml:1: no accounts: give \`accounts:\` or \`accountsDir:\``]],
  ];
  for (const [file, expected] of cases) {
    it(file, async () => expect(await problemsOf(file)).toEqual(expected));
  }

  it('syntax-error.yaml names the real line and column of the YAML error', async () => {
    expect(await problemsOf('syntax-error.yaml')).toEqual([
      `${F}/syntax-error.yaml:4:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ]);
  });

  it('an unset passwordEnv names the variable', async () => {
    expect(await problemsOf('good.yaml', {})).toEqual([`${F}/good.yaml:15: account "team-a": passwordEnv: environment variable TEAM_A_PASSWORD is not set`]);
  });

  it('a missing config file is one clear problem', async () => {
    await expect(loadConfigFile(`${F}/nope.yaml`)).rejects.toThrow(`${F}/nope.yaml: cannot read config file: ENOENT`);
  });
});

describe('config: a good file', async () => {
  const c = await loadConfigFile(`${F}/good.yaml`, { env: { TEAM_A_PASSWORD: 'from-env' } });

  it('parses durations, limits and per-account overrides', () => {
    expect(c.intervalMs).toBe(30_000);
    expect(c.timeoutMs).toBe(20_000);
    expect(c.staleAfterMs).toBe(90_000); // 3 intervals by default
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 9105 });
    expect(c.limits).toEqual({ concurrency: 2, requestsPerSecond: 3, maxSeries: 0, zoneRequestsPerSecond: 20 });
    expect(c.accounts[0]!.limits).toEqual({ concurrency: 2, requestsPerSecond: 1, maxSeries: 0 });
    expect(c.accounts[1]!.limits).toEqual({ concurrency: 2, requestsPerSecond: 3, maxSeries: 0 });
  });

  it('keeps built-in zones, overrides endpoints (trailing slash dropped) and adds new zones', () => {
    expect(c.zones['DX-M1']).toEqual({ name: 'DX-M1', endpoint: 'http://127.0.0.1:8080/d1', requestsPerSecond: 20 });
    expect(c.zones['DX-NEW']).toEqual({ name: 'DX-NEW', endpoint: 'http://127.0.0.1:8080/new', requestsPerSecond: 7 });
    expect(c.zones['DX-G-YS']!.endpoint).toBe('https://api.ucloudbiz.olleh.com/gd4');
  });

  it('reads credentials from literal, env and files, and never prints them', () => {
    const [a, b] = c.accounts;
    expect(a!.password.reveal()).toBe('from-env');
    expect(b!.id.reveal()).toBe('semascrd@example.com');
    expect(b!.password.reveal()).toBe('pw-sema');
    expect(b!.zones).toEqual(['DX-G-YS']);
    const printed = `${inspect(c, { depth: 10 })} ${JSON.stringify(c)} ${String(b!.password)}`;
    for (const secret of ['from-env', 'pw-sema', 'semascrd@example.com', 'a@example.com']) expect(printed).not.toContain(secret);
    expect(c.watchFiles.some((f) => f.endsWith('semascrd/CLOUD_PASSWORD'))).toBe(true);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.accounts[0]!.limits)).toBe(true);
  });
});

describe('config: accountsDir', () => {
  it('makes each folder with CLOUD_ID and CLOUD_PASSWORD an account; an explicit entry wins', async () => {
    const c = await loadConfigFile(`${F}/accounts-dir.yaml`);
    expect(c.accounts.map((a) => [a.name, a.zones.join(',')])).toEqual([
      ['semascrd', 'DX-G-YS'],
      ['ktcloud-test', 'DX-M1,DX-G'],
    ]);
    expect(c.accounts[1]!.password.reveal()).toBe('pw-test');
    expect(c.accounts[1]!.credentialFiles.some((f) => f.endsWith('CLOUD_ZONE'))).toBe(true);
  });

  it('warns (does not fail) when a credential file is readable by others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktcloud-cfg-'));
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'secret');
    chmodSync(pw, 0o644);
    writeFileSync(join(dir, 'c.yaml'), `accounts:\n  - { name: a, zones: [DX-M1], id: x, passwordFile: ${pw} }\n`);
    const c = await loadConfigFile(join(dir, 'c.yaml'));
    expect(c.warnings).toEqual([`account "a": credential file ${pw} is readable by every user (mode 644); restrict it, e.g. chmod 600 or defaultMode: 0400 on the Secret volume`]);
  });
});

describe('config: the original exporter interface', () => {
  it('runs one account "default" from CLOUD_ID, CLOUD_PASSWORD and CLOUD_ZONE', () => {
    const c = configFromEnvironment({ CLOUD_ID: 'me@example.com', CLOUD_PASSWORD: 'pw', CLOUD_ZONE: 'DX-Central' })!;
    expect(c.accounts.map((a) => [a.name, a.zones])).toEqual([['default', ['DX-Central']]]);
    expect(c.listen.port).toBe(9105);
    expect(Object.isFrozen(c.accounts[0]!.zones) && Object.isFrozen(c.zones['DX-Central'])).toBe(true);
  });

  it('rejects an unknown CLOUD_ZONE', () => {
    expect(() => configFromEnvironment({ CLOUD_ID: 'x', CLOUD_PASSWORD: 'y', CLOUD_ZONE: 'DX-Nowhere' })).toThrow('environment: CLOUD_ZONE: unknown zone "DX-Nowhere"');
  });

  it('without a file and without CLOUD_* says what to do', async () => {
    await expect(loadConfig(undefined, { env: {} })).rejects.toThrow(/no configuration: .* give --config FILE/);
  });

  it('KTCLOUD_CONFIG selects the file', async () => {
    expect((await loadConfig(undefined, { env: { KTCLOUD_CONFIG: `${F}/accounts-dir.yaml` } })).source).toBe(`${F}/accounts-dir.yaml`);
  });
});

describe('durations and listen addresses', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['1h', 3_600_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '30', 's', '10x', '5 m', '-1s'])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());
  it('parses listen forms', () => {
    expect(parseListen(':9105')).toEqual({ host: '0.0.0.0', port: 9105 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen('localhost:99999')).toMatch(/not HOST:PORT/);
  });
});
