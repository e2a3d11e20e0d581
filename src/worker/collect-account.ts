/**
 * One account's collection, as it runs inside a worker thread: every zone in parallel, each
 * zone's load balancers and their server lists under the account's concurrency and both pacers.
 * Failures come back as data per zone; nothing here throws past `collectAccount`.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { Dispatcher } from 'undici';
import { ZoneClient } from '../ktcloud/client.js';
import { cleanText, KtCloudError, toErrorInfo, type ErrorInfo } from '../ktcloud/errors.js';
import { SharedPacer } from '../ktcloud/pacer.js';
import type { Priority } from '../ktcloud/zone-gate.js';
import { watchAbortFlag } from './abort-watch.js';
import type { LoadBalancer } from '../ktcloud/parse.js';
import { newHygiene, safeLoadBalancers, safeServers } from '../metrics/label-safety.js';
import { renderSnapshot, type LbWithServers } from './render-snapshot.js';
import { SERVER_LIST_FAMILIES } from '../metrics/families.js';
import type { LbFilter } from '../config/types.js';
import type { LbNameTest } from '../config/lb-filter.js';
import type { WorkerLog } from './log.js';
import { capSeries } from './series-cap.js';
import type { CollectResult, CollectTask, ZoneOutcome, ZoneTask } from '../protocol.js';

/** Collections started in this thread, to order those with the same deadline. */
let collections = 0;

export async function collectAccount(task: CollectTask, deadlineMs: number, dispatcher: Dispatcher, log: WorkerLog): Promise<CollectResult> {
  // The deadline, or the main thread cancelling the collection: either stops every wait and request.
  // One controller with our own timer: AbortSignal.any() holds its sources weakly, and a bare
  // AbortSignal.timeout() inside it can be garbage-collected and never fire.
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new DOMException('collection deadline exceeded', 'TimeoutError')), Math.max(0, deadlineMs - Date.now()));
  const release = watchAbortFlag(task.abort, stop);
  const deadline = stop.signal;
  try {
    const limit = pLimit(task.concurrency);
    const accountPacer = new SharedPacer(task.accountPacer, task.requestsPerSecond);
    const disabled = new Set(task.disabledFamilies ?? []);
    const controls: Controls = {
      keep: await nameTest(task.lbFilter),
      disabled,
      // Server lists cost one request per LB: asked only while a family made from them is on.
      fetchServers: SERVER_LIST_FAMILIES.some((n) => !disabled.has(n)),
    };
    // The account's place in each zone's order (see ktcloud/zone-gate.ts), shared by its zones.
    const priority: Priority = { deadlineMs, seq: ++collections, msPerRequest: 1000 / task.requestsPerSecond, remaining: 0 };
    const zones = await Promise.all(task.zones.map((z) => collectZone(task, z, { dispatcher, limit, accountPacer, priority, deadline, deadlineMs, log: log.child({ zone: z.zone }), controls })));
    return { account: task.account, zones: capSeries(task, zones) };
  } finally {
    clearTimeout(timer);
    release();
  }
}

interface ZoneDeps {
  readonly dispatcher: Dispatcher;
  readonly limit: LimitFunction;
  readonly accountPacer: SharedPacer;
  readonly priority: Priority;
  readonly deadline: AbortSignal;
  readonly deadlineMs: number;
  readonly log: WorkerLog;
  readonly controls: Controls;
}

/** The operator's choices of what to export (loadBalancers filter, metrics.disable). */
interface Controls {
  readonly keep: LbNameTest;
  readonly disabled: ReadonlySet<string>;
  readonly fetchServers: boolean;
}

