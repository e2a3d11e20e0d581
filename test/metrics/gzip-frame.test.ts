import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as zc, crc32, deflateRawSync, gunzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Compressor, crc32Combine, deflateSegment, EMPTY_SEGMENT, gzipFrame, joinSegments, type Segment } from '../../src/metrics/gzip-frame.js';
import { requireTool } from '../support/tools.js';

const LEVEL4 = { level: 4 };

/** Text that compresses like an exposition: repetitive lines with varying numbers. */
function lines(seed: number, n: number): Buffer {
  let out = '';
  for (let i = 0; i < n; i++) out += `ktcloud_server_current_connections{account="acc-${seed}",zone="DX-M1",lb_id="${1000 + i}",server_ip="10.0.${seed}.${i % 250}"} ${(seed * 7919 + i * 31) % 1000}\n`;
  return Buffer.from(out);
}

describe('crc32Combine', () => {
  it('gives the CRC-32 of the concatenation, for empty, small, odd and large second parts', () => {
    const a = randomBytes(1000);
    for (const len of [0, 1, 3, 7, 8, 255, 4096, 65_537, 1_000_003]) {
      const b = randomBytes(len);
      expect(crc32Combine(crc32(a), crc32(b), b.length), `len ${len}`).toBe(crc32(Buffer.concat([a, b])));
    }
  });

  it('starts from the CRC of nothing (0), so folding from 0 gives the CRC of everything', () => {
    const parts = [randomBytes(10), Buffer.alloc(0), randomBytes(777), randomBytes(1)];
    let crc = 0;
    for (const p of parts) crc = crc32Combine(crc, crc32(p), p.length);
    expect(crc).toBe(crc32(Buffer.concat(parts)));
  });
});

describe('gzip framing of segments compressed apart', () => {
  const pieces = [lines(1, 300), lines(2, 1), Buffer.from('# HELP x y\n# TYPE x gauge\n'), lines(3, 5000), Buffer.from('\u{c6f9} "LB" \\ utf-8\n')];
  const segments = pieces.map((p) => deflateSegment(p, LEVEL4));
  const whole = Buffer.concat(pieces);
  const body = Buffer.concat(gzipFrame(segments));

  it('ends each segment on a full flush: no final block, inflatable on its own only as a truncated stream', () => {
    for (const s of segments) {
      // A full flush ends with an empty stored block: 00 00 ff ff.
      expect(s.deflated.subarray(-4)).toEqual(Buffer.from([0x00, 0x00, 0xff, 0xff]));
      expect(() => inflateRawSync(s.deflated)).toThrow(/unexpected end/);
      expect(inflateRawSync(s.deflated, { finishFlush: zc.Z_SYNC_FLUSH }).length).toBe(s.size);
    }
  });

  it('is one gzip member that Node inflates to the pieces joined', () => {
    expect(gunzipSync(body).equals(whole)).toBe(true);
    // One member: the header appears once, at the start.
    expect(body.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), 1)).toBe(-1);
  });

  it('is read to the end by a single-stream inflater (Python zlib.decompressobj(31)) with nothing left over', (ctx) => {
    const python = requireTool('python3', 'reads the gzip body as browsers do: one stream');
    if (!python) return ctx.skip();
    const script = 'import sys,zlib\nd=zlib.decompressobj(31)\nout=d.decompress(sys.stdin.buffer.read())\nsys.stdout.buffer.write(out)\nsys.stderr.write("eof=%s unused=%d" % (d.eof, len(d.unused_data)))';
    const r = spawnSync(python, ['-c', script], { input: body, maxBuffer: 64 << 20 });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(r.stderr.toString()).toBe('eof=True unused=0');
    expect(r.stdout.length).toBe(whole.length);
    expect(r.stdout.equals(whole)).toBe(true);
  });

  it('joins segments into one segment that frames to the same stream', () => {
    const joined = joinSegments(segments);
    expect(joined.size).toBe(whole.length);
    expect(joined.crc).toBe(crc32(whole));
    expect(Buffer.concat(gzipFrame([joined])).equals(body)).toBe(true);
    expect(gunzipSync(Buffer.concat(gzipFrame([joined, deflateSegment(Buffer.from('tail\n'), LEVEL4)]))).toString()).toBe(`${whole}tail\n`);
  });

  it('frames nothing, and empty segments, as a valid empty stream', () => {
    expect(deflateSegment(new Uint8Array(0), LEVEL4)).toBe(EMPTY_SEGMENT);
    expect(gunzipSync(Buffer.concat(gzipFrame([]))).length).toBe(0);
    const withEmpty: Segment[] = [EMPTY_SEGMENT, segments[1]!, EMPTY_SEGMENT];
    expect(gunzipSync(Buffer.concat(gzipFrame(withEmpty)))).toEqual(pieces[1]);
  });

  it('writes ISIZE modulo 2^32 and the combined CRC in the trailer', () => {
    const trailer = gzipFrame(segments).at(-1)!;
    expect(trailer.subarray(0, 2)).toEqual(Buffer.from([0x03, 0x00]));
    expect(trailer.readUInt32LE(2)).toBe(crc32(whole));
    expect(trailer.readUInt32LE(6)).toBe(whole.length);
    const huge: Segment = { deflated: Buffer.alloc(0), crc: 0, size: 2 ** 32 + 5 };
    expect(gzipFrame([huge]).at(-1)!.readUInt32LE(6)).toBe(5);
  });
});

describe('one compressor state reused for every segment', () => {
  const inputs = [lines(4, 10), randomBytes(200_000), lines(5, 3000), Buffer.from('x'), randomBytes(70_000), lines(6, 1)];
  const fresh = (p: Uint8Array) => deflateRawSync(p, { ...LEVEL4, finishFlush: zc.Z_FULL_FLUSH });

  it('compresses each input to the bytes a fresh deflater gives, also when the output outgrows its output area', () => {
    const c = new Compressor(LEVEL4);
    for (const p of inputs) expect(Buffer.from(c.deflate(p)).equals(fresh(p)), `${p.length} bytes`).toBe(true);
  });

  it('starts a fresh state when its stream was destroyed (as a zlib error does), instead of writing to a closed handle', () => {
    const c = new Compressor(LEVEL4);
    expect(Buffer.from(c.deflate(inputs[0]!)).equals(fresh(inputs[0]!))).toBe(true);
    (c as unknown as { stream: { destroy(): void } }).stream.destroy();
    expect(Buffer.from(c.deflate(inputs[2]!)).equals(fresh(inputs[2]!))).toBe(true);
  });

  it('gives kept segments their own exactly sized buffer, not a slice of a larger output chunk', () => {
    for (const p of inputs) {
      const s = deflateSegment(p, LEVEL4);
      expect(s.deflated.buffer.byteLength).toBe(s.deflated.length);
      expect(s.deflated.equals(fresh(p))).toBe(true);
    }
  });
});
