/**
 * Turns the data model into the exact JSON shapes of the KT Cloud API, including its quirks:
 * numbers as numbers or strings depending on the object, empty lists as `{}`, and errors
 * inside HTTP 200 bodies.
 */
import { hash32 } from './rng.js';
import type { NumberStyle, SimLoadBalancer, SimServer } from './types.js';

export interface ServeOptions {
  /** numbersAsStrings fault: every numeric field and `count` as a string. */
  allStrings: boolean;
  weirdNames: boolean;
  /** hugeNames fault: every LB name this many bytes. */
  hugeNameBytes?: number;
  /** deepNesting fault: every LB name an array nested this deep. */
  deepNameDepth?: number;
  /** duplicates fault. */
  duplicates?: boolean;
  /** liveFigures: scale server figures by a factor fixed per (server, time bucket). */
  live?: { seed: number; bucket: number };
}

/** Port fields are the ones the documented sample sends as strings. */
type NumKind = 'port' | 'other';

function enc(v: number, style: NumberStyle, kind: NumKind, opts: ServeOptions): number | string {
  if (opts.allStrings || style === 'strings') return String(v);
  if (style === 'sample' && kind === 'port') return String(v);
  return v;
}

const WEIRD_TEMPLATES: ReadonlyArray<(id: number) => string> = [
  (id) => `웹 "LB" \\ new\nline, ${id}`,
  (id) => `결제 서버 '운영' ${id}`,
  (id) => `tab\there, "quoted", ${id}`,
  (id) => `back\\slash\\\\ {label="x"} ${id}`,
  (id) => ` spaces around ${id} `,
  (id) => `line1\r\nline2; a=b, 한글 ${id}`,
  (id) => `emoji 🚀 & <b>html</b> ${id}`,
];

/** The name served for an LB under the weirdNames fault (unique per LB id). */
export function weirdLbName(lb: Pick<SimLoadBalancer, 'loadbalancerid'>): string {
  const t = WEIRD_TEMPLATES[lb.loadbalancerid % WEIRD_TEMPLATES.length] as (id: number) => string;
  return t(lb.loadbalancerid);
}

export function lbObject(lb: SimLoadBalancer, opts: ServeOptions): Record<string, unknown> {
  const st = lb.numberStyle;
  return {
    loadbalancerid: enc(lb.loadbalancerid, st, 'other', opts),
    name: opts.deepNameDepth ? DEEP_MARK : opts.hugeNameBytes ? hugeName(lb.name, opts.hugeNameBytes) : opts.weirdNames ? weirdLbName(lb) : lb.name,
    serviceip: lb.serviceip,
    serviceport: enc(lb.serviceport, st, 'port', opts),
    servicetype: lb.servicetype,
    loadbalanceroption: lb.loadbalanceroption,
    healthchecktype: lb.healthchecktype,
    healthcheckurl: lb.healthcheckurl,
    establishedconn: enc(lb.establishedconn, st, 'other', opts),
    ciphergroupname: lb.ciphergroupname,
    networkid: lb.networkid,
    state: lb.state,
    zoneid: lb.zoneid,
    zonename: lb.zonename,
    tag: lb.tag,
    certificatename: lb.certificatename,
    tlsv1: lb.tlsv1,
    tlsv11: lb.tlsv11,
    tlsv12: lb.tlsv12,
    clientIpYn: lb.clientIpYn,
  };
}

function liveFactor(seed: number, serviceid: number, bucket: number): number {
  return 0.6 + (0.8 * hash32(`${serviceid}:${bucket}`, seed)) / 4294967296;
}

