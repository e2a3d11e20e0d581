/**
 * A folder laid out the way the kubelet writes a projected volume (its AtomicWriter): every
 * file lives in a timestamped folder, `..data` links to the current one, and each top-level
 * entry (here: one folder per Secret source, `ktcloud-account-07/`) is a symlink into `..data`.
 * An update writes a complete new timestamped folder, swaps `..data` with one rename, adds the
 * links of new top-level entries and removes those that left the payload. So a Secret that
 * appears is a new link in the volume's root; one that goes is a link removed; a changed key
 * changes no path, only what it resolves to.
 */
import { mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let generation = 0;

/** Makes `dir` hold exactly `files` (paths like `ktcloud-account-00/CLOUD_ID` → content). */
export function writeProjectedVolume(dir: string, files: Record<string, string>, mode = 0o440): void {
  mkdirSync(dir, { recursive: true });
  const version = `..2026_12_02_00_00_00.${++generation}`;
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, version, path)), { recursive: true });
    writeFileSync(join(dir, version, path), content, { mode });
  }
  mkdirSync(join(dir, version), { recursive: true });
  let old: string | undefined;
  try {
    old = readlinkSync(join(dir, '..data'));
  } catch {
    old = undefined;
  }
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  const top = new Set(Object.keys(files).map((p) => p.split('/')[0]!));
  for (const entry of top) {
    try {
      symlinkSync(join('..data', entry), join(dir, entry));
    } catch {
      // the link exists already and keeps pointing into ..data
    }
  }
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith('..') && !top.has(entry)) rmSync(join(dir, entry), { force: true });
  }
  if (old) rmSync(join(dir, old), { recursive: true, force: true });
}
