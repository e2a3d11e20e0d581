/**
 * The body of `/metrics?account=NAME` (one scrape target per account, README "One scrape target
 * per account"): the named accounts' LB series and health rows, the exporter's identity, and the
 * process metrics, in text 0.0.4 or OpenMetrics, plain or as one gzip member.
 *
 * Built on request from the store: the LB lines are views of the account's snapshot buffers (no
 * copy), the health rows are rendered for the account's zones only (a few dozen lines). The
 * replica-wide families (shard_info, owned/configured accounts, reload state, pool counters) are
 * left out on purpose: every per-account target would carry a copy, labelled with its account,
 * so the shipped rules that count them (ShardDuplicated, ShardMissing) would count accounts
 * instead of replicas. They stay on the full /metrics.
 *
 * Gzip: the LB and health part is compressed on the libuv thread pool (async zlib; a 20-LB
 * account is tens of KB) and cached per account list and format until one of its snapshots or
 * its health text changes; the process part's own segment is appended as in the full body, so a
 * scrape within the same version costs no compression at all.
 */
import { promisify } from 'node:util';
import { crc32, deflateRaw, constants as zc } from 'node:zlib';
import type { Snapshot } from '../protocol.js';
import type { Store, ZoneState } from '../state/store.js';
import { DEFLATE_OPTS, headersOf } from './body.js';
import { HEALTH_FAMILIES } from './families.js';
import { crc32Combine, GZIP_HEADER, gzipTrailer, type Segment } from './gzip-frame.js';
import { toOpenMetrics, type Format } from './openmetrics.js';
import type { ProcessMetrics } from './process-metrics.js';

const deflateRawAsync = promisify(deflateRaw);

/**
 * Health families in a per-account body: every family with an `account` label (rows of the named
 * accounts only), and the replica's identity (info-style, value 1: a copy per target is harmless
 * and lets a per-account query join the build that serves it).
 */
export const PER_ACCOUNT_HEALTH_FAMILIES: ReadonlySet<string> = new Set([
  ...Object.values(HEALTH_FAMILIES)
    .filter((f) => (f.labels as readonly string[]).includes('account'))
    .map((f) => f.name),
  HEALTH_FAMILIES.buildInfo.name,
  HEALTH_FAMILIES.exporterInfo.name,
]);

/**
 * Cached compressed bodies at most (per account list and format), beyond two per owned account
 * (both formats); the least recently used is dropped first. Removed accounts' entries age out.
 */
const SPARE_CACHED = 64;

/** Health text (text 0.0.4) of the given zones; the app renders it as for the full body. */
export type RenderHealthOf = (zones: readonly ZoneState[], accounts: ReadonlySet<string>) => string;

/** One per-account scrape's body, as buffers to write back to back. */
export interface AccountBody {
  plain(): Uint8Array[];
  /** One gzip member; compresses (off the event loop) only when the body changed since the last gzip scrape. */
  gzip(): Promise<Uint8Array[]>;
}

interface Cached {
  readonly snapshots: readonly Snapshot[];
  readonly health: string;
  readonly segment: Promise<Segment>;
}

export class AccountBodies {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: Store,
    private readonly renderHealthOf: RenderHealthOf,
    private readonly process: ProcessMetrics,
  ) {}

  /** The body of `accounts` in `format`, or the first name this replica does not collect. */
  async parts(accounts: readonly string[], format: Format): Promise<AccountBody | { readonly unknown: string }> {
    const wanted = new Set(accounts);
    const zones: ZoneState[] = [];
    const known = new Set<string>();
    for (const z of this.store.all()) {
      if (!wanted.has(z.account)) continue;
      zones.push(z);
      known.add(z.account);
    }
    const unknown = accounts.find((a) => !known.has(a));
    if (unknown !== undefined) return { unknown };

    const snapshots = zones.flatMap((z) => (z.snapshot ? [z.snapshot] : []));
    const health = this.healthText(zones, wanted, format);
    const lb = lbParts(snapshots, format);
    const p = await this.process.part(format);
    const key = `${format}\0${accounts.join('\0')}`;
    return {
      plain: () => [...lb, Buffer.from(health), p.plain],
      gzip: () => gzipParts(this.cache, () => SPARE_CACHED + 2 * this.store.accounts().length, key, snapshots, health, lb, p),
    };
  }

  private healthText(zones: readonly ZoneState[], accounts: ReadonlySet<string>, format: Format): string {
    const text = selectFamilies(this.renderHealthOf(zones, accounts), PER_ACCOUNT_HEALTH_FAMILIES);
    return format === 'text' ? text : toOpenMetrics(text);
  }
}

/** Family headers and the snapshots' lines of each family, family by family (as the full body orders them). */
function lbParts(snapshots: readonly Snapshot[], format: Format): Uint8Array[] {
  const parts: Uint8Array[] = [];
  headersOf(format).plain.forEach((header, f) => {
    parts.push(header);
    for (const s of snapshots) if (s.offsets[f + 1]! > s.offsets[f]!) parts.push(s.text.subarray(s.offsets[f], s.offsets[f + 1]));
  });
  return parts;
}

async function gzipParts(
  cache: Map<string, Cached>,
  limit: () => number,
  key: string,
  snapshots: readonly Snapshot[],
  health: string,
  lb: readonly Uint8Array[],
  p: { readonly segment: Segment },
): Promise<Uint8Array[]> {
  let c = cache.get(key);
  if (!c || c.health !== health || !sameSnapshots(c.snapshots, snapshots)) {
    const data = Buffer.concat([...lb, Buffer.from(health)]);
    const segment = deflateRawAsync(data, { ...DEFLATE_OPTS, finishFlush: zc.Z_FULL_FLUSH }).then((deflated) => ({ deflated: ownBuffer(deflated), crc: crc32(data), size: data.length }));
    c = { snapshots, health, segment };
    // A failed compression must not stay cached.
    segment.catch(() => cache.get(key) === c && cache.delete(key));
    cache.delete(key);
    cache.set(key, c);
    const max = limit();
    while (cache.size > max) cache.delete(cache.keys().next().value!);
  } else {
    // Most recently used last; the first entry is the least recently used.
    cache.delete(key);
    cache.set(key, c);
  }
  const body = await c.segment;
  const crc = crc32Combine(body.crc, p.segment.crc, p.segment.size);
  return [GZIP_HEADER, body.deflated, p.segment.deflated, gzipTrailer(crc, body.size + p.segment.size)];
}

/**
 * `bytes` in a buffer of exactly its size. zlib returns a body that fits one output chunk as a
 * slice of that 64 KB chunk; cached per account (hundreds at Tier M), that pinned 64 KB per entry.
 */
function ownBuffer(bytes: Buffer): Buffer {
  if (bytes.buffer.byteLength === bytes.length) return bytes;
  const own = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(own);
  return own;
}

function sameSnapshots(a: readonly Snapshot[], b: readonly Snapshot[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The families of a text 0.0.4 body whose names are in `keep` (metadata and samples), in order. */
export function selectFamilies(text: string, keep: ReadonlySet<string>): string {
  let out = '';
  let keeping = false;
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    end = end < 0 ? text.length : end + 1;
    const m = /^# (?:HELP|TYPE) (\S+)/.exec(text.slice(at, Math.min(end, at + 200)));
    if (m) keeping = keep.has(m[1]!);
    if (keeping) out += text.slice(at, end);
    at = end;
  }
  return out;
}
