import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, only, scrape, startStack, type Running } from '../support/harness.js';
import { writeSecretMount } from '../support/k8s-secret.js';

/**
 * Live reload through the real app: credentials come from a folder laid out like Kubernetes
 * Secret mounts (accountsDir), the config file and the mounts are watched, and every change is
 * built off to the side and swapped in.
 */
const dir = mkdtempSync(join(tmpdir(), 'ktcloud-reload-'));
const accountsDir = join(dir, 'accounts');
let s: Running;

const up = async (account: string) => only(await scrape(s.url), 'ktcloud_account_up', { account })[0]?.value;

beforeAll(async () => {
  writeSecretMount(join(accountsDir, 'alpha'), { CLOUD_ID: 'alpha@example.com', CLOUD_PASSWORD: 'alpha-pw-1', CLOUD_ZONE: 'DX-M1' });
  writeSecretMount(join(accountsDir, 'beta'), { CLOUD_ID: 'beta@example.com', CLOUD_PASSWORD: 'beta-pw', CLOUD_ZONE: 'DX-G' });
  s = await startStack({
    sim: {
      accounts: [
        { id: 'alpha@example.com', password: 'alpha-pw-1', zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 } } },
        { id: 'beta@example.com', password: 'beta-pw', zones: { 'DX-G': { lbs: 3, serversPerLb: 1 } } },
        { id: 'gamma@example.com', password: 'gamma-pw', zones: { 'DX-M1': { lbs: 1, serversPerLb: 1 } } },
      ],
    },
    accounts: [],
    yaml: `interval: 1s\ntimeout: 900ms\nspread: false\naccountsDir: ${accountsDir}\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 500 }`,
    configFile: join(dir, 'accounts.yaml'),
    reloadFromFile: true,
    app: { watch: true, watchPollMs: 300, enableLifecycle: true },
  });
  await eventually(async () => ((await up('alpha')) === 1 && (await up('beta')) === 1 ? true : undefined), 15_000, 'both accounts up');
});
afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('live reload', () => {
  it('a rotated password (Kubernetes symlink swap) is used from the next collection; other accounts keep data and schedule', async () => {
    const betaBefore = s.app.store.get('beta', 'DX-G')!;
    const betaSwaps = betaBefore.swaps;
    // The API password changes first: alpha starts failing with its old one.
    s.sim.setPassword('alpha@example.com', 'alpha-pw-2');
    await eventually(async () => ((await up('alpha')) === 0 ? true : undefined), 10_000, 'alpha failing with the old password');
    expect(s.app.store.get('alpha', 'DX-M1')!.lastError?.reason).toBe('auth');
    // Then the Secret is updated the way the kubelet does it.
    writeSecretMount(join(accountsDir, 'alpha'), { CLOUD_ID: 'alpha@example.com', CLOUD_PASSWORD: 'alpha-pw-2', CLOUD_ZONE: 'DX-M1' });
    await eventually(async () => ((await up('alpha')) === 1 ? true : undefined), 10_000, 'alpha up with the rotated password');
    expect(s.logs.text).toContain('"trigger":"file change"');
    expect(s.logs.text).toMatch(/"changed":\["alpha"\]/);
    // beta was never disturbed: same state object, its collections continued.
    expect(s.app.store.get('beta', 'DX-G')).toBe(betaBefore);
    expect(betaBefore.swaps).toBeGreaterThan(betaSwaps);
    expect(betaBefore.consecutiveFailures).toBe(0);
  });

  it('an added account folder starts collecting', async () => {
    writeSecretMount(join(accountsDir, 'gamma'), { CLOUD_ID: 'gamma@example.com', CLOUD_PASSWORD: 'gamma-pw', CLOUD_ZONE: 'DX-M1' });
    await eventually(async () => ((await up('gamma')) === 1 ? true : undefined), 10_000, 'gamma collected');
    const view = (await (await fetch(`${s.url}/accounts?format=json`)).json()) as { accounts: Array<{ name: string }> };
    expect(view.accounts.map((a) => a.name).sort()).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('a removed account disappears from /metrics and /accounts', async () => {
    rmSync(join(accountsDir, 'beta'), { recursive: true, force: true });
    await eventually(async () => (only(await scrape(s.url), 'ktcloud_lb_info', { account: 'beta' }).length === 0 ? true : undefined), 10_000, 'beta gone');
    const samples = await scrape(s.url);
    expect(samples.filter((x) => x.labels.account === 'beta')).toEqual([]);
    const view = (await (await fetch(`${s.url}/accounts?format=json`)).json()) as { accounts: Array<{ name: string }> };
    expect(view.accounts.map((a) => a.name).sort()).toEqual(['alpha', 'gamma']);
    expect(only(samples, 'ktcloud_exporter_owned_accounts')[0]!.value).toBe(2);
  });

  it('a broken config is rejected with file and line; the old one keeps serving', async () => {
    const good = readFileSync(s.configFile, 'utf8');
    const broken = good.replace('interval: 1s', 'interval: 1s\nintervall: 2s');
    const line = broken.split('\n').indexOf('intervall: 2s') + 1;
    writeFileSync(s.configFile, broken);
    await eventually(async () => (only(await scrape(s.url), 'ktcloud_exporter_config_last_reload_successful')[0]?.value === 0 ? true : undefined), 10_000, 'reload rejected');
    expect(s.logs.text).toContain(`${s.configFile}:${line}: unknown key \\"intervall\\" (did you mean \\"interval\\"?)`);
    const res = await fetch(`${s.url}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(`:${line}: unknown key "intervall"`);
    // Still collecting with the old configuration.
    const before = s.app.store.get('alpha', 'DX-M1')!.swaps;
    await eventually(() => (s.app.store.get('alpha', 'DX-M1')!.swaps > before ? true : undefined), 10_000, 'alpha still collected');
    writeFileSync(s.configFile, good);
    await eventually(async () => (only(await scrape(s.url), 'ktcloud_exporter_config_last_reload_successful')[0]?.value === 1 ? true : undefined), 10_000, 'good reload');
    const ts = only(await scrape(s.url), 'ktcloud_exporter_config_last_reload_success_timestamp_seconds')[0]!.value;
    expect(Date.now() / 1000 - ts).toBeLessThan(30);
  });
});
