/**
 * The address /sd gives Prometheus: --web.external-address (env KTCLOUD_WEB_EXTERNAL_ADDRESS)
 * when given, else the listen address, else (listening on a wildcard) the host /sd was asked on.
 */
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli.js';
import { targetAddress } from '../../src/http/sd.js';

describe('--web.external-address', () => {
  it('is read from the flag, else the environment; the flag wins', () => {
    expect(parseCli([], {}).externalAddress).toBeUndefined();
    expect(parseCli(['--web.external-address', '10.0.0.7:9105'], {}).externalAddress).toBe('10.0.0.7:9105');
    expect(parseCli([], { KTCLOUD_WEB_EXTERNAL_ADDRESS: 'pod-0.svc:9105' }).externalAddress).toBe('pod-0.svc:9105');
    expect(parseCli(['--web.external-address', '[fd00::7]:9105'], { KTCLOUD_WEB_EXTERNAL_ADDRESS: 'x:1' }).externalAddress).toBe('[fd00::7]:9105');
  });

  it.each(['10.0.0.7', ':9105', '10.0.0.7:0', '10.0.0.7:70000', 'http://10.0.0.7:9105', '$(POD_IP):9105'])('rejects %s', (bad) => {
    expect(() => parseCli(['--web.external-address', bad], {})).toThrow(`--web.external-address: "${bad}" is not HOST:PORT`);
  });
});

describe('targetAddress', () => {
  it('prefers the external address', () => {
    expect(targetAddress('10.0.0.7:9105', { host: '0.0.0.0', port: 9105 }, 'localhost:8080', 'h')).toBe('10.0.0.7:9105');
  });
  it('else the listen address, with the bound port (IPv6 in brackets)', () => {
    expect(targetAddress(undefined, { host: '127.0.0.1', port: 40123 }, 'elsewhere:1', 'h')).toBe('127.0.0.1:40123');
    expect(targetAddress(undefined, { host: '::1', port: 9105 }, undefined, 'h')).toBe('[::1]:9105');
  });
  it('on a wildcard listen address, the host the request was addressed to, else the host name', () => {
    expect(targetAddress(undefined, { host: '0.0.0.0', port: 9105 }, '10.1.2.3:9105', 'h')).toBe('10.1.2.3:9105');
    expect(targetAddress(undefined, { host: '0.0.0.0', port: 9105 }, 'pod-0.headless', 'h')).toBe('pod-0.headless:9105');
    expect(targetAddress(undefined, { host: '::', port: 9105 }, 'bad host/<x>', 'exporter-0')).toBe('exporter-0:9105');
  });
});
