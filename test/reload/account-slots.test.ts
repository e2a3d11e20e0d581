import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, only, scrape, startStack, type Running } from '../support/harness.js';
import type { AccountConfig as SimAccount } from '@ktcloud-lb-exporter/simulator';
import { writeProjectedVolume } from '../support/k8s-projected.js';

/**
 * Onboarding on Kubernetes without a restart: accountsDir is one projected volume whose
 * optional slot sources (ktcloud-account-NN) fill in as Secrets are created, the way the
 * kubelet writes it. The real app, watching the folder, must pick each change up by itself.
 */
const dir = mkdtempSync(join(tmpdir(), 'ktcloud-slots-'));
const accountsDir = join(dir, 'accounts');
let s: Running;

const PINNED = { 'ktcloud-test/CLOUD_ID': 'test@example.com', 'ktcloud-test/CLOUD_PASSWORD': 'test-Secret-pw', 'ktcloud-test/CLOUD_ZONE': 'DX-M1' };
const slot = (n: string, account: string, opts: { password?: boolean } = {}) => ({
  [`ktcloud-account-${n}/ACCOUNT_NAME`]: account,
  [`ktcloud-account-${n}/CLOUD_ID`]: `${account}@example.com`,
  ...(opts.password === false ? {} : { [`ktcloud-account-${n}/CLOUD_PASSWORD`]: `${account}-Secret-pw` }),
  [`ktcloud-account-${n}/CLOUD_ZONE`]: 'DX-G',
});

const up = async (account: string) => only(await scrape(s.url), 'ktcloud_account_up', { account })[0]?.value;
interface View {
  accounts: Array<{ name: string }>;
  notCollected: Array<{ name: string | null; folder: string; problems: string[] }>;
}
const view = async () => (await (await fetch(`${s.url}/accounts?format=json`)).json()) as View;
const listed = async () => (await view()).accounts.map((a) => a.name).sort();
const reloadOk = async () => only(await scrape(s.url), 'ktcloud_exporter_config_last_reload_successful')[0]?.value;

beforeAll(async () => {
  writeProjectedVolume(accountsDir, PINNED);
  s = await startStack({
    sim: {
      accounts: ['test', 'semascrd', 'half'].map((a): SimAccount => ({
        id: `${a}@example.com`,
        password: `${a}-Secret-pw`,
        zones: a === 'test' ? { 'DX-M1': { lbs: 1, serversPerLb: 1 } } : { 'DX-G': { lbs: 2, serversPerLb: 1 } },
      })),
    },
    accounts: [],
    yaml: `interval: 1s\ntimeout: 900ms\nspread: false\naccountsDir: ${accountsDir}\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 500 }`,
    configFile: join(dir, 'accounts.yaml'),
    reloadFromFile: true,
    app: { watch: true, watchPollMs: 300 },
  });
  await eventually(async () => ((await up('ktcloud-test')) === 1 ? true : undefined), 15_000, 'the pinned account up');
});
afterAll(async () => {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('account slots of a projected volume', () => {
  it('a slot Secret appearing is collected under its ACCOUNT_NAME, without restart and without disturbing the others', async () => {
    const before = s.app.store.get('ktcloud-test', 'DX-M1')!;
    writeProjectedVolume(accountsDir, { ...PINNED, ...slot('00', 'semascrd') });
    await eventually(async () => ((await up('semascrd')) === 1 ? true : undefined), 10_000, 'semascrd collected');
    expect(await listed()).toEqual(['ktcloud-test', 'semascrd']);
    expect(s.logs.text).toMatch(/"added":\["semascrd"\]/);
    // The same app, and the pinned account's state object: nothing restarted.
    expect(s.app.store.get('ktcloud-test', 'DX-M1')).toBe(before);
    expect(only(await scrape(s.url), 'ktcloud_lb_info', { account: 'ktcloud-account-00' })).toEqual([]);
  });

  it('a slot Secret lacking CLOUD_PASSWORD fails alone: the reload applies, /accounts and a warning name the folder, and adding the key later collects it', async () => {
    writeProjectedVolume(accountsDir, { ...PINNED, ...slot('00', 'semascrd'), ...slot('01', 'half', { password: false }) });
    const folder = join(accountsDir, 'ktcloud-account-01');
    await eventually(() => (s.logs.text.includes(`account \\"half\\" (${folder}) is not collected: cannot read ${join(folder, 'CLOUD_PASSWORD')}: no such file`) ? true : undefined), 10_000, 'the warning');
    expect(await reloadOk()).toBe(1);
    expect(await listed()).toEqual(['ktcloud-test', 'semascrd']);
    expect((await view()).notCollected).toEqual([{ name: 'half', folder, problems: [`cannot read ${join(folder, 'CLOUD_PASSWORD')}: no such file`] }]);
    const sema = s.app.store.get('semascrd', 'DX-G')!.swaps;
    await eventually(() => (s.app.store.get('semascrd', 'DX-G')!.swaps > sema ? true : undefined), 10_000, 'semascrd still collected');

    writeProjectedVolume(accountsDir, { ...PINNED, ...slot('00', 'semascrd'), ...slot('01', 'half') });
    await eventually(async () => ((await up('half')) === 1 ? true : undefined), 10_000, 'half collected once its Secret has the key');
    expect(await listed()).toEqual(['half', 'ktcloud-test', 'semascrd']);
    expect((await view()).notCollected).toEqual([]);
  });

  it('deleting a slot Secret removes its account from /metrics and /accounts', async () => {
    writeProjectedVolume(accountsDir, { ...PINNED, ...slot('01', 'half') });
    await eventually(async () => (only(await scrape(s.url), 'ktcloud_lb_info', { account: 'semascrd' }).length === 0 ? true : undefined), 10_000, 'semascrd gone');
    expect(await listed()).toEqual(['half', 'ktcloud-test']);
    expect(await reloadOk()).toBe(1);
  });

  it('no password reached the log', () => {
    for (const a of ['test', 'semascrd', 'half']) expect(s.logs.text).not.toContain(`${a}-Secret-pw`);
  });
});
