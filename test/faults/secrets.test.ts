import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exporterYaml, eventually } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/**
 * A full collection with failures, at debug level, in a real process: then everything it wrote
 * (stdout, stderr, from the main thread and the workers) and everything it served is searched
 * for every password, every cloud id and any Keystone token. Simulator tokens all look like
 * Keystone fernet tokens (`gAAAAA…`), so any token is found without knowing its value.
 */
const BIN = new URL('../../bin/ktcloud-lb-exporter', import.meta.url).pathname;
const TOKEN = /gAAAAA[A-Za-z0-9_-]{8,}/;
const ACCOUNTS = [
  { name: 'fine', zones: ['DX-M1'], id: 'leak-fine@example.com', password: 'Pw-Fine-7f3a9' },
  { name: 'rotated', zones: ['DX-M1'], id: 'leak-rotated@example.com', password: 'Pw-Stale-b81c2' },
  { name: 'expiring', zones: ['DX-G'], id: 'leak-expiring@example.com', password: 'Pw-Expiring-c4d1' },
  { name: 'broken-api', zones: ['DX-G'], id: 'leak-broken@example.com', password: 'Pw-Broken-99e0' },
  // Gateways that echo credentials and tokens: in a 200 errortext, a 500 body, a 403 from auth, a bare non-JSON body.
  { name: 'echo-body', zones: ['DX-M1'], id: 'leak-echo-body@example.com', password: 'Pw-Echo-Body-3e1' },
  { name: 'echo-status', zones: ['DX-M1'], id: 'leak-echo-status@example.com', password: 'Pw-Echo-Status-5b2' },
  { name: 'echo-auth', zones: ['DX-G'], id: 'leak-echo-auth@example.com', password: 'Pw-Echo-Auth-8c3' },
  { name: 'echo-raw', zones: ['DX-G'], id: 'leak-echo-raw@example.com', password: 'PwRaw-77c' },
];
const FILE_PASSWORD = 'Pw-From-File-41aa';
const SECRETS = [...ACCOUNTS.flatMap((a) => [a.id, a.password]), FILE_PASSWORD, 'leak-file@example.com', 'Pw-Real-Rotated-0000'];

let sim: SimProcess;
let dir: string;
let config: string;
const written: string[] = [];
const served: string[] = [];

