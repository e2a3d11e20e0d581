/** LB name filters: whole-name RE2 matching, include then exclude, and no catastrophic backtracking. */
import { describe, expect, it } from 'vitest';
import { compilePattern, lbNameTest } from '../../src/config/lb-filter.js';

describe('lbNameTest', () => {
  it('matches the whole name, as Prometheus relabelling does', () => {
    const keep = lbNameTest({ include: ['web'], exclude: [] });
    expect(keep('web')).toBe(true);
    expect(keep('web-1')).toBe(false);
    expect(keep('my-web')).toBe(false);
  });

  it('keeps names matching any include and no exclude; an empty include keeps all', () => {
    const keep = lbNameTest({ include: ['web-.*', 'api-.*'], exclude: ['.*-canary'] });
    expect(['web-1', 'api-2', 'web-canary', 'db-1'].filter(keep)).toEqual(['web-1', 'api-2']);
    expect(['web-1', 'tmp-1'].filter(lbNameTest({ include: [], exclude: ['tmp-.*'] }))).toEqual(['web-1']);
    expect(['a', 'b'].filter(lbNameTest(undefined))).toEqual(['a', 'b']);
  });

  it('runs a pattern that is exponential for a backtracking engine in linear time', () => {
    // (a+)+$ against "aaa…ab": RegExp would try 2^n splits; RE2 does not backtrack.
    const keep = lbNameTest({ include: ['(a+)+b?c'], exclude: [] });
    const name = `${'a'.repeat(250)}b`;
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(keep(name)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses over-long patterns and syntax RE2 does not have', () => {
    expect(compilePattern('a'.repeat(257))).toBe('pattern longer than 256 characters');
    expect(compilePattern('(?<=x)y')).toMatch(/^invalid RE2 pattern: /);
    expect(typeof compilePattern('a{1,3}|b')).not.toBe('string');
  });
});
