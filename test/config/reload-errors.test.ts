/** A rejected reload answers and logs file:line and key, never a secret from the broken line. */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Running } from '../support/harness.js';

const SECRET = 'reload-Hunter2-secret';
let s: Running;

beforeAll(async () => {
  s = await startStack({
    sim: { accounts: [{ id: 'r@example.com', password: 'rpw', zones: { 'DX-M1': { lbs: 1 } } }] },
    accounts: [{ name: 'r', zones: ['DX-M1'], id: 'r@example.com', password: 'rpw' }],
    reloadFromFile: true,
    schedule: false,
    app: { enableLifecycle: true },
  });
});
afterAll(() => s.close());

describe('reload with a malformed config', () => {
  const good = () => readFileSync(s.configFile, 'utf8');
  const cases: Array<[string, (text: string) => string, RegExp]> = [
    ['a password line folded into the interval', (t) => t.replace('interval: 30s', `interval: 30s\n  ${SECRET}`), /:2: interval: not a duration/],
    ['a stray "]" before a password line', (t) => `${t}  - name: x\n    zones: [DX-M1]]\n    password: "${SECRET}"\n`, /:\d+:\d+: YAML syntax error: /],
    ['an unquoted numeric password', (t) => `${t}  - { name: x, zones: [DX-M1], id: "x", password: 0${SECRET.length}123 }\n`, /account "x": password: YAML reads this unquoted value as a number/],
  ];
  it.each(cases)('%s: rejected with position, no secret in the answer or the log', async (_what, breakIt, expected) => {
    const original = good();
    try {
      writeFileSync(s.configFile, breakIt(original));
      const res = await fetch(`${s.url}/-/reload`, { method: 'POST' });
      expect(res.status).toBe(400);
      const body = await res.text();
      expect((JSON.parse(body) as { error: string }).error).toMatch(expected);
      expect(s.logs.text).toMatch(new RegExp(expected.source.replace(/"/g, '\\\\"')));
      for (const text of [body, s.logs.text]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(`${SECRET.length}123`);
      }
    } finally {
      writeFileSync(s.configFile, original);
    }
  });
});
