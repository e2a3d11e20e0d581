/**
 * Every metric family the exporter publishes, declared once as data.
 *
 * The first block keeps the names and labels of the original single-account Python exporter
 * (so existing dashboards keep working) with `account` added as the first label. Label order
 * here is the order in the exposition.
 */
export type FamilyType = 'gauge' | 'counter';

export interface FamilyDef {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  readonly labels: readonly string[];
}

const SERVER_LABELS = ['account', 'zone', 'lb_id', 'lb_name', 'server_ip', 'server_port'] as const;

/** Families rendered by a worker from one account-zone's collection (the "snapshot" families). */
export const LB_FAMILIES = {
  lbTotal: {
    name: 'ktcloud_lb_total_count',
    help: 'Total number of load balancers in this account and zone.',
    type: 'gauge',
    labels: ['account', 'zone'],
  },
  lbInfo: {
    name: 'ktcloud_lb_info',
    help: 'Load balancer information (value: 1=UP, 0=any other state).',
    type: 'gauge',
    labels: ['account', 'zone', 'lb_id', 'lb_name', 'service_ip', 'service_port', 'service_type', 'lb_option', 'healthcheck_type'],
  },
  lbServerCount: {
    name: 'ktcloud_lb_server_count',
    help: 'Number of servers attached to the load balancer.',
    type: 'gauge',
    labels: ['account', 'zone', 'lb_id', 'lb_name'],
  },
  lbServerState: {
    name: 'ktcloud_lb_server_state',
    help: 'Server state in the load balancer (1=UP, 0=any other state).',
    type: 'gauge',
    labels: SERVER_LABELS,
  },
  serverConnections: {
    name: 'ktcloud_server_current_connections',
    help: 'Current number of connections to the server.',
    type: 'gauge',
    labels: SERVER_LABELS,
  },
  serverThroughput: {
    name: 'ktcloud_server_throughput_rate_kbps',
    help: 'Server throughput rate in KB/s.',
    type: 'gauge',
    labels: SERVER_LABELS,
  },
  serverTtfb: {
    name: 'ktcloud_server_avg_ttfb_ms',
    help: 'Average server time to first byte in milliseconds.',
    type: 'gauge',
    labels: SERVER_LABELS,
  },
  serverRequests: {
    name: 'ktcloud_server_requests_rate_per_sec',
    help: 'Server requests rate per second.',
    type: 'gauge',
    labels: SERVER_LABELS,
  },
  serviceTypeCount: {
    name: 'ktcloud_lb_service_type_count',
    help: 'Number of load balancers by service type.',
    type: 'gauge',
    labels: ['account', 'zone', 'service_type'],
  },
} as const satisfies Record<string, FamilyDef>;

export type LbFamilyKey = keyof typeof LB_FAMILIES;
/** Fixed order of the snapshot families: workers render chunks in this order, the merger reads them in it. */
export const LB_FAMILY_ORDER: readonly LbFamilyKey[] = Object.keys(LB_FAMILIES) as LbFamilyKey[];

/**
 * `metrics.disable` accepts these names: the LB families only. The account health families are
 * how failures show, so they cannot be turned off.
 */
export const DISABLEABLE_FAMILIES: readonly string[] = LB_FAMILY_ORDER.map((k) => LB_FAMILIES[k].name);
/** One series per server: what `metrics.serverMetrics: false` turns off. */
export const PER_SERVER_KEYS = ['lbServerState', 'serverConnections', 'serverThroughput', 'serverTtfb', 'serverRequests'] as const satisfies readonly LbFamilyKey[];
export const PER_SERVER_FAMILIES: readonly string[] = PER_SERVER_KEYS.map((k) => LB_FAMILIES[k].name);
/** Families made from an LB's server list: while all are off, server lists are not fetched. */
export const SERVER_LIST_FAMILIES: readonly string[] = [LB_FAMILIES.lbServerCount.name, ...PER_SERVER_FAMILIES];

