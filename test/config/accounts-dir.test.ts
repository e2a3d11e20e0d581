/**
 * accountsDir as Kubernetes fills it with "slots": folders named ktcloud-account-NN whose
 * ACCOUNT_NAME file names the account, and Secrets that may lack a key (every projected source
 * is optional, so a missing key is a missing file, not a pod that fails to start).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** An accountsDir holding one folder per entry: folder → its files. */
function accountsDir(folders: Record<string, Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ktcloud-slots-'));
  dirs.push(dir);
  for (const [folder, files] of Object.entries(folders)) {
    mkdirSync(join(dir, folder));
    for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, folder, k), v, { mode: 0o600 });
  }
  return dir;
}
const load = (dir: string) => parseConfig(`accountsDir: ${dir}\n`, 'c.yaml', { env: {} });
const creds = (name: string, zone = 'DX-M1') => ({ CLOUD_ID: `${name}@example.com`, CLOUD_PASSWORD: `${name}-Secret-pw`, CLOUD_ZONE: zone });

describe('accountsDir: the account name', () => {
  it('comes from ACCOUNT_NAME when the folder has one, else from the folder', async () => {
    const dir = accountsDir({
      'ktcloud-account-00': { ACCOUNT_NAME: 'semascrd\n', ...creds('semascrd', 'DX-G-YS') },
      'ktcloud-test': creds('test'),
    });
    const c = await load(dir);
    expect(c.accounts.map((a) => [a.name, a.zones.join(','), a.id.reveal(), a.origin])).toEqual([
      ['semascrd', 'DX-G-YS', 'semascrd@example.com', join(dir, 'ktcloud-account-00')],
      ['ktcloud-test', 'DX-M1', 'test@example.com', join(dir, 'ktcloud-test')],
    ]);
    expect(c.warnings).toEqual([]);
    // Renaming the account in its Secret is a change like a rotation: the file is watched.
    expect(c.watchFiles).toContain(resolve(dir, 'ktcloud-account-00', 'ACCOUNT_NAME'));
  });

  it('a folder holding only ACCOUNT_NAME is an account folder with missing credentials, not ignored', async () => {
    const dir = accountsDir({ 'ktcloud-account-03': { ACCOUNT_NAME: 'half' } });
    const c = await parseConfig(`accountsDir: ${dir}\ndefaultZones: [DX-M1]\n`, 'c.yaml', { env: {} });
    const folder = join(dir, 'ktcloud-account-03');
    expect(c.accounts).toEqual([]);
    expect(c.warnings).toEqual([
      `account "half" (${folder}) is not collected: cannot read ${join(folder, 'CLOUD_ID')}: no such file`,
      `account "half" (${folder}) is not collected: cannot read ${join(folder, 'CLOUD_PASSWORD')}: no such file`,
    ]);
  });

  it('an ACCOUNT_NAME that is not a valid name leaves that folder out without showing the value', async () => {
    const dir = accountsDir({
      'ktcloud-account-01': { ACCOUNT_NAME: 'p@ss word!', ...creds('x') },
      'ktcloud-account-02': { ACCOUNT_NAME: 'ok', ...creds('ok') },
    });
    const c = await load(dir);
    expect(c.accounts.map((a) => a.name)).toEqual(['ok']);
    expect(c.warnings).toEqual([
      `account folder ${join(dir, 'ktcloud-account-01')} is not collected: ACCOUNT_NAME: the name may only contain letters, digits, "_", "." and "-" (not shown)`,
    ]);
    expect(c.warnings.join('\n')).not.toContain('p@ss');
  });

  it('two folders naming one account: neither is loaded, the warning names both folders, the others load', async () => {
    const dir = accountsDir({
      'ktcloud-account-00': { ACCOUNT_NAME: 'semascrd', ...creds('semascrd') },
      'ktcloud-account-05': { ACCOUNT_NAME: 'ktcloud-test', ...creds('other') },
      'ktcloud-account-09': { ACCOUNT_NAME: 'semascrd', ...creds('impostor') },
      'ktcloud-test': creds('test'),
      zeta: creds('zeta'),
    });
    const c = await load(dir);
    expect(c.accounts.map((a) => a.name)).toEqual(['zeta']);
    expect([...c.warnings].sort()).toEqual([
      `account "ktcloud-test" is not collected: folders ${join(dir, 'ktcloud-account-05')} and ${join(dir, 'ktcloud-test')} both name it (ACCOUNT_NAME or folder name); remove or rename all but one`,
      `account "semascrd" is not collected: folders ${join(dir, 'ktcloud-account-00')} and ${join(dir, 'ktcloud-account-09')} both name it (ACCOUNT_NAME or folder name); remove or rename all but one`,
    ]);
    expect(c.notCollected!.map((n) => [n.name, n.folder])).toEqual([
      ['semascrd', join(dir, 'ktcloud-account-00')],
      ['ktcloud-test', join(dir, 'ktcloud-account-05')],
      ['semascrd', join(dir, 'ktcloud-account-09')],
      ['ktcloud-test', join(dir, 'ktcloud-test')],
    ]);
    // Deleting one of the Secrets is noticed: every file of both folders stays watched.
    expect(c.watchFiles).toContain(resolve(dir, 'ktcloud-account-09', 'CLOUD_PASSWORD'));
  });

  it('an accounts[] entry still wins over a folder whose ACCOUNT_NAME has its name', async () => {
    const dir = accountsDir({ 'ktcloud-account-00': { ACCOUNT_NAME: 'semascrd', ...creds('semascrd') } });
    const text = `accountsDir: ${dir}\naccounts:\n  - { name: semascrd, zones: [DX-G], id: "explicit", password: "pw" }\n`;
    const c = await parseConfig(text, 'c.yaml', { env: {} });
    expect(c.accounts.map((a) => [a.name, a.zones.join(','), a.id.reveal()])).toEqual([['semascrd', 'DX-G', 'explicit']]);
  });
});

