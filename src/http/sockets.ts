/**
 * Socket hygiene for a port that may face untrusted networks.
 *
 * - A connection cap. At the cap, a new connection does not get refused (which would let a few
 *   dozen idle sockets lock Prometheus out): the oldest connection that has no request in
 *   progress is closed instead, sockets that never sent a request first. Only when every
 *   connection is serving a request is the new one closed.
 * - Node's headersTimeout/requestTimeout only start counting once a request begins; a socket
 *   that never sends a byte would stay forever. So every connection gets FIRST_REQUEST_TIMEOUT_MS
 *   to deliver its first complete request head.
 * - Keep-alive stays long (KEEP_ALIVE_TIMEOUT_MS): Prometheus scrapes every 15–60 s on one
 *   connection and keeps idle connections 5 minutes, so the server must not be the side that
 *   closes between scrapes (a close racing a new scrape costs a failed scrape).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export const FIRST_REQUEST_TIMEOUT_MS = 10_000;
/** Two Prometheus pairs (HA) scraping, a few people and probes, with room to spare. */
export const DEFAULT_MAX_CONNECTIONS = 64;
/** Longer than any sensible scrape interval (Prometheus's default is 1 m). */
export const KEEP_ALIVE_TIMEOUT_MS = 120_000;

/**
 * Node http server options that bound a slow request once it has started. The first-request
 * timeout is a parameter only so tests can exercise it without waiting 10 s; production uses the default.
 */
export function httpTimeouts(firstRequestTimeoutMs: number = FIRST_REQUEST_TIMEOUT_MS) {
  return {
    headersTimeout: firstRequestTimeoutMs,
    requestTimeout: firstRequestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // How often Node checks headersTimeout/requestTimeout (default 30 s would make them loose).
    connectionsCheckingInterval: Math.min(1000, firstRequestTimeoutMs),
  } as const;
}

export const HTTP_TIMEOUTS = httpTimeouts();

interface Conn {
  /** Requests in progress on this connection. */
  busy: number;
  served: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface SocketGuard {
  /** Open connections right now. */
  readonly size: number;
}

export function guardSockets(server: Server, opts: { maxConnections: number; firstRequestTimeoutMs?: number }): SocketGuard {
  const firstRequestMs = opts.firstRequestTimeoutMs ?? FIRST_REQUEST_TIMEOUT_MS;
  // Insertion order is age: the first entry is the oldest.
  const conns = new Map<Socket, Conn>();

  server.on('connection', (socket: Socket) => {
    const c: Conn = { busy: 0, served: false, timer: undefined };
    c.timer = setTimeout(() => {
      if (!c.served) socket.destroy();
    }, firstRequestMs).unref();
    conns.set(socket, c);
    socket.once('close', () => {
      clearTimeout(c.timer);
      conns.delete(socket);
    });
    if (conns.size > opts.maxConnections) evictFor(socket);
  });

  server.on('request', (req, res) => {
    const sock = req.socket as Socket & { _parent?: Socket };
    // Under TLS, the request's socket wraps the TCP socket the 'connection' event saw.
    const c = conns.get(sock) ?? (sock._parent ? conns.get(sock._parent) : undefined);
    if (!c) return;
    c.served = true;
    clearTimeout(c.timer);
    c.busy++;
    res.once('close', () => c.busy--);
  });

  function evictFor(newcomer: Socket): void {
    let idle: Socket | undefined;
    for (const [s, c] of conns) {
      if (s === newcomer) continue;
      if (!c.served) return void s.destroy();
      if (c.busy === 0) idle ??= s;
    }
    (idle ?? newcomer).destroy();
  }

  return {
    get size() {
      return conns.size;
    },
  };
}
