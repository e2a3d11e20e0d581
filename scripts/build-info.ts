/**
 * `npm run build` runs this afterwards: records the git revision and the build time in
 * dist/build-info.json, so ktcloud_exporter_build_info and --version say which code runs
 * without git at run time. Outside a checkout the revision is "unknown" (or KTCLOUD_REVISION).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gitRevision } from '../src/version.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const revision = process.env.KTCLOUD_REVISION || gitRevision(root) || 'unknown';
const buildDate = process.env.KTCLOUD_BUILD_DATE || new Date().toISOString().replace(/\.\d+Z$/, 'Z');
writeFileSync(`${root}dist/build-info.json`, `${JSON.stringify({ revision, buildDate })}\n`);
