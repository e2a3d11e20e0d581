/**
 * The simulated KT Cloud endpoints of one zone: Keystone token issue and the load-balancer
 * query API. Fault precedence is documented in faults.ts; this file applies it in that order.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LatencyConfig } from './types.js';
import { NO_FIRING, type Firing } from './faults.js';
import { BodyTooLargeError, JSON_TYPE, readBody, type Responder } from './http.js';
import { commandErrorBody, echoedSecretsText, keystoneErrorBody, longErrorText, truncateJson, UNAUTHORIZED_BODY } from './serialize.js';
import type { AccountZoneRuntime, LbFilter, SimState } from './state.js';
import type { SimStats } from './stats.js';

const CMD_AUTH = 0;
const CMD_LIST_LBS = 1;
const CMD_LIST_SERVERS = 2;
const CMD_OTHER = 3;

const UNAUTHORIZED = Buffer.from(UNAUTHORIZED_BODY);

interface Latency {
  min: number;
  max: number;
}

/** Keystone prints microseconds; clients must cope with either precision. */
function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

export class ZoneApi {
  constructor(
    private readonly state: SimState,
    private readonly stats: SimStats,
    private readonly responder: Responder,
    private latency: Latency,
  ) {}

  setLatency(latency: LatencyConfig): void {
    const ok = typeof latency === 'number' ? latency >= 0 : latency.min >= 0 && latency.max >= latency.min;
    if (!ok) throw new RangeError('latencyMs must be a number >= 0 or { min, max } with 0 <= min <= max');
    this.latency = typeof latency === 'number' ? { min: latency, max: latency } : { ...latency };
  }

  private delay(slowMs: number | undefined): number {
    const { min, max } = this.latency;
    const base = max > min ? min + Math.random() * (max - min) : min;
    return base + (slowMs ?? 0);
  }

  // ---------- POST {prefix}/identity/auth/tokens ----------

  async auth(req: IncomingMessage, res: ServerResponse, zoneIdx: number, t0: number): Promise<void> {
    let raw: Buffer;
    try {
      raw = await readBody(req, 64 * 1024);
    } catch (err) {
      const seq = this.stats.record(t0, -1, zoneIdx, CMD_AUTH);
      const status = err instanceof BodyTooLargeError ? 413 : 400;
      this.responder.sendJson(res, seq, 0, status, keystoneErrorBody(status, 'Bad Request', 'Could not read the request body.'));
      return;
    }
    const creds = parseAuthBody(raw);
    const accountIdx = creds ? (this.state.accountIndex.get(creds.name) ?? -1) : -1;
    const seq = this.stats.record(t0, accountIdx, zoneIdx, CMD_AUTH);
    if (!creds) {
      const body = keystoneErrorBody(400, 'Bad Request', 'Expecting to find auth.identity.password.user.name and password in the request body.');
      this.responder.sendJson(res, seq, this.delay(0), 400, body);
      return;
    }
    if (accountIdx < 0) {
      this.responder.sendJson(res, seq, this.delay(0), 401, UNAUTHORIZED);
      return;
    }
    const rt = this.state.runtime(accountIdx, zoneIdx);
    const f = rt.faults.faults;
    const delay = this.delay(f.slowMs);
    const fire = rt.faults.none ? NO_FIRING : rt.faults.evaluate('auth');
    if (this.commonFaults(res, seq, delay, rt, fire)) return;
    if (this.errorTextFaults(res, seq, delay, rt, fire, 'auth', { id: creds.name, password: creds.password })) return;
    const account = rt.account;
    const scopeOk = creds.project === undefined || creds.project === creds.name;
    if (f.wrongPassword || creds.password !== account.password || !scopeOk) {
      this.responder.sendJson(res, seq, delay, 401, UNAUTHORIZED);
      return;
    }
    const now = Date.now();
    const { token, expiresAt } = this.state.issueToken(accountIdx, zoneIdx, now);
    const domain = { id: 'default', name: 'Default' };
    const body = JSON.stringify({
      token: {
        methods: ['password'],
        user: { domain, id: account.projectId, name: account.id, password_expires_at: null },
        project: { domain, id: account.projectId, name: account.id },
        expires_at: keystoneTime(expiresAt),
        issued_at: keystoneTime(now),
      },
    });
    this.responder.send(res, seq, delay, 201, { 'content-type': 'application/json', 'x-subject-token': token }, body);
  }

  // ---------- GET {prefix}/loadbalancer/client/api ----------

