import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, fetch as ufetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, makeCa, makeCert, type Pem } from '../support/certs.js';
import { eventually, startStack, type Running } from '../support/harness.js';

/**
 * The exporter behind a web config file: real HTTPS server (certificates from a CA made here),
 * basic auth on every route, client certificates, and certificate rotation without a restart.
 */
const dir = mkdtempSync(join(tmpdir(), 'ktcloud-web-'));
// bcrypt of "s3cret-pw", cost 10.
const HASH = '$2b$10$GuEPJY0p5PtiYluK9SO4J.9qIp3RnxBZefl66UbYPuh7U451dLoCq';
// bcrypt of "new-pw", cost 10.
const NEW_HASH = '$2b$10$P67.qKtcBUNQI1VQBH/98OFXxMNav93DbTvEzveZT2DTeDXbuglyC';
const ROUTES: Array<[string, string]> = [
  ['GET', '/'],
  ['GET', '/metrics'],
  ['GET', '/accounts'],
  ['GET', '/accounts?format=json'],
  ['GET', '/healthz'],
  ['GET', '/readyz'],
  ['GET', '/-/healthy'],
  ['GET', '/-/ready'],
  ['POST', '/-/reload'],
  ['GET', '/no-such-page'],
];
const SIM = { accounts: [{ id: 'web@example.com', password: 'web-pw', zones: { 'DX-M1': { lbs: 1, serversPerLb: 1 } } }] };
const ACCOUNTS = [{ name: 'web', zones: ['DX-M1'], id: 'web@example.com', password: 'web-pw' }];

let ca: Pem;
let server: Pem;
let s: Running;
let base: string;
let agent: Agent;

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
const portOf = (r: Running) => (r.app.http.server.address() as { port: number }).port;

function webYaml(extraTls = '', extra = ''): string {
  return `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n${extraTls}http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Strict-Transport-Security: max-age=31536000\nbasic_auth_users:\n  prometheus: "${HASH}"\n${extra}`;
}

