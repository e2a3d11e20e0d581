import type { Secret } from './secret.js';

/** Per-account API limits. */
export interface AccountLimits {
  /** API requests in flight at once for one account. Default 4. */
  readonly concurrency: number;
  /** API requests per second for one account (all its zones together). Default 5. */
  readonly requestsPerSecond: number;
  /** LB series (all zones) above which the account's LB series are dropped for the cycle; 0 = no cap. Default 0. */
  readonly maxSeries: number;
}

export interface Limits extends AccountLimits {
  /** API requests per second per zone, across all accounts and worker threads. Default 50. */
  readonly zoneRequestsPerSecond: number;
}

export interface ZoneConfig {
  readonly name: string;
  /** Base URL of the zone, e.g. https://api.ucloudbiz.olleh.com/d1 (no trailing slash). */
  readonly endpoint: string;
  /** Requests per second for this zone across all accounts; default `limits.zoneRequestsPerSecond`. */
  readonly requestsPerSecond: number;
}

export interface AccountConfig {
  /** The `account` label; unique; [A-Za-z0-9_.-]+. */
  readonly name: string;
  /** The zones to collect; empty when `autoZones` (they are discovered at run time). */
  readonly zones: readonly string[];
  /**
   * `zones: auto`: every known zone is tried and only those where the account has a load
   * balancer are collected (see schedule/discovery.ts). Absent means a fixed list.
   */
  readonly autoZones?: boolean;
  /** CLOUD_ID (Keystone user and project name). */
  readonly id: Secret;
  /** CLOUD_PASSWORD. */
  readonly password: Secret;
  /** Files the credentials were read from; watched for rotation. */
  readonly credentialFiles: readonly string[];
  readonly limits: AccountLimits;
  /** Where the account was defined, for messages: `file:line` or a folder. */
  readonly origin: string;
  /** The account's own `loadBalancers:` filter; absent: the top-level one applies. */
  readonly loadBalancers?: LbFilter;
}

/**
 * Which load balancers are exported, by name: RE2 patterns, each matching the whole name.
 * Empty `include`: every LB. Patterns are kept as text (they cross to the worker threads).
 */
export interface LbFilter {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

export interface MetricsOptions {
  /** Metric names of LB families left out of /metrics, `serverMetrics: false` included. Default none. */
  readonly disable: readonly string[];
  /** false: the per-server families are left out. Default true. */
  readonly serverMetrics: boolean;
}

/** An `accountsDir` folder left out of collection, and why (never a credential). */
export interface NotCollectedAccount {
  /** The account's name, when the folder gave a valid one. */
  readonly name: string | null;
  readonly folder: string;
  readonly problems: readonly string[];
}

export interface ApiOptions {
  /** Deadline for one HTTP request to the API. Default 10s. */
  readonly requestTimeoutMs: number;
  /** Retries of one request on network errors, 5xx, 429 and 503. Default 3. */
  readonly retries: number;
  /** First retry delay; doubles each retry, with jitter. Default 200ms. */
  readonly retryBaseMs: number;
  /** Responses larger than this are refused. Default 64 MiB. */
  readonly maxResponseBytes: number;
}

export interface ExporterConfig {
  /** The file the config came from, or `environment` for the CLOUD_* variables mode. */
  readonly source: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** How often each account is collected. Default 60s. */
  readonly intervalMs: number;
  /** Deadline for one account's collection. Default 45s (capped at the interval). */
  readonly timeoutMs: number;
  /** How long the LB series of a failing account stay before they are removed. Default 3 intervals. */
  readonly staleAfterMs: number;
  /** Spread collections over the interval at a stable offset per account (default), or run all at once. */
  readonly spread: boolean;
  /** Worker threads. Default 2. */
  readonly workers: number;
  /** How often accounts with `zones: auto` look for their zones again. Default 1h. */
  readonly discoveryIntervalMs: number;
  readonly zones: Readonly<Record<string, ZoneConfig>>;
  readonly limits: Limits;
  readonly api: ApiOptions;
  /** Top-level LB filter: every account without its own. Default: no filter. */
  readonly loadBalancers: LbFilter;
  readonly metrics: MetricsOptions;
  readonly accountsDir?: string;
  readonly accounts: readonly AccountConfig[];
  /** Files whose change triggers a reload (the config file itself and every credential file). */
  readonly watchFiles: readonly string[];
  /** `accountsDir` folders that fail alone (each is also a warning); shown on /accounts. */
  readonly notCollected?: readonly NotCollectedAccount[];
  /** Non-fatal findings, e.g. a credential file readable by others. */
  readonly warnings: readonly string[];
}
