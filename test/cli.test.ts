import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exporterYaml, parseExposition } from './support/harness.js';
import { SimProcess } from './support/sim-process.js';

const BIN = new URL('../bin/ktcloud-lb-exporter', import.meta.url).pathname;
const ACCOUNTS = [
  { name: 'cli-ok', zones: ['DX-M1'], id: 'cli@example.com', password: 'cli-secret-pw' },
  { name: 'cli-bad', zones: ['DX-G'], id: 'clibad@example.com', password: 'not-the-password' },
];
let sim: SimProcess;
let dir: string;

beforeAll(async () => {
  sim = await SimProcess.start({
    accounts: [
      { id: 'cli@example.com', password: 'cli-secret-pw', zones: { 'DX-M1': { lbs: 3, serversPerLb: 2 } } },
      { id: 'clibad@example.com', password: 'real', zones: { 'DX-G': { lbs: 1 } } },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'ktcloud-cli-'));
  writeFileSync(join(dir, 'good.yaml'), exporterYaml(sim, ACCOUNTS.slice(0, 1), 'interval: 1m\ntimeout: 10s'));
  writeFileSync(join(dir, 'mixed.yaml'), exporterYaml(sim, ACCOUNTS, 'interval: 1m\ntimeout: 10s'));
  writeFileSync(join(dir, 'bad.yaml'), 'interval: soon\naccounts: []\n');
});
afterAll(() => sim.close());

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });
}

describe('the ktcloud-lb-exporter command', () => {
  it('--help and --version', () => {
    expect(run(['--help']).stdout).toContain('--total-shards M');
    expect(run(['--version']).stdout).toMatch(/^ktcloud-lb-exporter \d+\.\d+\.\d+/);
  });

  it('a bad config exits 1 before listening, naming file and line', () => {
    const r = run(['--config', join(dir, 'bad.yaml'), '--listen', '127.0.0.1:0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'bad.yaml')}:1: interval: not a duration`);
    expect(r.stdout).not.toContain('listening');
  });

  it('a bad flag exits 2 with usage', () => {
    const r = run(['--shard', '3', '--total-shards', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--shard must be between 0 and 1, got 3');
  });

  it('--check-config prints a summary without secrets', () => {
    const r = run(['--check-config', '--config', join(dir, 'mixed.yaml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('accounts: 2');
    expect(r.stdout).toMatch(/cli-ok +zones DX-M1/);
    for (const secret of ['cli-secret-pw', 'not-the-password', 'cli@example.com']) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('without a file, CLOUD_ID/CLOUD_PASSWORD/CLOUD_ZONE run one account "default"', () => {
    const r = run(['--check-config'], { CLOUD_ID: 'env@example.com', CLOUD_PASSWORD: 'env-pw', CLOUD_ZONE: 'DX-M1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('config: environment is valid');
    expect(r.stdout).toMatch(/default +zones DX-M1/);
    expect(r.stdout).not.toContain('env-pw');
  });

  it('--once prints the exposition and exits 0 when every account worked', () => {
    const r = run(['--once', '--config', join(dir, 'good.yaml')]);
    expect(r.status).toBe(0);
    const samples = parseExposition(r.stdout);
    expect(samples.find((x) => x.name === 'ktcloud_lb_total_count')?.value).toBe(3);
    expect(samples.filter((x) => x.name === 'ktcloud_lb_server_state')).toHaveLength(6);
  });

  it('--once exits 1 when an account failed, and says which', () => {
    const r = run(['--once', '--config', join(dir, 'mixed.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('account "cli-bad" zone DX-G: auth: authentication failed (HTTP 401) for DX-G');
    expect(r.stdout).toContain('ktcloud_account_up{account="cli-bad",zone="DX-G"} 0');
    expect(r.stdout + r.stderr).not.toContain('not-the-password');
  });

  it('reloads on SIGHUP, and exits within a bounded time on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, '--config', join(dir, 'good.yaml'), '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        lines.push(l);
        const m = /"address":"([^"]+)"/.exec(l);
        if (m && l.includes('"listening"')) resolve(m[1]!);
      });
      child.once('exit', (c) => reject(new Error(`exited early: ${c}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill('SIGHUP');
    await eventually(() => (lines.some((l) => l.includes('"trigger":"SIGHUP"') && l.includes('configuration reloaded')) ? true : undefined), 10_000, 'reload on SIGHUP');
    const started = Date.now();
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