describe('accountsDir: a Secret missing a key fails that account alone', () => {
  it('no CLOUD_PASSWORD: the folder is left out with a warning naming it, the config loads, the others are collected', async () => {
    const { CLOUD_PASSWORD: _, ...noPassword } = creds('broken');
    const dir = accountsDir({
      'ktcloud-account-00': { ACCOUNT_NAME: 'broken', ...noPassword },
      'ktcloud-account-01': { ACCOUNT_NAME: 'fine', ...creds('fine') },
    });
    const c = await load(dir);
    const folder = join(dir, 'ktcloud-account-00');
    expect(c.accounts.map((a) => a.name)).toEqual(['fine']);
    expect(c.warnings).toEqual([`account "broken" (${folder}) is not collected: cannot read ${join(folder, 'CLOUD_PASSWORD')}: no such file`]);
    // What /accounts shows under notCollected.
    expect(c.notCollected).toEqual([{ name: 'broken', folder, problems: [`cannot read ${join(folder, 'CLOUD_PASSWORD')}: no such file`] }]);
    // Adding the key to the Secret later must trigger a reload by itself.
    expect(c.watchFiles).toContain(resolve(folder, 'CLOUD_PASSWORD'));
    expect(c.warnings.join('\n')).not.toContain('broken@example.com');
  });

  it('an unknown zone in CLOUD_ZONE fails that account alone', async () => {
    const dir = accountsDir({ a: creds('a', 'DX-M1,DX-Nowhere'), b: creds('b') });
    const c = await load(dir);
    expect(c.accounts.map((a) => a.name)).toEqual(['b']);
    expect(c.warnings).toEqual([
      `account "a" (${join(dir, 'a')}) is not collected: CLOUD_ZONE: unknown zone "DX-Nowhere" (known: DX-M1, DX-Central, DX-DCN-CJ, DX-G, DX-G-YS)`,
    ]);
  });

  it('a missing accountsDir is still a config error: that is the volume or the config, not one account', async () => {
    await expect(parseConfig('accountsDir: /nonexistent/ktcloud-accounts\n', 'c.yaml', { env: {} })).rejects.toThrow(
      'c.yaml:1: accountsDir: cannot read /nonexistent/ktcloud-accounts: ENOENT',
    );
  });
});
