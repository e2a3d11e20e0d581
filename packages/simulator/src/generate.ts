/**
 * Builds the simulator's data set from a normalized config. Everything is a pure function of
 * the config and its seed: same config, same data (ids, names, states, figures).
 */
import type { NormalizedConfig } from './config.js';
import { Rng, hash32, streamSeed } from './rng.js';
import type {
  NumberStyle,
  SimAccount,
  SimAccountZone,
  SimData,
  SimLoadBalancer,
  SimLoadBalancerConfig,
  SimServer,
  SimServerConfig,
  SimZone,
} from './types.js';

const NAME_STEMS = ['web', 'api', 'app', 'img', 'cdn', 'auth', 'batch', 'mail', 'search', 'ws'] as const;
const OPTIONS = ['ROUNDROBIN', 'LEASTCONNECTION', 'SOURCEIPHASH'] as const;
const PORTS: Record<string, readonly number[]> = {
  HTTP: [80, 80, 80, 8080],
  HTTPS: [443, 443, 8443],
  TCP: [3306, 5432, 6379, 9000, 22, 25],
};

/** Ids are allocated zone by zone in config order, skipping ids that explicit LBs claim. */
class IdAllocator {
  private next: number;
  constructor(start: number, private readonly taken: Set<number>) {
    this.next = start;
  }
  take(): number {
    while (this.taken.has(this.next)) this.next++;
    return this.next++;
  }
}

function pickStyle(rng: Rng): NumberStyle {
  const r = rng.next();
  return r < 0.6 ? 'sample' : r < 0.8 ? 'numbers' : 'strings';
}

