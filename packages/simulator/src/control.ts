/**
 * `/_sim/*`: the unauthenticated control API that lets tests and benchmarks in other processes
 * read the data and stats and change faults and states at run time. Not part of KT Cloud's API.
 *
 *   GET  /_sim/stats[?raw=1&account=&zone=&command=&status=&since=&until=&windowMs=]
 *   POST /_sim/reset-stats
 *   GET  /_sim/accounts[?account=]
 *   GET  /_sim/zones
 *   POST /_sim/faults        {account, zone?, faults}
 *   POST /_sim/server-state  {account, zone, lbId, ip, state}
 *   POST /_sim/lb-state      {account, zone, lbId, state}
 *   POST /_sim/password      {account, password}
 *   POST /_sim/latency       {latencyMs}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, type Responder } from './http.js';
import { SimulatorError, type SimState } from './state.js';
import { COMMANDS, type SimStats, type StatsCommand, type StatsFilter } from './stats.js';
import type { Faults, LatencyConfig, SimData } from './types.js';

export interface ControlHooks {
  zoneEndpoints(): Record<string, string>;
  setLatency(latency: LatencyConfig): void;
}

type Body = Record<string, unknown>;

/** The data as JSON: zones an account has no data and no faults for are left out. */
export function dataToJson(data: SimData, accountId?: string): unknown {
  const accounts = data.accounts
    .filter((a) => accountId === undefined || a.id === accountId)
    .map((a) => ({
      id: a.id,
      password: a.password,
      projectId: a.projectId,
      faults: a.faults,
      zones: Object.fromEntries(
        Object.entries(a.zones)
          .filter(([, z]) => z.configured || Object.keys(z.faults).length > 0)
          .map(([name, z]) => [name, { faults: z.faults, loadBalancers: z.loadBalancers }]),
      ),
    }));
  return { seed: data.seed, zones: data.zones, accounts };
}

export function statsFilterFromQuery(q: URLSearchParams): StatsFilter {
  const filter: StatsFilter = {};
  const account = q.get('account');
  if (account !== null) filter.account = account === 'null' ? null : account;
  const zone = q.get('zone');
  if (zone !== null) filter.zone = zone === 'null' ? null : zone;
  const command = q.get('command');
  if (command !== null) {
    if (!(COMMANDS as readonly string[]).includes(command)) throw new SimulatorError(400, `command must be one of ${COMMANDS.join(', ')}`);
    filter.command = command as StatsCommand;
  }
  for (const key of ['status', 'since', 'until'] as const) {
    const v = q.get(key);
    if (v === null) continue;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new SimulatorError(400, `${key} must be a number`);
    filter[key] = n;
  }
  return filter;
}

export class ControlApi {
  constructor(
    private readonly state: SimState,
    private readonly stats: SimStats,
    private readonly responder: Responder,
    private readonly hooks: ControlHooks,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
    try {
      const result = await this.route(req, path, new URLSearchParams(query));
      this.reply(res, 200, result);
    } catch (err) {
      if (err instanceof SimulatorError) this.reply(res, err.status, { error: err.message });
      else this.reply(res, 500, { error: (err as Error).message });
    }
  }

  private reply(res: ServerResponse, status: number, value: unknown): void {
    this.responder.sendJson(res, -1, 0, status, JSON.stringify(value ?? { ok: true }));
  }

  private async body(req: IncomingMessage): Promise<Body> {
    let raw: Buffer;
    try {
      raw = await readBody(req, 1024 * 1024);
    } catch (err) {
      throw new SimulatorError(413, (err as Error).message);
    }
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      return parsed as Body;
    } catch {
      throw new SimulatorError(400, 'request body must be a JSON object');
    }
  }

  private async route(req: IncomingMessage, path: string, q: URLSearchParams): Promise<unknown> {
    const method = req.method ?? 'GET';
    const key = `${method} ${path.replace(/\/+$/, '')}`;
    switch (key) {
      case 'GET /_sim/stats':
        return this.statsResponse(q);
      case 'POST /_sim/reset-stats':
        this.stats.reset();
        return { ok: true };
      case 'GET /_sim/accounts': {
        const account = q.get('account') ?? undefined;
        if (account !== undefined && !this.state.accountIndex.has(account)) throw new SimulatorError(404, `unknown account: ${JSON.stringify(account)}`);
        return dataToJson(this.state.data, account);
      }
      case 'GET /_sim/zones':
        return this.hooks.zoneEndpoints();
      case 'POST /_sim/faults': {
        const b = await this.body(req);
        const faults = b.faults ?? {};
        if (typeof faults !== 'object' || faults === null || Array.isArray(faults)) throw new SimulatorError(400, 'faults must be an object');
        this.state.setFaults(str(b, 'account'), faults as Faults, b.zone === undefined ? undefined : str(b, 'zone'));
        return { ok: true };
      }
      case 'POST /_sim/server-state': {
        const b = await this.body(req);
        this.state.setServerState(str(b, 'account'), str(b, 'zone'), lbId(b), str(b, 'ip'), str(b, 'state'));
        return { ok: true };
      }
      case 'POST /_sim/lb-state': {
        const b = await this.body(req);
        this.state.setLbState(str(b, 'account'), str(b, 'zone'), lbId(b), str(b, 'state'));
        return { ok: true };
      }
      case 'POST /_sim/password': {
        const b = await this.body(req);
        this.state.setPassword(str(b, 'account'), str(b, 'password'));
        return { ok: true };
      }
      case 'POST /_sim/latency': {
        const b = await this.body(req);
        const l = b.latencyMs as LatencyConfig | undefined;
        const ok = (typeof l === 'number' && l >= 0) || (typeof l === 'object' && l !== null && l.min >= 0 && l.max >= l.min);
        if (!ok) throw new SimulatorError(400, 'latencyMs must be a number >= 0 or { min, max }');
        this.hooks.setLatency(l);
        return { ok: true };
      }
      default:
        throw new SimulatorError(404, `no control endpoint ${key}`);
    }
  }

  private statsResponse(q: URLSearchParams): unknown {
    const filter = statsFilterFromQuery(q);
    const out: Record<string, unknown> = { ...this.stats.totals() };
    const filtered = Object.keys(filter).length > 0;
    if (filtered) out.matching = this.stats.count(filter);
    const windowText = q.get('windowMs');
    if (windowText !== null) {
      const windowMs = Number(windowText);
      if (!(windowMs > 0)) throw new SimulatorError(400, 'windowMs must be a number > 0');
      out.windowMs = windowMs;
      out.maxInWindow = this.stats.maxInWindow(filter, windowMs);
      out.maxInWindowByAccount = this.stats.maxInWindowBy('account', filter, windowMs);
      out.maxInWindowByZone = this.stats.maxInWindowBy('zone', filter, windowMs);
    }
    if (q.get('raw') === '1') {
      out.rawColumns = ['time', 'account', 'zone', 'command', 'status'];
      out.raw = this.stats.rows(filter);
    }
    return out;
  }
}

function str(b: Body, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || v === '') throw new SimulatorError(400, `${key} must be a non-empty string`);
  return v;
}

function lbId(b: Body): number {
  const v = b.lbId;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new SimulatorError(400, 'lbId must be a load balancer id');
  return n;
}
