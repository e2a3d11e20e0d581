import { describe, expect, it } from 'vitest';
import { nestingExceeds, jsonProblem } from '../../src/ktcloud/answer.js';
import { cleanText, Errors, toErrorInfo } from '../../src/ktcloud/errors.js';
import { capLabel, MAX_LABEL_BYTES, newHygiene, safeLoadBalancers, safeServers, TRUNCATION_MARKER } from '../../src/metrics/label-safety.js';
import type { LoadBalancer, WebServer } from '../../src/ktcloud/parse.js';

const SECRETS = ['me@example.com', 'p"ss w/rd', 'gAAAAAtoken123'];

describe('foreign text is cleaned once, where the error is made', () => {
  it('redacts every secret, also JSON- and URL-encoded, before cutting', () => {
    const t = cleanText(`user=me@example.com pw=p"ss w/rd json="p\\"ss w/rd" url=${encodeURIComponent('p"ss w/rd')} tok=gAAAAAtoken123`, SECRETS);
    expect(t).toBe('user=[REDACTED] pw=[REDACTED] json="[REDACTED]" url=[REDACTED] tok=[REDACTED]');
    // A secret straddling the cut is redacted first, so no prefix of it survives.
    const cut = cleanText(`${'x'.repeat(190)}me@example.com`, SECRETS);
    expect(cut).not.toContain('me@ex');
  });

  it('makes one line of at most 200 characters', () => {
    const t = cleanText(`a\r\nb\tc\u0007d\u2028e ${'z'.repeat(5000)}`);
    expect(t.startsWith('a b c d e z')).toBe(true);
    expect(Array.from(t)).toHaveLength(200);
    expect(t.endsWith('…')).toBe(true);
    expect(t).not.toMatch(/[\u0000-\u001f\u2028]/);
  });

  it('every catalogue error names account and zone; unknown exceptions are internal, not network', () => {
    const c = { account: 'team', zone: 'DX-M1', command: 'listLoadBalancers', secrets: SECRETS };
    const api = Errors.apiError(c, 530, 'denied for me@example.com\nretry');
    expect(api.toInfo()).toMatchObject({ reason: 'api_error', account: 'team', zone: 'DX-M1', command: 'listLoadBalancers', apiCode: 530, message: 'listLoadBalancers returned API error 530: denied for [REDACTED] retry in DX-M1' });
    const bug = toErrorInfo(new TypeError('cannot read x of gAAAAAtoken123'), c);
    expect(bug).toMatchObject({ reason: 'internal', account: 'team', message: 'internal error during listLoadBalancers in DX-M1: TypeError: cannot read x of [REDACTED]' });
  });

  it('JSON parse errors name a position, never the body', () => {
    const body = 'p"ss w/rd';
    let err: unknown;
    try {
      JSON.parse(body);
    } catch (e) {
      err = e;
    }
    expect(jsonProblem(err, body)).toBe('unexpected character, body of 9 characters');
    try {
      JSON.parse('{"a":1');
    } catch (e) {
      expect(jsonProblem(e, '{"a":1')).toBe('position 6 of 6');
    }
  });

  it('nesting is measured in one pass, ignoring brackets inside strings', () => {
    expect(nestingExceeds('['.repeat(100_000) + ']'.repeat(100_000), 64)).toBe(true);
    expect(nestingExceeds(`{"a":"${'['.repeat(100)}","b":[[1]]}`, 64)).toBe(false);
    expect(nestingExceeds(`{"a":"\\"${'['.repeat(100)}"}`, 64)).toBe(false);
  });
});

describe('label values', () => {
  it('are capped at 256 bytes on a character boundary, with the marker', () => {
    const h = newHygiene();
    expect(capLabel('short', h)).toBe('short');
    const korean = capLabel('한'.repeat(1000), h);
    expect(Buffer.byteLength(korean)).toBeLessThanOrEqual(MAX_LABEL_BYTES);
    expect(korean.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(korean.replace(TRUNCATION_MARKER, '')).toMatch(/^한+$/);
    const emoji = capLabel('🚀'.repeat(200), h);
    expect(emoji.replace(TRUNCATION_MARKER, '')).toMatch(/^(🚀)+$/u);
    expect(h.labelValuesTruncated).toBe(2);
  });

  it('duplicates are dropped, first wins, and counted by kind', () => {
    const lb = (id: string, name: string): LoadBalancer => ({ id, name, serviceIp: '', servicePort: '', serviceType: 'HTTP', option: '', healthcheckType: '', state: 'UP' });
    const srv = (ip: string, port: string): WebServer => ({ ip, port, state: 'UP', connections: 0, throughputKbps: 0, ttfbMs: 0, requestsPerSec: 0 });
    const h = newHygiene();
    expect(safeLoadBalancers([lb('1', 'a'), lb('2', 'b'), lb('1', 'c')], h).map((l) => l.name)).toEqual(['a', 'b']);
    expect(safeServers([srv('10.0.0.1', '80'), srv('10.0.0.1', '80'), srv('10.0.0.1', '81'), srv('', '80'), srv('10.0.0.2', '')], h)).toHaveLength(2);
    expect(h.duplicatesDropped).toEqual({ lb: 1, server: 1, server_without_address: 2 });
  });
});
