/**
 * The served /metrics body, built off to the side and published by replacing one reference.
 *
 * The big part (every account's snapshot plus health families) is rebuilt only when the store
 * changed, and not more often than every `minRebuildMs` (longer when rebuilds cost the event loop
 * more: it spends at most about 1/REBUILD_DUTY of its time on them).
 *
 * A rebuild costs in proportion to what changed, not to the size of the body:
 *  - gzip: a gzip stream may hold any number of members back to back (RFC 1952; Go's reader,
 *    which Prometheus uses, reads them all). Account-zones are taken GROUP at a time in store
 *    order; each group's lines of each family are one member, compressed when a snapshot of the
 *    group is replaced and reused otherwise. The served gzip body is the members in exposition
 *    order (family by family, account-zones in store order), joined into one buffer (on the
 *    first scrape of a version, not at every rebuild) so that a scrape is one write. Only the health families, which change with every collection, are
 *    compressed at each rebuild. (Smaller groups compress less work per change but worse: a
 *    member starts with an empty dictionary. With 4 and level 4 the body is about as small as
 *    one level-1 stream of the whole.)
 *  - plain: made only when asked for (Prometheus asks for gzip): a list of views of the
 *    snapshots' buffers, written as is (one writev); joined only when someone wants one buffer.
 * Compression is synchronous (a zlib call on the thread pool costs more than compressing a
 * snapshot) and cut into slices of at most SLICE_MS, so that scrapes are answered between them,
 * from the previous complete body.
 *
 * Process metrics (which change all the time) are a small second part, refreshed at most once a
 * second, sent after the first as a plain tail and as one more gzip member.
 */
import { constants as zc, crc32, deflateRawSync, type ZlibOptions } from 'node:zlib';
import type { Registry } from 'prom-client';
import type { Store } from '../state/store.js';
import { LB_FAMILIES, LB_FAMILY_ORDER } from './families.js';
import { familyHeader } from './text.js';

/** Compressed once per change of a group, so a level above the fastest pays off in bytes served. */
const DEFLATE_OPTS: ZlibOptions = { level: 4, memLevel: 8, windowBits: 15, strategy: zc.Z_DEFAULT_STRATEGY };
/** For what changes at every rebuild (health) or second (process metrics): the fastest level. */
const FAST_DEFLATE: ZlibOptions = { ...DEFLATE_OPTS, level: 1 };
/** Account-zones per gzip member. */
const GROUP = 4;
/** Longest the event loop is held by one slice of compression. */
const SLICE_MS = 1;
/** Health text is compressed in pieces of about this many characters (one member each). */
const HEALTH_PIECE = 64 * 1024;
/** A rebuild that held the event loop for t ms is followed by at least REBUILD_DUTY × t ms without one. */
const REBUILD_DUTY = 20;

export interface BodyParts {
  readonly plain: readonly Buffer[];
  readonly gzip: readonly Buffer[];
}

type Snapshot = { readonly text: Buffer; readonly offsets: readonly number[]; readonly series: number };

/** GROUP consecutive snapshots and their members, one per family (null: no lines there). */
interface Group {
  readonly snapshots: readonly Snapshot[];
  readonly members: ReadonlyArray<Member | null>;
}

/** A gzip member without its 10-byte header: raw deflate data, then CRC-32 and length. */
interface Member {
  readonly deflated: Buffer;
  readonly crc: number;
  readonly size: number;
}

/** RFC 1952 header: deflate, no flags, no time, no extra flags, OS unknown. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
const MEMBER_OVERHEAD = GZIP_HEADER.length + 8;

function compress(data: Uint8Array, options = DEFLATE_OPTS): Member {
  return { deflated: deflateRawSync(data, options), crc: crc32(data), size: data.length };
}

/** Members back to back as one gzip stream, in one buffer. */
function gzipStream(members: readonly Member[]): Buffer {
  let length = 0;
  for (const m of members) length += MEMBER_OVERHEAD + m.deflated.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const m of members) {
    at += GZIP_HEADER.copy(out, at);
    at += m.deflated.copy(out, at);
    at = out.writeUInt32LE(m.crc >>> 0, at);
    at = out.writeUInt32LE(m.size % 2 ** 32, at);
  }
  return out;
}