/** Families the main thread owns: account health and the exporter's own state. */
export const HEALTH_FAMILIES = {
  accountUp: {
    name: 'ktcloud_account_up',
    help: '1 when the last collection of this account and zone succeeded, else 0.',
    type: 'gauge',
    labels: ['account', 'zone'],
  },
  accountLastSuccess: {
    name: 'ktcloud_account_last_success_timestamp_seconds',
    help: 'Unix time of the last successful collection of this account and zone.',
    type: 'gauge',
    labels: ['account', 'zone'],
  },
  accountDuration: {
    name: 'ktcloud_account_collection_duration_seconds',
    help: 'Wall time of the last collection attempt of this account and zone.',
    type: 'gauge',
    labels: ['account', 'zone'],
  },
  accountPartial: {
    name: 'ktcloud_account_collection_partial',
    help: '1 when the last collection succeeded only in part (some load balancers\' server lists failed), else 0.',
    type: 'gauge',
    labels: ['account', 'zone'],
  },
  accountErrors: {
    name: 'ktcloud_account_collection_errors_total',
    help: 'Failed collections by reason (auth, rate_limited, timeout, bad_response, api_error, network, internal, too_many_series).',
    type: 'counter',
    labels: ['account', 'zone', 'reason'],
  },
  apiRequests: {
    name: 'ktcloud_api_requests_total',
    help: 'KT Cloud API requests by command and HTTP status code (code="error" when no response arrived).',
    type: 'counter',
    labels: ['account', 'zone', 'command', 'code'],
  },
  // Compatibility with the original exporter's own-state metrics.
  scrapeDuration: {
    name: 'ktcloud_lb_scrape_duration_seconds',
    help: 'Time spent collecting KT Cloud LB metrics in the last successful collection (original exporter name).',
    type: 'gauge',
    labels: ['account', 'zone'],
  },
  lastScrape: {
    name: 'ktcloud_lb_last_scrape_timestamp',
    help: 'Unix time of the last successful collection (original exporter name).',
    type: 'gauge',
    labels: ['account', 'zone'],
  },
  atomicUpdates: {
    name: 'ktcloud_lb_atomic_updates_total',
    help: 'Number of snapshots of this account swapped into the served registry.',
    type: 'counter',
    labels: ['account', 'zone'],
  },
  updateConflicts: {
    name: 'ktcloud_lb_update_conflicts_total',
    help: 'Scrapes that met a half-applied update. Always 0: snapshots are swapped atomically (kept for compatibility).',
    type: 'counter',
    labels: [],
  },
  exporterInfo: {
    name: 'ktcloud_lb_exporter_info',
    help: 'KT Cloud Load Balancer Exporter information.',
    type: 'gauge',
    labels: ['version', 'port', 'scrape_interval', 'data_source'],
  },
  reloadSuccessful: {
    name: 'ktcloud_exporter_config_last_reload_successful',
    help: '1 when the last configuration (re)load succeeded, else 0.',
    type: 'gauge',
    labels: [],
  },
  reloadTimestamp: {
    name: 'ktcloud_exporter_config_last_reload_success_timestamp_seconds',
    help: 'Unix time of the last successful configuration (re)load.',
    type: 'gauge',
    labels: [],
  },
  shardInfo: {
    name: 'ktcloud_exporter_shard_info',
    help: 'The shard this replica is and how many shards there are.',
    type: 'gauge',
    labels: ['shard', 'total_shards'],
  },
  ownedAccounts: {
    name: 'ktcloud_exporter_owned_accounts',
    help: 'Number of accounts this replica owns and collects.',
    type: 'gauge',
    labels: [],
  },
  // Hostile answers and the pool's own health.
  labelValuesTruncated: {
    name: 'ktcloud_exporter_label_values_truncated_total',
    help: 'Label values from the API cut to 256 bytes (marked "…[truncated]"), counted once per value and collection.',
    type: 'counter',
    labels: ['account', 'zone'],
  },
  duplicatesDropped: {
    name: 'ktcloud_account_duplicates_dropped_total',
    help: 'Items dropped so that no series repeats, by kind: lb (same id), server (same ip and port in one LB), server_without_address.',
    type: 'counter',
    labels: ['account', 'zone', 'kind'],
  },
  workerThreadsReplaced: {
    name: 'ktcloud_exporter_worker_threads_replaced_total',
    help: 'Collector worker threads replaced because they crashed or stopped answering.',
    type: 'counter',
    labels: [],
  },
  tasksRerun: {
    name: 'ktcloud_exporter_tasks_rerun_total',
    help: 'Account collections run again because their worker thread died under them.',
    type: 'counter',
    labels: [],
  },
  // Every replica reads the same config, so the max over replicas minus the accounts they own
  // shows accounts no shard collects (a missing or misnumbered replica), which nothing else does.
  configuredAccounts: {
    name: 'ktcloud_exporter_configured_accounts',
    help: 'Number of accounts in the configuration before sharding (the same on every replica).',
    type: 'gauge',
    labels: [],
  },
  // Build info: the Prometheus convention, so dashboards can show which build runs.
  buildInfo: {
    name: 'ktcloud_exporter_build_info',
    help: 'Always 1; the labels say which build of the exporter runs.',
    type: 'gauge',
    labels: ['version', 'revision', 'nodejs_version'],
  },
  // Scheduling.
  nextAttempt: {
    name: 'ktcloud_account_next_attempt_timestamp_seconds',
    help: 'Unix time of the next collection attempt of this account: its slot, or the end of its backoff while failing (absent while a collection runs).',
    type: 'gauge',
    labels: ['account'],
  },
  // Multi-account controls: what the filters and caps left out, and the API budget.
  lbsFiltered: {
    name: 'ktcloud_account_lbs_filtered',
    help: 'Load balancers left out by the loadBalancers include/exclude filter in the last successful collection.',
    type: 'gauge',
    labels: ['account', 'zone'],
  },
  accountSeries: {
    name: 'ktcloud_account_series',
    help: 'LB series this account has in /metrics now, all zones together (0 while dropped for too_many_series).',
    type: 'gauge',
    labels: ['account'],
  },
  zoneRequestsLimit: {
    name: 'ktcloud_api_zone_requests_per_second_limit',
    help: 'Requests per second this process allows itself to a zone, all accounts together (zones.<name>.requestsPerSecond).',
    type: 'gauge',
    labels: ['zone'],
  },
  // Zone discovery (`zones: auto`): rendered only when some owned account discovers its zones.
  zonesDiscovered: {
    name: 'ktcloud_account_zones_discovered',
    help: 'Zones this zones-auto account is collected in after its last discovery: those with load balancers, and those that could not be checked (0: nothing to collect).',
    type: 'gauge',
    labels: ['account'],
  },
  zonesAuthFailed: {
    name: 'ktcloud_account_zones_auth_failed',
    help: 'Zones where this zones-auto account could not authenticate at its last discovery (all known zones: wrong credentials?).',
    type: 'gauge',
    labels: ['account'],
  },
  lastDiscovery: {
    name: 'ktcloud_account_zones_last_discovery_timestamp_seconds',
    help: 'Unix time the last zone discovery of this zones-auto account ended (absent before the first).',
    type: 'gauge',
    labels: ['account'],
  },
} as const satisfies Record<string, FamilyDef>;

/** The 14 names of the original exporter; dashboards depend on them. */
export const ORIGINAL_METRIC_NAMES = [
  'ktcloud_lb_total_count',
  'ktcloud_lb_info',
  'ktcloud_lb_server_count',
  'ktcloud_lb_server_state',
  'ktcloud_server_current_connections',
  'ktcloud_server_throughput_rate_kbps',
  'ktcloud_server_avg_ttfb_ms',
  'ktcloud_server_requests_rate_per_sec',
  'ktcloud_lb_service_type_count',
  'ktcloud_lb_scrape_duration_seconds',
  'ktcloud_lb_last_scrape_timestamp',
  'ktcloud_lb_update_conflicts_total',
  'ktcloud_lb_atomic_updates_total',
  'ktcloud_lb_exporter_info',
] as const;
