/**
 * `accountsDir`: one account per subfolder, as Kubernetes mounts one Secret per folder.
 *
 * A folder holding any CLOUD_* entry or an ACCOUNT_NAME file is an account folder. The account
 * is named by ACCOUNT_NAME when present (Kubernetes "slots": a Secret projected into a folder
 * whose name says nothing, ktcloud-account-07/, carries the account's name as a key), else
 * after the folder.
 *
 * A folder that cannot be used (a key missing from its Secret, a dangling link, a directory, a
 * file too large, a bad name, a name two folders claim) fails alone: it is left out with a
 * warning naming the folder and the problem, and every other account loads. A config error
 * would stop every pod from starting and every reload from applying (new accounts, rotations)
 * until someone fixed one Secret: one bad Secret must not take the others hostage. It is never
 * silent: the warning is logged at start and at every reload and shown by --check-config, the
 * folder is listed under `notCollected` on /accounts, and its files stay watched so that fixing
 * the Secret reloads by itself.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Node } from 'yaml';
import { ACCOUNT_NAME, AUTO_ZONES, isAutoZones, makeAccount } from './account.js';
import { readCredentialFile, readSmallFile } from './credentials.js';
import type { AccountConfig, Limits, NotCollectedAccount, ZoneConfig } from './types.js';
import { isShowable, splitList, type Walker } from './yaml-walk.js';

/** The file of a folder that names its account (optional; else the folder's name is used). */
export const ACCOUNT_NAME_FILE = 'ACCOUNT_NAME';
const KEY_FILES = ['CLOUD_ID', 'CLOUD_PASSWORD', 'CLOUD_ZONE', ACCOUNT_NAME_FILE] as const;

interface DirContext {
  zones: Readonly<Record<string, ZoneConfig>>;
  limits: Limits;
  defaultZones?: readonly string[];
  warnings: string[];
}

export interface AccountsDirScan {
  readonly accounts: AccountConfig[];
  /** The key files of folders left out, so that fixing their Secret triggers a reload. */
  readonly watchFiles: string[];
  /** The folders left out, for /accounts (the same problems are warnings too). */
  readonly notCollected: NotCollectedAccount[];
}

