/**
 * External programs some tests need (promtool, prometheus, chromium). Under CI=true a missing
 * program is a failure, never a silent skip; on a developer machine the test is skipped with
 * the reason.
 */
import { execFileSync } from 'node:child_process';

export function findTool(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The tool's path; throws under CI=true when missing, else returns undefined (skip). */
export function requireTool(name: string, why: string): string | undefined {
  const path = findTool(name);
  if (!path && process.env.CI === 'true') throw new Error(`${name} is required under CI=true (${why}); .ci/run installs it`);
  if (!path) console.warn(`skipping: ${name} not found (${why})`);
  return path;
}
