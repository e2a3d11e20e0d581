/**
 * The scrape load, as its own process: N keep-alive connections per target, each a loop of
 * `GET /metrics` with `Accept-Encoding: gzip` (as Prometheus sends it), reading every byte.
 * Controlled over IPC by the benchmark:
 *
 *   {cmd: 'start', targets, connections, rate?}           begin; answers {started: true}
 *   {cmd: 'stop'}                                         end; answers {result}
 *   {cmd: 'run', targets, connections, rate?, durationMs}  begin, end after durationMs; answers {result}
 *
 * Without `rate` each connection is a closed loop (next request when the last answer is read:
 * throughput). With `rate` (requests/s per connection) requests are due on a fixed schedule.
 * Latency ends at the last byte of the body and is kept twice: from sending the request (what
 * Prometheus reports as scrape_duration_seconds) and from when it was due (includes waiting for
 * the previous answer and this process's own timer lateness: no coordinated omission).
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { summarize, type LatencySummary } from './lib/stats.js';

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly bytes: number;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  readonly latency: LatencySummary;
  /** Counted from when each request was due (same as `latency` for closed loops). */
  readonly latencyFromDue: LatencySummary;
  readonly firstError: string | null;
}

interface Command {
  readonly id: number;
  readonly cmd: 'start' | 'stop' | 'run';
  readonly targets?: readonly string[];
  readonly connections?: number;
  readonly rate?: number;
  readonly durationMs?: number;
  /** start: count only requests sent from this time on (ms since the epoch); earlier ones warm up. */
  readonly recordFrom?: number;
  /** stop: also write [send time (ms since the epoch), latency ms] of every request here. */
  readonly dump?: string;
}

/** Latencies kept per run (beyond that, only counts): bounds memory in long runs. */
const MAX_SAMPLES = 2_000_000;

class Run {
  private stopping = false;
  private readonly latencies = new Float64Array(MAX_SAMPLES);
  private readonly fromDue = new Float64Array(MAX_SAMPLES);
  private readonly sentAt = new Float64Array(MAX_SAMPLES);
  private n = 0;
  private requests = 0;
  private errors = 0;
  private bytes = 0;
  private firstError: string | null = null;
  private started = 0;
  private readonly loops: Promise<void>[] = [];
  private readonly clients: Array<{ client: Client; path: string }> = [];

  constructor(
    targets: readonly string[],
    connections: number,
    private readonly rate = 0,
    /** performance.now() from which requests are counted. */
    private readonly recordFrom = 0,
  ) {
    for (const target of targets) {
      const url = new URL(target);
      for (let i = 0; i < connections; i++) {
        const client = new Client(url.origin, { pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
        this.clients.push({ client, path: url.pathname + url.search });
      }
    }
  }

  /** One unrecorded request per connection (connect, warm up this process), then the loops. */
  async begin(): Promise<void> {
    await Promise.all(
      this.clients.map(async ({ client, path }) => {
        const res = await client.request({ path, method: 'GET', headers: { 'accept-encoding': 'gzip' } });
        for await (const _ of res.body as AsyncIterable<Buffer>) void _; // read all: the connection stays open
      }),
    );
    this.started = Math.max(performance.now(), this.recordFrom);
    for (const { client, path } of this.clients) this.loops.push(this.loop(client, path));
  }

  private async loop(client: Client, path: string): Promise<void> {
    const every = this.rate > 0 ? 1000 / this.rate : 0;
    // Connections start spread over one period, not in step.
    let due = performance.now() + Math.random() * every;
    while (!this.stopping) {
      if (every > 0) {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (this.stopping) break;
      }
      const t0 = performance.now();
      const dueAt = every > 0 ? Math.min(due, t0) : t0;
      due += every;
      try {
        const res = await client.request({ path, method: 'GET', headers: { 'accept-encoding': 'gzip' } });
        let size = 0;
        for await (const chunk of res.body as AsyncIterable<Buffer>) size += chunk.length;
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
        const t1 = performance.now();
        if (t0 < this.recordFrom) continue;
        if (this.n < MAX_SAMPLES) {
          this.latencies[this.n] = t1 - t0;
          this.sentAt[this.n] = performance.timeOrigin + t0;
          this.fromDue[this.n++] = t1 - dueAt;
        }
        this.requests++;
        this.bytes += size;
      } catch (err) {
        if (t0 < this.recordFrom) continue;
        this.errors++;
        this.firstError ??= (err as Error).message;
        // Do not spin on a dead target.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  samples(): Array<[number, number]> {
    return Array.from({ length: this.n }, (_, i) => [Math.round(this.sentAt[i]! * 10) / 10, Math.round(this.latencies[i]! * 100) / 100]);
  }

  async stop(): Promise<LoadResult> {
    this.stopping = true;
    // Each loop finishes its request in flight; bounded by the client timeouts.
    await Promise.all(this.loops);
    const elapsedMs = performance.now() - this.started;
    await Promise.all(this.clients.map(({ client }) => client.close().catch(() => undefined)));
    return {
      requests: this.requests,
      errors: this.errors,
      bytes: this.bytes,
      elapsedMs,
      requestsPerSecond: this.requests / (elapsedMs / 1000),
      latency: summarize(this.latencies.subarray(0, this.n)),
      latencyFromDue: summarize(this.fromDue.subarray(0, this.n)),
      firstError: this.firstError,
    };
  }
}

let current: Run | undefined;

process.on('message', (m: Command) => {
  void (async () => {
    try {
      if (m.cmd === 'start' || m.cmd === 'run') {
        if (current) throw new Error('a load run is already going');
        current = new Run(m.targets ?? [], m.connections ?? 1, m.rate ?? 0, m.recordFrom === undefined ? 0 : m.recordFrom - performance.timeOrigin);
        await current.begin();
        if (m.cmd === 'start') return process.send!({ id: m.id, started: true });
        await new Promise((r) => setTimeout(r, m.durationMs ?? 5000));
      }
      if (!current) throw new Error('no load run to stop');
      const run = current;
      current = undefined;
      const result = await run.stop();
      if (m.dump) writeFileSync(m.dump, JSON.stringify(run.samples()));
      process.send!({ id: m.id, result });
    } catch (err) {
      process.send!({ id: m.id, error: (err as Error).message });
    }
  })();
});

process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
