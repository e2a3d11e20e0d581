/**
 * One standard gzip stream (RFC 1952, a single member) assembled from pieces compressed apart.
 *
 * Browsers, curl and most inflaters stop after the first member of a multi-member gzip body, so
 * the body must be one member; yet a rebuild must only recompress what changed. Each piece is
 * raw deflate that ends on a full flush (Z_FULL_FLUSH: byte-aligned, no final block, and a fresh
 * deflater has no history to refer back to), so pieces can be laid end to end in any order and
 * still be one valid deflate stream. The stream is then closed by one empty final block, and the
 * member's CRC-32 is combined from the pieces' CRCs without reading their data again.
 *
 * No I/O. The only state is one compressor per set of options (see Compressor), reused by
 * every call: a segment's output does not depend on it (each starts after a full flush).
 */
import { crc32, createDeflateRaw, deflateRawSync, constants as zc, type ZlibOptions } from 'node:zlib';

/** Raw deflate data ending on a full flush, with the CRC-32 and length of what it inflates to. */
export interface Segment {
  readonly deflated: Buffer;
  readonly crc: number;
  readonly size: number;
}

/** RFC 1952 header: deflate, no flags, no time, no extra flags, OS unknown. */
export const GZIP_HEADER: Buffer = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

/** A final fixed-Huffman block holding only end-of-block: closes the deflate stream. */
const FINAL_BLOCK = [0x03, 0x00];

export const EMPTY_SEGMENT: Segment = { deflated: Buffer.alloc(0), crc: 0, size: 0 };

/**
 * `data` as a segment: raw deflate ending on a full flush. The compressed bytes are a view of the
 * compressor's output area, valid only until the next call with the same options; callers that
 * keep them copy them (deflateSegment, or laid end to end into one buffer as body.ts does).
 */
export function deflateTransient(data: Uint8Array, options: ZlibOptions): Segment {
  if (data.length === 0) return EMPTY_SEGMENT;
  return { deflated: compressorFor(options).deflate(data), crc: crc32(data), size: data.length };
}

/** `data` as a segment whose compressed bytes are its own exactly sized buffer. */
export function deflateSegment(data: Uint8Array, options: ZlibOptions): Segment {
  const s = deflateTransient(data, options);
  if (s === EMPTY_SEGMENT) return s;
  const deflated = Buffer.allocUnsafeSlow(s.deflated.length);
  s.deflated.copy(deflated);
  return { deflated, crc: s.crc, size: s.size };
}

/**
 * One zlib deflate state, reused for every segment with the same options. `deflateRawSync`
 * allocates and initialises a fresh state (~270 KB at memLevel 8) per call and returns a slice of
 * a 64 KB output chunk, so each cached segment of a few hundred bytes kept 64 KB alive (~29 MB for
 * the ~450 segments of Tier M). A full flush resets the deflate history, so the next segment
 * compresses exactly as with a fresh state. Node has no public synchronous API for writing to a
 * zlib stream and flushing it (`_processChunk` closes the stream), so this drives the stream's
 * handle the way Node's own deflateRawSync does (`writeSync` + the stream's write state); if a
 * Node version changes that, each call falls back to deflateRawSync (same bytes, more garbage).
 */
export class Compressor {
  private stream: ReturnType<typeof createDeflateRaw> | undefined;
  private handle: ZlibHandle | undefined;
  private state: Uint32Array | undefined;
  private error: Error | undefined;
  /** Output area, grown when a segment does not fit; segments are views of it. */
  private out = Buffer.allocUnsafeSlow(64 * 1024);

  constructor(private readonly options: ZlibOptions) {
    this.open();
  }

  /** Raw deflate of `data` ending on a full flush, as a view valid until the next call. */
  deflate(data: Uint8Array): Buffer {
    // Never write to a closed handle (a native assertion, not an exception).
    if (this.stream?.destroyed) this.open();
    const handle = this.handle;
    const state = this.state;
    if (!handle || !state) return deflateRawSync(data, { ...this.options, finishFlush: zc.Z_FULL_FLUSH });
    let inOff = 0;
    let outOff = 0;
    for (;;) {
      const inLen = data.length - inOff;
      handle.writeSync(zc.Z_FULL_FLUSH, data, inOff, inLen, this.out, outOff, this.out.length - outOff);
      // A zlib error destroys the stream at once and emits 'error' a tick later.
      if (this.error || this.stream!.destroyed) {
        const e = this.error ?? new Error('zlib deflate failed');
        this.open();
        throw e;
      }
      const availOut = state[0]!;
      const availIn = state[1]!;
      outOff = this.out.length - availOut;
      inOff += inLen - availIn;
      if (availOut > 0) return this.out.subarray(0, outOff);
      // Output area full: more may be pending. Grow it (keeping what is written) and go on.
      const bigger = Buffer.allocUnsafeSlow(this.out.length * 2);
      this.out.copy(bigger, 0, 0, outOff);
      this.out = bigger;
    }
  }