/**
 * A complete body. The plain form is made on first use (Prometheus asks for gzip): the LB lines
 * as views of the snapshots' buffers, family by family, then the health text.
 */
class Built {
  private joined: Buffer | undefined;
  private parts: Buffer[] | undefined;
  private gzipped: Buffer | undefined;
  constructor(
    readonly version: number,
    private readonly groups: readonly Group[],
    private readonly health: string,
    private readonly members: readonly Member[],
    readonly plainLength: number,
    readonly series: number,
  ) {}

  /** The members joined, on the first scrape of this version (not at every rebuild). */
  get gzip(): Buffer {
    this.gzipped ??= gzipStream(this.members);
    return this.gzipped;
  }

  get plainParts(): readonly Buffer[] {
    if (!this.parts) {
      const parts: Buffer[] = [];
      FAMILY_HEADERS.forEach((header, f) => {
        parts.push(header);
        for (const g of this.groups) for (const s of g.snapshots) if (s.offsets[f + 1]! > s.offsets[f]!) parts.push(s.text.subarray(s.offsets[f], s.offsets[f + 1]));
      });
      parts.push(Buffer.from(this.health));
      this.parts = parts;
    }
    return this.parts;
  }

  get plain(): Buffer {
    this.joined ??= Buffer.concat(this.plainParts as Buffer[], this.plainLength);
    return this.joined;
  }
}

const FAMILY_HEADERS = LB_FAMILY_ORDER.map((key) => Buffer.from(familyHeader(LB_FAMILIES[key])));
const FAMILY_HEADER_MEMBERS = FAMILY_HEADERS.map((h) => compress(h));

