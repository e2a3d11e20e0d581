/**
 * One complete /metrics body, built off to the side, in each format asked for.
 *
 * Account-zones are taken GROUP at a time in store order; each group's lines of each family are
 * one gzip segment (see gzip-frame.ts), compressed when a snapshot of the group is replaced and
 * reused otherwise. LB families are all gauges, whose sample lines are the same in text 0.0.4 and
 * OpenMetrics, so both formats share these segments; only the family headers (constant) and the
 * health text (small, rendered at every rebuild) are per format. A format's gzip body is one
 * standard gzip member: header, the segments in exposition order (family by family, account-zones
 * in store order) joined on the first scrape of a version, the process metrics, trailer.
 *
 * The plain form is made only when asked for (Prometheus asks for gzip): a list of views of the
 * snapshots' buffers, written as is (one writev).
 */
import { constants as zc, type ZlibOptions } from 'node:zlib';
import type { Snapshot } from '../protocol.js';
import { LB_FAMILIES, LB_FAMILY_ORDER } from './families.js';
import { crc32Combine, deflateSegment, EMPTY_SEGMENT, GZIP_HEADER, gzipTrailer, joinSegments, type Segment } from './gzip-frame.js';
import { toOpenMetrics, type Format } from './openmetrics.js';
import { familyHeader } from './text.js';

/** Compressed once per change of a group, so a level above the fastest pays off in bytes served. */
export const DEFLATE_OPTS: ZlibOptions = { level: 4, memLevel: 8, windowBits: 15, strategy: zc.Z_DEFAULT_STRATEGY };
/** For what changes at every rebuild (health) or second (process metrics): the fastest level. */
export const FAST_DEFLATE: ZlibOptions = { ...DEFLATE_OPTS, level: 1 };
/**
 * Account-zones per segment. (Smaller groups compress less work per change but worse: a segment
 * starts with an empty dictionary. With 4 and level 4 the body is about as small as one level-1
 * stream of the whole.)
 */
const GROUP = 4;
/** Health text is compressed in pieces of about this many characters (one segment each). */
const HEALTH_PIECE = 64 * 1024;
/** Longest the event loop is held by one slice of compression. */
const SLICE_MS = 1;

/** The process metrics part, appended after the body (see process-metrics.ts). */
export interface ProcessPart {
  readonly plain: Buffer;
  readonly segment: Segment;
}

/** GROUP consecutive snapshots and their segments, one per family (EMPTY_SEGMENT: no lines there). */
export interface Group {
  readonly snapshots: readonly Snapshot[];
  readonly segments: readonly Segment[];
}

/** Lets the event loop run (scrapes, results) between slices of at most SLICE_MS of work. */
export class Slicer {
  private cost = 0;
  private start = performance.now();

  async tick(): Promise<void> {
    const now = performance.now();
    if (now - this.start < SLICE_MS) return;
    this.cost += now - this.start;
    await new Promise<void>((r) => setImmediate(r));
    this.start = performance.now();
  }

  /** Main-thread time spent, ms. */
  finish(): number {
    return this.cost + (performance.now() - this.start);
  }
}

/** The groups of `snapshots`, reusing those of `previous` whose snapshots are the same objects. */
export async function buildGroups(snapshots: readonly Snapshot[], previous: readonly Group[], slicer: Slicer): Promise<Group[]> {
  const groups: Group[] = [];
  for (let at = 0; at < snapshots.length; at += GROUP) {
    const members = snapshots.slice(at, at + GROUP);
    const cached = previous[groups.length];
    if (cached && sameSnapshots(cached.snapshots, members)) {
      groups.push(cached);
      continue;
    }
    groups.push(compressGroup(members));
    await slicer.tick();
  }
  return groups;
}

/** A complete body: the shared groups, and each format's health text once it was asked for. */
export class Body {
  private readonly forms = new Map<Format, Promise<Form>>();
  constructor(
    readonly version: number,
    readonly groups: readonly Group[],
    /** Health and exporter families in text 0.0.4. */
    readonly health: string,
    readonly series: number,
  ) {}

  /** The body in `format`, made (compression sliced) on first use. */
  form(format: Format, slicer = new Slicer()): Promise<Form> {
    let f = this.forms.get(format);
    if (!f) {
      f = makeForm(this, format, slicer);
      this.forms.set(format, f);
    }
    return f;
  }
}

