import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli.js';
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

/** The exporter as its own process, once it says where it listens. */
async function startExporter(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = () => (child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise<number | null>((r) => child.once('exit', r)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /"address":"([^"]+)"/.exec(l);
      if (m && l.includes('"listening"')) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`exited early: ${c}`)));
  });
  return {
    child,
    url,
    exit,
    async stop() {
      const done = exit();
      child.kill('SIGTERM');
      await done;
    },
  };
}

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 30_000 });
}

describe('the ktcloud-lb-exporter command', () => {
  it('--help and --version', () => {
    expect(run(['--help']).stdout).toContain('--total-shards M');
    expect(run(['--version']).stdout).toMatch(/^ktcloud-lb-exporter \d+\.\d+\.\d+ \(revision: (?:[0-9a-f]{7,40}|unknown), build date: \S+, node: v\d+\.\d+\.\d+\)\n$/);
    expect(run(['--version'], { KTCLOUD_REVISION: 'abc1234def' }).stdout).toContain('revision: abc1234def');
  });

  it('a busy port is one line naming the address and the cause, exit 1, no stack', async () => {
    const first = await startExporter(['--config', join(dir, 'good.yaml'), '--listen', '127.0.0.1:0']);
    try {
      const port = new URL(first.url).port;
      const r = run(['--config', join(dir, 'good.yaml'), '--listen', `127.0.0.1:${port}`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`ktcloud-lb-exporter: cannot listen on 127.0.0.1:${port}: address already in use\n`);
    } finally {
      await first.stop();
    }
  });

  it('a bad or missing web config file is one line naming file and key, exit 1, before listening and under --check-config', () => {
    writeFileSync(join(dir, 'web-bad.yml'), 'tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_auth: RequireAnyClientCert\n');
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [['--web.config.file', join(dir, 'web-bad.yml')], {}, `web config ${join(dir, 'web-bad.yml')}: unknown key "tls_server_config.client_auth"`],
      [[], { KTCLOUD_WEB_CONFIG: join(dir, 'web-none.yml') }, `web config ${join(dir, 'web-none.yml')}: cannot read: no such file`],
    ];
    for (const [args, env, message] of cases) {
      const r = run(['--config', join(dir, 'good.yaml'), '--listen', '127.0.0.1:0', ...args], env);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`ktcloud-lb-exporter: ${message}\n`);
      expect(r.stdout).not.toContain('listening');
      const check = run(['--check-config', '--config', join(dir, 'good.yaml'), ...args], env);
      expect(check.status).toBe(1);
      expect(check.stderr).toBe(`ktcloud-lb-exporter: ${message}\n`);
    }
    writeFileSync(join(dir, 'web-empty.yml'), '');
    const ok = run(['--check-config', '--config', join(dir, 'good.yaml'), '--web.config.file', join(dir, 'web-empty.yml')]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`web config: ${join(dir, 'web-empty.yml')} is valid`);
  });

  it('SIGTERM lets an in-flight /metrics response finish whole, then exits 0', async () => {
    const big = await SimProcess.start({ accounts: [{ id: 'big@example.com', password: 'big-pw', zones: { 'DX-M1': { lbs: 200, serversPerLb: 20 } } }] });
    try {
      writeFileSync(join(dir, 'big.yaml'), exporterYaml(big, [{ name: 'big', zones: ['DX-M1'], id: 'big@example.com', password: 'big-pw' }], 'interval: 1m\ntimeout: 50s\nspread: false\nlimits: { requestsPerSecond: 1000, zoneRequestsPerSecond: 1000 }'));
      const ex = await startExporter(['--config', join(dir, 'big.yaml'), '--listen', '127.0.0.1:0']);
      const { port } = new URL(ex.url);
      await eventually(async () => ((await (await fetch(`${ex.url}/metrics`)).text()).includes('ktcloud_account_up{account="big",zone="DX-M1"} 1') ? true : undefined), 30_000, 'first collection');
      // A client that asks, then reads slowly: the response cannot be in the kernel's buffers yet.
      const sock = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      const ended = new Promise<void>((r) => sock.once('end', r));
      sock.on('data', (c: Buffer) => {
        chunks.push(c);
        sock.pause();
        setTimeout(() => sock.resume(), 20);
      });
      sock.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
      await eventually(() => (chunks.length > 0 ? true : undefined), 10_000, 'the response starts');
      const exited = ex.exit();
      ex.child.kill('SIGTERM');
      const killed = Date.now();
      await ended;
      const readFor = Date.now() - killed;
      expect(await exited).toBe(0);
      // The read outlasted the signal, and the exit did not wait for the keep-alive timeout.
      expect(readFor).toBeGreaterThan(500);
      expect(Date.now() - killed).toBeLessThan(readFor + 5000);
      const raw = Buffer.concat(chunks).toString('latin1');
      const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
      const body = raw.slice(head.length + 4);
      const length = Number(/content-length: (\d+)/i.exec(head)![1]);
      expect(length).toBeGreaterThan(500_000);
      expect(body.length).toBe(length);
      expect(body.trimEnd().split('\n').at(-1)).toMatch(/^process_|^ktcloud_|^nodejs_/);
      sock.destroy();
    } finally {
      await big.close();
    }
  }, 90_000);


  it('a bad config exits 1 before listening, naming file and line', () => {
    const r = run(['--config', join(dir, 'bad.yaml'), '--listen', '127.0.0.1:0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'bad.yaml')}:1: interval: not a duration`);
    expect(r.stdout).not.toContain('listening');
  });

  it('web flags and their environment variables', () => {
    const none = parseCli([], {});
    expect(none).toMatchObject({ webConfigFile: undefined, enableLifecycle: false, maxConnections: 64 });
    expect(parseCli(['--web.config.file', 'w.yml', '--web.enable-lifecycle', '--web.max-connections', '8'], {})).toMatchObject({ webConfigFile: 'w.yml', enableLifecycle: true, maxConnections: 8 });
    expect(parseCli([], { KTCLOUD_WEB_CONFIG: 'e.yml', KTCLOUD_WEB_ENABLE_LIFECYCLE: 'true', KTCLOUD_WEB_MAX_CONNECTIONS: '9' })).toMatchObject({ webConfigFile: 'e.yml', enableLifecycle: true, maxConnections: 9 });
    expect(() => parseCli([], { KTCLOUD_WEB_ENABLE_LIFECYCLE: 'yes please' })).toThrow('KTCLOUD_WEB_ENABLE_LIFECYCLE');
    expect(() => parseCli(['--web.max-connections', '0'], {})).toThrow('--web.max-connections must be at least 1');
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
