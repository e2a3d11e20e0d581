import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ordinalFromPodName, owns, ownersOf } from '../src/shard.js';
import { eventually, exporterYaml, only, parseExposition, type Sample } from './support/harness.js';
import { SimProcess } from './support/sim-process.js';

const BIN = new URL('../bin/ktcloud-lb-exporter', import.meta.url).pathname;
const names = (n: number) => Array.from({ length: n }, (_, i) => `team-${String(i).padStart(3, '0')}`);

describe('rendezvous hashing', () => {
  it('gives every account exactly R distinct owners', () => {
    for (const r of [1, 2, 3]) {
      for (const a of names(200)) {
        const owners = ownersOf(a, 5, r);
        expect(new Set(owners).size).toBe(r);
        expect(owners.every((o) => o >= 0 && o < 5)).toBe(true);
      }
    }
  });

  it('moves only about 1/(M+1) of the accounts when a shard is added, and only to the new shard', () => {
    const accounts = names(1000);
    for (const m of [1, 2, 3, 4, 7]) {
      let moved = 0;
      for (const a of accounts) {
        const before = ownersOf(a, m, 1)[0]!;
        const after = ownersOf(a, m + 1, 1)[0]!;
        if (before !== after) {
          moved++;
          expect(after).toBe(m); // a moved account goes to the new shard, never between old ones
        }
      }
      const share = moved / accounts.length;
      expect(share).toBeGreaterThan(1 / (m + 1) - 0.05);
      expect(share).toBeLessThan(1 / (m + 1) + 0.05);
    }
  });

  it('spreads accounts evenly', () => {
    const counts = [0, 0, 0, 0];
    for (const a of names(2000)) counts[ownersOf(a, 4, 1)[0]!]!++;
    for (const c of counts) expect(Math.abs(c - 500)).toBeLessThan(100);
  });

  it('reads the StatefulSet ordinal from a pod name', () => {
    expect(ordinalFromPodName('ktcloud-lb-exporter-2')).toBe(2);
    expect(ordinalFromPodName('ktcloud-lb-exporter-12')).toBe(12);
    expect(ordinalFromPodName('ktcloud-lb-exporter')).toBeUndefined();
    expect(owns({ index: 0, total: 1, replicationFactor: 1 }, 'anything')).toBe(true);
  });
});

describe('3 exporter processes sharing 30 accounts', () => {
  const ACCOUNTS = names(30).map((name, i) => ({ name, zones: [['DX-M1', 'DX-G', 'DX-Central'][i % 3]!], id: `${name}@example.com`, password: `pw-${name}` }));
  const children: ChildProcess[] = [];
  let sim: SimProcess;
  let config: string;

  beforeAll(async () => {
    sim = await SimProcess.start({ accounts: ACCOUNTS.map((a) => ({ id: a.id, password: a.password, zones: { [a.zones[0]!]: { lbs: 2, serversPerLb: 1 } } })) });
    config = join(mkdtempSync(join(tmpdir(), 'ktcloud-shard-')), 'a.yaml');
    writeFileSync(config, exporterYaml(sim, ACCOUNTS, 'interval: 1m\ntimeout: 20s\nspread: false\nworkers: 1\nlimits: { requestsPerSecond: 50, zoneRequestsPerSecond: 500 }'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await sim.close();
  });

  async function startShards(total: number, r: number, viaPodName = false): Promise<string[]> {
    return Promise.all(
      Array.from({ length: total }, async (_, shard) => {
        const args = [BIN, '--config', config, '--listen', '127.0.0.1:0', '--total-shards', String(total), '--replication-factor', String(r)];
        if (!viaPodName) args.push('--shard', String(shard));
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, POD_NAME: `ktcloud-lb-exporter-${shard}` } });
        children.push(child);
        const url = await new Promise<string>((resolve, reject) => {
          createInterface({ input: child.stdout! }).on('line', (l) => {
            const m = /"address":"([^"]+)"/.exec(l);
            if (m && l.includes('"listening"')) resolve(m[1]!);
          });
          child.once('exit', (c) => reject(new Error(`shard ${shard} exited ${c}`)));
        });
        try {
          await eventually(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 60_000, `shard ${shard} ready`);
        } catch (err) {
          throw new Error(`${(err as Error).message}: ${JSON.stringify(((await (await fetch(`${url}/accounts?format=json`)).json()) as { accounts: unknown[] }).accounts.slice(0, 2))}`);
        }
        return url;
      }),
    );
  }

  async function stopAll(): Promise<void> {
    await Promise.all(children.filter((c) => c.exitCode === null).map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
  }

  const scrapeAll = async (urls: string[]): Promise<Sample[][]> => Promise.all(urls.map(async (u) => parseExposition(await (await fetch(`${u}/metrics`)).text())));
  const owned = (m: Sample[]) => new Set(only(m, 'ktcloud_account_up').map((x) => x.labels.account!));

  it('R=1: every account is owned by exactly one shard, the union covers all, shards export their identity', async () => {
    const urls = await startShards(3, 1);
    // Ready means every account was tried; the served body follows within a rebuild.
    const metrics = await eventually(async () => {
      const m = await scrapeAll(urls);
      return m.every((x) => only(x, 'ktcloud_account_up').every((u) => u.value === 1)) ? m : undefined;
    }, 20_000, 'every account up on every shard');
    const sets = metrics.map(owned);
    for (const a of ACCOUNTS) expect(sets.filter((s) => s.has(a.name)).length, a.name).toBe(1);
    expect(sets.reduce((n, s) => n + s.size, 0)).toBe(30);
    metrics.forEach((m, shard) => {
      expect(only(m, 'ktcloud_exporter_shard_info')[0]!.labels).toEqual({ shard: String(shard), total_shards: '3' });
      expect(only(m, 'ktcloud_exporter_owned_accounts')[0]!.value).toBe(sets[shard]!.size);
      // The LB series follow ownership too, and what a shard owns matches the hash.
      for (const a of owned(m)) expect(ownersOf(a, 3, 1)).toEqual([shard]);
      expect(new Set(only(m, 'ktcloud_lb_info').map((x) => x.labels.account))).toEqual(sets[shard]);
    });
    // /accounts shows only owned accounts.
    const view = (await (await fetch(`${urls[0]}/accounts?format=json`)).json()) as { shard: { index: number; total: number }; accounts: Array<{ name: string }> };
    expect(view.shard).toEqual({ index: 0, total: 3 });
    expect(new Set(view.accounts.map((a) => a.name))).toEqual(sets[0]);
    await stopAll();
  }, 90_000);

  it('R=2 with the shard taken from the StatefulSet pod name: every account is owned by exactly 2 shards', async () => {
    const urls = await startShards(3, 2, true);
    const sets = (await scrapeAll(urls)).map(owned);
    for (const a of ACCOUNTS) expect(sets.filter((s) => s.has(a.name)).length, a.name).toBe(2);
    await stopAll();
  }, 90_000);

  it('going from 3 to 4 shards moves at most 40% of the accounts', () => {
    const moved = ACCOUNTS.filter((a) => ownersOf(a.name, 3, 1)[0] !== ownersOf(a.name, 4, 1)[0]).length;
    expect(moved / ACCOUNTS.length).toBeLessThanOrEqual(0.4);
  });
});
