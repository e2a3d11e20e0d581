/**
 * HTTP basic auth against the web config's bcrypt hashes, as exporter-toolkit does it:
 * - bcrypt runs through bcryptjs's async API, which yields to the event loop between rounds, so
 *   a ~70 ms verification never stalls another scrape;
 * - successes are cached under a SHA-256 of user, password and hash (never the password itself),
 *   so a Prometheus scraping every 15 s pays bcrypt once, not per scrape; a changed hash in the
 *   file changes the key, so a revoked password stops working at the reload;
 * - the user name is compared in constant time against every user, and an unknown user still
 *   pays one bcrypt, so timing does not tell which part was wrong.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

const CACHE_SIZE = 100;

/** Shared by every BasicAuth (one per web config load): a reload does not make Prometheus pay bcrypt again. */
const cache = new Set<string>();

export class BasicAuth {
  private dummy: Promise<string> | undefined;
  private readonly users: Array<[Buffer, string]>;

  constructor(users: ReadonlyMap<string, string>) {
    this.users = [...users].map(([name, hash]) => [digest(name), hash]);
  }

  get enabled(): boolean {
    return this.users.length > 0;
  }

  /** True when the Authorization header names a user of the file with the right password. */
  async check(authorization: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(authorization ?? '');
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? '' : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const given = digest(user);
    let hash: string | undefined;
    for (const [name, h] of this.users) if (timingSafeEqual(name, given) && hash === undefined) hash = h;
    if (colon < 0 || hash === undefined) {
      await bcrypt.compare(password, await this.dummyHash());
      return false;
    }
    const key = createHash('sha256').update(user).update('\0').update(password).update('\0').update(hash).digest('base64');
    if (cache.has(key)) return true;
    if (!(await bcrypt.compare(password, hash))) return false;
    if (cache.size >= CACHE_SIZE) cache.delete(cache.values().next().value!);
    cache.add(key);
    return true;
  }

  /** A hash of the same cost as the first user's, to spend the same time on unknown users. */
  private dummyHash(): Promise<string> {
    const cost = Number(/^\$2[abxy]?\$(\d{2})\$/.exec(this.users[0]![1])?.[1] ?? 10);
    this.dummy ??= bcrypt.hash(randomBytes(16).toString('hex'), cost);
    return this.dummy;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
