/**
 * Loaded into the exporter under test with `node --import <this file>`, so that the benchmark
 * can read the main thread's event-loop delay, its own /metrics request time and memory, and
 * which OS threads are its worker threads, without any change to production code.
 *
 * Main thread: talks over the IPC channel the benchmark opens (stdio 'ipc'), and never keeps the
 * process alive by itself. Requests: {bench: 'eld-reset'} (resets the event-loop and request-time
 * histograms) and {bench: 'probe'}; answers carry the same id. The event-loop histogram samples
 * every 1 ms; its values include that 1 ms period (a conservative reading).
 *
 * Worker threads: `--import` is part of execArgv, which worker threads inherit, so this file
 * runs again at the start of each piscina worker; there it only announces its OS thread id
 * (from /proc/thread-self) to the main thread, so the benchmark can read per-thread CPU time
 * from /proc/<pid>/task/<tid>/stat. Node 20 names every thread "node", so names cannot tell them
 * apart.
 */
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync, readlinkSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export const ELD_RESOLUTION_MS = 1;
const THREADS_CHANNEL = 'ktcloud-bench-threads';

interface Request {
  readonly bench?: string;
  readonly id?: number;
}

/** This thread's OS thread id: /proc/thread-self links to "<pid>/task/<tid>". */
function osThreadId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return NaN; // not Linux: per-thread CPU is then not reported
  }
}

/** This thread's V8 heap, MB: what is used and what V8 has reserved for it. */
function heapMB(): { used: number; total: number; external: number } {
  const h = getHeapStatistics();
  const mb = (n: number) => Math.round(n / 1e4) / 100;
  return { used: mb(h.used_heap_size), total: mb(h.total_heap_size), external: mb(h.external_memory) };
}

/** RSS split into anonymous memory and file-backed pages (the node binary's code), MB. */
function rssSplitMB(): { anon: number; file: number } | undefined {
  try {
    const t = readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? NaN);
    return { anon: Math.round(kb('RssAnon') / 10.24) / 100, file: Math.round(kb('RssFile') / 10.24) / 100 };
  } catch {
    return undefined;
  }
}

if (!isMainThread) {
  const ch = new BroadcastChannel(THREADS_CHANNEL);
  ch.postMessage({ threadId, tid: osThreadId() });
  // Each worker's heap, every second (the largest seen is kept by the main thread).
  const t = setInterval(() => ch.postMessage({ threadId, heap: heapMB() }), 1000);
  t.unref();
  (ch as unknown as { unref(): void }).unref();
} else if (typeof process.send === 'function') {
  const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  h.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;

  // The exporter's own time for a /metrics request: from when Node has parsed the request head
  // (the main thread is running it) to when the last byte is handed to the kernel. What the
  // machine adds before (accept queue, the main thread not being scheduled) and after (the
  // client being scheduled) is not in it; the load process's latency has both.
  const started = new WeakMap<object, bigint>();
  const metrics = createHistogram();
  subscribe('http.server.request.start', (m) => {
    const { request, response } = m as { request: { url?: string }; response: object };
    if (request.url?.startsWith('/metrics')) started.set(response, process.hrtime.bigint());
  });
  subscribe('http.server.response.finish', (m) => {
    const { response } = m as { response: object };
    const t0 = started.get(response);
    if (t0 === undefined) return;
    started.delete(response);
    metrics.record(Math.max(1, Number(process.hrtime.bigint() - t0)));
  });

  const workers = new Map<number, number>();
  type Heap = ReturnType<typeof heapMB>;
  const workerHeaps = new Map<number, { last: Heap; peakTotal: number }>();
  const ch = new BroadcastChannel(THREADS_CHANNEL);
  ch.onmessage = (e) => {
    const { threadId: id, tid, heap } = (e as MessageEvent).data as { threadId: number; tid?: number; heap?: Heap };
    if (tid !== undefined) workers.set(id, tid);
    if (heap) workerHeaps.set(id, { last: heap, peakTotal: Math.max(heap.total, workerHeaps.get(id)?.peakTotal ?? 0) });
  };
  (ch as unknown as { unref(): void }).unref();

  process.on('message', (m: Request) => {
    if (!m || typeof m.bench !== 'string') return;
    if (m.bench === 'report') {
      // Where every thread is (a stuck cycle): Node's diagnostic report, which includes the workers'.
      process.send!({ bench: 'report', id: m.id, report: process.report.getReport() });
      return;
    }
    if (m.bench === 'eld-reset') {
      h.reset();
      metrics.reset();
    }
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    const n = metrics.count;
    process.send!({
      bench: 'probe',
      id: m.id,
      at: Date.now(),
      eld: { count: h.count, p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), meanMs: ms(h.mean) },
      metricsRequests: { count: n, p50Ms: n ? ms(metrics.percentile(50)) : NaN, p99Ms: n ? ms(metrics.percentile(99)) : NaN, maxMs: n ? ms(metrics.max) : NaN },
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers },
      cpuUs: cpu.user + cpu.system,
      threads: { main: osThreadId(), workers: [...workers.values()] },
      heaps: { main: heapMB(), workers: [...workerHeaps.values()] },
      rssSplit: rssSplitMB(),
    });
  });
  // The channel must not keep the exporter alive (it exits on SIGTERM by itself).
  (process.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
}
