/**
 * The simulator's HTTP server: plain node:http with keep-alive (a benchmark pushes ~10k small
 * requests/s through it), an exact-path route table built once, and a close() that does not
 * wait for hung or idle keep-alive sockets.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ZoneApi } from './api.js';
import { normalizeConfig } from './config.js';
import { ControlApi } from './control.js';
import { buildData } from './generate.js';
import { Responder, splitUrl } from './http.js';
import { SimState } from './state.js';
import { SimStats } from './stats.js';
import type { Faults, LatencyConfig, SimData, SimulatorConfig } from './types.js';

export interface RequestLogEntry {
  method: string;
  url: string;
  status: number;
  durationMs: number;
}

export interface StartOptions {
  /** Called after each answered request (the CLI logs these at debug level). */
  onRequest?: (entry: RequestLogEntry) => void;
}

export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** `url + prefix`: what an exporter's zone endpoint is set to. Throws on unknown zones. */
  zoneEndpoint(zone: string): string;
  zoneEndpoints(): Record<string, string>;
  /** Replaces the faults of an account (all zones) or of one account-zone; `{}` clears. */
  setFaults(accountId: string, faults: Faults, zone?: string): void;
  setServerState(accountId: string, zone: string, lbId: number, ip: string, state: string): void;
  setLbState(accountId: string, zone: string, lbId: number, state: string): void;
  /** Rotates the password; tokens issued before stop working. */
  setPassword(accountId: string, password: string): void;
  setLatency(latencyMs: LatencyConfig): void;
  /** The live data model (read-only use: mutate through the setters so caches stay right). */
  readonly data: SimData;
  readonly stats: SimStats;
  resetStats(): void;
  /** Requests currently held open by the hang fault. */
  readonly hungRequests: number;
  /** Stops listening and destroys every open socket, hung ones included. Idempotent. */
  close(): Promise<void>;
}

type Route = { kind: 'auth' | 'api'; zoneIdx: number };

const NOT_FOUND = JSON.stringify({ error: 'not found' });

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSimulator(config: SimulatorConfig = {}, options: StartOptions = {}): Promise<Simulator> {
  const cfg = normalizeConfig(config);
  const data = buildData(cfg);
  const state = new SimState(cfg, data);
  const stats = new SimStats(
    data.accounts.map((a) => a.id),
    state.zoneNames,
    cfg.statsCapacity,
  );
  const responder = new Responder(stats);
  const zoneApi = new ZoneApi(state, stats, responder, cfg.latency);

  const routes = new Map<string, Route>();
  state.zoneNames.forEach((zone, zoneIdx) => {
    const prefix = data.zones[zone]!.prefix;
    for (const slash of ['', '/']) {
      routes.set(`${prefix}/identity/auth/tokens${slash}`, { kind: 'auth', zoneIdx });
      routes.set(`${prefix}/loadbalancer/client/api${slash}`, { kind: 'api', zoneIdx });
    }
  });

  let baseUrl = '';
  const zoneEndpoint = (zone: string): string => {
    const z = data.zones[zone];
    if (!z) throw new Error(`unknown zone ${JSON.stringify(zone)} (known: ${state.zoneNames.join(', ')})`);
    return baseUrl + z.prefix;
  };
  const zoneEndpoints = (): Record<string, string> => Object.fromEntries(state.zoneNames.map((z) => [z, zoneEndpoint(z)]));
  const control = new ControlApi(state, stats, responder, { zoneEndpoints, setLatency: (l) => zoneApi.setLatency(l) });

  // A bug in one handler must answer 500, not take down a simulator other processes rely on.
  const internalError = (res: ServerResponse, err: unknown): void => {
    if (res.headersSent || res.destroyed) return;
    responder.sendJson(res, -1, 0, 500, JSON.stringify({ error: `simulator internal error: ${(err as Error)?.message ?? String(err)}` }));
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      dispatch(req, res);
    } catch (err) {
      internalError(res, err);
    }
  };

  const dispatch = (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = performance.timeOrigin + performance.now();
    const { path, query } = splitUrl(req.url ?? '/');
    const route = routes.get(path);
    if (route) {
      if (route.kind === 'api' && (req.method === 'GET' || req.method === 'POST')) {
        if (req.method === 'POST') req.resume(); // CloudStack accepts POST; parameters still come from the query
        zoneApi.api(req, res, route.zoneIdx, query, t0);
        return;
      }
      if (route.kind === 'auth' && req.method === 'POST') {
        zoneApi.auth(req, res, route.zoneIdx, t0).catch((err: unknown) => internalError(res, err));
        return;
      }
      req.resume();
      const seq = stats.record(t0, -1, route.zoneIdx, route.kind === 'auth' ? 0 : 3);
      responder.sendJson(res, seq, 0, 405, JSON.stringify({ error: `method ${req.method} not allowed` }), { allow: route.kind === 'auth' ? 'POST' : 'GET, POST' });
      return;
    }
    if (path === '/_sim' || path.startsWith('/_sim/')) {
      control.handle(req, res, path, query).catch((err: unknown) => internalError(res, err));
      return;
    }
    req.resume();
    const seq = stats.record(t0, -1, -1, 3);
    responder.sendJson(res, seq, 0, 404, NOT_FOUND);
  };

  const server = createServer({ requestTimeout: 0, keepAliveTimeout: 75_000 }, handle);
  // Clients keep connections for a while; idle sockets beyond this are reclaimed.
  server.headersTimeout = 76_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  if (options.onRequest) {
    const hook = options.onRequest;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const start = performance.now();
      res.once('finish', () => hook({ method: req.method ?? '', url: req.url ?? '', status: res.statusCode, durationMs: performance.now() - start }));
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  baseUrl = `http://${urlHost(cfg.host)}:${addr.port}`;

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    host: cfg.host,
    port: addr.port,
    zoneEndpoint,
    zoneEndpoints,
    setFaults: (accountId, faults, zone) => state.setFaults(accountId, faults, zone),
    setServerState: (accountId, zone, lbId, ip, st) => state.setServerState(accountId, zone, lbId, ip, st),
    setLbState: (accountId, zone, lbId, st) => state.setLbState(accountId, zone, lbId, st),
    setPassword: (accountId, password) => state.setPassword(accountId, password),
    setLatency: (latency) => zoneApi.setLatency(latency),
    data,
    stats,
    resetStats: () => stats.reset(),
    get hungRequests() {
      return responder.hungCount;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        responder.shutdown();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}
