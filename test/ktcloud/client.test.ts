import pLimit from 'p-limit';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/load.js';
import { ZoneClient, type TokenInfo } from '../../src/ktcloud/client.js';
import { KtCloudError } from '../../src/ktcloud/errors.js';
import { SharedPacer } from '../../src/ktcloud/pacer.js';
import { startSimulator, type Faults, type Simulator } from '@ktcloud-lb-exporter/simulator';

const ID = 'client@example.com';
const PW = 'client-pw';
let sim: Simulator;
const dispatcher = new Agent({ keepAliveTimeout: 10_000 });

beforeAll(async () => {
  sim = await startSimulator({
    listen: '127.0.0.1:0',
    accounts: [
      { id: ID, password: PW, zones: { 'DX-M1': { lbs: 4, serversPerLb: 3 }, 'DX-G': { lbs: 0 } } },
      {
        id: 'explicit@example.com',
        password: 'x',
        zones: {
          'DX-M1': {
            loadBalancers: [
              { name: 'one', serviceport: '80', state: 'UP', servers: [{ ipaddress: '10.0.0.1', publicport: '8080', state: 'DOWN', cursrvrconnections: '15', throughputrate: 10, avgsvrttfb: '7', requestsrate: 3 }] },
            ],
          },
        },
      },
    ],
  });
});
afterAll(async () => {
  await sim.close();
  await dispatcher.close();
});
beforeEach(() => {
  sim.setFaults(ID, {});
  sim.resetStats();
});

function client(opts: { id?: string; password?: string; zone?: string; token?: TokenInfo; timeoutMs?: number; requestTimeoutMs?: number; retries?: number; maxResponseBytes?: number } = {}) {
  const requests: string[] = [];
  const zone = opts.zone ?? 'DX-M1';
  const c = new ZoneClient({
    zone,
    endpoint: sim.zoneEndpoint(zone),
    cloudId: opts.id ?? ID,
    password: opts.password ?? PW,
    token: opts.token,
    api: { ...DEFAULTS.api, retryBaseMs: 10, requestTimeoutMs: opts.requestTimeoutMs ?? 2000, retries: opts.retries ?? 3, maxResponseBytes: opts.maxResponseBytes ?? DEFAULTS.api.maxResponseBytes },
    dispatcher,
    accountPacer: new SharedPacer(SharedPacer.createBuffer(), 1000),
    zonePacer: new SharedPacer(SharedPacer.createBuffer(), 1000),
    limit: pLimit(4),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    onRequest: (command, code) => requests.push(`${command} ${code}`),
  });
  return { c, requests };
}

async function failure(p: Promise<unknown>): Promise<KtCloudError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(KtCloudError);
    return err as KtCloudError;
  }
  throw new Error('expected a failure');
}

