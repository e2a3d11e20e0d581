/**
 * The container interface: no config file, one account from CLOUD_*, zone endpoints from the
 * environment. The real command runs against the simulator in its own process.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnvironment, loadConfigFile } from '../../src/config/load.js';
import { parseExposition } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

const BIN = new URL('../../bin/ktcloud-lb-exporter', import.meta.url).pathname;
const ID = 'env-mode@example.com';
const PASSWORD = 'env-mode-Secret-pw';
let sim: SimProcess;
let cwd: string;

beforeAll(async () => {
  sim = await SimProcess.start({ accounts: [{ id: ID, password: PASSWORD, zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 }, 'DX-G': { lbs: 1, serversPerLb: 1 } } }] });
  cwd = mkdtempSync(join(tmpdir(), 'ktcloud-envmode-')); // no accounts/accounts.yaml here
});
afterAll(() => sim.close());

function run(args: string[], env: NodeJS.ProcessEnv, dir = cwd) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 60_000 });
}

function upOf(stdout: string): Array<[string, string, number]> {
  return parseExposition(stdout)
    .filter((s) => s.name === 'ktcloud_account_up')
    .map((s) => [s.labels.account!, s.labels.zone!, s.value]);
}

describe('environment mode, the real command against the simulator', () => {
  it('CLOUD_* with KTCLOUD_ZONE_<ZONE>_ENDPOINT collects one account "default"', () => {
    const r = run(['--once'], { CLOUD_ID: ID, CLOUD_PASSWORD: PASSWORD, CLOUD_ZONE: 'DX-M1', KTCLOUD_ZONE_DX_M1_ENDPOINT: sim.zoneEndpoint('DX-M1') });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(upOf(r.stdout)).toEqual([['default', 'DX-M1', 1]]);
    const total = parseExposition(r.stdout).filter((s) => s.name === 'ktcloud_lb_total_count');
    expect(total.map((s) => [s.labels.account, s.labels.zone, s.value])).toEqual([['default', 'DX-M1', 2]]);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  it('CLOUD_ENDPOINT points the account\'s zone at the simulator', () => {
    const r = run(['--once'], { CLOUD_ID: ID, CLOUD_PASSWORD: PASSWORD, CLOUD_ZONE: 'DX-G', CLOUD_ENDPOINT: sim.zoneEndpoint('DX-G') });
    expect(r.status).toBe(0);
    expect(upOf(r.stdout)).toEqual([['default', 'DX-G', 1]]);
  });

  it('an explicit --config that is missing stays an error, even with CLOUD_* set', () => {
    const r = run(['--check-config', '--config', 'nope.yaml'], { CLOUD_ID: ID, CLOUD_PASSWORD: PASSWORD, CLOUD_ZONE: 'DX-M1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('nope.yaml: cannot read config file: ENOENT');
  });

  it('a default file and CLOUD_* both present: the file is used, and a warning says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktcloud-envmode-both-'));
    mkdirSync(join(dir, 'accounts'));
    writeFileSync(join(dir, 'accounts', 'accounts.yaml'), 'accounts:\n  - { name: from-file, zones: [DX-M1], id: "f", password: "g" }\n');
    const r = run(['--check-config'], { CLOUD_ID: ID, CLOUD_PASSWORD: PASSWORD, CLOUD_ZONE: 'DX-M1' }, dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('config: accounts/accounts.yaml is valid');
    expect(r.stdout).toMatch(/^ {2}from-file +zones DX-M1/m);
    expect(r.stdout).toContain(
      'warning: both accounts/accounts.yaml and CLOUD_ID/CLOUD_PASSWORD/CLOUD_ZONE exist: using accounts/accounts.yaml (a config file wins); remove it or unset CLOUD_* to choose',
    );
  });
});

describe('zone endpoints from the environment', () => {
  const ENV = { CLOUD_ID: 'i', CLOUD_PASSWORD: 'p', CLOUD_ZONE: 'DX-M1,DX-G' };

  it('KTCLOUD_ZONE_<ZONE>_ENDPOINT wins over CLOUD_ENDPOINT for its zone; other zones keep theirs', () => {
    const c = configFromEnvironment({ ...ENV, CLOUD_ENDPOINT: 'http://127.0.0.1:1/all/', KTCLOUD_ZONE_DX_G_ENDPOINT: 'http://127.0.0.1:2/g' })!;
    expect([c.zones['DX-M1']!.endpoint, c.zones['DX-G']!.endpoint, c.zones['DX-Central']!.endpoint]).toEqual([
      'http://127.0.0.1:1/all',
      'http://127.0.0.1:2/g',
      'https://api.ucloudbiz.olleh.com/d2',
    ]);
  });

  it('KTCLOUD_ZONE_<ZONE>_ENDPOINT also overrides a config file, including a zone it adds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktcloud-envmode-file-'));
    writeFileSync(join(dir, 'c.yaml'), 'zones:\n  DX-NEW: { endpoint: "http://127.0.0.1:3/new" }\naccounts:\n  - { name: a, zones: [DX-NEW], id: "x", password: "y" }\n');
    const c = await loadConfigFile(join(dir, 'c.yaml'), { env: { KTCLOUD_ZONE_DX_NEW_ENDPOINT: 'http://127.0.0.1:4/x', KTCLOUD_ZONE_DX_NOPE_ENDPOINT: 'http://127.0.0.1:5' } });
    expect(c.zones['DX-NEW']!.endpoint).toBe('http://127.0.0.1:4/x');
    expect(c.warnings).toEqual([expect.stringMatching(/^environment: KTCLOUD_ZONE_DX_NOPE_ENDPOINT matches no zone \(known: /)]);
  });

  it('a malformed endpoint variable is an error that names the variable, not its value', () => {
    expect(() => configFromEnvironment({ ...ENV, CLOUD_ENDPOINT: 'ftp://user:s3cret@host' })).toThrow(/^environment: CLOUD_ENDPOINT: not an http\(s\) URL$/);
    expect(() => configFromEnvironment({ ...ENV, KTCLOUD_ZONE_DX_M1_ENDPOINT: 'nope' })).toThrow(/^environment: KTCLOUD_ZONE_DX_M1_ENDPOINT: not an http\(s\) URL$/);
  });
});
