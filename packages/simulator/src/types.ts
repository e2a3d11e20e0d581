/**
 * Shapes shared by the simulator: its configuration (the YAML file and the object handed to
 * startSimulator are the same shape), the fault object, and the in-memory data model that
 * tests read for assertions.
 */

/** Commands that faults can be restricted to. `auth` is the Keystone token call. */
export type SimCommand = 'auth' | 'listLoadBalancers' | 'listLoadBalancerWebServers' | (string & {});

/**
 * When a counted fault fires. Each fault keeps its own counter of the calls that match
 * `commands`, so composing faults never shifts another fault's rhythm.
 * - neither `every` nor `first`: every matching call
 * - `every: N`: the Nth, 2Nth, ... matching call
 * - `first: N`: the first N matching calls, then never again (until faults are replaced)
 * - `commands`: restrict to these commands; by default every API call but not `auth`
 */
export interface FaultTrigger {
  every?: number;
  first?: number;
  commands?: SimCommand[];
}

/**
 * Faults of one account (all zones) or one account-zone. Zone faults are merged over account
 * faults key by key. Setting faults replaces the previous object and restarts every counter.
 */
export interface Faults {
  /** Auth answers 401 even with the right password. */
  wrongPassword?: boolean;
  /** The Nth API call made with one token answers 401 and kills that token; a new token works. */
  expireTokenAfterRequests?: number;
  /** Answer with 429/503 and `Retry-After` (omitted when retryAfterSeconds is null). */
  rateLimit?: FaultTrigger & { status?: 429 | 503; retryAfterSeconds?: number | null };
  /** Answer with a 5xx status (default 500). */
  serverError?: FaultTrigger & { status?: number };
  /** Read the request and never answer; the socket stays open until the client or close() ends it. */
  hang?: boolean | FaultTrigger;
  /** Extra latency for this account, on auth and API calls, added to the global latencyMs. */
  slowMs?: number;
  /** HTTP 200 with a truncated JSON body. */
  malformedJson?: boolean | FaultTrigger;
  /** HTTP 200 with `{"<command>response":{"errorcode":N,"errortext":"..."}}`. */
  errorInBody?: FaultTrigger & { errorcode?: number; errortext?: string };
  /** Accepted for documentation's sake: empty lists are always sent as `{}`. */
  emptyAsObject?: boolean;
  /** Every numeric field (ids, ports, figures, count) is sent as a JSON string. */
  numbersAsStrings?: boolean;
  /** LB names are replaced by hostile ones (Korean, quotes, backslashes, newlines, commas). */
  weirdNames?: boolean;
  /** listLoadBalancerWebServers answers HTTP 500 for these LB ids, or for the first `count` LBs. */
  failServerListFor?: number[] | { count: number };
  /** A much larger response: extra LBs in listLoadBalancers, and/or leading JSON whitespace. */
  hugeResponse?: { extraLbs?: number; padBytes?: number; commands?: SimCommand[] };
  // ---- hostile behaviours (what gateways, debugging proxies and broken backends do) ----
  /**
   * An error whose text repeats the credentials: the account id and password, and the token of
   * the request (auth: the name and password it sent), with newlines. `status` 200 (default for
   * API commands) puts it in `<cmd>response.errortext`; 4xx/5xx (default 401 for auth) in a
   * Keystone-style `error.message`. Combined with malformedJson, a 200 body is the bare password (not JSON).
   */
  echoSecrets?: FaultTrigger & { status?: number };
  /** An error text of `bytes` characters (default 5120) with control characters; `status` as echoSecrets. */
  longErrorText?: FaultTrigger & { status?: number; bytes?: number };
  /** Every LB name is `bytes` long (e.g. 1048576). */
  hugeNames?: { bytes: number };
  /** listLoadBalancers sends every LB twice (same id); server lists repeat their first server and add one without ip and port. */
  duplicates?: boolean;
  /** Every LB name is an array nested `depth` levels deep (default 100000). */
  deepNesting?: boolean | { depth?: number };
}

export interface SimServerConfig {
  ipaddress: string;
  publicport?: number | string;
  state?: string;
  cursrvrconnections?: number | string;
  throughputrate?: number | string;
  avgsvrttfb?: number | string;
  requestsrate?: number | string;
  virtualmachineid?: string;
}

