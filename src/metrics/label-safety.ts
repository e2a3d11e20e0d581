/**
 * What the API sends is turned into label values that cannot amplify or collide: every value is
 * capped at MAX_LABEL_BYTES (a 1 MiB LB name would otherwise be repeated in every series of its
 * LB), and duplicates are dropped, first one wins, so no series appears twice. Both are counted,
 * per account-zone and collection, so that the operator sees that it happened.
 */
import type { LoadBalancer, WebServer } from '../ktcloud/parse.js';

/** Longest label value in bytes (UTF-8), marker included. */
export const MAX_LABEL_BYTES = 256;
export const TRUNCATION_MARKER = '…[truncated]';
const MARKER_BYTES = Buffer.byteLength(TRUNCATION_MARKER);

/**
 * Why an item was dropped: `lb` a load balancer id already seen; `server` an ip:port already seen
 * in the same load balancer; `server_without_address` a server without ip or port (it has no
 * identity: two of them would be the same series).
 */
export const DUPLICATE_KINDS = ['lb', 'server', 'server_without_address'] as const;
export type DuplicateKind = (typeof DUPLICATE_KINDS)[number];

export interface Hygiene {
  labelValuesTruncated: number;
  duplicatesDropped: Record<DuplicateKind, number>;
}

export function newHygiene(): Hygiene {
  return { labelValuesTruncated: 0, duplicatesDropped: { lb: 0, server: 0, server_without_address: 0 } };
}

/** The value, or its longest prefix of whole characters that fits with the marker in MAX_LABEL_BYTES. */
export function capLabel(v: string, h?: Hygiene): string {
  // Fast path: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (v.length * 3 <= MAX_LABEL_BYTES || Buffer.byteLength(v) <= MAX_LABEL_BYTES) return v;
  if (h) h.labelValuesTruncated++;
  const budget = MAX_LABEL_BYTES - MARKER_BYTES;
  let bytes = 0;
  let end = 0;
  for (const ch of v) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > budget) break;
    bytes += n;
    end += ch.length;
  }
  return v.slice(0, end) + TRUNCATION_MARKER;
}

/** Capped load balancers, one per id (first wins). */
export function safeLoadBalancers(lbs: readonly LoadBalancer[], h: Hygiene): LoadBalancer[] {
  const seen = new Set<string>();
  const out: LoadBalancer[] = [];
  for (const lb of lbs) {
    const c: LoadBalancer = {
      id: capLabel(lb.id, h),
      name: capLabel(lb.name, h),
      serviceIp: capLabel(lb.serviceIp, h),
      servicePort: capLabel(lb.servicePort, h),
      serviceType: capLabel(lb.serviceType, h),
      option: capLabel(lb.option, h),
      healthcheckType: capLabel(lb.healthcheckType, h),
      state: lb.state,
    };
    // The raw id is what the API knows the LB by (server lists are asked by it); capped ids decide duplicates.
    if (seen.has(c.id)) {
      h.duplicatesDropped.lb++;
      continue;
    }
    seen.add(c.id);
    out.push(c.id === lb.id ? c : { ...c, id: lb.id });
  }
  return out;
}

/** Capped servers of one load balancer, one per ip:port (first wins), none without an address. */
export function safeServers(servers: readonly WebServer[], h: Hygiene): WebServer[] {
  const seen = new Set<string>();
  const out: WebServer[] = [];
  for (const s of servers) {
    if (s.ip === '' || s.port === '') {
      h.duplicatesDropped.server_without_address++;
      continue;
    }
    const c = { ...s, ip: capLabel(s.ip, h), port: capLabel(s.port, h) };
    const key = `${c.ip}\0${c.port}`;
    if (seen.has(key)) {
      h.duplicatesDropped.server++;
      continue;
    }
    seen.add(key);
    out.push(c);
  }
  return out;
}
