import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ExporterConfig } from '../../src/config/types.js';
import type { CollectResult } from '../../src/protocol.js';
import { Sessions } from '../../src/schedule/sessions.js';

const config = (opts: { pw?: string; accountRate?: number; zoneRate?: number } = {}): Promise<ExporterConfig> =>
  parseConfig(
    `listen: 127.0.0.1:0\ninterval: 1m\ntimeout: 10s\nlimits: { requestsPerSecond: ${opts.accountRate ?? 5}, zoneRequestsPerSecond: ${opts.zoneRate ?? 20} }\n` +
      `zones:\n  DX-M1: { endpoint: "http://127.0.0.1:9" }\naccounts:\n  - { name: a, zones: [DX-M1], id: "a@example.com", password: "${opts.pw ?? 'pw'}" }\n`,
    '/virtual/accounts.yaml',
  );

const withToken = (value: string): CollectResult => ({
  account: 'a',
  zones: [{ zone: 'DX-M1', ok: false, startedAtMs: 0, durationMs: 0, requests: [], token: { value, expiresAtMs: Date.now() + 3_600_000 }, error: { reason: 'timeout', zone: 'DX-M1', message: 'deadline' } }],
});

describe('sessions', () => {
  it('keeps a token for the next task only while the credentials it was issued for are current', async () => {
    const sessions = new Sessions('info');
    const c1 = await config();
    const first = sessions.taskFor(c1.accounts[0]!, c1);
    expect(sessions.keepTokens(withToken('t1'), first.generation)).toBe(true);
    expect(sessions.taskFor(c1.accounts[0]!, c1).task.zones[0]!.token?.value).toBe('t1');

    const running = sessions.taskFor(c1.accounts[0]!, c1); // a collection starts with the old identity
    const c2 = await config({ pw: 'rotated' });
    expect(sessions.update(c2.accounts[0]!)).toBe(true); // rotated meanwhile
    expect(sessions.keepTokens(withToken('t-old'), running.generation)).toBe(false);
    const next = sessions.taskFor(c2.accounts[0]!, c2);
    expect(next.task.zones[0]!.token).toBeUndefined();
    expect(next.task.password).toBe('rotated');
    expect(next.generation).not.toBe(running.generation);
  });

  it('an account removed and added back starts a new generation: a result of the old one keeps nothing', async () => {
    const sessions = new Sessions('info');
    const c = await config();
    const old = sessions.taskFor(c.accounts[0]!, c);
    sessions.remove('a');
    sessions.update(c.accounts[0]!);
    expect(sessions.keepTokens(withToken('t-old'), old.generation)).toBe(false);
    expect(sessions.taskFor(c.accounts[0]!, c).task.zones[0]!.token).toBeUndefined();
  });

  it('keeps pacer state while limits stay, and replaces it when a reload changes an account or zone rate', async () => {
    const sessions = new Sessions('info');
    const c = await config();
    const t1 = sessions.taskFor(c.accounts[0]!, c).task;
    const t2 = sessions.taskFor(c.accounts[0]!, c).task;
    expect(t2.accountPacer).toBe(t1.accountPacer);
    expect(t2.zones[0]!.pacer).toBe(t1.zones[0]!.pacer);
    const slower = await config({ accountRate: 2 });
    const t3 = sessions.taskFor(slower.accounts[0]!, slower).task;
    expect(t3.accountPacer).not.toBe(t1.accountPacer);
    expect(t3.zones[0]!.pacer).toBe(t1.zones[0]!.pacer);
    const zoneSlower = await config({ accountRate: 2, zoneRate: 7 });
    const t4 = sessions.taskFor(zoneSlower.accounts[0]!, zoneSlower).task;
    expect(t4.zones[0]!.pacer).not.toBe(t1.zones[0]!.pacer);
    expect(t4.accountPacer).toBe(t3.accountPacer);
  });
});
