/**
 * Loaded into the exporter under test with `node --import <this file>`, so that the benchmark
 * can read the main thread's event-loop delay and memory without any change to production code.
 *
 * It talks over the IPC channel the benchmark opens (stdio 'ipc'), and never keeps the process
 * alive by itself. Requests: {bench: 'eld-reset'} and {bench: 'probe'}; answers carry the same id.
 * The histogram samples every 1 ms; its values include that 1 ms period (a conservative reading).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export const ELD_RESOLUTION_MS = 1;

interface Request {
  readonly bench?: string;
  readonly id?: number;
}

if (typeof process.send === 'function') {
  const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  h.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  process.on('message', (m: Request) => {
    if (!m || typeof m.bench !== 'string') return;
    if (m.bench === 'eld-reset') h.reset();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    process.send!({
      bench: 'probe',
      id: m.id,
      at: Date.now(),
      eld: { count: h.count, p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), meanMs: ms(h.mean) },
      memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers },
      cpuUs: cpu.user + cpu.system,
    });
  });
  // The channel must not keep the exporter alive (it exits on SIGTERM by itself).
  (process.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
}