/** The fingerprint of the certificate a new TLS connection is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, ca: readFileSync(ca.cert), servername: 'localhost' }, () => {
      resolve(sock.getPeerX509Certificate()!.fingerprint256);
      sock.end();
    });
    sock.once('error', reject);
  });
}

beforeAll(async () => {
  ca = makeCa(dir);
  server = makeCert(dir, 'server', ca, 'server');
  writeFileSync(join(dir, 'web.yml'), webYaml());
  s = await startStack({ sim: SIM, accounts: ACCOUNTS, schedule: false, app: { webConfigFile: join(dir, 'web.yml'), watchPollMs: 200, enableLifecycle: true } });
  s.app.web.watch();
  base = `https://127.0.0.1:${portOf(s)}`;
  agent = new Agent({ connect: { ca: readFileSync(ca.cert) } });
});
afterAll(async () => {
  await agent?.close();
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('web config: TLS and basic auth', () => {
  it('serves HTTPS only: a plain HTTP request gets no HTTP answer', async () => {
    await expect(fetch(`http://127.0.0.1:${portOf(s)}/healthz`)).rejects.toThrow();
  });

  it('every route answers 401 with WWW-Authenticate: Basic, without credentials or with a wrong password or user, alike', async () => {
    for (const [method, path] of ROUTES) {
      const bodies: string[] = [];
      for (const authorization of [undefined, basic('prometheus', 'wrong'), basic('nobody', 's3cret-pw'), 'Bearer x']) {
        const res = await ufetch(`${base}${path}`, { method, dispatcher: agent, headers: authorization ? { authorization } : {} });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic');
        bodies.push(await res.text());
      }
      expect(new Set(bodies).size, 'the answer does not say which part was wrong').toBe(1);
    }
    // 40 bcrypt verifications on a shared CPU.
  }, 90_000);

  it('the right credentials reach every route, and the configured headers are on every answer (/metrics too)', async () => {
    for (const [method, path] of ROUTES) {
      const res = await ufetch(`${base}${path}`, { method, dispatcher: agent, headers: { authorization: basic('prometheus', 's3cret-pw') } });
      expect(res.status, `${method} ${path}`).not.toBe(401);
      expect(res.headers.get('x-frame-options'), path).toBe('deny');
      expect(res.headers.get('strict-transport-security'), path).toBe('max-age=31536000');
      await res.arrayBuffer();
    }
    const metrics = await ufetch(`${base}/metrics`, { dispatcher: agent, headers: { authorization: basic('prometheus', 's3cret-pw') } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('ktcloud_exporter_build_info{');
  });

  it('a rotated certificate is served to new connections without a restart', async () => {
    const port = portOf(s);
    const before = await servedFingerprint(port);
    expect(before).toBe(fingerprint(server.cert));
    const next = makeCert(dir, 'server2', ca, 'server');
    // cert-manager swaps the files; each rename is atomic.
    copyFileSync(next.key, join(dir, 'new.key'));
    copyFileSync(next.cert, join(dir, 'new.crt'));
    renameSync(join(dir, 'new.key'), server.key);
    renameSync(join(dir, 'new.crt'), server.cert);
    const after = await eventually(async () => {
      const f = await servedFingerprint(port);
      return f !== before ? f : undefined;
    }, 10_000, 'the new certificate served');
    expect(after).toBe(fingerprint(next.cert));
    const res = await ufetch(`${base}/healthz`, { dispatcher: new Agent({ connect: { ca: readFileSync(ca.cert) } }), headers: { authorization: basic('prometheus', 's3cret-pw') } });
    expect(res.status).toBe(200);
  });

  it('a broken web config is rejected with file and key, and the running one keeps serving', async () => {
    const file = join(dir, 'web.yml');
    writeFileSync(file, webYaml('', 'basic_auth_user:\n  eve: x\n'));
    await eventually(() => (s.logs.text.includes('web config reload rejected') ? true : undefined), 10_000, 'reload rejected');
    expect(s.logs.text).toContain(`web config ${file}: unknown key \\"basic_auth_user\\"`);
    const res = await ufetch(`${base}/healthz`, { dispatcher: agent, headers: { authorization: basic('prometheus', 's3cret-pw') } });
    expect(res.status).toBe(200);
    expect((await ufetch(`${base}/healthz`, { dispatcher: agent })).status).toBe(401);
    writeFileSync(file, webYaml());
  });

  it('a changed password in the file applies without a restart; the old one (cached or not) stops working', async () => {
    const file = join(dir, 'web.yml');
    const status = async (pw: string) => (await ufetch(`${base}/healthz`, { dispatcher: agent, headers: { authorization: basic('prometheus', pw) } })).status;
    await eventually(async () => ((await status('s3cret-pw')) === 200 ? true : undefined), 10_000, 'the original file back');
    writeFileSync(file, webYaml().replace(HASH, NEW_HASH));
    await eventually(async () => ((await status('new-pw')) === 200 ? true : undefined), 10_000, 'the new password accepted');
    expect(await status('s3cret-pw')).toBe(401);
    writeFileSync(file, webYaml());
  });
});

describe('web config: client certificates', () => {
  let d: string;
  let caM: Pem;
  let client: Pem;
  let stranger: Pem;

  beforeAll(() => {
    d = mkdtempSync(join(dir, 'mtls-'));
    caM = makeCa(d, 'clients');
    client = makeCert(d, 'prometheus', caM, 'client');
    stranger = makeCert(d, 'stranger', makeCa(d, 'other'), 'client');
  });

  /** healthz status per client (trusted certificate, none, certificate of another CA), or "refused". */
  async function outcomes(mode: string): Promise<Record<string, number | 'refused'>> {
    writeFileSync(join(d, `${mode}.yml`), `tls_server_config:\n  cert_file: ${server.cert}\n  key_file: ${server.key}\n  client_auth_type: ${mode}\n  client_ca_file: ${caM.cert}\n`);
    const m = await startStack({ sim: SIM, accounts: ACCOUNTS, schedule: false, app: { webConfigFile: join(d, `${mode}.yml`) } });
    try {
      const out: Record<string, number | 'refused'> = {};
      for (const [who, pem] of [['trusted', client], ['none', undefined], ['stranger', stranger]] as const) {
        const agent = new Agent({ connect: { ca: readFileSync(ca.cert), ...(pem ? { cert: readFileSync(pem.cert), key: readFileSync(pem.key) } : {}) } });
        out[who] = await ufetch(`https://127.0.0.1:${portOf(m)}/healthz`, { dispatcher: agent }).then(
          (r) => r.status,
          () => 'refused' as const,
        );
        await agent.close();
      }
      return out;
    } finally {
      await m.close();
    }
  }

  it.each([
    ['RequireAndVerifyClientCert', { trusted: 200, none: 'refused', stranger: 'refused' }],
    ['VerifyClientCertIfGiven', { trusted: 200, none: 200, stranger: 'refused' }],
    ['RequireAnyClientCert', { trusted: 200, none: 'refused', stranger: 200 }],
    ['RequestClientCert', { trusted: 200, none: 200, stranger: 200 }],
  ])('%s', async (mode, expected) => {
    expect(await outcomes(mode)).toEqual(expected);
  });
});
