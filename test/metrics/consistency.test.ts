import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, parseExposition, startStack, type Running, type Sample } from '../support/harness.js';

/**
 * The invariant of an atomic swap: whatever moment a scrape lands on, for each account-zone
 * ktcloud_lb_total_count equals its ktcloud_lb_info series, and each LB's server_count equals
 * its server_state series. The data changes between cycles (LBs come and go) while scrapes run.
 * And across account-zones: the two zones of one account, collected by one task, are published
 * together, so a scrape never shows one zone's new data next to the other's old data.
 */
let s: Running;
const ACCOUNTS = Array.from({ length: 6 }, (_, i) => ({ name: `acc-${i}`, zones: [i % 2 ? 'DX-G' : 'DX-M1'], id: `acc${i}@example.com`, password: `pw${i}` }));
/** One account in two zones; only the second test changes its data. */
const PAIR = { name: 'pair', zones: ['DX-M1', 'DX-G'], id: 'pair@example.com', password: 'pw-pair' };
const PAIR_LBS: Record<string, number> = { 'DX-M1': 4, 'DX-G': 7 };
const ZONE_SERIES = ACCOUNTS.length + PAIR.zones.length;

beforeAll(async () => {
  s = await startStack({
    sim: {
      latencyMs: { min: 1, max: 15 },
      accounts: [
        ...ACCOUNTS.map((a, i) => ({ id: a.id, password: a.password, zones: { [a.zones[0]!]: { lbs: 5 + i, serversPerLb: 3 } } })),
        { id: PAIR.id, password: PAIR.password, zones: { 'DX-M1': { lbs: PAIR_LBS['DX-M1']!, serversPerLb: 2 }, 'DX-G': { lbs: PAIR_LBS['DX-G']!, serversPerLb: 2 } } },
      ],
    },
    accounts: [...ACCOUNTS, PAIR],
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
    await eventually(async () => (parseExposition(await (await fetch(`${s.url}/metrics`)).text()).filter((x) => x.name === 'ktcloud_lb_total_count').length === ZONE_SERIES ? true : undefined), 15_000, 'all accounts collected');
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
        expect(checkInvariant(samples)).toBe(ZONE_SERIES);
        for (const t of samples.filter((x) => x.name === 'ktcloud_lb_total_count' && x.labels.account !== PAIR.name)) seenTotals.add(`${t.labels.account}=${t.value}`);
        scrapes++;
      }
    };
    await Promise.all([changer, scraper(), scraper(), scraper()]);
    expect(scrapes).toBeGreaterThan(20);
    // The data really changed while we scraped (otherwise the test proves nothing).
    expect(seenTotals.size).toBeGreaterThan(6);
  });

  it("one account's zones change together in every scrape: both old or both new", async () => {
    const extras = (samples: Sample[]) =>
      Object.fromEntries(
        samples.filter((x) => x.name === 'ktcloud_lb_total_count' && x.labels.account === PAIR.name).map((x) => [x.labels.zone!, x.value - PAIR_LBS[x.labels.zone!]!]),
      );
    await eventually(async () => (Object.keys(extras(parseExposition(await (await fetch(`${s.url}/metrics`)).text()))).length === 2 ? true : undefined), 15_000, 'both zones of pair collected');
    const swaps = () => s.app.store.get(PAIR.name, 'DX-M1')!.swaps;
    const until = Date.now() + 5000;
    let changes = 0;
    let scrapes = 0;
    const seen = new Set<number>();
    // Both zones change at the simulator at once, right after a collection was applied, so each
    // collection reads one consistent pair (the next starts an interval later): the exporter then
    // holds both zones old or both new, and a scrape must too, however it lands on a swap.
    const changer = (async () => {
      while (Date.now() < until) {
        const before = swaps();
        await eventually(() => (swaps() > before ? true : undefined), 5000, 'a collection of pair');
        changes++;
        s.sim.setFaults(PAIR.id, changes % 4 ? { hugeResponse: { extraLbs: changes % 4, commands: ['listLoadBalancers'] } } : {});
      }
    })();
    const scraper = async () => {
      while (Date.now() < until) {
        const samples = parseExposition(await (await fetch(`${s.url}/metrics`)).text());
        const e = extras(samples);
        expect(e['DX-G'], `scrape ${scrapes}: DX-M1 has ${e['DX-M1']} extra LBs, DX-G ${e['DX-G']}`).toBe(e['DX-M1']);
        seen.add(e['DX-M1']!);
        scrapes++;
      }
    };
    await Promise.all([changer, scraper(), scraper(), scraper()]);
    expect(scrapes).toBeGreaterThan(20);
    // The data really changed while we scraped: several swaps were scraped on both sides.
    expect(changes).toBeGreaterThanOrEqual(3);
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });
});
