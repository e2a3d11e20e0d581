import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, only, scrape, startStack, type Running } from '../support/harness.js';

/**
 * The stale policy on a timeline: a failure drops ktcloud_account_up to 0 at once but keeps the
 * last good LB series; once the last success is older than staleAfter they are removed; when
 * the account recovers they come back.
 */
let s: Running;
const ID = 'stale@example.com';

beforeAll(async () => {
  s = await startStack({
    sim: { accounts: [{ id: ID, password: 'pw', zones: { 'DX-M1': { lbs: 3, serversPerLb: 2 } } }, { id: 'steady@example.com', password: 'pw2', zones: { 'DX-G': { lbs: 1, serversPerLb: 1 } } }] },
    accounts: [
      { name: 'flaky', zones: ['DX-M1'], id: ID, password: 'pw' },
      { name: 'steady', zones: ['DX-G'], id: 'steady@example.com', password: 'pw2' },
    ],
    yaml: 'interval: 1s\ntimeout: 900ms\nstaleAfter: 3s\nspread: false\nlimits: { requestsPerSecond: 100, zoneRequestsPerSecond: 500 }',
  });
});
afterAll(() => s.close());

describe('stale data policy', () => {
  it('keeps the last good series through failures for staleAfter, then removes them, and restores them on recovery', async () => {
    await eventually(async () => (only(await scrape(s.url), 'ktcloud_lb_info', { account: 'flaky' }).length === 3 ? true : undefined), 10_000, 'flaky collected');
    const lastSuccess = only(await scrape(s.url), 'ktcloud_account_last_success_timestamp_seconds', { account: 'flaky' })[0]!.value;

    s.sim.setFaults(ID, { serverError: { status: 500, every: 1 } });
    // Down at once, data kept.
    const failedAt = await eventually(async () => {
      const m = await scrape(s.url);
      return only(m, 'ktcloud_account_up', { account: 'flaky' })[0]?.value === 0 ? m : undefined;
    }, 10_000, 'flaky down');
    expect(only(failedAt, 'ktcloud_lb_info', { account: 'flaky' })).toHaveLength(3);
    expect(only(failedAt, 'ktcloud_lb_server_state', { account: 'flaky' })).toHaveLength(6);
    expect(only(failedAt, 'ktcloud_account_collection_errors_total', { account: 'flaky', reason: 'api_error' })[0]!.value).toBeGreaterThanOrEqual(1);
    let view = (await (await fetch(`${s.url}/accounts?format=json`)).json()) as { accounts: Array<{ name: string; state: string }> };
    expect(view.accounts[0]).toMatchObject({ name: 'flaky', state: 'failing' });

    // Removed once the last success is older than staleAfter, not before.
    const removed = await eventually(async () => (only(await scrape(s.url), 'ktcloud_lb_info', { account: 'flaky' }).length === 0 ? Date.now() / 1000 : undefined), 10_000, 'stale series removed');
    expect(removed - lastSuccess).toBeGreaterThanOrEqual(3);
    expect(removed - lastSuccess).toBeLessThan(6);
    const after = await scrape(s.url);
    expect(only(after, 'ktcloud_account_up', { account: 'flaky' })[0]!.value).toBe(0); // health stays
    expect(only(after, 'ktcloud_lb_total_count', { account: 'flaky' })).toHaveLength(0);
    view = (await (await fetch(`${s.url}/accounts?format=json`)).json()) as typeof view;
    expect(view.accounts[0]).toMatchObject({ name: 'flaky', state: 'stale' });
    // The other account was fresh all along.
    expect(only(after, 'ktcloud_account_up', { account: 'steady' })[0]!.value).toBe(1);
    expect(Date.now() / 1000 - only(after, 'ktcloud_account_last_success_timestamp_seconds', { account: 'steady' })[0]!.value).toBeLessThan(3);

    // Recovery (after the failure backoff) brings the series back.
    s.sim.setFaults(ID, {});
    await eventually(async () => (only(await scrape(s.url), 'ktcloud_lb_info', { account: 'flaky' }).length === 3 ? true : undefined), 15_000, 'flaky recovered');
    expect(only(await scrape(s.url), 'ktcloud_account_up', { account: 'flaky' })[0]!.value).toBe(1);
  });
});
