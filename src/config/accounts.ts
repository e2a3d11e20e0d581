/** The `accounts:` list of the config file. */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { ACCOUNT_NAME, isAutoZones, makeAccount } from './account.js';
import { parseLbFilter } from './controls.js';
import { credential } from './credentials.js';
import { checkZones, parseLimits } from './options.js';
import { KEYS } from './schema.js';
import type { AccountConfig, Limits, ZoneConfig } from './types.js';
import type { Walker } from './yaml-walk.js';

export interface AccountContext {
  readonly env: NodeJS.ProcessEnv;
  readonly zones: Readonly<Record<string, ZoneConfig>>;
  readonly limits: Limits;
  readonly warnings: string[];
}

/** Every valid entry; duplicates and bad entries are reported on the walker. */
export async function parseAccounts(w: Walker, node: Node, ctx: AccountContext, seen: Map<string, string>): Promise<AccountConfig[]> {
  if (!isSeq(node)) {
    w.problem(node, '', 'accounts: expected a list of accounts');
    return [];
  }
  const out: AccountConfig[] = [];
  for (const [i, item] of (node.items as Node[]).entries()) {
    const acc = await parseAccount(w, item, i, ctx);
    if (!acc) continue;
    const first = seen.get(acc.name);
    if (first) w.problem(item, `account "${acc.name}"`, `duplicate account name (first defined at ${first})`);
    else {
      seen.set(acc.name, acc.origin);
      out.push(acc);
    }
  }
  return out;
}

async function parseAccount(w: Walker, node: Node, index: number, ctx: AccountContext): Promise<AccountConfig | undefined> {
  const before = w.problems.length;
  const nameNode = isMap(node) ? (node.get('name', true) as Node | undefined) : undefined;
  const rawName = isScalar(nameNode) && ACCOUNT_NAME.test(String(nameNode.value)) ? String(nameNode.value) : undefined;
  const context = rawName ? `account "${rawName}"` : `accounts[${index}]`;
  const f = w.entries(node, context, KEYS.account);
  if (!f.has('name')) w.problem(node, context, 'name: required');
  const name = f.has('name') ? w.string(f.get('name')!.value, context, 'name') : undefined;
  if (name !== undefined && !ACCOUNT_NAME.test(name)) w.problem(f.get('name')!.value, context, 'name: may only contain letters, digits, "_", "." and "-" (not shown)');
  const zonesNode = f.get('zones')?.value;
  if (!zonesNode) w.problem(node, context, 'zones: required (e.g. zones: [DX-M1])');
  const names = zonesNode ? (w.stringList(zonesNode, context, 'zones') ?? []) : [];
  const autoZones = isAutoZones(names);
  const zones = zonesNode && !autoZones ? checkZones(w, zonesNode, context, names, ctx.zones) : [];
  if (zonesNode && !autoZones && zones.length === 0 && w.problems.length === before) w.problem(zonesNode, context, 'zones: at least one zone is required');
  const files: string[] = [];
  const id = await credential(w, f, node, context, 'id', { env: ctx.env, files, warnings: ctx.warnings });
  const password = await credential(w, f, node, context, 'password', { env: ctx.env, files, warnings: ctx.warnings });
  const limits = parseLimits(w, f.get('limits')?.value, `${context}: limits`, ctx.limits, true);
  const loadBalancers = f.has('loadBalancers') ? parseLbFilter(w, f.get('loadBalancers')!.value, context) : undefined;
  if (w.problems.length > before || !name || !id || !password) return undefined;
  return makeAccount({ name, zones, autoZones, id, password, limits, credentialFiles: files, origin: `${w.file}:${w.line(node)}`, loadBalancers });
}