export interface SimLoadBalancerConfig {
  loadbalancerid?: number;
  name: string;
  serviceip?: string;
  serviceport?: number | string;
  servicetype?: string;
  loadbalanceroption?: string;
  healthchecktype?: string;
  healthcheckurl?: string;
  state?: string;
  servers?: SimServerConfig[];
}

export interface AccountZoneConfig {
  /** Number of generated LBs (ignored when loadBalancers is given). */
  lbs?: number;
  serversPerLb?: number;
  /** Explicit LBs instead of generated ones. */
  loadBalancers?: SimLoadBalancerConfig[];
  faults?: Faults;
}

export interface AccountConfig {
  /** CLOUD_ID: the Keystone user name and project name. */
  id: string;
  /** CLOUD_PASSWORD. */
  password: string;
  zones?: Record<string, AccountZoneConfig>;
  faults?: Faults;
}

export interface GenerateConfig {
  /** Accounts bench-0000@example.com, ... with password `pw-<index>`. */
  accounts: number;
  /** One zone per account, round-robin over this list (default: all zones). */
  zones?: string[];
  lbsPerAccount?: number;
  serversPerLb?: number;
}

export interface ZoneConfig {
  /** Path prefix of the zone on the API host, e.g. `/d1`. */
  prefix: string;
}

export type LatencyConfig = number | { min: number; max: number };

export interface SimulatorConfig {
  /** `host:port`; port 0 picks a free port. Default 127.0.0.1:0. */
  listen?: string;
  /** Added to every auth and API response. */
  latencyMs?: LatencyConfig;
  tokenTtlSeconds?: number;
  /** Merged over the built-in DX zones (extra zones are added, same names are overridden). */
  zones?: Record<string, ZoneConfig>;
  seed?: number;
  accounts?: AccountConfig[];
  generate?: GenerateConfig;
  /**
   * Server figures drift over time (deterministically from seed, server and time bucket) so
   * demo dashboards are not flat. `sim.data` keeps the base figures. Default off.
   */
  liveFigures?: boolean | { periodSeconds?: number };
  /** Raw request log entries kept (oldest dropped beyond this). Default 4,194,304. */
  statsCapacity?: number;
}

// ---------- data model (what sim.data exposes; treat as read-only) ----------

/**
 * How an object's numeric fields are written: `sample` like the documented sample (ports as
 * strings, the rest numbers), `numbers` all numbers, `strings` all strings.
 */
export type NumberStyle = 'sample' | 'numbers' | 'strings';

export interface SimServer {
  serviceid: number;
  loadbalancerid: number;
  virtualmachineid: string;
  ipaddress: string;
  publicport: number;
  state: string;
  cursrvrconnections: number;
  throughputrate: number;
  avgsvrttfb: number;
  requestsrate: number;
  numberStyle: NumberStyle;
}

export interface SimLoadBalancer {
  loadbalancerid: number;
  name: string;
  serviceip: string;
  serviceport: number;
  servicetype: string;
  loadbalanceroption: string;
  healthchecktype: string;
  healthcheckurl: string;
  establishedconn: number;
  ciphergroupname: string;
  networkid: string;
  state: string;
  zoneid: string;
  zonename: string;
  tag: string;
  certificatename: string;
  tlsv1: string;
  tlsv11: string;
  tlsv12: string;
  clientIpYn: string;
  numberStyle: NumberStyle;
  servers: SimServer[];
}

export interface SimZone {
  name: string;
  prefix: string;
  zoneid: string;
}

export interface SimAccountZone {
  zone: string;
  /** False for zones the account can authenticate in but has no data for (empty lists). */
  configured: boolean;
  loadBalancers: SimLoadBalancer[];
  faults: Faults;
}

export interface SimAccount {
  id: string;
  password: string;
  projectId: string;
  faults: Faults;
  /** Every known zone has an entry; see `configured`. */
  zones: Record<string, SimAccountZone>;
}

export interface SimData {
  seed: number;
  zones: Record<string, SimZone>;
  accounts: SimAccount[];
}
