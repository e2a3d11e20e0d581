import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, weirdLbName, type Simulator } from '@ktcloud-lb-exporter/simulator';

const A = { id: 'team-a@example.com', password: 'secret-a' };
const Z = 'DX-M1';

function authBody(name: string, password: string): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ['password'], password: { user: { domain: { id: 'default' }, name, password } } },
      scope: { project: { domain: { id: 'default' }, name } },
    },
  });
}

async function authRaw(sim: Simulator, zone = Z) {
  const res = await fetch(`${sim.zoneEndpoint(zone)}/identity/auth/tokens`, { method: 'POST', body: authBody(A.id, A.password) });
  await res.arrayBuffer();
  return { status: res.status, token: res.headers.get('x-subject-token'), retryAfter: res.headers.get('retry-after') };
}

async function token(sim: Simulator, zone = Z): Promise<string> {
  const r = await authRaw(sim, zone);
  expect(r.status).toBe(201);
  return r.token!;
}

async function api(sim: Simulator, tok: string, query: string, zone = Z, signal?: AbortSignal) {
  const res = await fetch(`${sim.zoneEndpoint(zone)}/loadbalancer/client/api?${query}&response=json`, { headers: { 'x-auth-token': tok }, signal });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

const LIST = 'command=listLoadBalancers';
const servers = (id: number) => `command=listLoadBalancerWebServers&loadbalancerid=${id}`;

let sim: Simulator;
const lbs = () => sim.data.accounts[0]!.zones[Z]!.loadBalancers;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 3,
    accounts: [{ ...A, zones: { [Z]: { lbs: 4, serversPerLb: 2 }, 'DX-G': { lbs: 2, serversPerLb: 1 } } }],
  });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.setFaults(A.id, {});
  sim.setFaults(A.id, {}, Z);
});

async function statuses(tok: string, n: number, query = LIST): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await api(sim, tok, query)).status);
  return out;
}

describe('auth faults', () => {
  it('wrongPassword makes auth 401 with the right password, and clearing it restores auth', async () => {
    sim.setFaults(A.id, { wrongPassword: true });
    expect((await authRaw(sim)).status).toBe(401);
    sim.setFaults(A.id, {});
    expect((await authRaw(sim)).status).toBe(201);
  });

  it('rateLimit on auth only when auth is listed in commands', async () => {
    sim.setFaults(A.id, { rateLimit: { status: 429, first: 1 } });
    expect((await authRaw(sim)).status).toBe(201);
    sim.setFaults(A.id, { rateLimit: { status: 429, first: 1, commands: ['auth'] } });
    const r = await authRaw(sim);
    expect(r.status).toBe(429);
    expect(r.retryAfter).toBe('1');
    expect((await authRaw(sim)).status).toBe(201);
  });
});