export async function scanAccountsDir(w: Walker, node: Node, dir: string, ctx: DirContext): Promise<AccountsDirScan> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    // The folder itself missing is a mistake in the config (or the volume), not one account's.
    w.problem(node, '', `accountsDir: cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return { accounts: [], watchFiles: [], notCollected: [] };
  }
  const found: { folder: string; account: AccountConfig }[] = [];
  const watchFiles: string[] = [];
  const notCollected: NotCollectedAccount[] = [];
  for (const name of names) {
    const folder = join(dir, name);
    const r = await scanFolder(folder, name, ctx);
    if (r === undefined) continue;
    if ('account' in r) found.push({ folder, account: r.account });
    else {
      for (const p of r.problems) ctx.warnings.push(`${r.context} is not collected: ${p}`);
      notCollected.push({ name: r.name ?? null, folder, problems: r.problems });
      watchFiles.push(...KEY_FILES.map((k) => resolve(folder, k)));
    }
  }
  // Two folders naming one account: which credentials are meant cannot be guessed, and taking
  // the first in folder order would switch silently when slots are reused. Neither is loaded.
  const byName = new Map<string, string[]>();
  for (const f of found) byName.set(f.account.name, [...(byName.get(f.account.name) ?? []), f.folder]);
  const accounts: AccountConfig[] = [];
  for (const f of found) {
    const folders = byName.get(f.account.name)!;
    if (folders.length === 1) {
      accounts.push(f.account);
      continue;
    }
    const problem = `folders ${folders.join(' and ')} both name it (ACCOUNT_NAME or folder name); remove or rename all but one`;
    if (folders[0] === f.folder) ctx.warnings.push(`account "${f.account.name}" is not collected: ${problem}`);
    notCollected.push({ name: f.account.name, folder: f.folder, problems: [problem] });
    watchFiles.push(...f.account.credentialFiles);
  }
  return { accounts, watchFiles, notCollected };
}

/** undefined: not an account folder. */
async function scanFolder(
  folder: string,
  name: string,
  ctx: DirContext,
): Promise<{ account: AccountConfig } | { name?: string; context: string; problems: string[] } | undefined> {
  let entries: string[];
  try {
    if (!(await stat(folder)).isDirectory()) return undefined;
    entries = await readdir(folder);
  } catch {
    return undefined; // vanished or unreadable folder with no way to tell it is an account
  }
  if (!entries.some((e) => e.startsWith('CLOUD_') || e === ACCOUNT_NAME_FILE)) return undefined; // not an account folder
  const problems: string[] = [];
  const problem = (msg: string) => problems.push(msg);

  let accountName: string | undefined = name;
  const nameFile = join(folder, ACCOUNT_NAME_FILE);
  if (entries.includes(ACCOUNT_NAME_FILE)) {
    const r = await readSmallFile(nameFile);
    if ('error' in r) {
      problem(`${ACCOUNT_NAME_FILE}: ${r.error}`);
      accountName = undefined;
    } else if (!ACCOUNT_NAME.test(r.text)) {
      // Not shown: a value pasted into the wrong key may be a password.
      problem(`${ACCOUNT_NAME_FILE}: the name may only contain letters, digits, "_", "." and "-" (not shown)`);
      accountName = undefined;
    } else accountName = r.text;
  } else if (!ACCOUNT_NAME.test(name)) {
    problem('folder name may only contain letters, digits, "_", "." and "-" (or give the account\'s name in an ACCOUNT_NAME file)');
    accountName = undefined;
  }
  const context = accountName ? `account "${accountName}" (${folder})` : `account folder ${folder}`;

  const idFile = join(folder, 'CLOUD_ID');
  const passwordFile = join(folder, 'CLOUD_PASSWORD');
  const id = await readCredentialFile(idFile, problem, ctx.warnings, context);
  const password = await readCredentialFile(passwordFile, problem, ctx.warnings, context);
  const files = [idFile, passwordFile];
  let zones = ctx.defaultZones;
  let fromFile = false;
  const zoneFile = join(folder, 'CLOUD_ZONE');
  if (entries.includes('CLOUD_ZONE')) {
    const r = await readSmallFile(zoneFile);
    if ('error' in r) problem(`CLOUD_ZONE: ${r.error}`);
    else [zones, fromFile] = [splitList(r.text), true];
    files.push(zoneFile);
  } else if (!zones || zones.length === 0) problem('no CLOUD_ZONE file and no defaultZones in the config');
  const autoZones = !!zones && isAutoZones(zones);
  if (fromFile && zones && !autoZones) {
    if (zones.includes(AUTO_ZONES)) problem(`CLOUD_ZONE: "${AUTO_ZONES}" stands alone: it discovers the zones, so list no other zone with it`);
    const unknown = zones.find((z) => z !== AUTO_ZONES && !ctx.zones[z]);
    if (unknown) problem(`CLOUD_ZONE: unknown zone ${isShowable(unknown) ? `"${unknown}"` : '(not shown: not a zone name)'} (known: ${Object.keys(ctx.zones).join(', ')})`);
  }
  if (entries.includes(ACCOUNT_NAME_FILE)) files.push(nameFile);

  if (problems.length > 0 || !accountName || !id || !password || !zones || zones.length === 0) {
    return { name: accountName, context, problems: problems.length > 0 ? problems : ['no usable zones'] };
  }
  return {
    account: makeAccount({ name: accountName, zones: autoZones ? [] : zones, autoZones, id, password, limits: ctx.limits, credentialFiles: files.map((f) => resolve(f)), origin: folder }),
  };
}
