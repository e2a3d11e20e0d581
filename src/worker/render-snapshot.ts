/**
 * Renders one account-zone's load balancers into exposition lines, in the worker thread, so
 * that the main thread only concatenates bytes. Output order is LB_FAMILY_ORDER.
 */
import type { LoadBalancer, WebServer } from '../ktcloud/parse.js';
import type { Snapshot } from '../protocol.js';
import { LB_FAMILIES as F, LB_FAMILY_ORDER, PER_SERVER_KEYS, type LbFamilyKey } from '../metrics/families.js';
import { capLabel } from '../metrics/label-safety.js';
import { escapeLabelValue as esc, formatValue } from '../metrics/text.js';

const NONE: ReadonlySet<string> = new Set();

export interface LbWithServers {
  readonly lb: LoadBalancer;
  /** null when the server list could not be read: the LB is exported without server series. */
  readonly servers: readonly WebServer[] | null;
}

/**
 * @param disabled metric names of families left out (`metrics.disable`): their lines are not
 * rendered and not counted in `series`.
 */
export function renderSnapshot(account: string, zone: string, items: readonly LbWithServers[], disabled: ReadonlySet<string> = NONE): Snapshot {
  const out: Record<LbFamilyKey, string> = Object.fromEntries(LB_FAMILY_ORDER.map((k) => [k, ''])) as Record<LbFamilyKey, string>;
  const on = Object.fromEntries(LB_FAMILY_ORDER.map((k) => [k, !disabled.has(F[k].name)])) as Record<LbFamilyKey, boolean>;
  const perServer = PER_SERVER_KEYS.filter((k) => on[k]).length;
  const base = `account="${esc(account)}",zone="${esc(zone)}"`;
  const serviceTypes = new Map<string, number>();
  let series = 0;

  if (on.lbTotal) {
    out.lbTotal = `${F.lbTotal.name}{${base}} ${items.length}\n`;
    series++;
  }
  for (const { lb, servers } of items) {
    serviceTypes.set(lb.serviceType, (serviceTypes.get(lb.serviceType) ?? 0) + 1);
    // The id is kept whole for the API (server lists are asked by it) and capped here, like every other value.
    const lbLabels = `${base},lb_id="${esc(capLabel(lb.id))}",lb_name="${esc(lb.name)}"`;
    if (on.lbInfo) {
      out.lbInfo += `${F.lbInfo.name}{${lbLabels},service_ip="${esc(lb.serviceIp)}",service_port="${esc(lb.servicePort)}",service_type="${esc(lb.serviceType)}",lb_option="${esc(lb.option)}",healthcheck_type="${esc(lb.healthcheckType)}"} ${lb.state === 'UP' ? 1 : 0}\n`;
      series++;
    }
    if (servers === null) continue;
    if (on.lbServerCount) {
      out.lbServerCount += `${F.lbServerCount.name}{${lbLabels}} ${servers.length}\n`;
      series++;
    }
    if (perServer === 0) continue;
    for (const s of servers) {
      const l = `{${lbLabels},server_ip="${esc(s.ip)}",server_port="${esc(s.port)}"} `;
      if (on.lbServerState) out.lbServerState += `${F.lbServerState.name}${l}${s.state === 'UP' ? 1 : 0}\n`;
      if (on.serverConnections) out.serverConnections += `${F.serverConnections.name}${l}${formatValue(s.connections)}\n`;
      if (on.serverThroughput) out.serverThroughput += `${F.serverThroughput.name}${l}${formatValue(s.throughputKbps)}\n`;
      if (on.serverTtfb) out.serverTtfb += `${F.serverTtfb.name}${l}${formatValue(s.ttfbMs)}\n`;
      if (on.serverRequests) out.serverRequests += `${F.serverRequests.name}${l}${formatValue(s.requestsPerSec)}\n`;
      series += perServer;
    }
  }
  if (on.serviceTypeCount) {
    for (const [type, count] of serviceTypes) {
      out.serviceTypeCount += `${F.serviceTypeCount.name}{${base},service_type="${esc(type)}"} ${count}\n`;
      series++;
    }
  }

  const parts = LB_FAMILY_ORDER.map((k) => out[k]);
  const offsets = [0];
  for (const p of parts) offsets.push(offsets[offsets.length - 1]! + Buffer.byteLength(p));
  const buf = Buffer.allocUnsafeSlow(offsets[offsets.length - 1]!);
  let at = 0;
  for (const p of parts) at += buf.write(p, at);
  return { text: new Uint8Array(buf.buffer, buf.byteOffset, buf.length), offsets, series };
}
