/**
 * One complete /metrics body, built off to the side, in each format asked for.
 *
 * Account-zones are taken GROUP at a time in store order; each group's lines of each family are
 * one gzip segment (see gzip-frame.ts), compressed when a snapshot of the group is replaced and
 * reused otherwise. LB families are all gauges, whose sample lines are the same in text 0.0.4 and
 * OpenMetrics, so both formats share these segments; only the family headers (constant) and the
 * health text (small, rendered at every rebuild) are per format.
 *
 * All the groups' segments live in one buffer (Lb.deflated), family by family and, within a
 * family, group by group: exactly the order they are served in, so a family's LB lines are one
 * contiguous piece of it and a group's segment is a view of it. A rebuild lays out a new buffer
 * from the previous one's unchanged pieces and the changed groups' new compression; nothing else
 * holds compressed LB bytes (no per-segment buffers, no joined copy per version). A format's gzip
 * body is one standard gzip member written as a list of about twenty buffers: header, each
 * family's header segment and its piece of the LB buffer, the health segments, the process
 * metrics, trailer. A gzip body under JOIN_BELOW (256 KiB: a few accounts) is instead one buffer,
 * joined when the process metrics change: for a small body the socket write of twenty pieces
 * costs more than the copy.
 *
 * The plain form is made only when asked for (Prometheus asks for gzip): a list of views of the
 * snapshots' buffers, written as is (one writev); the snapshots stay the only copy of the text.
 */
import { constants as zc, type ZlibOptions } from 'node:zlib';
import type { Snapshot } from '../protocol.js';
import { LB_FAMILIES, LB_FAMILY_ORDER } from './families.js';
import { crc32Combine, deflateSegment, deflateTransient, EMPTY_SEGMENT, GZIP_HEADER, gzipTrailer, type Segment } from './gzip-frame.js';
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
/** Health text is compressed in pieces of about this many bytes (one segment each). */
const HEALTH_PIECE = 64 * 1024;
/** Gzip bodies smaller than this are served as one joined buffer (Form.gzip). */
const JOIN_BELOW = 256 * 1024;
/** Longest the event loop is held by one slice of compression. */
const SLICE_MS = 1;

/** The process metrics part, appended after the body (see process-metrics.ts). */
export interface ProcessPart {
  readonly plain: Buffer;
  readonly segment: Segment;
}

/**
 * GROUP consecutive snapshots and their segments, one per family (EMPTY_SEGMENT: no lines there).
 * The segments are views of the current LB buffer: a rebuild that keeps the group points them at
 * the new buffer (same bytes), so the old one is freed with the body that served it.
 */
export interface Group {
  readonly snapshots: readonly Snapshot[];
  segments: readonly Segment[];
}

/** Every group's compressed LB lines in one buffer, family-major; `families[f]` is family f's piece of it. */
export interface Lb {
  readonly groups: readonly Group[];
  readonly families: readonly Segment[];
}

export const NO_LB: Lb = { groups: [], families: LB_FAMILY_ORDER.map(() => EMPTY_SEGMENT) };

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

/**
 * The LB part of `snapshots`, reusing the segments of `previous`'s groups whose snapshots are the
 * same objects and compressing the others (sliced). Returns `previous` itself when nothing changed.
 */
export async function buildLb(snapshots: readonly Snapshot[], previous: Lb, slicer: Slicer): Promise<Lb> {
  /** Per group: the previous group, or where its new segments are in `fresh`. */
  const plan: Array<{ readonly snapshots: readonly Snapshot[]; readonly reused?: Group; readonly fresh?: readonly FreshSegment[] }> = [];
  const fresh = new Arena();
  let changed = previous.groups.length !== Math.ceil(snapshots.length / GROUP);
  for (let at = 0; at < snapshots.length; at += GROUP) {
    const members = snapshots.slice(at, at + GROUP);
    const cached = previous.groups[plan.length];
    if (cached && sameSnapshots(cached.snapshots, members)) {
      plan.push({ snapshots: members, reused: cached });
      continue;
    }
    changed = true;
    plan.push({ snapshots: members, fresh: compressGroup(members, fresh) });
    await slicer.tick();
  }
  if (!changed) return previous;

  // Lay out the new buffer: family by family, group by group.
  let length = 0;
  for (const g of plan) for (let f = 0; f < LB_FAMILY_ORDER.length; f++) length += g.reused ? g.reused.segments[f]!.deflated.length : g.fresh![f]!.length;
  const deflated = Buffer.allocUnsafeSlow(length);
  const segments: Segment[][] = plan.map(() => []);
  const families: Segment[] = [];
  let offset = 0;
  for (let f = 0; f < LB_FAMILY_ORDER.length; f++) {
    const familyStart = offset;
    let crc = 0;
    let size = 0;
    plan.forEach((g, i) => {
      const from = g.reused ? g.reused.segments[f]! : g.fresh![f]!;
      if (from.size === 0) {
        segments[i]!.push(EMPTY_SEGMENT);
        return;
      }
      const bytes = 'deflated' in from ? from.deflated : fresh.bytes.subarray(from.offset, from.offset + from.length);
      const start = offset;
      offset += bytes.copy(deflated, offset);
      segments[i]!.push({ deflated: deflated.subarray(start, offset), crc: from.crc, size: from.size });
      crc = crc32Combine(crc, from.crc, from.size);
      size += from.size;
    });
    families.push(size === 0 ? EMPTY_SEGMENT : { deflated: deflated.subarray(familyStart, offset), crc, size });
  }
  const groups = plan.map((g, i): Group => {
    if (!g.reused) return { snapshots: g.snapshots, segments: segments[i]! };
    g.reused.segments = segments[i]!;
    return g.reused;
  });
  return { groups, families };
}

