import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountsView } from '../../src/http/accounts-view.js';
import { Secret } from '../../src/config/secret.js';
import { only, scrape, startStack, type Running } from '../support/harness.js';
import { SimProcess } from '../support/sim-process.js';

/**
 * `zones: auto` on the real stack, counted where it costs: at the simulator (its own process).
 * Collections are started by hand (schedule: false), so each test knows which collection is a
 * discovery: the first one, and any after discoveryInterval has passed.
 */
const ZONES = ['DX-M1', 'DX-Central', 'DX-DCN-CJ', 'DX-G', 'DX-G-YS'];
const TWO = { name: 'two', zones: ['auto'], id: 'two@example.com', password: 'pw-two' };
const NONE = { name: 'none', zones: ['auto'], id: 'none@example.com', password: 'pw-none' };
const LOCKED = { name: 'locked', zones: ['auto'], id: 'locked@example.com', password: 'pw-locked' };
/** Configured with a password the simulator does not accept: authentication fails in every zone. */
const WRONG = { name: 'wrong', zones: ['auto'], id: 'wrong@example.com', password: 'pw-old' };
let s: Running<SimProcess>;

type Row = [number, string | null, string | null, string, number];
/** Requests of one account since the last reset, counted by `zone command`. */
async function calls(id: string): Promise<Record<string, number>> {
  const { raw } = (await s.sim.stats({ raw: '1', account: id })) as { raw: Row[] };
  const out: Record<string, number> = {};
  for (const [, , zone, command] of raw) out[`${zone} ${command}`] = (out[`${zone} ${command}`] ?? 0) + 1;
  return out;
}

/** /metrics as it stands after the collections so far (the exposition rebuilds in the background). */
async function metrics() {
  await s.app.exposition.flush();
  return scrape(s.url);
}

async function accountsJson() {
  const v = (await (await fetch(`${s.url}/accounts?format=json`)).json()) as AccountsView;
  return new Map(v.accounts.map((a) => [a.name, a]));
}

const authWarnings = (zone: string) =>
  s.logs.lines.filter((l) => l.includes('"account":"locked"') && l.includes(`"zone":"${zone}"`) && l.includes('authentication failed in this zone')).length;

/** The next collection of every account is a discovery (discoveryInterval 1s, and 1s has passed). */
async function nextCollectionDiscovers(): Promise<void> {
  const c = s.app.scheduler.currentConfig;
  if (c.discoveryIntervalMs !== 1000) s.app.scheduler.applyConfig({ ...c, discoveryIntervalMs: 1000 });
  await new Promise((r) => setTimeout(r, 1100));
}

beforeAll(async () => {
  const sim = await SimProcess.start({
    latencyMs: 2,
    accounts: [
      { id: TWO.id, password: TWO.password, zones: { 'DX-M1': { lbs: 2, serversPerLb: 1 }, 'DX-G': { lbs: 1, serversPerLb: 2 } } },
      { id: NONE.id, password: NONE.password },
      { id: LOCKED.id, password: LOCKED.password, zones: { 'DX-Central': { lbs: 1, serversPerLb: 1 } } },
      { id: WRONG.id, password: 'pw-new', zones: { 'DX-G': { lbs: 1, serversPerLb: 1 } } },
    ],
  });
  s = await startStack({
    sim: { external: sim },
    accounts: [TWO, NONE, LOCKED, WRONG],
    yaml: 'interval: 30s\ntimeout: 20s\nlimits: { requestsPerSecond: 50 }',
    schedule: false,
  });
  await s.sim.setFaults(LOCKED.id, { wrongPassword: true }, 'DX-G-YS');
});
afterAll(() => s?.close());

