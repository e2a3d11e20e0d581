/**
 * A folder laid out the way the kubelet mounts a Secret: the keys are symlinks into `..data`,
 * itself a symlink to a timestamped folder. An update writes a new timestamped folder and
 * swaps `..data` with one rename, so the key paths never change, only what they resolve to.
 * A Secret volume is a projected volume with one source whose keys sit at the top level.
 */
import { writeProjectedVolume } from './k8s-projected.js';

export function writeSecretMount(dir: string, data: Record<string, string>): void {
  writeProjectedVolume(dir, data, 0o600);
}