/** A complete body: the shared LB part, and each format's health text once it was asked for. */
export class Body {
  private readonly forms = new Map<Format, Promise<Form>>();
  constructor(
    readonly version: number,
    readonly lb: Lb,
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
  // Encoded once: these bytes are both what plain scrapes write and what is compressed (the
  // form keeps them, not the string).
  const health = Buffer.from(format === 'text' ? body.health : toOpenMetrics(body.health));
  const segments: Segment[] = [];
  for (let at = 0; at < health.length; ) {
    let end = at + HEALTH_PIECE < health.length ? health.indexOf(0x0a, at + HEALTH_PIECE) + 1 : health.length;
    if (end <= 0) end = health.length;
    segments.push(deflateSegment(health.subarray(at, end), FAST_DEFLATE));
    at = end;
    await slicer.tick();
  }
  return new Form(format, body.lb, health, segments);
}

/** One format of a body. */
export class Form {
  /** Everything before the process metrics: the buffers to write after the gzip header, and what they inflate to. */
  private deflated: { readonly buffers: readonly Buffer[]; readonly length: number; readonly crc: number; readonly size: number } | undefined;
  private parts: Uint8Array[] | undefined;
  private trailer: { process: ProcessPart; bytes: Buffer; joined?: Buffer } | undefined;

  constructor(
    readonly format: Format,
    private readonly lb: Lb,
    private readonly health: Buffer,
    private readonly healthSegments: readonly Segment[],
  ) {}

  /** The gzip body with `process` appended: one gzip member, as references to the cached buffers (no copy). */
  gzip(process: ProcessPart): Uint8Array[] {
    if (!this.deflated) {
      const segments: Segment[] = [];
      headersOf(this.format).segments.forEach((header, f) => segments.push(header, this.lb.families[f]!));
      segments.push(...this.healthSegments);
      let crc = 0;
      let size = 0;
      let length = 0;
      const buffers: Buffer[] = [];
      for (const s of segments) {
        if (s.size === 0) continue;
        buffers.push(s.deflated);
        length += s.deflated.length;
        crc = crc32Combine(crc, s.crc, s.size);
        size += s.size;
      }
      this.deflated = { buffers, length, crc, size };
    }
    const body = this.deflated;
    if (this.trailer?.process !== process) {
      const crc = crc32Combine(body.crc, process.segment.crc, process.segment.size);
      this.trailer = { process, bytes: gzipTrailer(crc, body.size + process.segment.size) };
    }
    const parts = [GZIP_HEADER, ...body.buffers, process.segment.deflated, this.trailer.bytes];
    // A small body goes out as one buffer: a socket write of ~20 small pieces costs more than
    // copying them once (per process-metrics refresh, at most once a second).
    if (body.length + process.segment.deflated.length <= JOIN_BELOW) return [(this.trailer.joined ??= Buffer.concat(parts))];
    return parts;
  }

  /** The plain body before the process metrics: the LB lines as views of the snapshots' buffers, family by family, then the health text. */
  get plainParts(): readonly Uint8Array[] {
    if (!this.parts) {
      const parts: Uint8Array[] = [];
      headersOf(this.format).plain.forEach((header, f) => {
        parts.push(header);
        for (const g of this.lb.groups) for (const s of g.snapshots) if (s.offsets[f + 1]! > s.offsets[f]!) parts.push(s.text.subarray(s.offsets[f], s.offsets[f + 1]));
      });
      parts.push(this.health);
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

/** Where a freshly compressed segment is in the build's Arena. */
interface FreshSegment {
  readonly offset: number;
  readonly length: number;
  readonly crc: number;
  readonly size: number;
}

/** The compressed bytes of a rebuild's changed groups, appended as they come (the compressor's output is only a view until its next call). */
class Arena {
  bytes = Buffer.allocUnsafeSlow(64 * 1024);
  private used = 0;

  add(segment: Segment): FreshSegment {
    const need = this.used + segment.deflated.length;
    if (need > this.bytes.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.bytes.length));
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    const offset = this.used;
    this.used += segment.deflated.copy(this.bytes, offset);
    return { offset, length: segment.deflated.length, crc: segment.crc, size: segment.size };
  }
}

const NOTHING: FreshSegment = { offset: 0, length: 0, crc: 0, size: 0 };

/** One segment per family: the group's lines of that family, back to back, compressed into `arena`. */
function compressGroup(snapshots: readonly Snapshot[], arena: Arena): FreshSegment[] {
  return LB_FAMILY_ORDER.map((_, f) => {
    let length = 0;
    for (const s of snapshots) length += s.offsets[f + 1]! - s.offsets[f]!;
    if (length === 0) return NOTHING;
    if (snapshots.length === 1) return arena.add(deflateTransient(snapshots[0]!.text.subarray(snapshots[0]!.offsets[f], snapshots[0]!.offsets[f + 1]), DEFLATE_OPTS));
    const lines = scratch(length);
    let at = 0;
    for (const s of snapshots) {
      lines.set(s.text.subarray(s.offsets[f], s.offsets[f + 1]), at);
      at += s.offsets[f + 1]! - s.offsets[f]!;
    }
    return arena.add(deflateTransient(lines, DEFLATE_OPTS));
  });
}

let scratchBuffer: Buffer | undefined;

/** A reused buffer for a group's lines (fresh large buffers cost a page fault per 4 KiB). */
function scratch(length: number): Buffer {
  if (!scratchBuffer || scratchBuffer.length < length) scratchBuffer = Buffer.allocUnsafeSlow(Math.max(length, 2 * (scratchBuffer?.length ?? 128 * 1024)));
  return scratchBuffer.subarray(0, length);
}
