/**
 * The web config file (--web.config.file): TLS, basic auth and response headers, in the schema
 * of Prometheus exporter-toolkit (docs/web-configuration.md), so one file and one habit serve
 * every exporter. Parsing is strict: an unknown key is an error naming the file and the key.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { goCipherSuites, goCurves, TLS_VERSIONS } from './web-config-tls.js';

export const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientAuth: ClientAuthType;
  readonly clientCaFile?: string;
  /** Node names (TLSv1.2...). Default TLSv1.2, as exporter-toolkit. */
  readonly minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS ≤ 1.2 (Go, like exporter-toolkit, does not let TLS 1.3 suites be chosen). */
  readonly ciphers?: string;
  readonly honorCipherOrder: boolean;
  /** OpenSSL curve list. */
  readonly ecdhCurve?: string;
}

export interface WebConfig {
  readonly file: string;
  readonly tls?: TlsSettings;
  readonly headers: Readonly<Record<string, string>>;
  /** username → bcrypt hash. Empty: no authentication. */
  readonly users: ReadonlyMap<string, string>;
}

export class WebConfigError extends Error {
  constructor(file: string, problem: string) {
    super(`web config ${file}: ${problem}`);
  }
}

/**
 * Headers the exporter sets itself (or that would break HTTP or auth): overriding them from the
 * file is refused, as exporter-toolkit refuses them.
 */
const RESERVED_HEADERS = ['authorization', 'www-authenticate', 'content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive', 'vary', 'set-cookie', 'server', 'date', 'upgrade'];
/** exporter-toolkit keys this exporter does not implement: a clear error rather than "unknown". */
const UNSUPPORTED = ['cert', 'key', 'client_ca', 'client_allowed_sans'];

