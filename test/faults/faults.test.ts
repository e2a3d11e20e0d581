import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Faults } from '@ktcloud-lb-exporter/simulator';
import { checkMetrics } from '../support/promtool.js';
import { only, parseExposition, startStack, type Running } from '../support/harness.js';
import { requireTool } from '../support/tools.js';

/**
 * Every fault of a year of operation, each on its own account, all collected together through
 * the real worker pool next to two healthy accounts. Each failing account must say exactly what
 * is wrong (up 0, the error counter by reason, the message on /accounts); the healthy ones must
 * not notice; and the body must still be valid.
 */
interface Case {
  readonly name: string;
  readonly faults: Faults;
  readonly zone?: string;
  /** The expected outcome: up, or the reason and the /accounts message. */
  readonly expect: { up: 1 } | { up: 0; reason: string; message: string | RegExp };
}

const CASES: Case[] = [
  { name: 'healthy-a', faults: {}, expect: { up: 1 } },
  { name: 'healthy-b', faults: {}, zone: 'DX-G', expect: { up: 1 } },
  { name: 'wrong-password', faults: { wrongPassword: true }, expect: { up: 0, reason: 'auth', message: 'authentication failed (HTTP 401) for DX-M1' } },
  { name: 'rate-limited', faults: { rateLimit: { status: 429, retryAfterSeconds: 0, every: 1 } }, expect: { up: 0, reason: 'rate_limited', message: 'listLoadBalancers was rate limited (HTTP 429) by DX-M1' } },
  { name: 'unavailable', faults: { rateLimit: { status: 503, retryAfterSeconds: 0, every: 1 } }, expect: { up: 0, reason: 'rate_limited', message: 'listLoadBalancers was rate limited (HTTP 503) by DX-M1' } },
  { name: 'server-error', faults: { serverError: { status: 500, every: 1 } }, expect: { up: 0, reason: 'api_error', message: 'listLoadBalancers failed with a server error (HTTP 500) in DX-M1: An unexpected error prevented the server from fulfilling your request.' } },
  { name: 'hung', faults: { hang: true }, expect: { up: 0, reason: 'timeout', message: /^listLoadBalancers got no answer within 0.3s \(api.requestTimeout\) from DX-M1$|^collection deadline exceeded during listLoadBalancers in DX-M1$/ } },
  { name: 'malformed', faults: { malformedJson: true }, expect: { up: 0, reason: 'bad_response', message: /^listLoadBalancers answered with malformed JSON \(.+\) in DX-M1$/ } },
  { name: 'error-in-200', faults: { errorInBody: { errorcode: 530, errortext: 'Unable to execute API command' } }, expect: { up: 0, reason: 'api_error', message: 'listLoadBalancers returned API error 530: Unable to execute API command in DX-M1' } },
  { name: 'too-large', faults: { hugeResponse: { padBytes: 3_000_000, commands: ['listLoadBalancers'] } }, expect: { up: 0, reason: 'bad_response', message: 'listLoadBalancers answer is larger than the 1048576-byte limit (api.maxResponseBytes) in DX-M1' } },
  { name: 'unreachable', faults: {}, zone: 'DX-DEAD', expect: { up: 0, reason: 'network', message: /^auth could not reach DX-DEAD: .*ECONNREFUSED/ } },
  { name: 'token-dies-early', faults: { expireTokenAfterRequests: 4 }, expect: { up: 1 } },
  { name: 'retry-then-ok', faults: { rateLimit: { status: 503, retryAfterSeconds: 1, first: 2 } }, expect: { up: 1 } },
  { name: 'odd-shapes', faults: { weirdNames: true, numbersAsStrings: true }, expect: { up: 1 } },
  { name: 'empty', faults: {}, zone: 'DX-Central', expect: { up: 1 } },
];

let s: Running;
const id = (c: Case) => `${c.name}@example.com`;

beforeAll(async () => {
  s = await startStack({
    sim: {
      accounts: CASES.filter((c) => c.zone !== 'DX-DEAD').map((c) => ({
        id: id(c),
        password: `${c.name}-pw`,
        zones: { [c.zone ?? 'DX-M1']: c.name === 'empty' ? { lbs: 0 } : { lbs: 4, serversPerLb: 2 } },
        faults: c.faults,
      })),
    },
    accounts: CASES.map((c) => ({ name: c.name, zones: [c.zone ?? 'DX-M1'], id: id(c), password: `${c.name}-pw` })),
    extraZones: { 'DX-DEAD': 'http://127.0.0.1:1/dead' },
    yaml: 'interval: 1m\ntimeout: 4s\napi: { requestTimeout: 300ms, retries: 2, retryBase: 10ms, maxResponseBytes: 1048576 }\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 1000 }',
    schedule: false,
  });
  await s.app.scheduler.collectAll();
  await s.app.exposition.flush();
});
afterAll(() => s.close());