describe('zones: auto', () => {
  it('discovers the two zones with LBs at one token and one list per zone, and collects only those two', async () => {
    expect(s.app.scheduler.isReady()).toBe(false); // not ready before discovery and first collection
    expect((await accountsJson()).get('two')).toMatchObject({ state: 'pending', zonesMode: 'auto', discoveredAt: null, zones: [] });
    expect(only(await metrics(), 'ktcloud_account_zones_discovered', { account: 'two' })).toEqual([]); // unknown yet, not 0
    await s.sim.resetStats();
    await s.app.scheduler.collectAll();
    expect(s.app.scheduler.isReady()).toBe(true);

    const first = await calls(TWO.id);
    const expected: Record<string, number> = {};
    for (const z of ZONES) Object.assign(expected, { [`${z} auth`]: 1, [`${z} listLoadBalancers`]: 1 });
    Object.assign(expected, { 'DX-M1 listLoadBalancerWebServers': 2, 'DX-G listLoadBalancerWebServers': 1 });
    expect(first).toEqual(expected);

    const m = await metrics();
    expect(only(m, 'ktcloud_account_up', { account: 'two' }).map((x) => [x.labels.zone, x.value]).sort()).toEqual([['DX-G', 1], ['DX-M1', 1]]);
    expect(only(m, 'ktcloud_lb_total_count', { account: 'two' }).map((x) => x.labels.zone).sort()).toEqual(['DX-G', 'DX-M1']);
    expect(only(m, 'ktcloud_account_zones_discovered', { account: 'two' })[0]?.value).toBe(2);
    expect(only(m, 'ktcloud_account_zones_last_discovery_timestamp_seconds', { account: 'two' })[0]?.value).toBeGreaterThan(Date.now() / 1000 - 60);

    // The next collection (discovery not due for an hour): no new token, the other zones untouched.
    await s.sim.resetStats();
    await s.app.scheduler.collectAll();
    expect(await calls(TWO.id)).toEqual({
      'DX-M1 listLoadBalancers': 1,
      'DX-M1 listLoadBalancerWebServers': 2,
      'DX-G listLoadBalancers': 1,
      'DX-G listLoadBalancerWebServers': 1,
    });
  });

  it('an account with LBs in no zone is up with nothing to collect, and /accounts says what was discovered', async () => {
    const m = await metrics();
    expect(only(m, 'ktcloud_account_up', { account: 'none' })).toEqual([]);
    expect(only(m, 'ktcloud_account_zones_discovered', { account: 'none' })[0]?.value).toBe(0);
    const view = await accountsJson();
    const none = view.get('none')!;
    expect(none).toMatchObject({ state: 'ok', zonesMode: 'auto', discoveredZones: [], authFailedZones: [], zones: [] });
    expect(Date.parse(none.discoveredAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(view.get('two')).toMatchObject({ state: 'ok', zonesMode: 'auto', discoveredZones: ['DX-M1', 'DX-G'] });
    // The HTML page notes it next to the account's zones.
    const html = await (await fetch(`${s.url}/accounts`)).text();
    const row = (name: string) => html.split('<tr class="acct').find((r) => r.includes(`data-name="${name}"`)) ?? '';
    expect(row('none')).toContain('zones auto · no zone with load balancers');
    expect(row('two')).toContain('zones auto · found 2');
    // Between discoveries an account found in no zone makes no call at all.
    await s.sim.resetStats();
    await s.app.scheduler.collectAll();
    expect(await calls(NONE.id)).toEqual({});
  });

  it('a zone whose authentication fails is not an error of the account, and is logged once per failure streak', async () => {
    let m = await metrics();
    expect(only(m, 'ktcloud_account_up', { account: 'locked' }).map((x) => [x.labels.zone, x.value])).toEqual([['DX-Central', 1]]);
    expect(only(m, 'ktcloud_account_collection_errors_total', { account: 'locked', reason: 'auth' }).map((x) => [x.labels.zone, x.value])).toEqual([['DX-Central', 0]]);
    expect(only(m, 'ktcloud_account_zones_auth_failed', { account: 'locked' })[0]?.value).toBe(1);
    expect((await accountsJson()).get('locked')).toMatchObject({ state: 'ok', authFailedZones: ['DX-G-YS'], discoveredZones: ['DX-Central'] });
    expect(authWarnings('DX-G-YS')).toBe(1);

    await nextCollectionDiscovers();
    await s.app.scheduler.collectAll();
    expect(authWarnings('DX-G-YS')).toBe(1); // the same streak: not logged again

    await s.sim.setFaults(LOCKED.id, {}, 'DX-G-YS');
    await nextCollectionDiscovers();
    await s.app.scheduler.collectAll();
    expect((await accountsJson()).get('locked')).toMatchObject({ authFailedZones: [] });
    m = await metrics();
    expect(only(m, 'ktcloud_account_zones_auth_failed', { account: 'locked' })[0]?.value).toBe(0);

    // The exporter holds a good token there now: the simulator revokes it so that a new one is asked for.
    await s.sim.setFaults(LOCKED.id, { wrongPassword: true, expireTokenAfterRequests: 1 }, 'DX-G-YS');
    await nextCollectionDiscovers();
    await s.app.scheduler.collectAll();
    expect(authWarnings('DX-G-YS')).toBe(2); // a new streak is logged again
    expect(s.logs.text).not.toContain(LOCKED.password);
  });

  it('a zone that gains its first LB is collected from the next discovery on, not before', async () => {
    // One LB appears in DX-DCN-CJ (the simulator's extra-LB fault) for the account found nowhere.
    await s.sim.setFaults(NONE.id, { hugeResponse: { extraLbs: 1 } }, 'DX-DCN-CJ');
    s.app.scheduler.applyConfig({ ...s.app.scheduler.currentConfig, discoveryIntervalMs: 3_600_000 });
    await s.sim.resetStats();
    await s.app.scheduler.collectAll();
    expect(await calls(NONE.id)).toEqual({});

    await nextCollectionDiscovers();
    await s.app.scheduler.collectAll();
    const m = await metrics();
    expect(only(m, 'ktcloud_account_up', { account: 'none' }).map((x) => [x.labels.zone, x.value])).toEqual([['DX-DCN-CJ', 1]]);
    expect(only(m, 'ktcloud_lb_total_count', { account: 'none', zone: 'DX-DCN-CJ' })[0]?.value).toBe(1);
    expect(only(m, 'ktcloud_account_zones_discovered', { account: 'none' })[0]?.value).toBe(1);
  });

  it('a reload that adds a zone makes the next collection discover, and the new zone is tried', async () => {
    const c = s.app.scheduler.currentConfig;
    // The tests above discovered already; with an hour between discoveries none is due by time.
    // A new zone name, served by the simulator's DX-M1.
    s.app.scheduler.applyConfig({ ...c, discoveryIntervalMs: 3_600_000, zones: { ...c.zones, 'DX-NEW': { ...c.zones['DX-M1']!, name: 'DX-NEW' } } });
    await s.sim.resetStats();
    await s.app.scheduler.collectAll();
    expect((await calls(TWO.id))['DX-Central listLoadBalancers']).toBe(1); // an empty zone was asked again: a discovery
    expect((await accountsJson()).get('two')?.discoveredZones).toEqual(['DX-M1', 'DX-G', 'DX-NEW']);
  });

  it('an account whose authentication fails in every zone shows it, and new credentials rediscover at once', async () => {
    const before = (await accountsJson()).get('wrong')!;
    expect(before).toMatchObject({ zonesMode: 'auto', discoveredZones: [], authFailedZones: [...ZONES, 'DX-NEW'] });
    expect(only(await metrics(), 'ktcloud_account_zones_auth_failed', { account: 'wrong' })[0]?.value).toBe(6);
    const c = s.app.scheduler.currentConfig;
    expect(c.discoveryIntervalMs).toBe(3_600_000); // none due by time
    s.app.scheduler.applyConfig({ ...c, accounts: c.accounts.map((a) => (a.name === 'wrong' ? { ...a, password: new Secret('pw-new') } : a)) });
    await s.app.scheduler.collectAll();
    expect((await accountsJson()).get('wrong')).toMatchObject({ state: 'ok', discoveredZones: ['DX-G'], authFailedZones: [] });
  });
});
