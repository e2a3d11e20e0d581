import bcrypt from 'bcryptjs';
import { describe, expect, it, vi } from 'vitest';
import { BasicAuth } from '../../src/http/basic-auth.js';
import { parseWebConfig } from '../../src/http/web-config.js';

const F = '/etc/ktcloud/web.yml';
// bcrypt of "s3cret-pw", cost 10.
const HASH = '$2b$10$GuEPJY0p5PtiYluK9SO4J.9qIp3RnxBZefl66UbYPuh7U451dLoCq';
const TLS = 'tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n';
const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

describe('web config file (exporter-toolkit schema)', () => {
  it('reads TLS, headers and users; relative paths are relative to the file; Go names become OpenSSL names', () => {
    const c = parseWebConfig(
      `${TLS}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: /ca/ca.crt\n  min_version: TLS13\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n  curve_preferences: [X25519, CurveP256]\n  prefer_server_cipher_suites: false\nhttp_server_config:\n  http2: true\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  prometheus: "${HASH}"\n`,
      F,
    );
    expect(c.tls).toMatchObject({ certFile: '/etc/ktcloud/tls.crt', keyFile: '/etc/ktcloud/tls.key', clientCaFile: '/ca/ca.crt', clientAuth: 'RequireAndVerifyClientCert', minVersion: 'TLSv1.3', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', ecdhCurve: 'X25519:P-256', honorCipherOrder: false });
    expect(c.headers).toEqual({ 'X-Frame-Options': 'deny' });
    expect([...c.users.keys()]).toEqual(['prometheus']);
  });

  it('an empty file means plain HTTP without auth; TLS defaults to TLS 1.2 at least, no client certificate', () => {
    expect(parseWebConfig('', F)).toMatchObject({ tls: undefined, headers: {} });
    expect(parseWebConfig(TLS, F).tls).toMatchObject({ minVersion: 'TLSv1.2', clientAuth: 'NoClientCert', honorCipherOrder: true });
  });

  it.each([
    ['basic_auth:\n  a: b\n', 'unknown key "basic_auth"'],
    [`${TLS}  client_auth: RequireAnyClientCert\n`, 'unknown key "tls_server_config.client_auth"'],
    [`${TLS}  client_allowed_sans: [a]\n`, 'tls_server_config.client_allowed_sans: not supported by this exporter'],
    ['tls_server_config:\n  cert_file: tls.crt\n', 'tls_server_config: cert_file and key_file are both required'],
    [`${TLS}  client_auth_type: Sometimes\n`, 'tls_server_config.client_auth_type: "Sometimes" is not one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert'],
    [`${TLS}  client_auth_type: RequireAndVerifyClientCert\n`, 'tls_server_config.client_ca_file is required with client_auth_type RequireAndVerifyClientCert'],
    [`${TLS}  min_version: TLS1.2\n`, 'tls_server_config.min_version: "TLS1.2" is not one of TLS10, TLS11, TLS12, TLS13'],
    [`${TLS}  min_version: TLS13\n  max_version: TLS12\n`, 'tls_server_config: max_version is lower than min_version'],
    [`${TLS}  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n`, 'tls_server_config.cipher_suites: unknown or unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA"'],
    [`${TLS}  curve_preferences: [P256]\n`, 'tls_server_config.curve_preferences: unknown curve "P256" (known: CurveP256, CurveP384, CurveP521, X25519)'],
    ['http_server_config:\n  headers:\n    Content-Type: text/html\n', 'http_server_config.headers: "Content-Type" is set by the exporter and cannot be overridden'],
    ['http_server_config:\n  headers:\n    WWW-Authenticate: none\n', 'http_server_config.headers: "WWW-Authenticate" is set by the exporter and cannot be overridden'],
    ['basic_auth_users:\n  prometheus: hunter2\n', 'basic_auth_users.prometheus: expected a bcrypt hash'],
    ['tls_server_config: [a\n', 'not valid YAML'],
  ])('%j is refused: %s', (text, message) => {
    expect(() => parseWebConfig(text, F)).toThrow(`web config ${F}: ${message}`);
  });

  it('a refused password hash is never repeated in the message', () => {
    expect(() => parseWebConfig('basic_auth_users:\n  prometheus: hunter2\n', F)).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
  });
});

describe('basic auth', () => {
  it('accepts the right user and password only, whatever the malformed header', async () => {
    const auth = new BasicAuth(new Map([['prometheus', HASH]]));
    expect(await auth.check(basic('prometheus', 's3cret-pw'))).toBe(true);
    for (const h of [undefined, '', basic('prometheus', 'wrong'), basic('Prometheus', 's3cret-pw'), basic('nobody', 's3cret-pw'), 'Basic !!!', 'Bearer x', `Basic ${Buffer.from('prometheus').toString('base64')}`]) {
      expect(await auth.check(h), String(h)).toBe(false);
    }
  });

  it('a success is cached: the same credentials do not pay bcrypt again, a wrong password always does', async () => {
    const auth = new BasicAuth(new Map([['cached', HASH]]));
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      expect(await auth.check(basic('cached', 's3cret-pw'))).toBe(true);
      expect(await auth.check(basic('cached', 's3cret-pw'))).toBe(true);
      expect(compare).toHaveBeenCalledTimes(1);
      expect(await auth.check(basic('cached', 'wrong'))).toBe(false);
      expect(await auth.check(basic('cached', 'wrong'))).toBe(false);
      expect(compare).toHaveBeenCalledTimes(3);
    } finally {
      compare.mockRestore();
    }
  });

  it('without users every request passes', async () => {
    expect(await new BasicAuth(new Map()).check(undefined)).toBe(true);
  });
});