  api(req: IncomingMessage, res: ServerResponse, zoneIdx: number, query: string, t0: number): void {
    const params = new URLSearchParams(query);
    const command = params.get('command') ?? '';
    const cmdIdx = command === 'listLoadBalancers' ? CMD_LIST_LBS : command === 'listLoadBalancerWebServers' ? CMD_LIST_SERVERS : CMD_OTHER;
    const token = req.headers['x-auth-token'];
    const rec = typeof token === 'string' ? this.state.lookupToken(token) : undefined;
    const seq = this.stats.record(t0, rec ? rec.account : -1, zoneIdx, cmdIdx);
    if (!rec || !this.state.tokenValid(rec, zoneIdx, Date.now())) {
      this.responder.sendJson(res, seq, this.delay(0), 401, UNAUTHORIZED);
      return;
    }
    rec.uses++;
    const rt = this.state.runtime(rec.account, zoneIdx);
    const f = rt.faults.faults;
    const delay = this.delay(f.slowMs);
    const fire = rt.faults.none ? NO_FIRING : rt.faults.evaluate(command);
    if (f.expireTokenAfterRequests !== undefined && rec.uses >= f.expireTokenAfterRequests) {
      this.state.revokeToken(token as string);
      this.responder.sendJson(res, seq, delay, 401, UNAUTHORIZED);
      return;
    }
    if (this.commonFaults(res, seq, delay, rt, fire)) return;
    if (this.errorTextFaults(res, seq, delay, rt, fire, command, { id: rt.account.id, password: rt.account.password, token: token as string })) return;

    let status = 200;
    let body: Buffer | string;
    if (cmdIdx === CMD_LIST_LBS) {
      body = rt.listBody(lbFilter(params), fire.hugeResponse);
    } else if (cmdIdx === CMD_LIST_SERVERS) {
      const idText = params.get('loadbalancerid');
      const id = idText !== null && /^\d+$/.test(idText) ? Number(idText) : NaN;
      const ws = Number.isNaN(id) ? undefined : rt.webServersBody(id);
      if (idText === null || idText === '') {
        body = commandErrorBody(command, 431, 'Unable to execute API command listloadbalancerwebservers due to missing parameter loadbalancerid');
      } else if (ws === undefined) {
        body = commandErrorBody(command, 530, `Load balancer ${idText} not found`);
      } else if (failsServerList(rt, id)) {
        status = 500;
        body = commandErrorBody(command, 530, 'Internal error executing command, please contact your system administrator');
      } else {
        body = ws;
      }
    } else {
      body = commandErrorBody(command, 431, 'Unknown command');
    }
    if (status === 200 && fire.errorInBody) {
      const e = f.errorInBody!;
      body = commandErrorBody(command, e.errorcode ?? 530, e.errortext ?? 'Internal error executing command, please contact your system administrator');
    }
    if (status === 200 && fire.malformedJson) body = truncateJson(body.toString());
    const pad = fire.hugeResponse ? (f.hugeResponse?.padBytes ?? 0) : 0;
    this.responder.send(res, seq, delay, status, { 'content-type': JSON_TYPE }, body, pad);
  }

  /** echoSecrets and longErrorText: hostile error texts, in a 200 body or a 4xx/5xx one. */
  private errorTextFaults(res: ServerResponse, seq: number, delay: number, rt: AccountZoneRuntime, fire: Firing, command: string, secrets: { id: string; password: string; token?: string }): boolean {
    const f = rt.faults.faults;
    let text: string;
    let status: number;
    if (fire.echoSecrets) {
      text = echoedSecretsText(secrets);
      status = f.echoSecrets!.status ?? (command === 'auth' ? 401 : 200);
    } else if (fire.longErrorText) {
      text = longErrorText(f.longErrorText!.bytes ?? 5120);
      status = f.longErrorText!.status ?? (command === 'auth' ? 401 : 200);
    } else return false;
    let body = status === 200 ? commandErrorBody(command, 530, text) : keystoneErrorBody(status, 'Error', text);
    // With malformedJson too: a proxy answering 200 with the bare password (short enough for V8's parse error to quote whole).
    if (fire.echoSecrets && status === 200 && fire.malformedJson) body = secrets.password;
    this.responder.sendJson(res, seq, delay, status, body);
    return true;
  }

  /** hang, rateLimit and serverError, which apply to auth and API calls alike. */
  private commonFaults(res: ServerResponse, seq: number, delay: number, rt: AccountZoneRuntime, fire: Firing): boolean {
    const f = rt.faults.faults;
    if (fire.hang) {
      this.responder.hang(res);
      return true;
    }
    if (fire.rateLimit) {
      const r = f.rateLimit!;
      const status = r.status ?? 429;
      const retry = r.retryAfterSeconds === undefined ? 1 : r.retryAfterSeconds;
      const title = status === 429 ? 'Too Many Requests' : 'Service Unavailable';
      const extra = retry === null ? undefined : { 'retry-after': String(retry) };
      this.responder.sendJson(res, seq, delay, status, keystoneErrorBody(status, title, 'Rate limit exceeded, retry later.'), extra);
      return true;
    }
    if (fire.serverError) {
      const status = f.serverError!.status ?? 500;
      this.responder.sendJson(res, seq, delay, status, keystoneErrorBody(status, 'Internal Server Error', 'An unexpected error prevented the server from fulfilling your request.'));
      return true;
    }
    return false;
  }
}

function lbFilter(params: URLSearchParams): LbFilter | null {
  const name = params.get('name');
  const serviceip = params.get('serviceip');
  const id = params.get('loadbalancerid');
  // Empty parameters are what SDKs send for "no filter".
  if (!name && !serviceip && !id) return null;
  return { name: name || undefined, serviceip: serviceip || undefined, loadbalancerid: id || undefined };
}

function failsServerList(rt: AccountZoneRuntime, lbId: number): boolean {
  const f = rt.faults.faults.failServerListFor;
  if (f === undefined) return false;
  if (Array.isArray(f)) return f.includes(lbId);
  const idx = rt.az.loadBalancers.findIndex((lb) => lb.loadbalancerid === lbId);
  return idx >= 0 && idx < f.count;
}

interface Credentials {
  name: string;
  password: string;
  project?: string;
}

/** Extracts the password credentials of a Keystone v3 body; null when the shape is wrong. */
export function parseAuthBody(raw: Buffer): Credentials | null {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  const auth = (body as { auth?: Record<string, unknown> } | null)?.auth;
  const identity = auth?.identity as { methods?: unknown; password?: { user?: { name?: unknown; password?: unknown } } } | undefined;
  const user = identity?.password?.user;
  if (!user || typeof user.name !== 'string' || typeof user.password !== 'string') return null;
  if (Array.isArray(identity?.methods) && !identity.methods.includes('password')) return null;
  const project = (auth?.scope as { project?: { name?: unknown } } | undefined)?.project?.name;
  return { name: user.name, password: user.password, project: typeof project === 'string' ? project : undefined };
}
