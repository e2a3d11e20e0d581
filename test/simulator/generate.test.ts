import { describe, expect, it, vi } from 'vitest';
import { buildData } from '@ktcloud-lb-exporter/simulator/generate';
import {
  loadSimulatorConfig,
  normalizeConfig,
  startSimulator,
  SimulatorConfigError,
  type SimData,
  type SimulatorConfig,
} from '@ktcloud-lb-exporter/simulator';

const base: SimulatorConfig = {
  seed: 42,
  accounts: [
    { id: 'a@example.com', password: 'p', zones: { 'DX-M1': { lbs: 30, serversPerLb: 4 }, 'DX-G': { lbs: 10, serversPerLb: 2 } } },
    { id: 'b@example.com', password: 'p', zones: { 'DX-M1': { lbs: 30, serversPerLb: 4 } } },
  ],
};

const data = (c: SimulatorConfig): SimData => buildData(normalizeConfig(c));
const allLbs = (d: SimData) => d.accounts.flatMap((a) => Object.values(a.zones).flatMap((z) => z.loadBalancers));

describe('deterministic generation', () => {
  it('same seed and config give identical data; another seed gives different data', () => {
    expect(data(base)).toEqual(data(base));
    const other = data({ ...base, seed: 43 });
    expect(allLbs(other).map((l) => l.name)).not.toEqual(allLbs(data(base)).map((l) => l.name));
  });

  it('adding an account leaves the others names and figures unchanged', () => {
    const more = data({ ...base, accounts: [{ id: 'z@example.com', password: 'p', zones: { 'DX-M1': { lbs: 5 } } }, ...base.accounts!] });
    const strip = (d: SimData, id: string) =>
      d.accounts.find((a) => a.id === id)!.zones['DX-M1']!.loadBalancers.map((l) => [l.name, l.state, l.servers.map((s) => s.cursrvrconnections)]);
    expect(strip(more, 'a@example.com')).toEqual(strip(data(base), 'a@example.com'));
  });

  it('generates realistic, varied data', () => {
    const d = data(base);
    const lbs = allLbs(d);
    expect(lbs).toHaveLength(70);
    for (const lb of lbs) {
      expect(lb.name).toMatch(/^[a-z]+-lb-\d{3}$/);
      expect(lb.serviceip).toMatch(/^172\.25\.\d{1,3}\.\d{1,3}$/);
      expect(lb.networkid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(lb.establishedconn).toBe(lb.servers.reduce((s, x) => s + x.cursrvrconnections, 0));
    }
    const kinds = (f: (l: (typeof lbs)[number]) => string) => new Set(lbs.map(f));
    expect(kinds((l) => l.servicetype)).toEqual(new Set(['HTTP', 'HTTPS', 'TCP']));
    expect(kinds((l) => l.loadbalanceroption)).toEqual(new Set(['ROUNDROBIN', 'LEASTCONNECTION', 'SOURCEIPHASH']));
    expect(kinds((l) => l.healthchecktype)).toEqual(new Set(['http', 'tcp']));
    expect(kinds((l) => l.state)).toEqual(new Set(['UP', 'DOWN']));
    expect(lbs.filter((l) => l.state === 'UP').length).toBeGreaterThan(lbs.length / 2);
    const servers = lbs.flatMap((l) => l.servers);
    expect(new Set(servers.map((s) => s.state))).toEqual(new Set(['UP', 'DOWN']));
    expect(new Set(lbs.map((l) => l.numberStyle))).toEqual(new Set(['sample', 'numbers', 'strings']));
    // ids unique per zone (and here globally)
    expect(new Set(lbs.map((l) => l.loadbalancerid)).size).toBe(lbs.length);
    expect(new Set(servers.map((s) => s.serviceid)).size).toBe(servers.length);
  });

  it('serves numbers as JSON numbers in some objects and strings in others', async () => {
    const sim = await startSimulator(base);
    try {
      const res = await fetch(`${sim.zoneEndpoint('DX-M1')}/identity/auth/tokens`, {
        method: 'POST',
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { domain: { id: 'default' }, name: 'a@example.com', password: 'p' } } } } }),
      });
      const tok = res.headers.get('x-subject-token')!;
      const list = (await (await fetch(`${sim.zoneEndpoint('DX-M1')}/loadbalancer/client/api?command=listLoadBalancers&response=json`, { headers: { 'x-auth-token': tok } })).json()) as any;
      const lbs = list.listloadbalancersresponse.loadbalancer as any[];
      for (const k of ['loadbalancerid', 'serviceport', 'establishedconn']) {
        expect(new Set(lbs.map((l) => typeof l[k]))).toEqual(new Set(['number', 'string']));
      }
      const types = new Set<string>();
      for (const lb of lbs.slice(0, 15)) {
        const ws = (await (await fetch(`${sim.zoneEndpoint('DX-M1')}/loadbalancer/client/api?command=listLoadBalancerWebServers&response=json&loadbalancerid=${lb.loadbalancerid}`, { headers: { 'x-auth-token': tok } })).json()) as any;
        for (const s of ws.listloadbalancerwebserversresponse.loadbalancerwebserver) types.add(typeof s.cursrvrconnections);
      }
      expect(types).toEqual(new Set(['number', 'string']));
    } finally {
      await sim.close();
    }
  });

  it('bulk-generates benchmark accounts round-robin over zones', () => {
    const d = data({ generate: { accounts: 1000, zones: ['DX-M1', 'DX-Central', 'DX-DCN-CJ', 'DX-G', 'DX-G-YS'], lbsPerAccount: 20, serversPerLb: 5 } });
    expect(d.accounts).toHaveLength(1000);
    expect(d.accounts[0]).toMatchObject({ id: 'bench-0000@example.com', password: 'pw-0' });
    expect(d.accounts[999]).toMatchObject({ id: 'bench-0999@example.com', password: 'pw-999' });
    expect(Object.entries(d.accounts[1]!.zones).filter(([, z]) => z.configured).map(([n]) => n)).toEqual(['DX-Central']);
    const lbs = allLbs(d);
    expect(lbs).toHaveLength(20_000);
    expect(lbs.reduce((n, l) => n + l.servers.length, 0)).toBe(100_000);
    for (const zone of Object.keys(d.zones)) {
      const ids = d.accounts.flatMap((a) => a.zones[zone]!.loadBalancers.map((l) => l.loadbalancerid));
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('liveFigures drift served figures over time but keep sim.data fixed', async () => {
    const sim = await startSimulator({ liveFigures: { periodSeconds: 1 }, accounts: [{ id: 'a', password: 'p', zones: { 'DX-M1': { lbs: 1, serversPerLb: 5 } } }] });
    try {
      const before = JSON.stringify(sim.data);
      const res = await fetch(`${sim.zoneEndpoint('DX-M1')}/identity/auth/tokens`, {
        method: 'POST',
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'a', password: 'p' } } } } }),
      });
      const tok = res.headers.get('x-subject-token')!;
      const id = sim.data.accounts[0]!.zones['DX-M1']!.loadBalancers[0]!.loadbalancerid;
      const figures = async () => {
        const r = (await (await fetch(`${sim.zoneEndpoint('DX-M1')}/loadbalancer/client/api?command=listLoadBalancerWebServers&loadbalancerid=${id}`, { headers: { 'x-auth-token': tok } })).json()) as any;
        return r.listloadbalancerwebserversresponse.loadbalancerwebserver.map((s: any) => [s.throughputrate, s.requestsrate].map(Number));
      };
      // The drift follows the wall clock (Date) in this process: move it one period on instead of waiting.
      vi.useFakeTimers({ toFake: ['Date'] });
      const first = await figures();
      vi.setSystemTime(Date.now() + 1000);
      expect(await figures()).not.toEqual(first);
      expect(JSON.stringify(sim.data)).toBe(before);
    } finally {
      vi.useRealTimers();
      await sim.close();
    }
  });
});

