/**
 * Child processes of the benchmark: every one is registered so that it is stopped on any exit
 * path (normal end, harness failure, Ctrl-C), and every wait is bounded in time.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const children = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Last resort: whatever is still running when this process goes away is killed.
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      process.stderr.write(`bench: ${sig}, stopping children\n`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The last lines it wrote (stdout and stderr), for error messages. */
  tail(): string;
  /** Resolves with the first stdout line matching `re` (or rejects on exit / timeout). */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts `node [execArgv] args` as a registered child. With `nice` > 0 it runs under
 * `nice -n N` (which execs node: same pid), so every thread the child creates has the lower
 * priority from the start; os.setPriority on the pid after spawning would miss the threads
 * Node had already started (Linux applies it to one thread).
 */
export function startChild(name: string, args: string[], opts: { ipc?: boolean; env?: NodeJS.ProcessEnv; execArgv?: string[]; echo?: boolean; nice?: number } = {}): Child {
  hookExit();
  const spawnOpts: SpawnOptions = {
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  };
  const nodeArgs = [...(opts.execArgv ?? []), ...args];
  const proc = opts.nice ? spawn('nice', ['-n', String(opts.nice), process.execPath, ...nodeArgs], spawnOpts) : spawn(process.execPath, nodeArgs, spawnOpts);
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  const keep = (prefix: string) => (line: string) => {
    lines.push(`${prefix}${line}`);
    if (lines.length > 40) lines.shift();
    if (opts.echo) process.stderr.write(`[${name}] ${line}\n`);
  };
  // Both streams are always drained: a full pipe would block the child.
  const out = createInterface({ input: proc.stdout! });
  out.on('line', (line) => {
    keep('')(line);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.re.test(line)) {
        waiters[i]!.resolve(line);
        waiters.splice(i, 1);
      }
    }
  });
  createInterface({ input: proc.stderr! }).on('line', keep('stderr: '));
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  const child: Child = {
    name,
    proc,
    pid: proc.pid,
    tail: () => lines.join('\n'),
    waitForLine(re, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms\n${child.tail()}`)), timeoutMs);
        const onExit = (code: number | null, signal: string | null) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}, signal ${signal}) before writing ${re}\n${child.tail()}`));
        };
        proc.once('exit', onExit);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            proc.off('exit', onExit);
            resolve(l);
          },
        });
      });
    },
    async stop(timeoutMs = 12_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
      clearTimeout(timer);
      if (timedOut) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
  return child;
}

/** Stops every child still running (SIGTERM, then SIGKILL after the timeout). */
export async function stopAll(timeoutMs = 12_000): Promise<void> {
  await Promise.all(
    [...children].map(async (proc) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** One IPC request/answer with a child that answers with the same `id`. */
let nextId = 1;
export function ask<T>(child: Child, message: Record<string, unknown>, timeoutMs: number): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: { id?: number }) => {
      if (m && m.id === id) {
        cleanup();
        resolve(m as T);
      }
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`${child.name} exited while answering ${JSON.stringify(message)}\n${child.tail()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.name} did not answer ${JSON.stringify(message)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      child.proc.off('exit', onExit);
    };
    child.proc.on('message', onMessage);
    child.proc.once('exit', onExit);
    child.proc.send({ ...message, id });
  });
}

const CLK_TCK = 100; // Linux USER_HZ; /proc times are in these ticks

function statCpuMs(file: string): number {
  const stat = readFileSync(file, 'utf8');
  // The command name may contain spaces; fields after the closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** CPU time (user + system, all threads, including threads that have exited) of a process so far, in ms, from /proc. */
export function cpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** CPU time of one thread of a process so far, in ms; NaN when the thread is gone. */
export function threadCpuMs(pid: number, tid: number): number {
  try {
    return statCpuMs(`/proc/${pid}/task/${tid}/stat`);
  } catch {
    return NaN;
  }
}

/** A process's CPU so far (ms), split: its main thread, the given worker threads, the rest. */
export interface ThreadCpu {
  readonly total: number;
  readonly main: number;
  readonly workers: number;
  /** Everything else: libuv's pool (gzip), V8's GC and compiler threads, exited threads. */
  readonly other: number;
}

export function threadCpu(pid: number, workerTids: readonly number[]): ThreadCpu {
  const total = cpuMs(pid);
  const main = threadCpuMs(pid, pid);
  let workers = 0;
  for (const tid of workerTids) {
    const ms = threadCpuMs(pid, tid);
    if (Number.isFinite(ms)) workers += ms;
  }
  return { total, main, workers, other: total - main - workers };
}

/** A process's niceness as the kernel holds it (its main thread's), from /proc. */
export function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** Resident set size of a process, in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export function loadavg(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
