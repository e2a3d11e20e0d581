/**
 * `accountsDir`: one account per subfolder, as Kubernetes mounts one Secret per folder.
 * A folder holding any CLOUD_* entry is an account folder; if its files cannot be used
 * (missing, dangling links, a directory, too large) that is a config error naming account
 * and file, never a silent removal of the account.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Node } from 'yaml';
import { ACCOUNT_NAME, AUTO_ZONES, isAutoZones, makeAccount } from './account.js';
import { readCredentialFile, readSmallFile } from './credentials.js';
import type { AccountConfig, Limits, ZoneConfig } from './types.js';
import { isShowable, splitList, type Walker } from './yaml-walk.js';

export async function scanAccountsDir(
  w: Walker,
  node: Node,
  dir: string,
  ctx: { zones: Readonly<Record<string, ZoneConfig>>; limits: Limits; defaultZones?: readonly string[]; warnings: string[] },
): Promise<AccountConfig[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    w.problem(node, '', `accountsDir: cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return [];
  }
  const out: AccountConfig[] = [];
  for (const name of names) {
    const account = await scanFolder(w, node, dir, name, ctx);
    if (account) out.push(account);
  }
  return out;
}

async function scanFolder(
  w: Walker,
  node: Node,
  dir: string,
  name: string,
  ctx: { zones: Readonly<Record<string, ZoneConfig>>; limits: Limits; defaultZones?: readonly string[]; warnings: string[] },
): Promise<AccountConfig | undefined> {
  const folder = join(dir, name);
  let entries: string[];
  try {
    if (!(await stat(folder)).isDirectory()) return undefined;
    entries = await readdir(folder);
  } catch {
    return undefined; // vanished or unreadable folder with no way to tell it is an account
  }
  if (!entries.some((e) => e.startsWith('CLOUD_'))) return undefined; // not an account folder
  const context = `account "${name}" (${folder})`;
  const problem = (msg: string) => w.problem(node, context, msg);
  if (!ACCOUNT_NAME.test(name)) {
    problem('folder name may only contain letters, digits, "_", "." and "-"');
    return undefined;
  }
  const idFile = join(folder, 'CLOUD_ID');
  const passwordFile = join(folder, 'CLOUD_PASSWORD');
  const id = await readCredentialFile(idFile, problem, ctx.warnings, context);
  const password = await readCredentialFile(passwordFile, problem, ctx.warnings, context);
  const files = [idFile, passwordFile];
  let zones = ctx.defaultZones;
  const zoneFile = join(folder, 'CLOUD_ZONE');
  if (entries.includes('CLOUD_ZONE')) {
    const r = await readSmallFile(zoneFile);
    if ('error' in r) {
      problem(`CLOUD_ZONE: ${r.error}`);
      return undefined;
    }
    zones = splitList(r.text);
    files.push(zoneFile);
  }
  if (!zones || zones.length === 0) {
    problem('no CLOUD_ZONE file and no defaultZones in the config');
    return undefined;
  }
  const autoZones = isAutoZones(zones);
  if (!autoZones && zones.includes(AUTO_ZONES)) {
    problem(`CLOUD_ZONE: "${AUTO_ZONES}" stands alone: it discovers the zones, so list no other zone with it`);
    return undefined;
  }
  const unknown = autoZones ? undefined : zones.find((z) => !ctx.zones[z]);
  if (unknown) {
    problem(`CLOUD_ZONE: unknown zone ${isShowable(unknown) ? `"${unknown}"` : '(not shown: not a zone name)'} (known: ${Object.keys(ctx.zones).join(', ')})`);
    return undefined;
  }
  if (!id || !password) return undefined;
  return makeAccount({ name, zones: autoZones ? [] : zones, autoZones, id, password, limits: ctx.limits, credentialFiles: files.map((f) => resolve(f)), origin: folder });
}
