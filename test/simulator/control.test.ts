import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '@ktcloud-lb-exporter/simulator/cli-main';
import { SimStats, startSimulator, type Simulator } from '@ktcloud-lb-exporter/simulator';

const A = { id: 'team-a@example.com', password: 'secret-a' };
const B = { id: 'team-b@example.com', password: 'secret-b' };
const Z = 'DX-M1';

function authBody(name: string, password: string): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ['password'], password: { user: { domain: { id: 'default' }, name, password } } },
      scope: { project: { domain: { id: 'default' }, name } },
    },
  });
}

async function auth(sim: Simulator, who: { id: string; password: string }, zone = Z) {
  const res = await fetch(`${sim.zoneEndpoint(zone)}/identity/auth/tokens`, { method: 'POST', body: authBody(who.id, who.password) });
  await res.arrayBuffer();
  return { status: res.status, token: res.headers.get('x-subject-token') ?? '' };
}

async function api(sim: Simulator, tok: string, query: string, zone = Z) {
  const res = await fetch(`${sim.zoneEndpoint(zone)}/loadbalancer/client/api?${query}&response=json`, { headers: { 'x-auth-token': tok } });
  return { status: res.status, json: (await res.json()) as any };
}

async function control(sim: Simulator, method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await fetch(`${sim.url}/_sim/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any };
}

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    accounts: [
      { ...A, zones: { [Z]: { lbs: 3, serversPerLb: 2 } } },
      { ...B, zones: { 'DX-G': { lbs: 1, serversPerLb: 1 } } },
    ],
  });
});
afterAll(async () => {
  await sim.close();
});

describe('control API', () => {
  it('GET /_sim/accounts exposes the data, filtered by account', async () => {
    const all = await control(sim, 'GET', 'accounts');
    expect(all.status).toBe(200);
    expect(all.json.accounts.map((a: any) => a.id)).toEqual([A.id, B.id]);
    expect(Object.keys(all.json.accounts[0].zones)).toEqual([Z]);
    const lb = all.json.accounts[0].zones[Z].loadBalancers[0];
    expect(lb.loadbalancerid).toBe(sim.data.accounts[0]!.zones[Z]!.loadBalancers[0]!.loadbalancerid);
    expect(lb.servers).toHaveLength(2);
    const one = await control(sim, 'GET', `accounts?account=${encodeURIComponent(B.id)}`);
    expect(one.json.accounts.map((a: any) => a.id)).toEqual([B.id]);
    expect((await control(sim, 'GET', 'accounts?account=ghost')).status).toBe(404);
  });

  it('GET /_sim/zones lists zone endpoints', async () => {
    const r = await control(sim, 'GET', 'zones');
    expect(r.json[Z]).toBe(`${sim.url}/d1`);
    expect(r.json['DX-G']).toBe(`${sim.url}/gd1`);
  });

  it('POST /_sim/faults sets and clears faults, validating the body', async () => {
    const tok = (await auth(sim, A)).token;
    expect((await control(sim, 'POST', 'faults', { account: A.id, zone: Z, faults: { serverError: { status: 503 } } })).status).toBe(200);
    expect((await api(sim, tok, 'command=listLoadBalancers')).status).toBe(503);
    expect((await control(sim, 'POST', 'faults', { account: A.id, zone: Z, faults: {} })).status).toBe(200);
    expect((await api(sim, tok, 'command=listLoadBalancers')).status).toBe(200);
    const bad = await control(sim, 'POST', 'faults', { account: A.id, faults: { nope: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/nope/);
    expect((await control(sim, 'POST', 'faults', { account: 'ghost', faults: {} })).status).toBe(404);
  });

  it('POST /_sim/server-state and /_sim/lb-state change what the API serves', async () => {
    const tok = (await auth(sim, A)).token;
    const lb = sim.data.accounts[0]!.zones[Z]!.loadBalancers[0]!;
    const ip = lb.servers[1]!.ipaddress;
    for (const state of ['DOWN', 'UP']) {
      expect((await control(sim, 'POST', 'server-state', { account: A.id, zone: Z, lbId: lb.loadbalancerid, ip, state })).status).toBe(200);
      const ws = await api(sim, tok, `command=listLoadBalancerWebServers&loadbalancerid=${lb.loadbalancerid}`);
      expect(ws.json.listloadbalancerwebserversresponse.loadbalancerwebserver[1].state).toBe(state);
      expect(lb.servers[1]!.state).toBe(state);

      expect((await control(sim, 'POST', 'lb-state', { account: A.id, zone: Z, lbId: String(lb.loadbalancerid), state })).status).toBe(200);
      const list = await api(sim, tok, 'command=listLoadBalancers');
      expect(list.json.listloadbalancersresponse.loadbalancer[0].state).toBe(state);
    }
    expect((await control(sim, 'POST', 'server-state', { account: A.id, zone: Z, lbId: lb.loadbalancerid, ip: '10.9.9.9', state: 'UP' })).status).toBe(404);
    expect((await control(sim, 'POST', 'lb-state', { account: A.id, zone: Z, lbId: 1, state: 'UP' })).status).toBe(404);
    expect((await control(sim, 'POST', 'lb-state', { account: A.id, zone: 'DX-NOPE', lbId: 1, state: 'UP' })).status).toBe(404);
    expect((await control(sim, 'POST', 'lb-state', { account: A.id, zone: Z, state: 'UP' })).status).toBe(400);
  });

  it('POST /_sim/password rotates the password and kills old tokens', async () => {
    const s = await startSimulator({ accounts: [{ ...A, zones: { [Z]: { lbs: 1 } } }] });
    try {
      const old = (await auth(s, A)).token;
      expect((await control(s, 'POST', 'password', { account: A.id, password: 'new-pw' })).status).toBe(200);
      expect((await api(s, old, 'command=listLoadBalancers')).status).toBe(401);
      expect((await auth(s, A)).status).toBe(401);
      expect((await auth(s, { id: A.id, password: 'new-pw' })).status).toBe(201);
    } finally {
      await s.close();
    }
  });

  it('answers 404 JSON for unknown control paths', async () => {
    const r = await control(sim, 'GET', 'nothing-here');
    expect(r.status).toBe(404);
    expect(typeof r.json.error).toBe('string');
  });
});

describe('stats', () => {
  it('counts requests by account, zone, command and status, over HTTP and in-process', async () => {
    const s = await startSimulator({ accounts: [{ ...A, zones: { [Z]: { lbs: 2, serversPerLb: 1 } } }, { ...B }] });
    try {
      const tok = (await auth(s, A)).token;
      await auth(s, { id: A.id, password: 'wrong' });
      await auth(s, { id: 'ghost', password: 'x' });
      await api(s, tok, 'command=listLoadBalancers');
      await api(s, tok, `command=listLoadBalancerWebServers&loadbalancerid=${s.data.accounts[0]!.zones[Z]!.loadBalancers[0]!.loadbalancerid}`);
      await api(s, tok, 'command=bogus');
      await api(s, 'bad-token', 'command=listLoadBalancers', 'DX-G');
      const t = (await control(s, 'GET', 'stats')).json;
      expect(t.total).toBe(7);
      expect(t.pending).toBe(0);
      expect(t.byAccount).toEqual({ [A.id]: 5, null: 2 });
      expect(t.byZone).toEqual({ [Z]: 6, 'DX-G': 1 });
      expect(t.byCommand).toEqual({ auth: 3, listLoadBalancers: 2, listLoadBalancerWebServers: 1, other: 1 });
      expect(t.byStatus).toEqual({ 200: 3, 201: 1, 401: 3 });
      expect(s.stats.totals()).toMatchObject({ total: 7, byStatus: t.byStatus });
      expect(s.stats.count({ account: A.id, command: 'auth', status: 401 })).toBe(1);
      expect(s.stats.count({ account: null })).toBe(2);

      const raw = (await control(s, 'GET', `stats?raw=1&account=${encodeURIComponent(A.id)}`)).json;
      expect(raw.matching).toBe(5);
      expect(raw.raw).toHaveLength(5);
      expect(raw.raw[0]).toEqual([expect.any(Number), A.id, Z, 'auth', 201]);
      const times = raw.raw.map((r: any[]) => r[0]);
      expect([...times].sort((x, y) => x - y)).toEqual(times);
      expect(Math.abs(times[0] - Date.now())).toBeLessThan(10_000);

      expect((await control(s, 'POST', 'reset-stats')).status).toBe(200);
      expect((await control(s, 'GET', 'stats')).json.total).toBe(0);
      expect(s.stats.count()).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('computes the max requests in any sliding window from real traffic', async () => {
    const s = await startSimulator({ accounts: [{ ...A, zones: { [Z]: { lbs: 1 } } }] });
    try {
      const tok = (await auth(s, A)).token;
      s.resetStats();
      for (let i = 0; i < 5; i++) await api(s, tok, 'command=listLoadBalancers');
      await new Promise((r) => setTimeout(r, 1100));
      for (let i = 0; i < 3; i++) await api(s, tok, 'command=listLoadBalancers');
      expect(s.stats.maxInWindow({ account: A.id }, 1000)).toBe(5);
      expect(s.stats.maxInWindow({ account: A.id }, 5000)).toBe(8);
      expect(s.stats.maxInWindow({ zone: 'DX-G' }, 1000)).toBe(0);
      const http = (await control(s, 'GET', 'stats?windowMs=1000')).json;
      expect(http.maxInWindow).toBe(5);
      expect(http.maxInWindowByAccount).toEqual({ [A.id]: 5 });
      expect(http.maxInWindowByZone).toEqual({ [Z]: 5 });
    } finally {
      await s.close();
    }
  });

  it('SimStats: exact windows on synthetic times, wrap-around and 2M+ entries', () => {
    const st = new SimStats(['a', 'b'], ['Z1', 'Z2'], 1024);
    // a: 0,100,...,1900 ms (10 per second); b: a burst of 30 within 50 ms at t=5000
    for (let i = 0; i < 20; i++) st.complete(st.record(i * 100, 0, 0, 1), 200);
    for (let i = 0; i < 30; i++) st.complete(st.record(5000 + i, 1, 1, 2), 429);
    expect(st.maxInWindow({ account: 'a' }, 1000)).toBe(10);
    expect(st.maxInWindow({ account: 'b' }, 1000)).toBe(30);
    expect(st.maxInWindow({}, 1000)).toBe(30);
    expect(st.maxInWindowBy('account')).toEqual({ a: 10, b: 30 });
    expect(st.count({ status: 429 })).toBe(30);
    expect(st.count({ since: 1000, until: 1500 })).toBe(6);
    for (let i = 0; i < 2000; i++) st.record(10_000 + i, 0, 0, 0);
    const t = st.totals();
    expect(t.total).toBe(2050);
    expect(t.retained).toBe(1024);
    expect(t.pending).toBe(2000);
    expect(st.count()).toBe(1024);
    expect(st.timestamps()[0]).toBe(10_000 + 2000 - 1024);

    const big = new SimStats(['x'], ['Z'], 4_194_304);
    const n = 2_100_000;
    for (let i = 0; i < n; i++) big.complete(big.record(i * 0.5, 0, 0, 1), 200);
    expect(big.totals()).toMatchObject({ total: n, retained: n, byStatus: { 200: n } });
    expect(big.maxInWindow({ account: 'x' }, 1000)).toBe(2000);
  });
});

describe('CLI', () => {
  it('prints the url and zone endpoints as one JSON line and serves the config', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const s = await runCli(['--config', 'accounts/simulator.example.yaml', '--listen', '127.0.0.1:0', '--latency-ms', '0'], {
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
    });
    try {
      expect(out).toHaveLength(1);
      const line = JSON.parse(out[0]!);
      expect(line.url).toBe(s.url);
      expect(line.zones['DX-M1']).toBe(`${s.url}/d1`);
      expect(line.zones['DX-NEW']).toBe(`${s.url}/d9`);
      expect(err.some((l) => l.includes('"debug"'))).toBe(false);
      const r = await auth(s, { id: 'team-a@example.com', password: 'secret-a' });
      expect(r.status).toBe(201);
    } finally {
      await s.close();
    }
  });

  it('rejects bad arguments and bad config files with clear errors', async () => {
    const io = { stdout: () => {}, stderr: () => {} };
    await expect(runCli(['--bogus'], io)).rejects.toThrow(/bogus/);
    await expect(runCli(['--config', 'does/not/exist.yaml'], io)).rejects.toThrow(/ENOENT/);
    await expect(runCli(['--latency-ms', 'abc'], io)).rejects.toThrow(/latency-ms/);
  });
});