export class Exposition {
  private built: Built | undefined;
  private building: Promise<void> | undefined;
  private lastBuildAt = 0;
  /** Main-thread time the last rebuild took, ms. */
  private lastBuildCost = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The groups of the last build, in order. */
  private groups: Group[] = [];
  private processPart: { at: number; plain: Buffer; gzip: Buffer } | undefined;
  private processRefresh: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    /** Health and exporter families rendered from the store (small). */
    private readonly renderHealth: () => string,
    private readonly processRegistry: Registry,
    private readonly minRebuildMs = 200,
  ) {}

  /** Both parts of the body; waits only when nothing was ever built. */
  async parts(): Promise<BodyParts> {
    const built = this.built ?? (await this.flush());
    if (built.version !== this.store.version) this.invalidate();
    await this.refreshProcess();
    const p = this.processPart!;
    return {
      // Only plain scrapes (not Prometheus) need the list of plain buffers.
      get plain() {
        return [...built.plainParts, p.plain];
      },
      gzip: [built.gzip, p.gzip],
    };
  }

  /** The store changed: rebuild soon, at most once per minRebuildMs (longer after a costly rebuild). */
  invalidate(): void {
    if (this.timer || this.building) return;
    const gap = Math.max(this.minRebuildMs, REBUILD_DUTY * this.lastBuildCost);
    this.schedule(Math.max(0, this.lastBuildAt + gap - Date.now()));
  }

  /** Waits until the served body reflects the store as it is now (tests, --once, first scrape). */
  async flush(): Promise<Built> {
    for (;;) {
      if (this.building) {
        await this.building;
        continue;
      }
      if (this.built && this.built.version === this.store.version) return this.built;
      this.schedule(0);
    }
  }

  get seriesCount(): number {
    return this.built?.series ?? 0;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.building) return;
    clearTimeout(this.timer);
    if (delayMs <= 0) {
      this.timer = undefined;
      this.building = this.build();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.building = this.build();
    }, delayMs);
  }

  private async build(): Promise<void> {
    try {
      let cost = 0;
      let sliceStart = performance.now();
      /** Lets the event loop run (scrapes, results) once a slice is used up. */
      const slice = async () => {
        const now = performance.now();
        if (now - sliceStart < SLICE_MS) return;
        cost += now - sliceStart;
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
      };

      // Everything is read from the store in this synchronous step: one consistent version.
      // Snapshots are immutable: a collection replaces the object.
      const version = this.store.version;
      const snapshots: Snapshot[] = [];
      for (const z of this.store.all()) if (z.snapshot !== null) snapshots.push(z.snapshot);
      const health = this.renderHealth();

      const groups: Group[] = [];
      for (let at = 0; at < snapshots.length; at += GROUP) {
        const members = snapshots.slice(at, at + GROUP);
        const cached = this.groups[groups.length];
        if (cached && sameSnapshots(cached.snapshots, members)) {
          groups.push(cached);
          continue;
        }
        groups.push(compressGroup(members));
        await slice();
      }
      this.groups = groups;
      const healthMembers: Member[] = [];
      for (let at = 0; at < health.length; ) {
        let end = at + HEALTH_PIECE < health.length ? health.indexOf('\n', at + HEALTH_PIECE) + 1 : health.length;
        if (end <= 0) end = health.length;
        const piece = health.slice(at, end);
        const bytes = scratch(Buffer.byteLength(piece));
        bytes.write(piece);
        healthMembers.push(compress(bytes, FAST_DEFLATE));
        at = end;
        await slice();
      }

      const members: Member[] = [];
      let plainLength = Buffer.byteLength(health);
      let series = 0;
      for (const s of snapshots) series += s.series;
      FAMILY_HEADER_MEMBERS.forEach((header, f) => {
        members.push(header);
        plainLength += header.size;
        for (const g of groups) {
          const m = g.members[f];
          if (!m) continue;
          plainLength += m.size;
          members.push(m);
        }
      });
      members.push(...healthMembers);
      this.built = new Built(version, groups, health, members, plainLength, series);
      cost += performance.now() - sliceStart;
      this.lastBuildCost = cost;
      this.lastBuildAt = Date.now();
    } finally {
      this.building = undefined;
      if (this.built && this.built.version !== this.store.version) this.invalidate();
    }
  }

  private refreshProcess(): Promise<void> {
    if (this.processPart && Date.now() - this.processPart.at < 1000) return Promise.resolve();
    this.processRefresh ??= this.processRegistry
      .metrics()
      .then((text) => {
        const plain = Buffer.from(text);
        this.processPart = { at: Date.now(), plain, gzip: gzipStream([compress(plain, FAST_DEFLATE)]) };
      })
      .finally(() => {
        this.processRefresh = undefined;
      });
    return this.processRefresh;
  }
}

function sameSnapshots(a: readonly Snapshot[], b: readonly Snapshot[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One member per family: the group's lines of that family, back to back. */
function compressGroup(snapshots: readonly Snapshot[]): Group {
  const members = LB_FAMILY_ORDER.map((_, f) => {
    let length = 0;
    for (const s of snapshots) length += s.offsets[f + 1]! - s.offsets[f]!;
    if (length === 0) return null;
    if (snapshots.length === 1) return compress(snapshots[0]!.text.subarray(snapshots[0]!.offsets[f], snapshots[0]!.offsets[f + 1]));
    const lines = scratch(length);
    let at = 0;
    for (const s of snapshots) at += s.text.copy(lines, at, s.offsets[f], s.offsets[f + 1]);
    return compress(lines);
  });
  return { snapshots, members };
}

let scratchBuffer: Buffer | undefined;

/** A reused buffer for a group's lines (fresh large buffers cost a page fault per 4 KiB). */
function scratch(length: number): Buffer {
  if (!scratchBuffer || scratchBuffer.length < length) scratchBuffer = Buffer.allocUnsafeSlow(Math.max(length, 2 * (scratchBuffer?.length ?? 128 * 1024)));
  return scratchBuffer.subarray(0, length);
}
