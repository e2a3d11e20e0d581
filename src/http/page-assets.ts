/**
 * The /accounts page's browser script as static files: the browser build of src/http/page/
 * (its own tsconfig) lands in dist/src/http/page/, and is served at
 * `static/<hash>/<file>.js`, the hash being over every file, so a URL names one content forever
 * (cached a year, `immutable`) and an upgrade changes every URL at once. The module imports
 * between the files (`./render.js`) stay relative, so they resolve under the same hash.
 *
 * Read once, on first use. Running from the TypeScript sources (vitest, tsx) finds the files in
 * dist/ too, so build first (`npm run build`); without them the page works as a snapshot.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

export interface PageAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

export interface PageAssets {
  /** Content hash of every file (hex). */
  readonly hash: string;
  /** The page's entry script, relative to /accounts (so it also works behind a path prefix). */
  readonly scriptPath: string;
  /** A file by hash and name; undefined for another hash or an unknown name. */
  get(hash: string, file: string): PageAsset | undefined;
}

export const PAGE_ENTRY = 'accounts.js';
/** The URL names its content: caches keep it as long as they like. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.js.map': 'application/json; charset=utf-8' };

/** dist/src/http/page/ next to this module when it runs from dist/, else the repository's dist/ (running from src/). */
function assetDir(): string | null {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const dir of [join(here, 'page'), join(here, '../../dist/src/http/page')]) {
    if (existsSync(join(dir, PAGE_ENTRY))) return dir;
  }
  return null;
}

export function loadPageAssets(dir: string): PageAssets {
  const files = new Map<string, PageAsset>();
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const ext = Object.keys(TYPES).find((e) => name.endsWith(e));
    if (!ext) continue;
    const body = readFileSync(join(dir, name));
    hash.update(name).update('\0').update(body).update('\0');
    files.set(name, { body, contentType: TYPES[ext]! });
  }
  const h = hash.digest('hex').slice(0, 16);
  return {
    hash: h,
    scriptPath: `static/${h}/${PAGE_ENTRY}`,
    get: (askedHash, file) => (askedHash === h ? files.get(file) : undefined),
  };
}

let cached: PageAssets | null | undefined;

/** The built page assets, or null when they are not built. */
export function pageAssets(): PageAssets | null {
  if (cached === undefined) {
    const dir = assetDir();
    cached = dir ? loadPageAssets(dir) : null;
  }
  return cached;
}

/** GET /static/<hash>/<file>: the page's scripts. */
export function registerPageAssets(app: FastifyInstance): void {
  app.get<{ Params: { hash: string; file: string } }>('/static/:hash/:file', async (req, reply) => {
    const asset = pageAssets()?.get(req.params.hash, req.params.file);
    if (!asset) return reply.code(404).header('cache-control', 'no-store').send({ error: 'not found' });
    return reply
      .header('content-type', asset.contentType)
      .header('cache-control', IMMUTABLE)
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  });
}
