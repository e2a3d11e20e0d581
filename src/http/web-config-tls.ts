/**
 * From the web config's Go names to Node/OpenSSL TLS settings, and the client-certificate policy
 * Node does not express by itself (RequireAnyClientCert, VerifyClientCertIfGiven).
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { TlsSettings } from './web-config.js';

export const TLS_VERSIONS: Record<string, TlsSettings['minVersion']> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

/** Go crypto/tls suite names (TLS ≤ 1.2) → OpenSSL names. Go's RC4 and 3DES suites: OpenSSL 3 does not offer them. */
const CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};
/** TLS 1.3 suites: Go accepts the names and ignores them (1.3 suites are not configurable); so do we. */
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
const CURVES: Record<string, string> = { CurveP256: 'P-256', CurveP384: 'P-384', CurveP521: 'P-521', X25519: 'X25519' };

export function goCipherSuites(names: readonly string[], fail: (p: string) => never): string | undefined {
  const out: string[] = [];
  for (const n of names) {
    if (TLS13_SUITES.includes(n)) continue;
    const o = CIPHERS[n];
    if (!o) fail(`unknown or unsupported cipher suite "${n}"`);
    out.push(o!);
  }
  return out.length > 0 ? out.join(':') : undefined;
}

export function goCurves(names: readonly string[], fail: (p: string) => never): string | undefined {
  const out = names.map((n) => CURVES[n] ?? fail(`unknown curve "${n}" (known: ${Object.keys(CURVES).join(', ')})`));
  return out.length > 0 ? out.join(':') : undefined;
}

export interface TlsServerOptions extends SecureContextOptions {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * Reads the certificate files and checks that they make a context (key matches certificate,
 * ciphers exist). Throws an Error naming the file or setting at fault.
 */
export function tlsServerOptions(t: TlsSettings): TlsServerOptions {
  const read = (what: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`tls_server_config.${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const opts: TlsServerOptions = {
    cert: read('cert_file', t.certFile),
    key: read('key_file', t.keyFile),
    ...(t.clientCaFile ? { ca: read('client_ca_file', t.clientCaFile) } : {}),
    minVersion: t.minVersion,
    ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
    ...(t.ciphers ? { ciphers: t.ciphers } : {}),
    honorCipherOrder: t.honorCipherOrder,
    ...(t.ecdhCurve ? { ecdhCurve: t.ecdhCurve } : {}),
    requestCert: t.clientAuth !== 'NoClientCert',
    // Only RequireAndVerifyClientCert fails the handshake in OpenSSL; the modes in between are
    // enforced by clientCertRejection once the handshake is done.
    rejectUnauthorized: t.clientAuth === 'RequireAndVerifyClientCert',
  };
  try {
    createSecureContext(opts);
  } catch (err) {
    throw new Error(`tls_server_config: the certificate, key or settings are not usable: ${(err as Error).message}`);
  }
  return opts;
}

/** Why a finished handshake must be dropped under this policy, or undefined to keep it. */
export function clientCertRejection(t: TlsSettings, socket: TLSSocket): string | undefined {
  if (t.clientAuth === 'NoClientCert' || t.clientAuth === 'RequestClientCert') return undefined;
  const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
  if (t.clientAuth === 'RequireAnyClientCert') return presented ? undefined : 'no client certificate';
  if (!presented) return t.clientAuth === 'VerifyClientCertIfGiven' ? undefined : 'no client certificate';
  return socket.authorized ? undefined : `client certificate not trusted: ${String(socket.authorizationError)}`;
}
