/**
 * Credential files (Kubernetes Secret mounts): read without ever blocking and without trusting
 * their size. A FIFO would block a plain read forever and a 1 GB file would be read whole, so a
 * file is opened non-blocking, checked with fstat to be a regular file of at most
 * MAX_CREDENTIAL_BYTES, and read through the same descriptor.
 */
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Node, Pair } from 'yaml';
import { Secret } from './secret.js';
import type { Walker } from './yaml-walk.js';

/** Far above any KT Cloud id, password or zone list; anything larger is a mistake. */
export const MAX_CREDENTIAL_BYTES = 4096;

export type FileRead = { readonly text: string; readonly mode: number } | { readonly error: string };

/** The trimmed text of a small regular file, or why it cannot be used (never its content). */
export async function readSmallFile(path: string): Promise<FileRead> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const dangling = (err as NodeJS.ErrnoException).code === 'ENOENT' && (await lstat(path).then((s) => s.isSymbolicLink(), () => false));
    return { error: `cannot read ${path}: ${dangling ? 'a link to a missing file' : errnoText(err)}` };
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) return { error: `${path} is a directory, not a file` };
    if (!st.isFile()) return { error: `${path} is not a regular file` };
    if (st.size > MAX_CREDENTIAL_BYTES) return { error: `${path} is larger than ${MAX_CREDENTIAL_BYTES} bytes` };
    // One byte more than allowed tells a file that grew since fstat from one that fits.
    const buf = Buffer.alloc(MAX_CREDENTIAL_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > MAX_CREDENTIAL_BYTES) return { error: `${path} is larger than ${MAX_CREDENTIAL_BYTES} bytes` };
    const text = buf.subarray(0, bytesRead).toString('utf8').trim();
    if (text === '') return { error: `${path} is empty` };
    return { text, mode: st.mode };
  } catch (err) {
    return { error: `cannot read ${path}: ${errnoText(err)}` };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** A credential file as a Secret; failures go to `fail`, a world-readable mode to `warnings`. */
export async function readCredentialFile(path: string, fail: (msg: string) => void, warnings: string[], context: string): Promise<Secret | undefined> {
  const r = await readSmallFile(path);
  if ('error' in r) {
    fail(r.error);
    return undefined;
  }
  if ((r.mode & 0o004) !== 0) {
    warnings.push(`${context}: credential file ${path} is readable by every user (mode ${(r.mode & 0o777).toString(8)}); restrict it, e.g. chmod 600 or defaultMode: 0400 on the Secret volume`);
  }
  return new Secret(r.text);
}

/** One credential of an `accounts[]` entry from exactly one of `<key>`, `<key>File` or `<key>Env`. */
export async function credential(
  w: Walker,
  f: Map<string, Pair<Node, Node | null>>,
  node: Node,
  context: string,
  key: 'id' | 'password',
  ctx: { env: NodeJS.ProcessEnv; files: string[]; warnings: string[] },
): Promise<Secret | undefined> {
  const given = [key, `${key}File`, `${key}Env`].filter((k) => f.has(k));
  if (given.length !== 1) {
    w.problem(node, context, given.length === 0 ? `${key}: required (one of ${key}, ${key}File, ${key}Env)` : `${key}: give only one of ${given.join(', ')}`);
    return undefined;
  }
  const k = given[0]!;
  const valueNode = f.get(k)!.value;
  const text = w.secretString(valueNode, context, k);
  if (text === undefined) return undefined;
  if (k === key) return bounded(text, (msg) => w.problem(valueNode, context, `${k}: ${msg}`));
  if (k.endsWith('Env')) {
    const v = ctx.env[text];
    if (v && !withinLimit(v)) {
      w.problem(valueNode, context, `${k}: the variable's value is longer than ${MAX_CREDENTIAL_BYTES} bytes`);
      return undefined;
    }
    if (!v) {
      // A password pasted where a variable name belongs must not be echoed: show only names.
      const shown = /^[A-Z_][A-Z0-9_]{0,127}$/.test(text) ? text : '(not shown: not an environment variable name)';
      w.problem(valueNode, context, `${k}: environment variable ${shown} is not set`);
      return undefined;
    }
    return new Secret(v.trim());
  }
  const value = await readCredentialFile(text, (msg) => w.problem(valueNode, context, `${k}: ${msg}`), ctx.warnings, context);
  if (value !== undefined) ctx.files.push(resolve(text));
  return value;
}

/** The same bound as files, for literal and environment credentials. */
export function withinLimit(value: string): boolean {
  return Buffer.byteLength(value) <= MAX_CREDENTIAL_BYTES;
}

function bounded(text: string, fail: (msg: string) => void): Secret | undefined {
  if (withinLimit(text)) return new Secret(text);
  fail(`longer than ${MAX_CREDENTIAL_BYTES} bytes`);
  return undefined;
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return code ?? 'error';
}