  private open(): void {
    this.stream?.close();
    this.error = undefined;
    const stream = createDeflateRaw(this.options);
    const internals = stream as unknown as { _handle?: ZlibHandle; _writeState?: unknown };
    this.stream = stream;
    stream.on('error', (e: Error) => (this.error = e));
    if (typeof internals._handle?.writeSync === 'function' && internals._writeState instanceof Uint32Array) {
      this.handle = internals._handle;
      this.state = internals._writeState;
    } else {
      stream.close();
      this.handle = undefined;
      this.state = undefined;
    }
  }
}

interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
}

const COMPRESSORS = new Map<string, Compressor>();

function compressorFor(options: ZlibOptions): Compressor {
  const key = `${options.level}/${options.memLevel}/${options.windowBits}/${options.strategy}`;
  let c = COMPRESSORS.get(key);
  if (!c) COMPRESSORS.set(key, (c = new Compressor(options)));
  return c;
}

/** Segments back to back are one segment: their data joined, their CRCs combined. */
export function joinSegments(segments: readonly Segment[]): Segment {
  let length = 0;
  for (const s of segments) length += s.deflated.length;
  const deflated = Buffer.allocUnsafe(length);
  let at = 0;
  let crc = 0;
  let size = 0;
  for (const s of segments) {
    at += s.deflated.copy(deflated, at);
    crc = crc32Combine(crc, s.crc, s.size);
    size += s.size;
  }
  return { deflated, crc, size };
}

/** What follows the last segment: the final block, CRC-32 and ISIZE (length mod 2^32). */
export function gzipTrailer(crc: number, size: number): Buffer {
  const out = Buffer.alloc(FINAL_BLOCK.length + 8);
  out.set(FINAL_BLOCK);
  out.writeUInt32LE(crc >>> 0, FINAL_BLOCK.length);
  out.writeUInt32LE(size % 2 ** 32, FINAL_BLOCK.length + 4);
  return out;
}

/**
 * The buffers of one gzip member holding `segments` in order: header, each segment's data,
 * trailer. Written as they are (one writev), or joined by the caller.
 */
export function gzipFrame(segments: readonly Segment[]): Buffer[] {
  let crc = 0;
  let size = 0;
  for (const s of segments) {
    crc = crc32Combine(crc, s.crc, s.size);
    size += s.size;
  }
  return [GZIP_HEADER, ...segments.map((s) => s.deflated), gzipTrailer(crc, size)];
}

// ---- CRC-32 combination: zlib's crc32_combine (GF(2) polynomial arithmetic modulo the CRC polynomial) ----

/** The reflected CRC-32 polynomial, as a signed 32-bit integer (all arithmetic below stays in int32: fast in V8). */
const POLY = 0xedb88320 | 0;

/** a × b modulo POLY, both reflected polynomials (zlib's multmodp). a must not be 0. */
function multmodp(a: number, b: number): number {
  let m = 0x80000000 | 0;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p;
}

/** X2N[k] = x^(2^k) modulo POLY (zlib's x2n_table). */
const X2N: number[] = (() => {
  const table: number[] = [];
  let p = 0x40000000; // x^1
  table.push(p);
  for (let k = 1; k < 32; k++) table.push((p = multmodp(p, p)));
  return table;
})();

/** x^(n × 2^k) modulo POLY (zlib's x2nmodp); n may exceed 2^32. */
function x2nmodp(n: number, k: number): number {
  let p = 0x80000000 | 0; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multmodp(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/**
 * The CRC-32 of A followed by B, from crc(A), crc(B) and B's length: crc(A) shifted over len2
 * zero bytes (multiplication by x^(8·len2)), xor crc(B). About 32 × log2(len2) steps; zlib's older
 * 32×32 matrix-squaring form gives the same result at ~50 times the cost.
 */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 === 0) return crc1 >>> 0;
  return (multmodp(x2nmodp(len2, 3), crc1 | 0) ^ crc2) >>> 0;
}
