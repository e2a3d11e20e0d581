import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, parseExposition, startStack, type Running, type Sample } from '../support/harness.js';

/**
 * The invariant of an atomic swap: whatever moment a scrape lands on, for each account-zone
 * ktcloud_lb_total_count equals its ktcloud_lb_info series, and each LB's server_count equals
 * its server_state series. The data changes between cycles (LBs come and go) while scrapes run.
 */
let s: Running;
const ACCOUNTS = Array.from({ length: 6 }, (_, i) => ({ name: `acc-${i}`, zones: [i % 2 ? 'DX-G' : 'DX-M1'], id: `acc${i}@example.com`, password: `pw${i}` }));

beforeAll(async () => {
  s = await startStack({
    sim: { latencyMs: { min: 1, max: 15 }, accounts: ACCOUNTS.map((a, i) => ({ id: a.id, password: a.password, zones: { [a.zones[0]!]: { lbs: 5 + i, serversPerLb: 3 } } })) },
    accounts: ACCOUNTS,
    yaml: 'interval: 1s\ntimeout: 900ms\nlimits: { concurrency: 4, requestsPerSecond: 200, zoneRequestsPerSecond: 1000 }',
  });
});
afterAll(() => s.close());

function checkInvariant(samples: Sample[]): number {
  const key = (l: Record<string, string>) => `${l.account}|${l.zone}`;
  const lbKey = (l: Record<string, string>) => `${l.account}|${l.zone}|${l.lb_id}`;
  const count = (name: string, k: (l: Record<string, string>) => string) => {
    const m = new Map<string, number>();
    for (const x of samples) if (x.name === name) m.set(k(x.labels), (m.get(k(x.labels)) ?? 0) + 1);
    return m;
  };
  const infos = count('ktcloud_lb_info', key);
  const states = count('ktcloud_lb_server_state', lbKey);
  let checked = 0;
  for (const t of samples.filter((x) => x.name === 'ktcloud_lb_total_count')) {
    expect(infos.get(key(t.labels)) ?? 0, `lb_info series of ${key(t.labels)}`).toBe(t.value);
    checked++;
  }
  for (const c of samples.filter((x) => x.name === 'ktcloud_lb_server_count')) {
    expect(states.get(lbKey(c.labels)) ?? 0, `server_state series of ${lbKey(c.labels)}`).toBe(c.value);
  }
  return checked;
}

describe('atomic swap under concurrent scrapes', () => {
  it('every scrape during changing collections is consistent', async () => {
    await eventually(async () => (parseExposition(await (await fetch(`${s.url}/metrics`)).text()).filter((x) => x.name === 'ktcloud_lb_total_count').length === 6 ? true : undefined), 15_000, 'all accounts collected');
    const until = Date.now() + 4000;
    let scrapes = 0;
    let flips = 0;
    const seenTotals = new Set<string>();
    // Change the data under the exporter: extra LBs come and go on every account.
    const changer = (async () => {
      while (Date.now() < until) {
        for (const a of ACCOUNTS) s.sim.setFaults(a.id, flips % 2 ? {} : { hugeResponse: { extraLbs: 1 + (flips % 3), commands: ['listLoadBalancers'] } });
        flips++;
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    const scraper = async () => {
      while (Date.now() < until) {
        const res = await fetch(`${s.url}/metrics`, { headers: { 'accept-encoding': scrapes % 2 ? 'gzip' : 'identity' } });
        const samples = parseExposition(await res.text());
        expect(checkInvariant(samples)).toBe(6);
        for (const t of samples.filter((x) => x.name === 'ktcloud_lb_total_count')) seenTotals.add(`${t.labels.account}=${t.value}`);
        scrapes++;
      }
    };
    await Promise.all([changer, scraper(), scraper(), scraper()]);
    expect(scrapes).toBeGreaterThan(20);
    // The data really changed while we scraped (otherwise the test proves nothing).
    expect(seenTotals.size).toBeGreaterThan(6);
  });
});
