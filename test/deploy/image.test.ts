/**
 * The image's command line, run from a copy of what the runtime stage holds (/app: package.json,
 * dist/src, dist/build-info.json, bin, node_modules) with the image's ENTRYPOINT
 * and no CMD: the config modes a user reaches with `docker run IMAGE [args]`. There is no Docker
 * engine here; CI's image job builds the real image. Needs `npm run build` first (dist/).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './tools.js';

const ENTRYPOINT = JSON.parse(/^ENTRYPOINT\s+(.*)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))![1]) as string[];
const SECRET_ID = 'image-test@example.com';
const SECRET_PASSWORD = 'image-test-password-9f2c';

let app: string;
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) throw new Error('run `npm run build` first: the image runs dist/');
  app = mkdtempSync(join(tmpdir(), 'ktcloud-image-'));
  // What the runtime stage copies (test/deploy/dockerfile.test.ts holds the Dockerfile to this list).
  for (const f of ['package.json', 'dist/src', 'dist/build-info.json', 'bin']) cpSync(join(ROOT, f), join(app, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

/** `docker run [-e ...] IMAGE args`: the ENTRYPOINT in WORKDIR /app with only the given environment. */
function dockerRun(args: string[], env: Record<string, string> = {}) {
  expect(ENTRYPOINT[0]).toBe('node');
  const r = spawnSync(process.execPath, [...ENTRYPOINT.slice(1), ...args], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const ENV_ACCOUNT = { CLOUD_ID: SECRET_ID, CLOUD_PASSWORD: SECRET_PASSWORD, CLOUD_ZONE: 'DX-M1' };

describe('the image command line (ENTRYPOINT, no CMD)', () => {
  it('runs the original env interface when no config file is mounted', () => {
    const r = dockerRun(['--check-config'], ENV_ACCOUNT);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('config: environment is valid');
    expect(r.out).toMatch(/default\s+zones DX-M1/);
    expect(r.out).not.toContain(SECRET_ID);
    expect(r.out).not.toContain(SECRET_PASSWORD);
  });

  it('prefers accounts/accounts.yaml under the working directory when one is mounted there', () => {
    const dir = join(app, 'accounts');
    mkdirSync(join(dir, 'mounted'), { recursive: true });
    try {
      for (const [k, v] of Object.entries({ CLOUD_ID: SECRET_ID, CLOUD_PASSWORD: SECRET_PASSWORD, CLOUD_ZONE: 'DX-G-YS' })) {
        writeFileSync(join(dir, 'mounted', k), v);
        chmodSync(join(dir, 'mounted', k), 0o440);
      }
      writeFileSync(join(dir, 'accounts.yaml'), 'accountsDir: accounts\n');
      const r = dockerRun(['--check-config'], ENV_ACCOUNT);
      expect(r.status, r.out).toBe(0);
      expect(r.out).toContain('config: accounts/accounts.yaml is valid');
      expect(r.out).toMatch(/mounted\s+zones DX-G-YS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['--config', ['--config', '/etc/ktcloud/config/accounts.yaml'], {}],
    ['KTCLOUD_CONFIG', [], { KTCLOUD_CONFIG: '/etc/ktcloud/config/accounts.yaml' }],
  ])('keeps an explicitly given missing config (%s) an error, even with the env interface set', (_, args, env) => {
    const r = dockerRun([...args, '--check-config'], { ...ENV_ACCOUNT, ...env });
    expect(r.status).toBe(1);
    expect(r.out).toContain('/etc/ktcloud/config/accounts.yaml: cannot read config file');
  });

  it('says what to give when there is neither a file nor the environment', () => {
    const r = dockerRun(['--check-config']);
    expect(r.status).toBe(1);
    expect(r.out).toContain('no configuration: accounts/accounts.yaml does not exist');
  });
});