async function makeForm(body: Body, format: Format, slicer: Slicer): Promise<Form> {
  const health = format === 'text' ? body.health : toOpenMetrics(body.health);
  const segments: Segment[] = [];
  for (let at = 0; at < health.length; ) {
    let end = at + HEALTH_PIECE < health.length ? health.indexOf('\n', at + HEALTH_PIECE) + 1 : health.length;
    if (end <= 0) end = health.length;
    const piece = health.slice(at, end);
    const bytes = scratch(Buffer.byteLength(piece));
    bytes.write(piece);
    segments.push(deflateSegment(bytes, FAST_DEFLATE));
    at = end;
    await slicer.tick();
  }
  return new Form(format, body.groups, health, segments);
}

/** One format of a body. */
export class Form {
  private joined: Segment | undefined;
  private parts: Uint8Array[] | undefined;
  private trailer: { process: ProcessPart; bytes: Buffer } | undefined;

  constructor(
    readonly format: Format,
    private readonly groups: readonly Group[],
    private readonly health: string,
    private readonly healthSegments: readonly Segment[],
  ) {}

  /** Family headers, group segments and health joined, on the first scrape of this version (not at every rebuild). */
  get segment(): Segment {
    if (!this.joined) {
      const segments: Segment[] = [];
      headersOf(this.format).segments.forEach((header, f) => {
        segments.push(header);
        for (const g of this.groups) if (g.segments[f]!.size > 0) segments.push(g.segments[f]!);
      });
      segments.push(...this.healthSegments);
      this.joined = joinSegments(segments);
    }
    return this.joined;
  }

  /** The gzip body with `process` appended: one gzip member in four buffers. */
  gzip(process: ProcessPart): Uint8Array[] {
    const body = this.segment;
    if (this.trailer?.process !== process) {
      const crc = crc32Combine(body.crc, process.segment.crc, process.segment.size);
      this.trailer = { process, bytes: gzipTrailer(crc, body.size + process.segment.size) };
    }
    return [GZIP_HEADER, body.deflated, process.segment.deflated, this.trailer.bytes];
  }

  /** The plain body before the process metrics: the LB lines as views of the snapshots' buffers, family by family, then the health text. */
  get plainParts(): readonly Uint8Array[] {
    if (!this.parts) {
      const parts: Uint8Array[] = [];
      headersOf(this.format).plain.forEach((header, f) => {
        parts.push(header);
        for (const g of this.groups) for (const s of g.snapshots) if (s.offsets[f + 1]! > s.offsets[f]!) parts.push(s.text.subarray(s.offsets[f], s.offsets[f + 1]));
      });
      parts.push(Buffer.from(this.health));
      this.parts = parts;
    }
    return this.parts;
  }
}

const HEADERS = new Map<Format, { plain: Buffer[]; segments: Segment[] }>();

/** The LB family headers in `format`, as bytes and as segments (made once per process). */
export function headersOf(format: Format): { plain: Buffer[]; segments: Segment[] } {
  let h = HEADERS.get(format);
  if (!h) {
    const plain = LB_FAMILY_ORDER.map((key) => {
      const text = familyHeader(LB_FAMILIES[key]);
      return Buffer.from(format === 'text' ? text : toOpenMetrics(text));
    });
    h = { plain, segments: plain.map((b) => deflateSegment(b, DEFLATE_OPTS)) };
    HEADERS.set(format, h);
  }
  return h;
}

function sameSnapshots(a: readonly Snapshot[], b: readonly Snapshot[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One segment per family: the group's lines of that family, back to back. */
function compressGroup(snapshots: readonly Snapshot[]): Group {
  const segments = LB_FAMILY_ORDER.map((_, f) => {
    let length = 0;
    for (const s of snapshots) length += s.offsets[f + 1]! - s.offsets[f]!;
    if (length === 0) return EMPTY_SEGMENT;
    if (snapshots.length === 1) return deflateSegment(snapshots[0]!.text.subarray(snapshots[0]!.offsets[f], snapshots[0]!.offsets[f + 1]), DEFLATE_OPTS);
    const lines = scratch(length);
    let at = 0;
    for (const s of snapshots) {
      lines.set(s.text.subarray(s.offsets[f], s.offsets[f + 1]), at);
      at += s.offsets[f + 1]! - s.offsets[f]!;
    }
    return deflateSegment(lines, DEFLATE_OPTS);
  });
  return { snapshots, segments };
}

let scratchBuffer: Buffer | undefined;

/** A reused buffer for a group's lines (fresh large buffers cost a page fault per 4 KiB). */
function scratch(length: number): Buffer {
  if (!scratchBuffer || scratchBuffer.length < length) scratchBuffer = Buffer.allocUnsafeSlow(Math.max(length, 2 * (scratchBuffer?.length ?? 128 * 1024)));
  return scratchBuffer.subarray(0, length);
}