export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WebConfigError(file, `cannot read: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseWebConfig(text, file);
}

export function parseWebConfig(text: string, file: string): WebConfig {
  const fail = (problem: string): never => {
    throw new WebConfigError(file, problem);
  };
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    fail(`not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) doc = {};
  const top = mapping(doc, '', fail, ['tls_server_config', 'http_server_config', 'basic_auth_users']);
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(dirname(file), p));

  let tls: TlsSettings | undefined;
  if (top.tls_server_config !== undefined && top.tls_server_config !== null) {
    const t = mapping(top.tls_server_config, 'tls_server_config', fail, ['cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'min_version', 'max_version', 'cipher_suites', 'prefer_server_cipher_suites', 'curve_preferences']);
    const str = (k: string): string | undefined => {
      const v = t[k];
      if (v === undefined || v === null || v === '') return undefined;
      if (typeof v !== 'string') fail(`tls_server_config.${k}: expected a string`);
      return v as string;
    };
    const certFile = str('cert_file');
    const keyFile = str('key_file');
    if (!certFile || !keyFile) fail('tls_server_config: cert_file and key_file are both required');
    const clientAuth = (str('client_auth_type') ?? 'NoClientCert') as ClientAuthType;
    if (!CLIENT_AUTH_TYPES.includes(clientAuth)) fail(`tls_server_config.client_auth_type: "${clientAuth}" is not one of ${CLIENT_AUTH_TYPES.join(', ')}`);
    const clientCaFile = str('client_ca_file');
    if ((clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert') && !clientCaFile) fail(`tls_server_config.client_ca_file is required with client_auth_type ${clientAuth}`);
    const version = (k: string) => {
      const v = str(k);
      if (v === undefined) return undefined;
      const node = TLS_VERSIONS[v];
      if (!node) fail(`tls_server_config.${k}: "${v}" is not one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
      return node;
    };
    const minVersion = version('min_version') ?? 'TLSv1.2';
    const maxVersion = version('max_version');
    if (maxVersion && Object.values(TLS_VERSIONS).indexOf(maxVersion) < Object.values(TLS_VERSIONS).indexOf(minVersion)) fail('tls_server_config: max_version is lower than min_version');
    const prefer = t.prefer_server_cipher_suites ?? true;
    if (typeof prefer !== 'boolean') fail('tls_server_config.prefer_server_cipher_suites: expected true or false');
    let ciphers: string | undefined;
    if (t.cipher_suites !== undefined && t.cipher_suites !== null) ciphers = goCipherSuites(stringList(t.cipher_suites, 'tls_server_config.cipher_suites', fail), (p) => fail(`tls_server_config.cipher_suites: ${p}`));
    let ecdhCurve: string | undefined;
    if (t.curve_preferences !== undefined && t.curve_preferences !== null) ecdhCurve = goCurves(stringList(t.curve_preferences, 'tls_server_config.curve_preferences', fail), (p) => fail(`tls_server_config.curve_preferences: ${p}`));
    tls = Object.freeze({ certFile: rel(certFile!), keyFile: rel(keyFile!), clientAuth, clientCaFile: clientCaFile && rel(clientCaFile), minVersion, maxVersion, ciphers, honorCipherOrder: prefer as boolean, ecdhCurve });
  }

  const headers: Record<string, string> = {};
  if (top.http_server_config !== undefined && top.http_server_config !== null) {
    const h = mapping(top.http_server_config, 'http_server_config', fail, ['headers', 'http2']);
    // http2 is accepted for compatibility and ignored: the exporter speaks HTTP/1.1 (what Prometheus uses to scrape).
    if (h.http2 !== undefined && h.http2 !== null && typeof h.http2 !== 'boolean') fail('http_server_config.http2: expected true or false');
    if (h.headers !== undefined && h.headers !== null) {
      const m = mapping(h.headers, 'http_server_config.headers', fail);
      for (const [name, value] of Object.entries(m)) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) fail(`http_server_config.headers: "${name}" is not a valid header name`);
        if (RESERVED_HEADERS.includes(name.toLowerCase())) fail(`http_server_config.headers: "${name}" is set by the exporter and cannot be overridden`);
        if (typeof value !== 'string' || /[\r\n\0]/.test(value)) fail(`http_server_config.headers.${name}: expected a one-line string`);
        headers[name] = value as string;
      }
    }
  }

  const users = new Map<string, string>();
  if (top.basic_auth_users !== undefined && top.basic_auth_users !== null) {
    const u = mapping(top.basic_auth_users, 'basic_auth_users', fail);
    for (const [name, hash] of Object.entries(u)) {
      if (name === '' || name.includes(':')) fail(`basic_auth_users: "${name}" is not a valid user name`);
      // The hash itself is never repeated in a message.
      if (typeof hash !== 'string' || !/^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash)) fail(`basic_auth_users.${name}: expected a bcrypt hash ($2y$10$...), e.g. from \`htpasswd -nbBC 10 "" PASSWORD | tr -d ':\\n'\``);
      users.set(name, hash as string);
    }
  }
  return Object.freeze({ file, tls, headers: Object.freeze(headers), users });
}

/** The files whose change must re-read the web config (the file itself and what it names). */
export function webConfigFiles(c: WebConfig): string[] {
  return [c.file, ...(c.tls ? [c.tls.certFile, c.tls.keyFile, ...(c.tls.clientCaFile ? [c.tls.clientCaFile] : [])] : [])];
}

function mapping(v: unknown, where: string, fail: (p: string) => never, known?: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${where || 'the file'}: expected a mapping`);
  const m = v as Record<string, unknown>;
  if (known) {
    for (const k of Object.keys(m)) {
      const path = where ? `${where}.${k}` : k;
      if (UNSUPPORTED.includes(k)) fail(`${path}: not supported by this exporter`);
      if (!known.includes(k)) fail(`unknown key "${path}"`);
    }
  }
  return m;
}

function stringList(v: unknown, where: string, fail: (p: string) => never): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`${where}: expected a list of names`);
  return v as string[];
}
