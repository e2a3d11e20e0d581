import { Errors, type ErrorContext } from './errors.js';

/** A load balancer as the exporter needs it; every field normalised to text. */
export interface LoadBalancer {
  readonly id: string;
  readonly name: string;
  readonly serviceIp: string;
  readonly servicePort: string;
  readonly serviceType: string;
  readonly option: string;
  readonly healthcheckType: string;
  /** `UP`, `DOWN`, or whatever other text the API sent (kept, counted as not up). */
  readonly state: string;
}

export interface WebServer {
  readonly ip: string;
  readonly port: string;
  readonly state: string;
  readonly connections: number;
  readonly throughputKbps: number;
  readonly ttfbMs: number;
  readonly requestsPerSec: number;
}

type Json = Record<string, unknown>;

/**
 * The `<command>response` object of an answer, or the error the API put inside an HTTP 200
 * (`errorcode`/`errortext`, or `success: false`).
 */
export function unwrapResponse(body: unknown, command: string, where: ErrorContext | string): Json {
  const c: ErrorContext = { ...(typeof where === 'string' ? { zone: where } : where), command };
  const key = `${command.toLowerCase()}response`;
  const inner = isObject(body) ? body[key] : undefined;
  if (!isObject(inner)) {
    // Key names are foreign text too: cleaned (bounded, redacted) by the catalogue.
    const keys = isObject(body) ? Object.keys(body).slice(0, 3).join(', ') || 'nothing' : typeof body;
    throw Errors.unexpectedShape(c, `answered without "${key}" (got ${keys})`);
  }
  if (inner.errorcode !== undefined || inner.success === false || inner.success === 'false') {
    const t = inner.errortext ?? inner.displaytext;
    throw Errors.apiError(c, toNumber(inner.errorcode), t === undefined || t === null ? 'no error text' : text(t));
  }
  return inner;
}

/** The list under `key`; an absent key is the API's way to say "empty". */
function listOf(inner: Json, key: string, command: string, where: ErrorContext | string): Json[] {
  const v = inner[key];
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.filter(isObject);
  if (isObject(v)) return [v]; // a single element sent without its array
  throw Errors.unexpectedShape({ ...(typeof where === 'string' ? { zone: where } : where), command }, `sent "${key}" as ${typeof v}, not a list,`);
}

export function parseLoadBalancers(body: unknown, zone: ErrorContext | string): LoadBalancer[] {
  const inner = unwrapResponse(body, 'listLoadBalancers', zone);
  return listOf(inner, 'loadbalancer', 'listLoadBalancers', zone).map((lb) => ({
    id: text(lb.loadbalancerid),
    name: text(lb.name),
    serviceIp: text(lb.serviceip),
    servicePort: text(lb.serviceport),
    serviceType: text(lb.servicetype),
    option: text(lb.loadbalanceroption),
    healthcheckType: text(lb.healthchecktype),
    state: text(lb.state),
  }));
}

export function parseWebServers(body: unknown, zone: ErrorContext | string): WebServer[] {
  const inner = unwrapResponse(body, 'listLoadBalancerWebServers', zone);
  return listOf(inner, 'loadbalancerwebserver', 'listLoadBalancerWebServers', zone).map((s) => ({
    ip: text(s.ipaddress),
    port: text(s.publicport),
    state: text(s.state),
    connections: toNumber(s.cursrvrconnections),
    throughputKbps: toNumber(s.throughputrate),
    // One SDK's docstring spells it avgsrvttfb; the API sends avgsvrttfb. Accept both.
    ttfbMs: toNumber(s.avgsvrttfb ?? s.avgsrvttfb),
    requestsPerSec: toNumber(s.requestsrate),
  }));
}

/** Numbers arrive as numbers or as strings; anything unusable is 0, as the original exporter did. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  return 0;
}

/**
 * Scalars as text. An object or array where text belongs is dropped (''), never stringified:
 * String() of a nested array recurses once per level and a hostile answer can overflow the stack.
 */
function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return '';
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
