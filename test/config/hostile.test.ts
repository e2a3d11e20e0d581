/** Hostile files and lines: each case once made the exporter block, balloon, or leak a secret. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_CREDENTIAL_BYTES } from '../../src/config/credentials.js';
import { ConfigError, configFromEnvironment, loadConfigFile, parseConfig } from '../../src/config/load.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'ktcloud-hostile-'));
}

async function problems(run: () => Promise<unknown>): Promise<readonly string[]> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('the config was accepted');
}

const SECRET = 'hunter2-Sup3rSecret';

describe('credential files must be small regular files', () => {
  it('a FIFO as passwordFile is refused at once, naming account and file', async () => {
    const dir = tmp();
    const fifo = join(dir, 'pw');
    execFileSync('mkfifo', [fifo]);
    const text = `accounts:\n  - { name: a, zones: [DX-M1], id: "x", passwordFile: ${fifo} }\n`;
    expect(await problems(() => parseConfig(text, 'c.yaml', { env: {} }))).toEqual([`c.yaml:2: account "a": passwordFile: ${fifo} is not a regular file`]);
  });

  it(`a file over ${MAX_CREDENTIAL_BYTES} bytes is refused without being read (a sparse 1 GB file)`, async () => {
    const dir = tmp();
    const big = join(dir, 'pw');
    writeFileSync(big, '');
    truncateSync(big, 1024 ** 3);
    const text = `accounts:\n  - { name: a, zones: [DX-M1], id: "x", passwordFile: ${big} }\n`;
    const before = process.memoryUsage().rss;
    expect(await problems(() => parseConfig(text, 'c.yaml', { env: {} }))).toEqual([`c.yaml:2: account "a": passwordFile: ${big} is larger than 4096 bytes`]);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a password file of 4097 bytes is refused, one of 4096 accepted', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ok'), 'p'.repeat(MAX_CREDENTIAL_BYTES));
    writeFileSync(join(dir, 'big'), 'p'.repeat(MAX_CREDENTIAL_BYTES + 1));
    const yaml = (f: string) => `accounts:\n  - { name: a, zones: [DX-M1], id: "x", passwordFile: ${join(dir, f)} }\n`;
    expect((await parseConfig(yaml('ok'), 'c.yaml', { env: {} })).accounts[0]!.password.reveal()).toHaveLength(MAX_CREDENTIAL_BYTES);
    expect(await problems(() => parseConfig(yaml('big'), 'c.yaml', { env: {} }))).toEqual([`c.yaml:2: account "a": passwordFile: ${join(dir, 'big')} is larger than 4096 bytes`]);
  });
});

describe('literal and environment credentials have the same bound', () => {
  const big = 'p'.repeat(MAX_CREDENTIAL_BYTES + 1);
  it('a literal password over 4096 bytes', async () => {
    const text = `accounts:\n  - { name: a, zones: [DX-M1], id: "x", password: "${big}" }\n`;
    expect(await problems(() => parseConfig(text, 'c.yaml', { env: {} }))).toEqual(['c.yaml:2: account "a": password: longer than 4096 bytes']);
  });
  it('a passwordEnv whose value is over 4096 bytes', async () => {
    const text = `accounts:\n  - { name: a, zones: [DX-M1], id: "x", passwordEnv: "PW" }\n`;
    expect(await problems(() => parseConfig(text, 'c.yaml', { env: { PW: big } }))).toEqual([`c.yaml:2: account "a": passwordEnv: the variable's value is longer than 4096 bytes`]);
  });
  it('a CLOUD_PASSWORD over 4096 bytes in environment mode', () => {
    expect(() => configFromEnvironment({ CLOUD_ID: 'x', CLOUD_PASSWORD: big, CLOUD_ZONE: 'DX-M1' })).toThrow(/^environment: CLOUD_PASSWORD: longer than 4096 bytes$/);
  });
});

describe('accountsDir folders that look like accounts are never dropped silently', () => {
  // A broken folder fails alone (README, "Configuration"): it is left out with a warning naming
  // account, folder and file, and the other folders load; a config error would block them all.
  function mount(files: Record<string, string>): { dir: string; folder: string } {
    const dir = tmp();
    const folder = join(dir, 'acct');
    mkdirSync(folder);
    for (const [k, v] of Object.entries(files)) writeFileSync(join(folder, k), v);
    mkdirSync(join(dir, 'good'));
    for (const [k, v] of Object.entries({ CLOUD_ID: 'id', CLOUD_PASSWORD: 'pw' })) writeFileSync(join(dir, 'good', k), v, { mode: 0o600 });
    return { dir, folder };
  }
  const yaml = (dir: string) => `accountsDir: ${dir}\ndefaultZones: [DX-M1]\n`;

  it('a CLOUD_ZONE that is a directory names account and file', async () => {
    const { dir, folder } = mount({ CLOUD_ID: 'id', CLOUD_PASSWORD: 'pw' });
    mkdirSync(join(folder, 'CLOUD_ZONE'));
    const c = await parseConfig(yaml(dir), 'c.yaml', { env: {} });
    expect(c.accounts.map((a) => a.name)).toEqual(['good']);
    expect(c.warnings.filter((w) => !w.includes('readable by every user'))).toEqual([
      `account "acct" (${folder}) is not collected: CLOUD_ZONE: ${join(folder, 'CLOUD_ZONE')} is a directory, not a file`,
    ]);
  });

  it('credential links that all dangle are a warning naming account and files', async () => {
    const { dir, folder } = mount({});
    symlinkSync(join(folder, '..data', 'CLOUD_ID'), join(folder, 'CLOUD_ID'));
    symlinkSync(join(folder, '..data', 'CLOUD_PASSWORD'), join(folder, 'CLOUD_PASSWORD'));
    const c = await parseConfig(yaml(dir), 'c.yaml', { env: {} });
    expect(c.accounts.map((a) => a.name)).toEqual(['good']);
    expect(c.warnings).toEqual([
      `account "acct" (${folder}) is not collected: cannot read ${join(folder, 'CLOUD_ID')}: a link to a missing file`,
      `account "acct" (${folder}) is not collected: cannot read ${join(folder, 'CLOUD_PASSWORD')}: a link to a missing file`,
    ]);
  });

  it('a folder with no CLOUD_* entry is not an account and not an error', async () => {
    const { dir } = mount({ README: 'not an account' });
    const c = await parseConfig(`${yaml(dir)}accounts: []\n`, 'c.yaml', { env: {} });
    expect(c.accounts.map((a) => a.name)).toEqual(['good']);
    expect(c.warnings).toEqual([]);
  });
});

describe('literal credentials must be YAML strings', () => {
  it.each([
    ['password: 0123', 'password'],
    ['password: 1e3', 'password'],
    ['id: 007', 'id'],
    ['password: true', 'password'],
  ])('%s is an error that says to quote it', async (line, key) => {
    const other = key === 'id' ? 'password: "pw"' : 'id: "x"';
    const text = `accounts:\n  - name: a\n    zones: [DX-M1]\n    ${other}\n    ${line}\n`;
    const p = await problems(() => parseConfig(text, 'c.yaml', { env: {} }));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(new RegExp(`^c\\.yaml:5: account "a": ${key}: YAML reads this unquoted value as a (number|boolean), which can change it \\(0123 becomes 123\\); quote it: ${key}: "\\.\\.\\."$`));
  });

  it('quoted, they are kept exactly as written', async () => {
    const c = await parseConfig(`accounts:\n  - { name: a, zones: [DX-M1], id: "007", password: '0123' }\n`, 'c.yaml', { env: {} });
    expect([c.accounts[0]!.id.reveal(), c.accounts[0]!.password.reveal()]).toEqual(['007', '0123']);
  });
});

describe('YAML syntax errors give the real line and column', () => {
  it('a stray "]" on line 4, column 19', async () => {
    const text = `interval: 30s\naccounts:\n  - name: a\n    zones: [DX-M1]]\n    id: "x"\n`;
    const p = await problems(() => parseConfig(text, 'c.yaml', { env: {} }));
    expect(p[0]).toBe('c.yaml:4:19: YAML syntax error: Unexpected flow-seq-end token in YAML stream');
  });

  it('a reserved character on line 4, column 9', async () => {
    const text = `interval: 30s\naccounts:\n  - name: a\n    id: @x\n    zones: [DX-M1]\n`;
    expect(await problems(() => parseConfig(text, 'c.yaml', { env: {} }))).toEqual(['c.yaml:4:9: YAML syntax error: Plain value cannot start with reserved character @']);
  });

  it('a bad indent on line 4', async () => {
    const text = `interval: 30s\nlimits:\n  concurrency: 2\n requestsPerSecond: 1\naccounts: []\n`;
    const p = await problems(() => parseConfig(text, 'c.yaml', { env: {} }));
    expect(p[0]).toBe('c.yaml:4:1: YAML syntax error: All mapping items must start at the same column');
  });
});

describe('config errors never echo a secret from a malformed line', () => {
  const cases: Array<[string, string]> = [
    ['a password line folded into a duration by its indent', `interval: 30s\n  ${SECRET}\naccounts: []\n`],
    ['a password line folded into the zones', `accounts:\n  - name: a\n    zones: DX-M1\n      ${SECRET}\n    id: "x"\n    password: "y"\n`],
    ['a password line folded into the name', `accounts:\n  - name: a\n      ${SECRET}\n    zones: [DX-M1]\n    id: "x"\n    password: "y"\n`],
    ['a password line that lost its colon', `accounts:\n  - name: a\n    zones: [DX-M1]\n    id: "x"\n    password ${SECRET}\n`],
    ['a password with a bad escape', `accounts:\n  - { name: a, zones: [DX-M1], id: "x", password: "${SECRET}\\q" }\n`],
    ['a password given as passwordEnv', `accounts:\n  - { name: a, zones: [DX-M1], id: "x", passwordEnv: "${SECRET}" }\n`],
    ['a password as a zone key', `zones:\n  ${SECRET} x: { endpoint: "ftp://127.0.0.1:1" }\naccounts: []\n`],
    ['a password after a stray "]" (the parser quotes the token)', `accounts:\n  - name: a\n    zones: [DX-M1]]\n    password: "${SECRET}"\n`],
    ['a password as a mapping', `accounts:\n  - { name: a, zones: [DX-M1], id: "x", password: { ${SECRET}: 1 } }\n`],
  ];
  it.each(cases)('%s', async (_what, text) => {
    const p = await problems(() => parseConfig(text, 'c.yaml', { env: {} }));
    expect(p.length).toBeGreaterThan(0);
    for (const line of p) {
      expect(line).toMatch(/^c\.yaml:\d+(:\d+)?: /);
      expect(line).not.toContain(SECRET);
      expect(line).not.toContain('Sup3r');
    }
  });
});

describe('loading does not hold the event loop', () => {
  it('500 accountsDir folders load while timers keep firing', async () => {
    const dir = tmp();
    for (let i = 0; i < 500; i++) {
      const folder = join(dir, `acct-${String(i).padStart(3, '0')}`);
      mkdirSync(folder);
      writeFileSync(join(folder, 'CLOUD_ID'), `id-${i}`, { mode: 0o600 });
      writeFileSync(join(folder, 'CLOUD_PASSWORD'), `pw-${i}`, { mode: 0o600 });
      writeFileSync(join(folder, 'CLOUD_ZONE'), 'DX-M1', { mode: 0o600 });
    }
    writeFileSync(join(dir, 'c.yaml'), `accountsDir: ${dir}\n`);
    let ticks = 0;
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 1);
    const c = await loadConfigFile(join(dir, 'c.yaml'), { env: {} });
    clearInterval(timer);
    expect(c.accounts).toHaveLength(500);
    // A synchronous load is one long task: no tick at all until it returns.
    expect(ticks).toBeGreaterThan(20);
    // Generous for 2 shared cores; a synchronous load of 500 folders shows as one gap of its whole length.
    expect(maxGap).toBeLessThan(100);
  });
});
