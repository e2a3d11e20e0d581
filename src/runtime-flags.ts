/**
 * V8 flags the exporter runs with. Only the command line can set them (NODE_OPTIONS is the
 * deployer's, not ours), so bin/ktcloud-lb-exporter re-executes node with them in the same
 * process (`process.execve`, Node ≥ 22.15), and the benchmarks pass them to the exporter they
 * start. Measured in BENCHMARKS.md "Memory: where it goes":
 * - `--liftoff-only`: undici parses HTTP with llhttp compiled to WebAssembly; V8 first compiles
 *   it with its baseline compiler (Liftoff), then recompiles the parser's one huge function with
 *   TurboFan in the background, which takes ~30 MB of RSS for a moment in every thread that makes
 *   its first request. Baseline code parses our few KB per response fast enough.
 * - `--max-semi-space-size=1`: the main thread's young generation; V8 grows it to 16 MB per
 *   semi-space under scrape and rebuild bursts and keeps it. Worker threads get theirs from
 *   `resourceLimits` (src/pool/collector-pool.ts).
 * - `--optimize-for-size`: V8's documented trade of speed for memory (smaller heap growth,
 *   compaction that gives pages back). Without it each worker's heap grew to ~55 MB reserved for
 *   ~16 MB live and the main thread's to ~30–40 MB. Tier M (one A/B pair, same hour): 261.5 →
 *   187.8 MB steady RSS with two workers, 224.6 → 150.6 with one; CPU per cycle +14 % (one worker)
 *   to +29 % (two), mostly V8's GC helper threads; cycle, scrape latency and Tier M's scrape
 *   cost at rest unchanged; a small (Tier S) scrape at rest costs ~12 % more (BENCHMARKS.md).
 */
export const V8_FLAGS: readonly string[] = ['--liftoff-only', '--max-semi-space-size=1', '--optimize-for-size'];

/**
 * Added when KTCLOUD_LOW_MEMORY is true, for deployments of a handful of accounts where the pod's
 * memory limit matters more than CPU (the dev overlay sets it). V8 then runs JavaScript in its
 * interpreter and baseline compiler only (no Maglev, no TurboFan): no optimized code and no
 * optimizing compiler's working memory in the main thread or the worker thread. Measured
 * (BENCHMARKS.md "Low-memory mode"): 3 small accounts peak 107.5 → 97.6 MB over 120 cycles;
 * Tier S steady 110.4 → 101.9 MB, peak 125.3 → 104.9. Costs the worker thread 1.4× (Tier S) to
 * 2.3× (Tier M) the CPU per cycle and a small scrape at rest twice the CPU (0.13 → 0.25 ms at
 * Tier S). Not for large account sets (Tier M: −10 MB for +2.7 s of CPU per 15 s cycle).
 */
export const LOW_MEMORY_FLAGS: readonly string[] = ['--disable-optimizing-compilers'];

/** Thrown for a KTCLOUD_LOW_MEMORY value that is neither true nor false. */
export class RuntimeFlagsError extends Error {}

/** The V8 flags the exporter runs with in this environment (the launcher applies them). */
export function runtimeFlags(env: Readonly<Record<string, string | undefined>> = process.env): readonly string[] {
  const v = (env.KTCLOUD_LOW_MEMORY ?? '').trim().toLowerCase();
  if (v !== '' && !['true', 'false', '1', '0'].includes(v)) throw new RuntimeFlagsError(`KTCLOUD_LOW_MEMORY: "${v}" is not true or false`);
  return v === 'true' || v === '1' ? [...V8_FLAGS, ...LOW_MEMORY_FLAGS] : V8_FLAGS;
}

/**
 * glibc malloc settings the launcher adds to the environment of the re-executed node (a value the
 * deployer set wins). Snapshot buffers come and go every cycle; glibc keeps what they freed in
 * per-thread arenas and below its dynamic mmap threshold, so RSS rises while V8's heap and
 * arrayBuffers stay flat. Two arenas and a fixed 64 KiB mmap threshold (larger allocations go
 * back to the kernel when freed) measured 281.5 → 260.4 MB steady RSS at Tier M (one A/B pair,
 * BENCHMARKS.md). Other C libraries ignore them.
 */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536' };