describe('ZoneClient against the simulator', () => {
  it('authenticates once, lists load balancers and their servers, matching the simulator data', async () => {
    const { c, requests } = client();
    const lbs = await c.listLoadBalancers();
    const data = sim.data.accounts.find((a) => a.id === ID)!.zones['DX-M1']!.loadBalancers;
    expect(lbs.map((l) => l.id)).toEqual(data.map((l) => String(l.loadbalancerid)));
    expect(lbs.map((l) => l.name)).toEqual(data.map((l) => l.name));
    const servers = await c.listWebServers(lbs[0]!.id);
    expect(servers.map((s) => s.ip)).toEqual(data[0]!.servers.map((s) => s.ipaddress));
    expect(servers.map((s) => s.connections)).toEqual(data[0]!.servers.map((s) => s.cursrvrconnections));
    expect(requests).toEqual(['auth 201', 'listLoadBalancers 200', 'listLoadBalancerWebServers 200']);
    expect(c.token?.value).toBeTruthy();
    expect(c.token!.expiresAtMs).toBeGreaterThan(Date.now() + 30 * 60_000);
  });

  it('reuses a valid token from an earlier cycle without authenticating', async () => {
    const first = client();
    await first.c.listLoadBalancers();
    const second = client({ token: first.c.token });
    await second.c.listLoadBalancers();
    expect(second.requests).toEqual(['listLoadBalancers 200']);
  });

  it('renews a token that is about to expire', async () => {
    const first = client();
    await first.c.listLoadBalancers();
    const second = client({ token: { value: first.c.token!.value, expiresAtMs: Date.now() + 60_000 } });
    await second.c.listLoadBalancers();
    expect(second.requests).toEqual(['auth 201', 'listLoadBalancers 200']);
  });

  it('re-authenticates once when a token dies mid-cycle (401) and the cycle succeeds', async () => {
    sim.setFaults(ID, { expireTokenAfterRequests: 2 });
    const { c, requests } = client();
    const lbs = await c.listLoadBalancers();
    for (const lb of lbs) await c.listWebServers(lb.id);
    expect(requests.filter((r) => r === 'auth 201').length).toBeGreaterThanOrEqual(2);
    expect(requests).toContain('listLoadBalancerWebServers 401');
    expect(requests.filter((r) => r.endsWith(' 401')).length).toBe(requests.filter((r) => r === 'auth 201').length - 1);
  });

  it('a wrong password is an auth error, not retried', async () => {
    const { c, requests } = client({ password: 'wrong' });
    const e = await failure(c.listLoadBalancers());
    expect(e.reason).toBe('auth');
    expect(e.message).toBe('authentication failed (HTTP 401) for DX-M1');
    expect(requests).toEqual(['auth 401']);
    expect(e.message).not.toContain('wrong');
  });

  it('tolerates an empty list sent as {} and numbers sent as strings', async () => {
    const empty = client({ zone: 'DX-G' });
    expect(await empty.c.listLoadBalancers()).toEqual([]);
    const explicit = client({ id: 'explicit@example.com', password: 'x' });
    const [lb] = await explicit.c.listLoadBalancers();
    expect(lb).toMatchObject({ name: 'one', servicePort: '80', state: 'UP' });
    expect(await explicit.c.listWebServers(lb!.id)).toEqual([{ ip: '10.0.0.1', port: '8080', state: 'DOWN', connections: 15, throughputKbps: 10, ttfbMs: 7, requestsPerSec: 3 }]);
  });

  it('numbersAsStrings: every numeric field as text parses to the same values', async () => {
    const plain = await client().c.listLoadBalancers();
    sim.setFaults(ID, { numbersAsStrings: true });
    const { c } = client();
    const asText = await c.listLoadBalancers();
    expect(asText).toEqual(plain);
    const servers = await c.listWebServers(asText[0]!.id);
    expect(servers.every((s) => typeof s.connections === 'number')).toBe(true);
  });

  it('an error inside an HTTP 200 becomes an api_error with its code and text', async () => {
    sim.setFaults(ID, { errorInBody: { errorcode: 530, errortext: 'Unable to execute API', commands: ['listLoadBalancers'] } });
    const e = await failure(client().c.listLoadBalancers());
    expect(e.reason).toBe('api_error');
    expect(e.apiCode).toBe(530);
    expect(e.message).toBe('listLoadBalancers returned API error 530: Unable to execute API in DX-M1');
  });

  it('malformed JSON is a bad_response', async () => {
    sim.setFaults(ID, { malformedJson: { commands: ['listLoadBalancers'] } });
    const e = await failure(client().c.listLoadBalancers());
    expect(e.reason).toBe('bad_response');
    expect(e.message).toMatch(/^listLoadBalancers answered with malformed JSON \(.+\) in DX-M1$/);
  });

  it('retries 429 after Retry-After and succeeds', async () => {
    sim.setFaults(ID, { rateLimit: { status: 429, retryAfterSeconds: 1, first: 1, commands: ['listLoadBalancers'] } });
    const { c, requests } = client();
    const started = Date.now();
    await c.listLoadBalancers();
    expect(requests).toEqual(['auth 201', 'listLoadBalancers 429', 'listLoadBalancers 200']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries 503 and 500 with backoff, and gives up after the configured retries', async () => {
    sim.setFaults(ID, { serverError: { status: 500, every: 1, commands: ['listLoadBalancers'] } });
    const { c, requests } = client({ retries: 2 });
    const e = await failure(c.listLoadBalancers());
    expect(e.reason).toBe('api_error');
    expect(e.message).toBe('listLoadBalancers failed with a server error (HTTP 500) in DX-M1: An unexpected error prevented the server from fulfilling your request.');
    expect(requests).toEqual(['auth 201', 'listLoadBalancers 500', 'listLoadBalancers 500', 'listLoadBalancers 500']);
    sim.setFaults(ID, { rateLimit: { status: 503, retryAfterSeconds: 0, first: 2 } });
    const ok = client();
    await ok.c.listLoadBalancers();
    expect(ok.requests.filter((r) => r.endsWith('503')).length).toBe(2);
  });

  it('a hung call is cut by the request timeout, then by the collection deadline', async () => {
    sim.setFaults(ID, { hang: { commands: ['listLoadBalancers'] } });
    const { c, requests } = client({ requestTimeoutMs: 300, timeoutMs: 1000, retries: 10 });
    const started = Date.now();
    const e = await failure(c.listLoadBalancers());
    expect(e.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(requests.filter((r) => r === 'listLoadBalancers error').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a response above maxResponseBytes with a clear error', async () => {
    sim.setFaults(ID, { hugeResponse: { padBytes: 3_000_000, commands: ['listLoadBalancers'] } });
    const e = await failure(client({ maxResponseBytes: 1_000_000 }).c.listLoadBalancers());
    expect(e.reason).toBe('bad_response');
    expect(e.message).toBe('listLoadBalancers answer is larger than the 1000000-byte limit (api.maxResponseBytes) in DX-M1');
  });

  it('a refused connection is a network error', async () => {
    const c = new ZoneClient({
      zone: 'DX-M1',
      endpoint: 'http://127.0.0.1:1/d1',
      cloudId: ID,
      password: PW,
      api: { ...DEFAULTS.api, retries: 1, retryBaseMs: 1 },
      dispatcher,
      accountPacer: new SharedPacer(SharedPacer.createBuffer(), 100),
      zonePacer: new SharedPacer(SharedPacer.createBuffer(), 100),
      limit: pLimit(1),
      signal: AbortSignal.timeout(5000),
      onRequest: () => undefined,
    });
    const e = await failure(c.listLoadBalancers());
    expect(e.reason).toBe('network');
    expect(e.message).toMatch(/^auth could not reach DX-M1: .*ECONNREFUSED/);
  });
});

describe('weird names', () => {
  it('survive the round trip as text (escaping happens at render time)', async () => {
    sim.setFaults(ID, { weirdNames: true } as Faults);
    const lbs = await client().c.listLoadBalancers();
    expect(lbs.some((l) => /[\\"\n,]/.test(l.name) && /[가-힣]/.test(l.name))).toBe(true);
  });
});
