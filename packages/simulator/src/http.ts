/**
 * Low-level response plumbing shared by the API and control handlers: delayed answers whose
 * timers close() can cancel, hung requests close() can destroy, streamed padding for huge
 * responses, and bounded body reading.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { SimStats } from './stats.js';

export const JSON_TYPE = 'application/json;charset=UTF-8';

/** Reused for every padded response so a 50 MB pad costs no 50 MB allocation. */
const PAD_CHUNK = Buffer.alloc(64 * 1024, 0x20);

export class Responder {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hung = new Set<ServerResponse>();

  constructor(private readonly stats: SimStats) {}

  /**
   * Answers now or after delayMs. seq is the stats handle (-1: not recorded); the status is
   * recorded when the answer actually goes out.
   */
  send(
    res: ServerResponse,
    seq: number,
    delayMs: number,
    status: number,
    headers: OutgoingHttpHeaders,
    body: Buffer | string,
    padBytes = 0,
  ): void {
    if (delayMs <= 0) {
      this.write(res, seq, status, headers, body, padBytes);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.write(res, seq, status, headers, body, padBytes);
    }, delayMs);
    this.timers.add(timer);
  }

  sendJson(res: ServerResponse, seq: number, delayMs: number, status: number, body: Buffer | string, extra?: OutgoingHttpHeaders): void {
    this.send(res, seq, delayMs, status, extra ? { 'content-type': JSON_TYPE, ...extra } : { 'content-type': JSON_TYPE }, body);
  }

  /** Never answers; the request stays open until the client gives up or close() runs. */
  hang(res: ServerResponse): void {
    this.hung.add(res);
    res.once('close', () => this.hung.delete(res));
  }

  get hungCount(): number {
    return this.hung.size;
  }

  /** Cancels pending delayed answers and destroys hung requests' sockets. */
  shutdown(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
  }

  private write(res: ServerResponse, seq: number, status: number, headers: OutgoingHttpHeaders, body: Buffer | string, padBytes: number): void {
    if (seq >= 0) this.stats.complete(seq, status);
    if (res.destroyed) return;
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    headers['content-length'] = len + padBytes;
    res.writeHead(status, headers);
    if (padBytes <= 0) {
      res.end(body);
      return;
    }
    // Leading whitespace keeps the JSON valid while making the body as large as asked.
    let left = padBytes;
    const pump = (): void => {
      while (left > 0) {
        if (res.destroyed) return;
        const n = Math.min(left, PAD_CHUNK.length);
        left -= n;
        if (!res.write(n === PAD_CHUNK.length ? PAD_CHUNK : PAD_CHUNK.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end(body);
    };
    pump();
  }
}

export class BodyTooLargeError extends Error {}

/** Collects a request body up to `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError(`request body over ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** Splits `/path?query` without the cost of a URL object. */
export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}
