/**
 * A folder laid out the way the kubelet mounts a Secret: the keys are symlinks into `..data`,
 * itself a symlink to a timestamped folder. An update writes a new timestamped folder and
 * swaps `..data` with one rename, so the key paths never change, only what they resolve to.
 */
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let generation = 0;

export function writeSecretMount(dir: string, data: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const version = `..2026_11_28_00_00_00.${++generation}`;
  mkdirSync(join(dir, version));
  for (const [k, v] of Object.entries(data)) writeFileSync(join(dir, version, k), v, { mode: 0o600 });
  let old: string | undefined;
  try {
    old = readlinkSync(join(dir, '..data'));
  } catch {
    old = undefined;
  }
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const k of Object.keys(data)) {
    try {
      symlinkSync(join('..data', k), join(dir, k));
    } catch {
      // the key link exists already and keeps pointing into ..data
    }
  }
  if (old) rmSync(join(dir, old), { recursive: true, force: true });
}