function num(v: number | string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

interface Counters {
  lbIds: IdAllocator;
  serviceIds: IdAllocator;
  lbSeq: number;
  serverSeq: number;
}

function zoneUuid(seed: number, zone: string): string {
  return new Rng(streamSeed(seed, 'zone', zone)).uuid();
}

function generatedServer(rng: Rng, c: Counters, lb: SimLoadBalancer, lbDown: boolean): SimServer {
  const n = c.serverSeq++;
  const up = lbDown ? rng.chance(0.15) : rng.chance(0.92);
  return {
    serviceid: c.serviceIds.take(),
    loadbalancerid: lb.loadbalancerid,
    virtualmachineid: rng.uuid(),
    ipaddress: `172.25.${100 + (Math.floor(n / 250) % 150)}.${2 + (n % 250)}`,
    publicport: lb.servicetype === 'TCP' ? lb.serviceport : rng.pick([80, 8080, 8000]),
    state: up ? 'UP' : 'DOWN',
    cursrvrconnections: up ? rng.int(0, 250) : 0,
    throughputrate: up ? rng.int(0, 8000) : 0,
    avgsvrttfb: up ? rng.int(1, 400) : 0,
    requestsrate: up ? rng.int(0, 1500) : 0,
    numberStyle: pickStyle(rng),
  };
}

function baseLb(zone: SimZone, id: number, name: string): SimLoadBalancer {
  return {
    loadbalancerid: id,
    name,
    serviceip: '',
    serviceport: 80,
    servicetype: 'HTTP',
    loadbalanceroption: 'ROUNDROBIN',
    healthchecktype: 'http',
    healthcheckurl: '/',
    establishedconn: 0,
    ciphergroupname: '',
    networkid: '',
    state: 'UP',
    zoneid: zone.zoneid,
    zonename: zone.name,
    tag: '',
    certificatename: '',
    tlsv1: 'N',
    tlsv11: 'N',
    tlsv12: 'N',
    clientIpYn: 'N',
    numberStyle: 'sample',
    servers: [],
  };
}

/** One generated LB; `index` is its position in the account-zone (drives the name). */
export function generateLb(rng: Rng, c: Counters, zone: SimZone, index: number, servers: number, id?: number): SimLoadBalancer {
  const n = c.lbSeq++;
  const stem = rng.pick(NAME_STEMS);
  const lb = baseLb(zone, id ?? c.lbIds.take(), `${stem}-lb-${String(index + 1).padStart(3, '0')}`);
  const r = rng.next();
  lb.servicetype = r < 0.5 ? 'HTTP' : r < 0.8 ? 'HTTPS' : 'TCP';
  lb.serviceport = rng.pick(PORTS[lb.servicetype] ?? [80]);
  lb.serviceip = `172.25.${Math.floor(n / 250) % 100}.${2 + (n % 250)}`;
  lb.loadbalanceroption = rng.pick(OPTIONS);
  lb.healthchecktype = lb.servicetype === 'TCP' || rng.chance(0.2) ? 'tcp' : 'http';
  lb.healthcheckurl = lb.healthchecktype === 'http' ? rng.pick(['/', '/health', '/healthz', '/status']) : '';
  lb.networkid = rng.uuid();
  lb.state = rng.chance(0.9) ? 'UP' : 'DOWN';
  lb.tag = rng.pick(['', '', 'prod', 'dev', 'staging']);
  if (lb.servicetype === 'HTTPS') {
    lb.ciphergroupname = 'Default';
    lb.certificatename = `cert-${stem}-${index + 1}`;
    lb.tlsv12 = 'Y';
    lb.tlsv11 = rng.chance(0.3) ? 'Y' : 'N';
  }
  lb.clientIpYn = rng.chance(0.5) ? 'Y' : 'N';
  lb.numberStyle = pickStyle(rng);
  for (let s = 0; s < servers; s++) lb.servers.push(generatedServer(rng, c, lb, lb.state !== 'UP'));
  lb.establishedconn = lb.servers.reduce((sum, s) => sum + s.cursrvrconnections, 0);
  return lb;
}

function explicitServer(cfg: SimServerConfig, c: Counters, lb: SimLoadBalancer, rng: Rng): SimServer {
  return {
    serviceid: c.serviceIds.take(),
    loadbalancerid: lb.loadbalancerid,
    virtualmachineid: cfg.virtualmachineid ?? rng.uuid(),
    ipaddress: cfg.ipaddress,
    publicport: num(cfg.publicport, lb.serviceport),
    state: cfg.state ?? 'UP',
    cursrvrconnections: num(cfg.cursrvrconnections, 0),
    throughputrate: num(cfg.throughputrate, 0),
    avgsvrttfb: num(cfg.avgsvrttfb, 0),
    requestsrate: num(cfg.requestsrate, 0),
    numberStyle: 'sample',
  };
}

function explicitLb(cfg: SimLoadBalancerConfig, c: Counters, zone: SimZone, rng: Rng): SimLoadBalancer {
  const n = c.lbSeq++;
  const lb = baseLb(zone, cfg.loadbalancerid ?? c.lbIds.take(), cfg.name);
  lb.serviceip = cfg.serviceip ?? `172.25.${Math.floor(n / 250) % 100}.${2 + (n % 250)}`;
  lb.serviceport = num(cfg.serviceport, 80);
  lb.servicetype = cfg.servicetype ?? 'HTTP';
  lb.loadbalanceroption = cfg.loadbalanceroption ?? 'ROUNDROBIN';
  lb.healthchecktype = cfg.healthchecktype ?? (lb.servicetype === 'TCP' ? 'tcp' : 'http');
  lb.healthcheckurl = cfg.healthcheckurl ?? (lb.healthchecktype === 'http' ? '/' : '');
  lb.state = cfg.state ?? 'UP';
  lb.networkid = rng.uuid();
  lb.servers = (cfg.servers ?? []).map((s) => explicitServer(s, c, lb, rng));
  lb.establishedconn = lb.servers.reduce((sum, s) => sum + s.cursrvrconnections, 0);
  return lb;
}

/** Builds the whole data set. Throws on explicit LB id clashes within a zone. */
export function buildData(cfg: NormalizedConfig): SimData {
  const zones: Record<string, SimZone> = {};
  for (const [name, z] of Object.entries(cfg.zones)) zones[name] = { name, prefix: z.prefix, zoneid: zoneUuid(cfg.seed, name) };

  // Explicit ids are reserved first so generated ids never collide with them.
  const taken = new Set<number>();
  for (const zone of Object.keys(zones)) {
    const inZone = new Set<number>();
    for (const a of cfg.accounts) {
      for (const lb of a.zones[zone]?.loadBalancers ?? []) {
        if (lb.loadbalancerid === undefined) continue;
        if (inZone.has(lb.loadbalancerid)) throw new Error(`simulator config: loadbalancerid ${lb.loadbalancerid} used twice in zone ${zone}`);
        inZone.add(lb.loadbalancerid);
        taken.add(lb.loadbalancerid);
      }
    }
  }
  const c: Counters = { lbIds: new IdAllocator(40001, taken), serviceIds: new IdAllocator(260001, new Set()), lbSeq: 0, serverSeq: 0 };

  const accounts: SimAccount[] = cfg.accounts.map((a) => ({
    id: a.id,
    password: a.password,
    projectId: new Rng(hash32(a.id, 0x5eed)).uuid().replace(/-/g, ''),
    faults: a.faults,
    zones: {},
  }));
  // Zone-major order keeps ids of one zone contiguous, like a real region's sequence.
  for (const zone of Object.values(zones)) {
    cfg.accounts.forEach((a, i) => {
      const zc = a.zones[zone.name];
      const az: SimAccountZone = { zone: zone.name, configured: zc !== undefined, loadBalancers: [], faults: zc?.faults ?? {} };
      if (zc) {
        const rng = new Rng(streamSeed(cfg.seed, a.id, zone.name));
        if (zc.loadBalancers) az.loadBalancers = zc.loadBalancers.map((lb) => explicitLb(lb, c, zone, rng));
        else for (let k = 0; k < zc.lbs; k++) az.loadBalancers.push(generateLb(rng, c, zone, k, zc.serversPerLb));
      }
      (accounts[i] as SimAccount).zones[zone.name] = az;
    });
  }
  return { seed: cfg.seed, zones, accounts };
}

/**
 * Extra LBs for the hugeResponse fault: deterministic, ids far above generated ones, and no
 * servers (their web-server list is the empty-object quirk).
 */
export function extraLbs(seed: number, accountIndex: number, accountId: string, zone: SimZone, count: number): SimLoadBalancer[] {
  const rng = new Rng(streamSeed(seed, 'huge', accountId, zone.name));
  const c: Counters = { lbIds: new IdAllocator(1_000_000_000 + accountIndex * 1_000_000, new Set()), serviceIds: new IdAllocator(0, new Set()), lbSeq: 0, serverSeq: 0 };
  const out: SimLoadBalancer[] = [];
  for (let k = 0; k < count; k++) {
    const lb = generateLb(rng, c, zone, k, 0);
    lb.name = `bulk-${lb.name}-${k + 1}`;
    out.push(lb);
  }
  return out;
}