beforeAll(async () => {
  sim = await SimProcess.start({
    accounts: [
      { id: 'leak-fine@example.com', password: 'Pw-Fine-7f3a9', zones: { 'DX-M1': { lbs: 3, serversPerLb: 2 } } },
      { id: 'leak-rotated@example.com', password: 'Pw-Real-Rotated-0000', zones: { 'DX-M1': { lbs: 1 } } },
      { id: 'leak-expiring@example.com', password: 'Pw-Expiring-c4d1', zones: { 'DX-G': { lbs: 4, serversPerLb: 1 } }, faults: { expireTokenAfterRequests: 2 } },
      { id: 'leak-broken@example.com', password: 'Pw-Broken-99e0', zones: { 'DX-G': { lbs: 2, serversPerLb: 1 } }, faults: { serverError: { status: 500, every: 2 }, malformedJson: { every: 3 } } },
      { id: 'leak-file@example.com', password: FILE_PASSWORD, zones: { 'DX-M1': { lbs: 1, serversPerLb: 1 } } },
      { id: 'leak-echo-body@example.com', password: 'Pw-Echo-Body-3e1', zones: { 'DX-M1': { lbs: 1 } }, faults: { echoSecrets: { commands: ['listLoadBalancers'] } } },
      { id: 'leak-echo-status@example.com', password: 'Pw-Echo-Status-5b2', zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 } }, faults: { echoSecrets: { status: 500, commands: ['listLoadBalancerWebServers'] } } },
      { id: 'leak-echo-auth@example.com', password: 'Pw-Echo-Auth-8c3', zones: { 'DX-G': { lbs: 1 } }, faults: { echoSecrets: { status: 403, commands: ['auth'] } } },
      { id: 'leak-echo-raw@example.com', password: 'PwRaw-77c', zones: { 'DX-G': { lbs: 1 } }, faults: { echoSecrets: { commands: ['listLoadBalancers'] }, malformedJson: { commands: ['listLoadBalancers'] } } },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'ktcloud-leak-'));
  const pwFile = join(dir, 'CLOUD_PASSWORD');
  writeFileSync(pwFile, `${FILE_PASSWORD}\n`);
  chmodSync(pwFile, 0o644); // readable by others: must warn, without printing it
  config = join(dir, 'accounts.yaml');
  writeFileSync(
    config,
    `${exporterYaml(sim, ACCOUNTS, 'interval: 1s\ntimeout: 900ms\nspread: false\napi: { retries: 1, retryBase: 10ms }\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 500 }')}  - { name: from-file, zones: [DX-M1], id: leak-file@example.com, passwordFile: ${pwFile} }\n`,
  );

  const child = spawn(process.execPath, [BIN, '--config', config, '--listen', '127.0.0.1:0', '--log-level', 'debug', '--web.enable-lifecycle'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      out.push(l);
      const m = /"address":"([^"]+)"/.exec(l);
      if (m && l.includes('"listening"')) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`exporter exited ${c}: ${out.join('\n')}`)));
  });
  try {
    // Several cycles, so tokens are issued, reused, expired and renewed: a 401 mid-cycle, then a
    // login after it whose token is used again.
    const count = async (command: string, code: number) => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const m = new RegExp(`ktcloud_api_requests_total\\{account="expiring",zone="DX-G",command="${command}",code="${code}"\\} (\\d+)`).exec(metrics);
      return Number(m?.[1] ?? 0);
    };
    await eventually(async () => ((await count('listLoadBalancerWebServers', 401)) > 0 ? true : undefined), 15_000, 'a 401 mid-cycle');
    const [logins, lists] = [await count('auth', 201), await count('listLoadBalancers', 200)];
    await eventually(async () => ((await count('auth', 201)) > logins && (await count('listLoadBalancers', 200)) > lists ? true : undefined), 15_000, 'a renewed token in use');
    for (const path of ['/metrics', '/accounts', '/accounts?format=json', '/', '/readyz', '/healthz']) served.push(await (await fetch(`${url}${path}`)).text());
    const reload = await fetch(`${url}/-/reload`, { method: 'POST' });
    served.push(await reload.text());
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  written.push(out.join('\n'));
  for (const args of [['--check-config'], ['--once']]) {
    const r = spawnSync(process.execPath, [BIN, '--config', config, '--log-level', 'debug', ...args], { encoding: 'utf8', timeout: 30_000 });
    written.push(r.stdout, r.stderr);
  }
}, 60_000);
afterAll(() => sim.close());

describe('secrets never leak', () => {
  it('the run really exercised failures at debug level', () => {
    const all = written.join('\n');
    expect(all).toContain('"level":"debug"');
    expect(all).toContain('authentication failed (HTTP 401) for DX-M1');
    expect(all).toMatch(/"code":"401"/);
    expect(all).toMatch(/"code":"500"/);
    expect(all).toContain('is readable by every user');
    // The echoing gateways were met, and what they said was kept with the secrets taken out.
    expect(all).toContain('returned API error 530: request rejected by gateway user=[REDACTED] password=[REDACTED] X-Auth-Token: [REDACTED]');
    expect(all).toContain('failed with a server error (HTTP 500) in DX-M1: request rejected by gateway');
    expect(all).toContain('authentication failed (HTTP 403) for DX-G: request rejected by gateway user=[REDACTED]');
    expect(all).toMatch(/listLoadBalancers answered with malformed JSON \(unexpected character, body of 9 characters; content-type application\/json;charset=UTF-8\) in DX-G/);
    expect(served.join('\n')).toContain('[REDACTED]');
  });

  it('no password, cloud id or token in anything written or served', () => {
    const everything = [...written, ...served];
    for (const secret of SECRETS) {
      for (const text of everything) expect(text.includes(secret), `found ${secret}`).toBe(false);
    }
    for (const text of everything) expect(text).not.toMatch(TOKEN);
  });
});
