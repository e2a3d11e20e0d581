/**
 * GET /metrics: writes the cached body parts straight to the socket, no rendering and no copying
 * per scrape (headers and every buffer leave in one writev).
 *
 * Format and encoding are negotiated by `negotiator` (jshttp's, under express and fastify's
 * accepts), with q-values:
 *  - Accept: OpenMetrics 1.0.0 when preferred (what Prometheus asks for by default), else text
 *    0.0.4; a client that accepts neither still gets text 0.0.4, as Go's promhttp does.
 *  - Accept-Encoding: gzip when acceptable and not less preferred than identity; 406 when not
 *    even identity is (`identity;q=0` without gzip).
 *
 * `?account=NAME` (repeatable) serves those accounts only (metrics/account-body.ts), negotiated
 * the same way; a name this replica does not collect is a 404 that names it and no other.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import Negotiator from 'negotiator';
import type { AccountBodies } from '../metrics/account-body.js';
import type { Exposition } from '../metrics/exposition.js';
import { CONTENT_TYPES, type Format } from '../metrics/openmetrics.js';

/**
 * Offered in this order: on equal preference (no Accept, `*\/*`), text 0.0.4 wins. Prometheus 3
 * adds `escaping=…` to its OpenMetrics type, and negotiator matches a type only when every
 * parameter the client names matches; our names need no escaping, so the body is the same
 * whichever scheme the client allows.
 */
const OFFERS: ReadonlyArray<readonly [string, Format]> = [
  [CONTENT_TYPES.text, 'text'],
  [CONTENT_TYPES.openmetrics, 'openmetrics'],
  ...['allow-utf-8', 'underscores', 'dots', 'values'].map((e) => [`${CONTENT_TYPES.openmetrics}; escaping=${e}`, 'openmetrics'] as const),
];
const OFFERED_TYPES = OFFERS.map(([t]) => t);
/** On equal preference gzip wins: it is what the body is cached as. */
const ENCODINGS = ['gzip', 'identity'];
const VARY = 'Accept-Encoding, Accept';

/** Longest account name echoed in a 404 (the name comes from the URL). */
const MAX_ECHO = 200;

/** What a pair of Accept and Accept-Encoding headers negotiates to (encoding undefined: 406). */
interface Negotiated {
  readonly encoding: string | undefined;
  readonly format: Format;
}

/**
 * Negotiation results by header pair. A scraper sends the same headers every time, and
 * negotiator parses every offered type per request (~7 µs, a tenth of a small scrape's cost at
 * rest). Bounded: at most CACHE_ENTRIES pairs (cleared when full), only pairs up to
 * CACHE_KEY_MAX characters (the headers are the client's).
 */
const negotiated = new Map<string, Negotiated>();
const CACHE_ENTRIES = 64;
const CACHE_KEY_MAX = 512;

function negotiate(headers: IncomingHttpHeaders): Negotiated {
  const key = `${headers.accept ?? ''}\n${headers['accept-encoding'] ?? ''}`;
  const hit = negotiated.get(key);
  if (hit) return hit;
  const negotiator = new Negotiator({ headers });
  const offered = negotiator.mediaType(OFFERED_TYPES);
  const result: Negotiated = {
    encoding: negotiator.encoding(ENCODINGS),
    format: offered === undefined ? 'text' : OFFERS[OFFERED_TYPES.indexOf(offered)]![1],
  };
  if (key.length <= CACHE_KEY_MAX) {
    if (negotiated.size >= CACHE_ENTRIES) negotiated.clear();
    negotiated.set(key, result);
  }
  return result;
}

export function registerMetricsRoute(app: FastifyInstance, exposition: Exposition, accountBodies?: AccountBodies): void {
  app.get<{ Querystring: { account?: string | string[] } }>('/metrics', async (req, reply) => {
    const { encoding, format } = negotiate(req.headers);
    if (!encoding) {
      return reply
        .code(406)
        .header('vary', VARY)
        .type('text/plain; charset=utf-8')
        .send(`no acceptable content encoding: /metrics is served as ${ENCODINGS.join(' or ')}\n`);
    }
    const type = CONTENT_TYPES[format];
    const gzip = encoding === 'gzip';
    let bufs: readonly Uint8Array[];
    const asked = req.query.account;
    if (asked !== undefined && accountBodies) {
      const body = await accountBodies.parts([...new Set(Array.isArray(asked) ? asked : [asked])], format);
      if ('unknown' in body) {
        return reply
          .code(404)
          .header('vary', VARY)
          .type('text/plain; charset=utf-8')
          .send(`account ${JSON.stringify(body.unknown.slice(0, MAX_ECHO))} is not collected by this replica\n`);
      }
      bufs = gzip ? await body.gzip() : body.plain();
    } else {
      const parts = await exposition.parts(format);
      bufs = gzip ? parts.gzip : parts.plain;
    }
    let length = 0;
    for (const b of bufs) length += b.length;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': type,
      'content-length': length,
      vary: VARY,
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    res.cork();
    for (let i = 0; i < bufs.length - 1; i++) res.write(bufs[i]);
    res.end(bufs[bufs.length - 1]);
  });
}