describe('each fault, through the real pool', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.expect.up ? 'collected' : (c.expect as { reason: string }).reason}`, async () => {
      const body = await (await fetch(`${s.url}/metrics`)).text();
      const m = parseExposition(body);
      const zone = c.zone ?? 'DX-M1';
      expect(only(m, 'ktcloud_account_up', { account: c.name, zone })[0]?.value).toBe(c.expect.up);
      const view = (await (await fetch(`${s.url}/accounts?format=json`)).json()) as { accounts: Array<{ name: string; state: string; lastError: { reason: string; message: string } | null }> };
      const row = view.accounts.find((a) => a.name === c.name)!;
      if (c.expect.up === 1) {
        expect(row.state).toBe('ok');
        expect(only(m, 'ktcloud_lb_total_count', { account: c.name })[0]?.value).toBe(c.name === 'empty' ? 0 : 4);
        for (const e of only(m, 'ktcloud_account_collection_errors_total', { account: c.name })) expect(e.value).toBe(0);
      } else {
        const { reason, message } = c.expect;
        expect(row.state).toBe('failing');
        expect(row.lastError?.reason).toBe(reason);
        if (typeof message === 'string') expect(row.lastError?.message).toBe(message);
        else expect(row.lastError?.message).toMatch(message);
        expect(only(m, 'ktcloud_account_collection_errors_total', { account: c.name, reason })[0]?.value).toBe(1);
        expect(only(m, 'ktcloud_lb_info', { account: c.name })).toEqual([]); // nothing invented
      }
    });
  }

  it('a token that dies mid-cycle re-authenticates once (for all concurrent calls) and the cycle succeeds', () => {
    // 5 API calls; the token dies at its 4th use: the 4th and 5th (in flight together) get 401.
    expect(s.sim.stats.count({ account: 'token-dies-early@example.com', status: 401 })).toBe(2);
    expect(s.sim.stats.count({ account: 'token-dies-early@example.com', command: 'auth' })).toBe(2);
  });

  it('a wrong password is tried once, not retried in a loop', async () => {
    // What the exporter saw: one 401, never retried (an attempt cut by the 300 ms request
    // timeout on a busy machine would be code "error", and may be retried: that is not a 401 loop).
    const m = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
    const auth = only(m, 'ktcloud_api_requests_total', { account: 'wrong-password', command: 'auth' });
    expect(auth.find((x) => x.labels.code === '401')?.value).toBe(1);
    expect(auth.filter((x) => x.labels.code !== '401' && x.labels.code !== 'error')).toEqual([]);
    expect(only(m, 'ktcloud_api_requests_total', { account: 'wrong-password', command: 'listLoadBalancers' })).toEqual([]);
  });

  it('429/503 are retried after Retry-After', () => {
    expect(s.sim.stats.count({ account: 'retry-then-ok@example.com', status: 503 })).toBe(2);
    expect(s.sim.stats.count({ account: 'rate-limited@example.com', status: 429 })).toBe(3); // 1 + 2 retries
  });

  it('odd label values are escaped and the whole body passes promtool', async (ctx) => {
    const body = await (await fetch(`${s.url}/metrics`)).text();
    const names = only(parseExposition(body), 'ktcloud_lb_info', { account: 'odd-shapes' }).map((x) => x.labels.lb_name!);
    expect(names.some((n) => /[가-힣]/.test(n) && n.includes('"') && n.includes('\\') && n.includes('\n') && n.includes(','))).toBe(true);
    const promtool = requireTool('promtool', 'validates escaping of label values');
    if (!promtool) return ctx.skip();
    expect(checkMetrics(promtool, body).problems).toEqual([]);
  });
});

describe('one LB\'s server list failing', () => {
  it('exports that LB with its info, no invented zero, and marks the collection partial', async () => {
    s.sim.setFaults(id(CASES[0]!), { failServerListFor: { count: 1 } });
    await s.app.scheduler.collectAll();
    await s.app.exposition.flush();
    const m = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
    const acc = { account: 'healthy-a' };
    expect(only(m, 'ktcloud_account_up', acc)[0]!.value).toBe(1);
    expect(only(m, 'ktcloud_account_collection_partial', acc)[0]!.value).toBe(1);
    expect(only(m, 'ktcloud_lb_info', acc)).toHaveLength(4);
    expect(only(m, 'ktcloud_lb_server_count', acc)).toHaveLength(3); // the failed LB has no count, not 0
    expect(only(m, 'ktcloud_lb_server_state', acc)).toHaveLength(6);
    const view = (await (await fetch(`${s.url}/accounts?format=json`)).json()) as { accounts: Array<{ name: string; state: string; partial: boolean; lastError: { reason: string; message: string } | null }> };
    const row = view.accounts.find((a) => a.name === 'healthy-a')!;
    expect(row).toMatchObject({ state: 'ok', partial: true });
    expect(row.lastError?.message).toMatch(/^server list of load balancer \d+ \(".*"\): listLoadBalancerWebServers failed with a server error \(HTTP 500\) in DX-M1: Internal error executing command, please contact your system administrator$/);
    // Every other account is as it was.
    expect(only(m, 'ktcloud_account_up', { account: 'healthy-b' })[0]!.value).toBe(1);
    s.sim.setFaults(id(CASES[0]!), {});
  });
});
