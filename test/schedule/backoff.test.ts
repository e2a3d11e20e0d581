import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, only, scrape, startStack, type Running, type TestAccount } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/**
 * Backoff on real timers, measured where it matters: the times the simulator (its own process)
 * received the failing account's authentications. The exact rule is covered with plain numbers
 * in next-run.test.ts; this checks the wiring.
 */
const BAD: TestAccount = { name: 'bad', zones: ['DX-M1'], id: 'bad@example.com', password: 'wrong' };
let s: Running<SimProcess>;

beforeAll(async () => {
  const sim = await SimProcess.start({ accounts: [{ id: BAD.id, password: 'the-real-one', zones: { 'DX-M1': { lbs: 1 } } }] });
  s = await startStack({ sim: { external: sim }, accounts: [BAD], yaml: 'interval: 1s\ntimeout: 900ms\nspread: false\napi: { retries: 0 }' });
});
afterAll(() => s.close());

describe('a failing account', () => {
  it('is retried 1, 2, 4 intervals apart, and shows its next attempt and failures', async () => {
    const auths = await eventually(async () => {
      const st = (await s.sim.stats({ account: BAD.id, command: 'auth', raw: '1' })) as { raw: Array<[number]> };
      return st.raw.length >= 4 ? st.raw.map((r) => r[0]) : undefined;
    }, 15_000, 'four authentication attempts');
    const gaps = auths.slice(1, 4).map((t, i) => t - auths[i]!);
    // Gaps of 1, 2, 4 s plus at most 10 % jitter; arrivals wobble by timer and thread dispatch.
    for (const [i, base] of [1000, 2000, 4000].entries()) {
      expect(gaps[i], `gap ${i + 1} of ${JSON.stringify(gaps)}`).toBeGreaterThanOrEqual(base - 200);
      expect(gaps[i]).toBeLessThanOrEqual(base * 1.1 + 500);
    }
    // Waiting for the 5th attempt (8 s later): what the metric and the page say now.
    const view = (await (await fetch(`${s.url}/accounts?format=json`)).json()) as { accounts: Array<{ name: string; failures: number; nextAttempt: string | null }> };
    const bad = view.accounts.find((a) => a.name === 'bad')!;
    expect(bad.failures).toBe(4);
    const next = Date.parse(bad.nextAttempt!);
    expect(next - auths[3]!).toBeGreaterThanOrEqual(8000 - 200);
    expect(next - auths[3]!).toBeLessThanOrEqual(8800 + 500);
    const metric = only(await scrape(s.url), 'ktcloud_account_next_attempt_timestamp_seconds', { account: 'bad' });
    expect(metric).toHaveLength(1);
    expect(metric[0]!.value * 1000).toBeCloseTo(next, -1);
  });
});
