/**
 * Child processes of the end-to-end suite (simulator, exporter shards, Prometheus): every one is
 * tracked so that it is stopped by the suite's afterAll AND, as a safety net, when the test
 * process exits for any reason (a failed hook, a timeout, an uncaught error).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const EXPORTER_BIN = join(ROOT, 'bin/ktcloud-lb-exporter');

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHooked = false;

/** Synchronous last resort: SIGKILL whatever is left, remove the temporary folders. */
function cleanUpNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  live.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', cleanUpNow);
  // vitest ends its fork workers with SIGTERM, which skips 'exit' handlers unless the signal is
  // handled: clean up, then die of the signal as the default action would.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUpNow();
      process.kill(process.pid, signal);
    });
  }
  // A fork worker whose vitest parent died (killed alone, not with its process group) stays
  // behind: its IPC channel closes, so stop the children then.
  if (process.send) process.once('disconnect', cleanUpNow);
}

/** A temporary folder removed at process exit at the latest (removeTempDir removes it earlier). */
export function trackTempDir(dir: string): string {
  hookExit();
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

const hasExited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

/** A tracked child process with the tail of its output kept for error messages. */
export class ManagedProcess {
  private tail = '';
  readonly exited: Promise<void>;
  private readonly lineListeners = new Set<(line: string) => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    hookExit();
    live.add(child);
    this.exited = new Promise<void>((resolve) => {
      if (hasExited(child)) resolve();
      else child.once('exit', () => resolve());
    }).then(() => void live.delete(child));
    // Always drain both pipes: a child blocked on a full pipe would look like a hung exporter.
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.tail = (this.tail + line + '\n').slice(-16_384);
        for (const l of this.lineListeners) l(line);
      });
    }
  }

  static spawn(name: string, command: string, args: readonly string[], opts: SpawnOptions = {}): ManagedProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    return new ManagedProcess(name, child);
  }

  get output(): string {
    return this.tail;
  }

  get running(): boolean {
    return !hasExited(this.child);
  }

  /** The first output line for which `match` returns a value; fails if the process exits first or after timeoutMs. */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.lineListeners.delete(listener);
      };
      const listener = (line: string) => {
        const v = match(line);
        if (v === undefined) return;
        done();
        resolve(v);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no expected output line within ${timeoutMs} ms; output:\n${this.tail}`));
      }, timeoutMs);
      this.lineListeners.add(listener);
      void this.exited.then(() => {
        done();
        reject(new Error(`${this.name} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}); output:\n${this.tail}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (hasExited(this.child)) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!hasExited(this.child)) this.child.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts one exporter replica on a free loopback port; resolves with its base URL once it listens. */
export async function startExporterShard(opts: { config: string; shard: number; totalShards: number; logLevel?: string }): Promise<{ url: string; proc: ManagedProcess }> {
  const args = [EXPORTER_BIN, '--config', opts.config, '--listen', '127.0.0.1:0', '--shard', String(opts.shard), '--total-shards', String(opts.totalShards)];
  if (opts.logLevel) args.push('--log-level', opts.logLevel);
  const proc = ManagedProcess.spawn(`exporter shard ${opts.shard}`, process.execPath, args, { cwd: ROOT });
  try {
    const url = await proc.waitForLine((line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; address?: string };
        return rec.msg === 'listening' && rec.address ? rec.address : undefined;
      } catch {
        return undefined;
      }
    }, 20_000);
    return { url: url.replace(/\/+$/, ''), proc };
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
}