async function collectZone(task: CollectTask, z: ZoneTask, d: ZoneDeps): Promise<ZoneOutcome> {
  const startedAtMs = Date.now();
  const counts = new Map<string, number>();
  const client = new ZoneClient({
    account: task.account,
    zone: z.zone,
    endpoint: z.endpoint,
    cloudId: task.cloudId,
    password: task.password,
    token: z.token,
    api: task.api,
    dispatcher: d.dispatcher,
    accountPacer: d.accountPacer,
    zonePacer: new SharedPacer(z.pacer, z.requestsPerSecond),
    priority: d.priority,
    limit: d.limit,
    signal: d.deadline,
    deadlineMs: d.deadlineMs,
    onRequest: (command, code) => {
      const key = `${command}\0${code}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      d.log.debug({ command, code }, 'api request');
    },
  });
  const base = () => ({
    zone: z.zone,
    startedAtMs,
    durationMs: Date.now() - startedAtMs,
    requests: [...counts].map(([k, n]) => [...(k.split('\0') as [string, string]), n] as const),
  });

  try {
    const hygiene = newHygiene();
    const listed = safeLoadBalancers(await client.listLoadBalancers(), hygiene);
    // Filtered before any server list is asked for: a left-out LB costs no request. Names are
    // matched as exported (capped at 256 bytes), which also bounds the work of one match.
    const lbs = listed.filter((lb) => d.controls.keep(lb.name));
    // Its server lists (none for left-out LBs, none when no family needs them): work the zone's order weighs.
    if (d.controls.fetchServers) d.priority.remaining += lbs.length;
    let failed = 0;
    let firstFailure: ErrorInfo | undefined;
    const items = await Promise.all(
      lbs.map(async (lb): Promise<LbWithServers> => {
        if (!d.controls.fetchServers) return { lb, servers: null };
        try {
          return { lb, servers: safeServers(await client.listWebServers(lb.id), hygiene) };
        } catch (err) {
          // Without a token or past the deadline nothing else will work either: fail the zone.
          if (!(err instanceof KtCloudError) || err.reason === 'auth' || d.deadline.aborted) throw err;
          failed++;
          firstFailure ??= { ...err.toInfo(), message: `server list of load balancer ${cleanText(lb.id, client.secrets(), 64)} (${lbLabel(lb, client.secrets())}): ${err.message}` };
          return { lb, servers: null };
        }
      }),
    );
    const snapshot = renderSnapshot(task.account, z.zone, items, d.controls.disabled);
    const summary = summarise(items);
    if (failed > 0) d.log.warn({ failedLbs: failed, reason: firstFailure!.reason, err: firstFailure!.message }, 'collection partial: some server lists failed');
    return { ...base(), ok: true, token: client.token ?? null, snapshot, summary, partial: failed > 0 ? { failedLbs: failed, error: firstFailure! } : null, hygiene, lbsFiltered: listed.length - lbs.length };
  } catch (err) {
    // Exceptions that are not catalogue errors (a bug in parsing or rendering) become `internal`.
    const error = toErrorInfo(err, client.context());
    // A rejected token or password must not be reused; any other failure keeps a valid token.
    return { ...base(), ok: false, token: error.reason === 'auth' ? null : client.token ?? null, error };
  }
}

function summarise(items: readonly LbWithServers[]) {
  let lbsDown = 0;
  let servers = 0;
  let serversDown = 0;
  for (const { lb, servers: list } of items) {
    if (lb.state !== 'UP') lbsDown++;
    for (const s of list ?? []) {
      servers++;
      if (s.state !== 'UP') serversDown++;
    }
  }
  return { lbs: items.length, lbsDown, servers, serversDown };
}

/** The LB's name as it may appear in a message: one line, bounded, never a secret. */
function lbLabel(lb: LoadBalancer, secrets: readonly string[]): string {
  return JSON.stringify(cleanText(lb.name, secrets, 64));
}

/**
 * The account's LB name filter. The RE2 engine (re2js, ~2 MB of RSS per thread once loaded) is
 * loaded into this worker thread only when some account has a filter.
 */
async function nameTest(f: LbFilter | undefined): Promise<LbNameTest> {
  if (!f || (f.include.length === 0 && f.exclude.length === 0)) return () => true;
  const { lbNameTest } = await import('../config/lb-filter.js');
  return lbNameTest(f);
}