describe('API faults', () => {
  it('expireTokenAfterRequests kills the token on its Nth call; a new token works', async () => {
    sim.setFaults(A.id, { expireTokenAfterRequests: 3 });
    const tok = await token(sim);
    expect(await statuses(tok, 4)).toEqual([200, 200, 401, 401]);
    expect(await statuses(await token(sim), 3)).toEqual([200, 200, 401]);
  });

  it('rateLimit every N answers with the status and Retry-After', async () => {
    sim.setFaults(A.id, { rateLimit: { status: 429, retryAfterSeconds: 2, every: 3 } });
    const tok = await token(sim);
    const seen: Array<[number, string | null]> = [];
    for (let i = 0; i < 6; i++) {
      const r = await api(sim, tok, LIST);
      seen.push([r.status, r.headers.get('retry-after')]);
    }
    expect(seen).toEqual([[200, null], [200, null], [429, '2'], [200, null], [200, null], [429, '2']]);
  });

  it('rateLimit first N with 503, and without Retry-After when null', async () => {
    sim.setFaults(A.id, { rateLimit: { status: 503, first: 2, retryAfterSeconds: null } });
    const tok = await token(sim);
    const r = await api(sim, tok, LIST);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeNull();
    expect(await statuses(tok, 2)).toEqual([503, 200]);
  });

  it('serverError restricted to one command', async () => {
    sim.setFaults(A.id, { serverError: { status: 502, every: 2, commands: ['listLoadBalancerWebServers'] } });
    const tok = await token(sim);
    expect(await statuses(tok, 3)).toEqual([200, 200, 200]);
    expect(await statuses(tok, 4, servers(lbs()[0]!.loadbalancerid))).toEqual([200, 502, 200, 502]);
  });

  it('composes faults with independent counters', async () => {
    sim.setFaults(A.id, { rateLimit: { every: 2 }, serverError: { every: 3 } });
    // call n: n%2==0 -> 429 (rateLimit wins), else n%3==0 -> 500
    expect(await statuses(await token(sim), 6)).toEqual([200, 429, 500, 429, 200, 429]);
  });

  it('zone faults apply only in their zone and override account faults', async () => {
    sim.setFaults(A.id, { serverError: { status: 500 } });
    sim.setFaults(A.id, { serverError: { status: 503 } }, 'DX-G');
    expect((await api(sim, await token(sim), LIST)).status).toBe(500);
    expect((await api(sim, await token(sim, 'DX-G'), LIST, 'DX-G')).status).toBe(503);
    sim.setFaults(A.id, {});
    expect((await api(sim, await token(sim), LIST)).status).toBe(200);
    expect((await api(sim, await token(sim, 'DX-G'), LIST, 'DX-G')).status).toBe(503);
    sim.setFaults(A.id, {}, 'DX-G');
  });

  it('slowMs delays the answer', async () => {
    const tok = await token(sim);
    sim.setFaults(A.id, { slowMs: 250 });
    const t0 = performance.now();
    expect((await api(sim, tok, LIST)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it('malformedJson sends a truncated body with 200', async () => {
    sim.setFaults(A.id, { malformedJson: { commands: ['listLoadBalancers'] } });
    const tok = await token(sim);
    const r = await api(sim, tok, LIST);
    expect(r.status).toBe(200);
    expect(r.text.length).toBeGreaterThan(10);
    expect(r.text.startsWith('{"listloadbalancersresponse"')).toBe(true);
    expect(() => JSON.parse(r.text)).toThrow();
    const ok = await api(sim, tok, servers(lbs()[0]!.loadbalancerid));
    expect(() => JSON.parse(ok.text)).not.toThrow();
  });

  it('errorInBody puts errorcode/errortext inside an HTTP 200', async () => {
    sim.setFaults(A.id, { errorInBody: { errorcode: 530, errortext: 'boom', first: 1 } });
    const tok = await token(sim);
    const r = await api(sim, tok, LIST);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ listloadbalancersresponse: { errorcode: 530, errortext: 'boom' } });
    expect(JSON.parse((await api(sim, tok, LIST)).text).listloadbalancersresponse.count).toBe(4);
  });

  it('numbersAsStrings sends every numeric field and count as strings', async () => {
    sim.setFaults(A.id, { numbersAsStrings: true });
    const tok = await token(sim);
    const list = JSON.parse((await api(sim, tok, LIST)).text).listloadbalancersresponse;
    expect(list.count).toBe('4');
    for (const lb of list.loadbalancer) {
      for (const k of ['loadbalancerid', 'serviceport', 'establishedconn']) expect(typeof lb[k]).toBe('string');
    }
    const ws = JSON.parse((await api(sim, tok, servers(lbs()[1]!.loadbalancerid))).text).listloadbalancerwebserversresponse;
    expect(ws.count).toBe('2');
    for (const s of ws.loadbalancerwebserver) {
      for (const k of ['serviceid', 'loadbalancerid', 'publicport', 'cursrvrconnections', 'throughputrate', 'avgsvrttfb', 'requestsrate']) {
        expect(typeof s[k]).toBe('string');
        expect(s[k]).toMatch(/^\d+$/);
      }
    }
  });

  it('weirdNames round-trips hostile names through JSON and the name filter', async () => {
    sim.setFaults(A.id, { weirdNames: true });
    const tok = await token(sim);
    const names = JSON.parse((await api(sim, tok, LIST)).text).listloadbalancersresponse.loadbalancer.map((l: any) => l.name);
    expect(names).toEqual(lbs().map((lb) => weirdLbName(lb)));
    expect(names.join('')).toMatch(/[가-힣]/);
    const all = lbs().map((lb) => weirdLbName(lb)).join('');
    for (const ch of ['"', '\\', '\n', ',']) expect(all).toContain(ch);
    const target = names[0] as string;
    const filtered = JSON.parse((await api(sim, tok, `${LIST}&name=${encodeURIComponent(target)}`)).text).listloadbalancersresponse;
    expect(filtered.loadbalancer.map((l: any) => l.name)).toEqual([target]);
  });

  it('failServerListFor fails only the listed LBs, or the first N', async () => {
    const [lb0, lb1, lb2] = lbs();
    sim.setFaults(A.id, { failServerListFor: [lb1!.loadbalancerid] });
    const tok = await token(sim);
    expect((await api(sim, tok, servers(lb0!.loadbalancerid))).status).toBe(200);
    expect((await api(sim, tok, servers(lb1!.loadbalancerid))).status).toBe(500);
    expect((await api(sim, tok, LIST)).status).toBe(200);
    sim.setFaults(A.id, { failServerListFor: { count: 2 } });
    expect((await api(sim, tok, servers(lb0!.loadbalancerid))).status).toBe(500);
    expect((await api(sim, tok, servers(lb1!.loadbalancerid))).status).toBe(500);
    expect((await api(sim, tok, servers(lb2!.loadbalancerid))).status).toBe(200);
  });

  it('hugeResponse adds extra LBs or pads the body while keeping it valid JSON', async () => {
    sim.setFaults(A.id, { hugeResponse: { extraLbs: 20000 } });
    const tok = await token(sim);
    const big = JSON.parse((await api(sim, tok, LIST)).text).listloadbalancersresponse;
    expect(big.count).toBe(20004);
    const ids = new Set(big.loadbalancer.map((l: any) => Number(l.loadbalancerid)));
    expect(ids.size).toBe(20004);
    const extraId = Number(big.loadbalancer[20003].loadbalancerid);
    expect((await api(sim, tok, servers(extraId))).text).toBe('{"listloadbalancerwebserversresponse":{}}');

    sim.setFaults(A.id, { hugeResponse: { padBytes: 5_000_000 } });
    const padded = await api(sim, tok, LIST);
    expect(padded.text.length).toBeGreaterThan(5_000_000);
    expect(Number(padded.headers.get('content-length'))).toBe(Buffer.byteLength(padded.text));
    expect(JSON.parse(padded.text).listloadbalancersresponse.count).toBe(4);
  });

  it('rejects unknown fault keys and bad values', () => {
    expect(() => sim.setFaults(A.id, { rateLimt: true } as any)).toThrow(/rateLimt/);
    expect(() => sim.setFaults(A.id, { rateLimit: { status: 418 } } as any)).toThrow(/429 or 503/);
    expect(() => sim.setFaults('ghost@example.com', {})).toThrow(/unknown account/);
    expect(() => sim.setFaults(A.id, {}, 'DX-NOPE')).toThrow(/unknown zone/);
  });
});

describe('hostile faults', () => {
  it('echoSecrets repeats id, password and the request token, in a 200 errortext or a 4xx body', async () => {
    sim.setFaults(A.id, { echoSecrets: { first: 1 } });
    const tok = await token(sim);
    const r = await api(sim, tok, LIST);
    expect(r.status).toBe(200);
    const text = (JSON.parse(r.text) as { listloadbalancersresponse: { errortext: string } }).listloadbalancersresponse.errortext;
    for (const s of [A.id, A.password, tok]) expect(text).toContain(s);
    expect(text).toContain('\n');
    sim.setFaults(A.id, { echoSecrets: { status: 401, commands: ['auth'] } });
    const res = await fetch(`${sim.zoneEndpoint(Z)}/identity/auth/tokens`, { method: 'POST', body: authBody(A.id, A.password) });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain(A.password);
  });

  it('longErrorText sends an error text of the asked size with control characters', async () => {
    sim.setFaults(A.id, { longErrorText: { status: 500, bytes: 5120 } });
    const r = await api(sim, await token(sim), LIST);
    expect(r.status).toBe(500);
    const msg = (JSON.parse(r.text) as { error: { message: string } }).error.message;
    expect(msg).toHaveLength(5120);
    expect(msg).toMatch(/[\n\t\u0007]/);
  });

  it('hugeNames, duplicates and deepNesting shape the lists', async () => {
    sim.setFaults(A.id, { hugeNames: { bytes: 100_000 } });
    const tok = await token(sim);
    const names = (JSON.parse((await api(sim, tok, LIST)).text) as { listloadbalancersresponse: { loadbalancer: Array<{ name: string }> } }).listloadbalancersresponse.loadbalancer.map((l) => l.name);
    expect(names.map((n) => n.length)).toEqual([100_000, 100_000, 100_000, 100_000]);

    sim.setFaults(A.id, { duplicates: true });
    const list = JSON.parse((await api(sim, tok, LIST)).text) as { listloadbalancersresponse: { count: number; loadbalancer: Array<{ loadbalancerid: number }> } };
    expect(list.listloadbalancersresponse.count).toBe(8);
    expect(new Set(list.listloadbalancersresponse.loadbalancer.map((l) => l.loadbalancerid)).size).toBe(4);
    const ws = JSON.parse((await api(sim, tok, servers(lbs()[0]!.loadbalancerid))).text) as { listloadbalancerwebserversresponse: { loadbalancerwebserver: Array<{ ipaddress?: string }> } };
    const got = ws.listloadbalancerwebserversresponse.loadbalancerwebserver;
    expect(got).toHaveLength(4);
    expect(got[2]).toEqual(got[0]);
    expect(got[3]!.ipaddress).toBeUndefined();

    sim.setFaults(A.id, { deepNesting: { depth: 5000 } });
    const deep = (await api(sim, tok, LIST)).text;
    expect(deep).toContain(`"name":${'['.repeat(5000)}${']'.repeat(5000)}`);
    expect(() => JSON.parse(deep)).not.toThrow();
  });

  it('rejects bad hostile fault values', () => {
    expect(() => sim.setFaults(A.id, { hugeNames: { bytes: 0 } })).toThrow('hugeNames.bytes');
    expect(() => sim.setFaults(A.id, { echoSecrets: { status: 302 } } as never)).toThrow('echoSecrets.status');
    expect(() => sim.setFaults(A.id, { deepNesting: { depth: 'x' } } as never)).toThrow('deepNesting.depth');
  });
});

describe('hang', () => {
  it('holds the request until the client times out, then close() returns promptly', async () => {
    const s = await startSimulator({ accounts: [{ ...A, zones: { [Z]: { lbs: 1 } } }] });
    const tok = await token(s);
    s.setFaults(A.id, { hang: { commands: ['listLoadBalancers'] } });
    const t0 = performance.now();
    await expect(api(s, tok, LIST, Z, AbortSignal.timeout(300))).rejects.toThrow();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(280);
    // Other commands still answer.
    expect((await api(s, tok, servers(s.data.accounts[0]!.zones[Z]!.loadBalancers[0]!.loadbalancerid))).status).toBe(200);
    // A second hung request left open by the client must not keep close() waiting.
    const pending = api(s, tok, LIST).catch((e: unknown) => e);
    for (let i = 0; i < 50 && s.hungRequests === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.hungRequests).toBe(1);
    const c0 = performance.now();
    await s.close();
    expect(performance.now() - c0).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
    expect(s.stats.totals().pending).toBeGreaterThanOrEqual(2);
  });
});
