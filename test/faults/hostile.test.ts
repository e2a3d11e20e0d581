import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LABEL_BYTES, TRUNCATION_MARKER } from '../../src/metrics/label-safety.js';
import { eventually, exporterYaml, only, parseExposition } from '../support/harness.js';
import { checkMetrics } from '../support/promtool.js';
import { SimProcess } from '../support/sim-process.js';
import { requireTool } from '../support/tools.js';

/**
 * Hostile answers against a real exporter process and a simulator in its own process: 1 MiB LB
 * names (output amplification), repeated LB ids and servers without an address (duplicate
 * series), a name nested 100k levels deep (stack overflow) and a 5 KB multi-line error text.
 */
const BIN = new URL('../../bin/ktcloud-lb-exporter', import.meta.url).pathname;
const MIB = 1024 * 1024;
const ACCOUNTS = [
  { name: 'huge-names', zones: ['DX-M1'], id: 'huge@example.com', password: 'pw-huge' },
  { name: 'duplicates', zones: ['DX-M1'], id: 'dup@example.com', password: 'pw-dup' },
  { name: 'deep', zones: ['DX-G'], id: 'deep@example.com', password: 'pw-deep' },
  { name: 'long-error', zones: ['DX-G'], id: 'long@example.com', password: 'pw-long' },
];

let sim: SimProcess;
let child: ChildProcess;
let url: string;
let peakRssMb = 0;
let body = '';

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!) / 1024;
}

beforeAll(async () => {
  sim = await SimProcess.start({
    accounts: [
      // 4 LBs x (info + server count + 10 servers x 5 families) = 208 series that each repeated the 1 MiB name.
      { id: 'huge@example.com', password: 'pw-huge', zones: { 'DX-M1': { lbs: 4, serversPerLb: 10 } }, faults: { hugeNames: { bytes: MIB } } },
      { id: 'dup@example.com', password: 'pw-dup', zones: { 'DX-M1': { lbs: 3, serversPerLb: 2 } }, faults: { duplicates: true } },
      { id: 'deep@example.com', password: 'pw-deep', zones: { 'DX-G': { lbs: 2, serversPerLb: 1 } }, faults: { deepNesting: true } },
      { id: 'long@example.com', password: 'pw-long', zones: { 'DX-G': { lbs: 1 } }, faults: { longErrorText: { status: 200, bytes: 5120 } } },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'ktcloud-hostile-'));
  writeFileSync(join(dir, 'a.yaml'), exporterYaml(sim, ACCOUNTS, 'interval: 2s\ntimeout: 2s\nspread: false\napi: { retries: 0 }'));
  child = spawn(process.execPath, [BIN, '--config', join(dir, 'a.yaml'), '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = /"address":"([^"]+)"/.exec(l);
      if (m && l.includes('"listening"')) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`exporter exited ${c}`)));
  });
  // Three cycles of every account, sampling memory meanwhile.
  await eventually(
    async () => {
      peakRssMb = Math.max(peakRssMb, rssMb(child.pid!));
      body = await (await fetch(`${url}/metrics`)).text();
      const swaps = only(parseExposition(body), 'ktcloud_lb_atomic_updates_total', { account: 'huge-names' })[0]?.value ?? 0;
      return swaps >= 3 ? true : undefined;
    },
    30_000,
    'three collections of the huge-names account',
  );
  peakRssMb = Math.max(peakRssMb, rssMb(child.pid!));
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await sim?.close();
});

describe('hostile answers', () => {
  it('1 MiB LB names: label values capped, counted, the body and the process memory stay bounded', () => {
    const samples = parseExposition(body);
    const names = only(samples, 'ktcloud_lb_info', { account: 'huge-names' }).map((s) => s.labels.lb_name!);
    expect(names).toHaveLength(4);
    for (const n of names) {
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_LABEL_BYTES);
      expect(n.endsWith(TRUNCATION_MARKER)).toBe(true);
    }
    // 4 names per collection, at least 3 collections.
    const truncated = only(samples, 'ktcloud_exporter_label_values_truncated_total', { account: 'huge-names' })[0]!.value;
    expect(truncated).toBeGreaterThanOrEqual(12);
    expect(truncated % 4).toBe(0);
    expect(only(samples, 'ktcloud_exporter_label_values_truncated_total', { account: 'duplicates' })[0]!.value).toBe(0);
    // Measured ~108 KB; uncapped, the body held 208 copies of a 1 MiB name (218 MB).
    expect(Buffer.byteLength(body)).toBeLessThan(512 * 1024);
    // Generous: measured ~165 MB capped; uncapped the same run peaked at ~930 MB with a 218 MB body.
    expect(peakRssMb).toBeLessThan(400);
  });

  it('duplicate LB ids and servers: no repeated series, promtool passes, and the counter says how many', () => {
    const samples = parseExposition(body);
    const keys = samples.map((s) => `${s.name}${JSON.stringify(s.labels)}`);
    expect(keys.length - new Set(keys).size).toBe(0);
    const promtool = requireTool('promtool', 'promtool check metrics of a body with duplicate-prone input');
    if (promtool) expect(checkMetrics(promtool, body).problems).toEqual([]);
    expect(only(samples, 'ktcloud_lb_total_count', { account: 'duplicates' })[0]!.value).toBe(3);
    for (const s of only(samples, 'ktcloud_lb_server_count', { account: 'duplicates' })) expect(s.value).toBe(2);
    const dropped = (kind: string) => only(samples, 'ktcloud_account_duplicates_dropped_total', { account: 'duplicates', kind })[0]!.value;
    // Per collection: 3 LBs sent twice, and in each LB one repeated server and one without ip/port.
    expect(dropped('lb')).toBeGreaterThanOrEqual(3);
    expect(dropped('lb') % 3).toBe(0);
    expect(dropped('server')).toBe(dropped('lb'));
    expect(dropped('server_without_address')).toBe(dropped('lb'));
    expect(only(samples, 'ktcloud_account_duplicates_dropped_total', { account: 'huge-names', kind: 'lb' })[0]!.value).toBe(0);
  });

  it('a name nested 100k levels deep is a bad_response, never network or internal', async () => {
    const samples = parseExposition(body);
    const errors = (reason: string) => only(samples, 'ktcloud_account_collection_errors_total', { account: 'deep', reason })[0]!.value;
    expect(only(samples, 'ktcloud_account_up', { account: 'deep' })[0]!.value).toBe(0);
    expect(errors('bad_response')).toBeGreaterThanOrEqual(1);
    expect(errors('network')).toBe(0);
    expect(errors('internal')).toBe(0);
    const view = (await (await fetch(`${url}/accounts?format=json`)).json()) as { accounts: Array<{ name: string; lastError: { message: string } | null }> };
    expect(view.accounts.find((a) => a.name === 'deep')!.lastError!.message).toBe('listLoadBalancers answered with JSON nested deeper than 64 levels in DX-G');
  });

  it('a 5 KB multi-line error text reaches /accounts as one bounded line', async () => {
    const view = (await (await fetch(`${url}/accounts?format=json`)).json()) as { accounts: Array<{ name: string; lastError: { reason: string; message: string } | null }> };
    const e = view.accounts.find((a) => a.name === 'long-error')!.lastError!;
    expect(e.reason).toBe('api_error');
    expect(e.message).toMatch(/^listLoadBalancers returned API error 530: backend trace line at frame/);
    expect(e.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(e.message.length).toBeLessThan(300);
    const html = await (await fetch(`${url}/accounts`)).text();
    expect(html).not.toContain('backend trace line\n');
    expect(html.length).toBeLessThan(200_000);
  });
});