export function serverObject(s: SimServer, opts: ServeOptions): Record<string, unknown> {
  const st = s.numberStyle;
  const f = opts.live ? liveFactor(opts.live.seed, s.serviceid, opts.live.bucket) : 1;
  const fig = (v: number) => enc(f === 1 ? v : Math.round(v * f), st, 'other', opts);
  return {
    serviceid: enc(s.serviceid, st, 'other', opts),
    loadbalancerid: enc(s.loadbalancerid, st, 'other', opts),
    virtualmachineid: s.virtualmachineid,
    ipaddress: s.ipaddress,
    publicport: enc(s.publicport, st, 'port', opts),
    state: s.state,
    cursrvrconnections: fig(s.cursrvrconnections),
    throughputrate: fig(s.throughputrate),
    avgsvrttfb: fig(s.avgsvrttfb),
    requestsrate: fig(s.requestsrate),
  };
}

function count(n: number, opts: ServeOptions): number | string {
  return opts.allStrings ? String(n) : n;
}

/** Stands for the nested name in the object; replaced in the JSON text (JSON.stringify would recurse 100k deep). */
const DEEP_MARK = '__sim_deep_nesting__';

function hugeName(name: string, bytes: number): string {
  return name.length >= bytes ? name.slice(0, bytes) : name + 'n'.repeat(bytes - name.length);
}

/** `{"listloadbalancersresponse":{...}}`; an empty list is `{}` with no count (the real quirk). */
export function listLbsBody(lbs: readonly SimLoadBalancer[], opts: ServeOptions): string {
  if (lbs.length === 0) return '{"listloadbalancersresponse":{}}';
  const served = opts.duplicates ? lbs.concat(lbs) : lbs;
  const json = JSON.stringify({
    listloadbalancersresponse: { count: count(served.length, opts), loadbalancer: served.map((lb) => lbObject(lb, opts)) },
  });
  if (!opts.deepNameDepth) return json;
  const d = opts.deepNameDepth;
  return json.split(`"${DEEP_MARK}"`).join('['.repeat(d) + ']'.repeat(d));
}

export function webServersBody(servers: readonly SimServer[], opts: ServeOptions): string {
  if (servers.length === 0) return '{"listloadbalancerwebserversresponse":{}}';
  const list = servers.map((s) => serverObject(s, opts));
  if (opts.duplicates) {
    // The first server again, and one with no address at all.
    const { ipaddress: _ip, publicport: _port, ...anonymous } = list[0]!;
    list.push({ ...list[0]! }, anonymous);
  }
  return JSON.stringify({
    listloadbalancerwebserversresponse: { count: count(list.length, opts), loadbalancerwebserver: list },
  });
}

/** CloudStack-style error carried inside an HTTP 200 (or a 5xx) body. */
export function commandErrorBody(command: string, errorcode: number, errortext: string): string {
  return JSON.stringify({ [`${command.toLowerCase()}response`]: { errorcode, errortext } });
}

/**
 * The echoSecrets fault's text: what a debugging gateway prints, credentials and token included,
 * over several lines.
 */
export function echoedSecretsText(secrets: { id: string; password: string; token?: string }): string {
  return `request rejected by gateway\r\n  user=${secrets.id}\n  password=${secrets.password}\n  X-Auth-Token: ${secrets.token ?? '(none)'}\n  query: name=${encodeURIComponent(secrets.id)}`;
}

/** The longErrorText fault's text: `bytes` characters with newlines, tabs and control characters. */
export function longErrorText(bytes: number): string {
  const unit = 'backend trace line\n\tat frame \u0007\u001b[31m ';
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

/** Keystone-style error body used for 401 (and 400 on malformed auth requests). */
export function keystoneErrorBody(code: number, title: string, message: string): string {
  return JSON.stringify({ error: { code, title, message } });
}

export const UNAUTHORIZED_BODY = keystoneErrorBody(401, 'Unauthorized', 'The request you have made requires authentication.');

/** Cuts a JSON text so it cannot parse: mid-way, never at a point where it is still complete. */
export function truncateJson(body: string): string {
  const cut = Math.max(1, Math.floor(body.length / 2));
  return body.slice(0, Math.min(cut, body.length - 1));
}
