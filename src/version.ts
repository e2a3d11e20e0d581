import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (two levels up both from src/ and dist/src/). */
export const VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ktcloud-lb-exporter' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0-unknown';
})();

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly buildDate: string;
  readonly nodejsVersion: string;
}

/**
 * Revision and build date: env KTCLOUD_REVISION / KTCLOUD_BUILD_DATE win (a Docker build without
 * .git passes them as build args), then dist/build-info.json written by `npm run build`
 * (scripts/build-info.ts), then `git rev-parse` when running from a checkout, else "unknown".
 */
export const BUILD_INFO: BuildInfo = (() => {
  let file: { revision?: string; buildDate?: string } = {};
  for (const rel of ['../build-info.json', '../dist/build-info.json']) {
    try {
      file = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as typeof file;
      break;
    } catch {
      // not built, or running from sources
    }
  }
  const revision = process.env.KTCLOUD_REVISION || file.revision || gitRevision() || 'unknown';
  const buildDate = process.env.KTCLOUD_BUILD_DATE || file.buildDate || 'unknown';
  return Object.freeze({ version: VERSION, revision, buildDate, nodejsVersion: process.version });
})();

export function gitRevision(cwd = new URL('..', import.meta.url).pathname): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
    return /^[0-9a-f]{7,40}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

export function versionText(b: BuildInfo = BUILD_INFO): string {
  return `ktcloud-lb-exporter ${b.version} (revision: ${b.revision}, build date: ${b.buildDate}, node: ${b.nodejsVersion})\n`;
}