describe('config validation', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['unknown zone', { accounts: [{ id: 'a', password: 'p', zones: { 'DX-NOPE': { lbs: 1 } } }] }, /accounts\[0\]\.zones\.DX-NOPE: unknown zone "DX-NOPE"/],
    ['duplicate id', { accounts: [{ id: 'a', password: 'p' }, { id: 'a', password: 'q' }] }, /duplicate account id "a"/],
    ['generated clash', { accounts: [{ id: 'bench-0000@example.com', password: 'p' }], generate: { accounts: 1 } }, /duplicate account id/],
    ['unknown generate zone', { generate: { accounts: 1, zones: ['X'] } }, /generate\.zones\[0\]: unknown zone "X"/],
    ['bad fault', { accounts: [{ id: 'a', password: 'p', faults: { hang: 'yes' } }] }, /accounts\[0\]\.faults\.hang/],
    ['bad zone fault', { accounts: [{ id: 'a', password: 'p', zones: { 'DX-M1': { faults: { slowMs: -1 } } } }] }, /DX-M1\.faults\.slowMs/],
    ['unknown top key', { acounts: [] }, /acounts: unknown key/],
    ['bad listen', { listen: 'nowhere' }, /listen: expected HOST:PORT/],
    ['negative lbs', { accounts: [{ id: 'a', password: 'p', zones: { 'DX-M1': { lbs: -2 } } }] }, /lbs: must be an integer >= 0/],
    ['duplicate prefix', { zones: { 'DX-X': { prefix: '/d1' } } }, /prefix \/d1 is already used by zone DX-M1/],
    ['reserved prefix', { zones: { 'DX-X': { prefix: '/_sim' } } }, /reserved/],
    ['missing password', { accounts: [{ id: 'a' }] }, /accounts\[0\]\.password/],
  ];
  it.each(bad)('rejects %s', (_name, cfg, message) => {
    expect(() => normalizeConfig(cfg)).toThrow(SimulatorConfigError);
    expect(() => normalizeConfig(cfg)).toThrow(message);
  });

  it('rejects explicit LB ids used twice in one zone', async () => {
    const cfg = {
      accounts: [
        { id: 'a', password: 'p', zones: { 'DX-M1': { loadBalancers: [{ name: 'x', loadbalancerid: 5 }] } } },
        { id: 'b', password: 'p', zones: { 'DX-M1': { loadBalancers: [{ name: 'y', loadbalancerid: 5 }] } } },
      ],
    };
    expect(() => data(cfg)).toThrow(/loadbalancerid 5 used twice in zone DX-M1/);
    await expect(startSimulator(cfg)).rejects.toThrow(/used twice/);
  });

  it('loads and validates the documented example YAML', async () => {
    const cfg = await loadSimulatorConfig('accounts/simulator.example.yaml');
    const n = normalizeConfig(cfg);
    expect(n.zones['DX-NEW']).toEqual({ prefix: '/d9' });
    expect(n.accounts.map((a) => a.id)).toContain('flaky@example.com');
    expect(n.accounts.filter((a) => a.id.startsWith('bench-'))).toHaveLength(4);
    const d = buildData(n);
    expect(d.accounts.find((a) => a.id === 'team-b@example.com')!.zones['DX-M1']!.loadBalancers[0]!.loadbalancerid).toBe(45486);
    expect(d.accounts.find((a) => a.id === 'team-a@example.com')!.zones['DX-G']).toMatchObject({ configured: true, loadBalancers: [] });
  });
});
