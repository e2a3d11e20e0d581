import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '@ktcloud-lb-exporter/simulator';

const A = { id: 'team-a@example.com', password: 'secret-a' };
const B = { id: 'team-b@example.com', password: 'secret-b' };

function authBody(name: string, password: string, project = name): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ['password'], password: { user: { domain: { id: 'default' }, name, password } } },
      scope: { project: { domain: { id: 'default' }, name: project } },
    },
  });
}

async function auth(sim: Simulator, zone: string, name: string, password: string) {
  const res = await fetch(`${sim.zoneEndpoint(zone)}/identity/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: authBody(name, password),
  });
  return { status: res.status, token: res.headers.get('x-subject-token'), body: (await res.json()) as any, headers: res.headers };
}

async function token(sim: Simulator, zone: string, who = A): Promise<string> {
  const r = await auth(sim, zone, who.id, who.password);
  expect(r.status).toBe(201);
  return r.token!;
}

async function api(sim: Simulator, zone: string, tok: string | null, query: string) {
  const res = await fetch(`${sim.zoneEndpoint(zone)}/loadbalancer/client/api?${query}&response=json`, {
    headers: tok === null ? {} : { 'x-auth-token': tok },
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as any };
}

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 7,
    zones: { 'DX-EXTRA': { prefix: '/x9' } },
    accounts: [
      { ...A, zones: { 'DX-M1': { lbs: 6, serversPerLb: 3 }, 'DX-G': { lbs: 0 }, 'DX-EXTRA': { lbs: 1, serversPerLb: 1 } } },
      {
        ...B,
        zones: {
          'DX-M1': {
            loadBalancers: [
              { name: 'shop', loadbalancerid: 45486, serviceip: '172.25.0.181', serviceport: '80', servicetype: 'HTTP', state: 'DOWN', servers: [{ ipaddress: '172.25.0.178', publicport: 80, state: 'DOWN', cursrvrconnections: 15, throughputrate: 10, avgsvrttfb: 11, requestsrate: 12 }] },
              { name: 'empty', servers: [] },
            ],
          },
        },
      },
    ],
  });
});

afterAll(async () => {
  await sim.close();
});

describe('endpoints', () => {
  it('serves zones under their prefixes, extra zones included', () => {
    expect(sim.zoneEndpoint('DX-M1')).toBe(`${sim.url}/d1`);
    expect(sim.zoneEndpoint('DX-G-YS')).toBe(`${sim.url}/gd4`);
    expect(sim.zoneEndpoint('DX-EXTRA')).toBe(`${sim.url}/x9`);
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(() => sim.zoneEndpoint('DX-NOPE')).toThrow(/unknown zone/);
  });
});

describe('auth', () => {
  it('issues a token with 201, X-Subject-Token and the Keystone body', async () => {
    const before = Date.now();
    const r = await auth(sim, 'DX-M1', A.id, A.password);
    expect(r.status).toBe(201);
    expect(r.token).toMatch(/^\S{20,}$/);
    expect(r.body.token.project.id).toBe(sim.data.accounts[0]!.projectId);
    const expires = Date.parse(r.body.token.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
  });

  it('answers 401 with the Keystone error body for a wrong password or an unknown user', async () => {
    for (const [name, pw] of [[A.id, 'nope'], ['ghost@example.com', 'x'], [A.id, B.password]] as const) {
      const r = await auth(sim, 'DX-M1', name, pw);
      expect(r.status).toBe(401);
      expect(r.token).toBeNull();
      expect(r.body).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    }
  });

  it('answers 400 to a body without password credentials', async () => {
    const res = await fetch(`${sim.zoneEndpoint('DX-M1')}/identity/auth/tokens`, { method: 'POST', body: '{"auth":{}}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.code).toBe(400);
  });

  it('gives distinct tokens per call', async () => {
    expect(await token(sim, 'DX-M1')).not.toBe(await token(sim, 'DX-M1'));
  });
});

describe('listLoadBalancers', () => {
  it('returns count and every LB field of the generated data', async () => {
    const r = await api(sim, 'DX-M1', await token(sim, 'DX-M1'), 'command=listLoadBalancers');
    expect(r.status).toBe(200);
    const resp = r.json.listloadbalancersresponse;
    const expected = sim.data.accounts[0]!.zones['DX-M1']!.loadBalancers;
    expect(Number(resp.count)).toBe(expected.length);
    expect(resp.loadbalancer).toHaveLength(6);
    const fields = ['loadbalancerid', 'name', 'serviceip', 'serviceport', 'servicetype', 'loadbalanceroption', 'healthchecktype', 'healthcheckurl', 'establishedconn', 'ciphergroupname', 'networkid', 'state', 'zoneid', 'zonename', 'tag', 'certificatename', 'tlsv1', 'tlsv11', 'tlsv12', 'clientIpYn'];
    resp.loadbalancer.forEach((lb: any, i: number) => {
      expect(Object.keys(lb).sort()).toEqual([...fields].sort());
      expect(Number(lb.loadbalancerid)).toBe(expected[i]!.loadbalancerid);
      expect(lb.name).toBe(expected[i]!.name);
      expect(lb.zonename).toBe('DX-M1');
      expect(['UP', 'DOWN']).toContain(lb.state);
    });
  });

  it('serves explicit LBs with the documented sample shape', async () => {
    const r = await api(sim, 'DX-M1', await token(sim, 'DX-M1', B), 'command=listLoadBalancers');
    const lb = r.json.listloadbalancersresponse.loadbalancer[0];
    expect(lb).toMatchObject({ loadbalancerid: 45486, name: 'shop', serviceip: '172.25.0.181', serviceport: '80', servicetype: 'HTTP', state: 'DOWN', establishedconn: 15 });
  });

  it('filters by name, serviceip and loadbalancerid', async () => {
    const tok = await token(sim, 'DX-M1');
    const target = sim.data.accounts[0]!.zones['DX-M1']!.loadBalancers[2]!;
    for (const q of [`name=${encodeURIComponent(target.name)}`, `serviceip=${target.serviceip}`, `loadbalancerid=${target.loadbalancerid}`]) {
      const r = await api(sim, 'DX-M1', tok, `command=listLoadBalancers&${q}`);
      expect(r.json.listloadbalancersresponse.loadbalancer.map((l: any) => Number(l.loadbalancerid))).toEqual([target.loadbalancerid]);
    }
    const none = await api(sim, 'DX-M1', tok, 'command=listLoadBalancers&name=does-not-exist');
    expect(none.json).toEqual({ listloadbalancersresponse: {} });
  });

  it('sends an empty list as {} (configured with 0 LBs, or a zone with no data)', async () => {
    for (const zone of ['DX-G', 'DX-Central']) {
      const r = await api(sim, zone, await token(sim, zone), 'command=listLoadBalancers');
      expect(r.status).toBe(200);
      expect(r.text).toBe('{"listloadbalancersresponse":{}}');
    }
  });
});

describe('listLoadBalancerWebServers', () => {
  it('returns the servers of one LB with the documented fields', async () => {
    const tok = await token(sim, 'DX-M1');
    const lb = sim.data.accounts[0]!.zones['DX-M1']!.loadBalancers[1]!;
    const r = await api(sim, 'DX-M1', tok, `command=listLoadBalancerWebServers&loadbalancerid=${lb.loadbalancerid}`);
    const resp = r.json.listloadbalancerwebserversresponse;
    expect(Number(resp.count)).toBe(3);
    resp.loadbalancerwebserver.forEach((s: any, i: number) => {
      expect(Object.keys(s).sort()).toEqual(['avgsvrttfb', 'cursrvrconnections', 'ipaddress', 'loadbalancerid', 'publicport', 'requestsrate', 'serviceid', 'state', 'throughputrate', 'virtualmachineid']);
      const want = lb.servers[i]!;
      expect(Number(s.loadbalancerid)).toBe(lb.loadbalancerid);
      expect(s.ipaddress).toBe(want.ipaddress);
      expect(Number(s.cursrvrconnections)).toBe(want.cursrvrconnections);
      expect(Number(s.avgsvrttfb)).toBe(want.avgsvrttfb);
    });
  });

  it('keeps the sample number style for explicit data (ports as strings)', async () => {
    const r = await api(sim, 'DX-M1', await token(sim, 'DX-M1', B), 'command=listLoadBalancerWebServers&loadbalancerid=45486');
    expect(r.json.listloadbalancerwebserversresponse.loadbalancerwebserver[0]).toMatchObject({
      loadbalancerid: 45486, ipaddress: '172.25.0.178', publicport: '80', state: 'DOWN', cursrvrconnections: 15, throughputrate: 10, avgsvrttfb: 11, requestsrate: 12,
    });
  });

  it('sends {} for an LB with no servers, 530 for an unknown LB, 431 without an id', async () => {
    const tok = await token(sim, 'DX-M1', B);
    const emptyId = sim.data.accounts[1]!.zones['DX-M1']!.loadBalancers[1]!.loadbalancerid;
    expect((await api(sim, 'DX-M1', tok, `command=listLoadBalancerWebServers&loadbalancerid=${emptyId}`)).text).toBe('{"listloadbalancerwebserversresponse":{}}');
    const unknown = await api(sim, 'DX-M1', tok, 'command=listLoadBalancerWebServers&loadbalancerid=999999');
    expect(unknown.status).toBe(200);
    expect(unknown.json.listloadbalancerwebserversresponse.errorcode).toBe(530);
    expect(typeof unknown.json.listloadbalancerwebserversresponse.errortext).toBe('string');
    // Another account's LB is unknown to this one.
    const foreign = sim.data.accounts[0]!.zones['DX-M1']!.loadBalancers[0]!.loadbalancerid;
    expect((await api(sim, 'DX-M1', tok, `command=listLoadBalancerWebServers&loadbalancerid=${foreign}`)).json.listloadbalancerwebserversresponse.errorcode).toBe(530);
    const missing = await api(sim, 'DX-M1', tok, 'command=listLoadBalancerWebServers');
    expect(missing.json.listloadbalancerwebserversresponse.errorcode).toBe(431);
  });
});

describe('tokens', () => {
  it('answers unknown commands with errorcode 431 in an HTTP 200', async () => {
    const r = await api(sim, 'DX-M1', await token(sim, 'DX-M1'), 'command=deleteEverything');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ deleteeverythingresponse: { errorcode: 431, errortext: 'Unknown command' } });
  });

  it('rejects a missing or unknown token with the Keystone 401 body', async () => {
    for (const tok of [null, 'not-a-token']) {
      const r = await api(sim, 'DX-M1', tok, 'command=listLoadBalancers');
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe(401);
    }
  });

  it('scopes tokens to the zone they were issued in', async () => {
    const tok = await token(sim, 'DX-M1');
    expect((await api(sim, 'DX-M1', tok, 'command=listLoadBalancers')).status).toBe(200);
    expect((await api(sim, 'DX-G', tok, 'command=listLoadBalancers')).status).toBe(401);
    expect((await api(sim, 'DX-EXTRA', tok, 'command=listLoadBalancers')).status).toBe(401);
  });

  it('expires tokens after tokenTtlSeconds', async () => {
    const short = await startSimulator({ tokenTtlSeconds: 60, accounts: [{ ...A, zones: { 'DX-M1': { lbs: 1 } } }] });
    // The simulator reads the wall clock (Date) in this process: move it instead of waiting.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const tok = await token(short, 'DX-M1');
      expect((await api(short, 'DX-M1', tok, 'command=listLoadBalancers')).status).toBe(200);
      vi.setSystemTime(Date.now() + 60_000);
      expect((await api(short, 'DX-M1', tok, 'command=listLoadBalancers')).status).toBe(401);
      expect((await api(short, 'DX-M1', await token(short, 'DX-M1'), 'command=listLoadBalancers')).status).toBe(200);
    } finally {
      vi.useRealTimers();
      await short.close();
    }
  });

  it('invalidates old tokens when the password is rotated', async () => {
    const s = await startSimulator({ accounts: [{ ...A, zones: { 'DX-M1': { lbs: 1 } } }] });
    try {
      const old = await token(s, 'DX-M1');
      s.setPassword(A.id, 'rotated');
      expect((await api(s, 'DX-M1', old, 'command=listLoadBalancers')).status).toBe(401);
      expect((await auth(s, 'DX-M1', A.id, A.password)).status).toBe(401);
      const fresh = await auth(s, 'DX-M1', A.id, 'rotated');
      expect(fresh.status).toBe(201);
      expect((await api(s, 'DX-M1', fresh.token, 'command=listLoadBalancers')).status).toBe(200);
    } finally {
      await s.close();
    }
  });
});
