import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { ALLOCATOR_ENV, LOW_MEMORY_FLAGS, V8_FLAGS } from '../src/runtime-flags.js';

const BIN = new URL('../bin/ktcloud-lb-exporter', import.meta.url).pathname;
const canExec = typeof (process as { execve?: unknown }).execve === 'function';

/** The running exporter's own command line, as the kernel has it (after any re-exec). */
function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

describe('bin/ktcloud-lb-exporter', () => {
  it.skipIf(!canExec)('re-executes node with the V8 flags in the same process, which then serves and stops on SIGTERM', async () => {
    const env = { PATH: process.env.PATH, CLOUD_ID: 'launcher@example.com', CLOUD_PASSWORD: 'pw', CLOUD_ZONE: 'DX-M1', MALLOC_MMAP_THRESHOLD_: '131072' };
    const child = spawn(process.execPath, [BIN, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const m = /"address":"([^"]+)"/.exec(l);
        if (m && l.includes('"listening"')) resolve(m[1]!);
      });
      child.once('exit', (c) => reject(new Error(`exited early: ${c}`)));
    });
    const argv = cmdline(child.pid!);
    for (const f of V8_FLAGS) expect(argv).toContain(f);
    expect(argv).toContain(BIN);
    // The allocator settings join the environment; a value the deployer set wins.
    const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain(`MALLOC_ARENA_MAX=${ALLOCATOR_ENV.MALLOC_ARENA_MAX}`);
    expect(environ).toContain('MALLOC_MMAP_THRESHOLD_=131072');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it.skipIf(!canExec)('with KTCLOUD_LOW_MEMORY=true it adds the low-memory flags, and only then', async () => {
    const argvWith = async (value: string | undefined) => {
      const env = { PATH: process.env.PATH, CLOUD_ID: 'launcher@example.com', CLOUD_PASSWORD: 'pw', CLOUD_ZONE: 'DX-M1', ...(value === undefined ? {} : { KTCLOUD_LOW_MEMORY: value }) };
      const child = spawn(process.execPath, [BIN, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env });
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (l) => l.includes('"listening"') && resolve());
        child.once('exit', (c) => reject(new Error(`exited early: ${c}`)));
      });
      const argv = cmdline(child.pid!);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      return argv;
    };
    const lean = await argvWith('true');
    for (const f of [...V8_FLAGS, ...LOW_MEMORY_FLAGS]) expect(lean).toContain(f);
    for (const value of [undefined, 'false']) {
      const plain = await argvWith(value);
      for (const f of V8_FLAGS) expect(plain).toContain(f);
      for (const f of LOW_MEMORY_FLAGS) expect(plain).not.toContain(f);
    }
  });

  it('refuses a KTCLOUD_LOW_MEMORY that is neither true nor false, in one line', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, KTCLOUD_LOW_MEMORY: 'sometimes' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('ktcloud-lb-exporter: KTCLOUD_LOW_MEMORY: "sometimes" is not true or false\n');
  });

  it('starts without re-executing in a loop when node already has the flags', () => {
    const r = spawnSync(process.execPath, [...V8_FLAGS, BIN, '--version'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ktcloud-lb-exporter \d+\.\d+\.\d+/);
  });
});
