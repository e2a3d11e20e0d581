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
 * glibc malloc settings the launcher adds to the environment of the re-executed node (a value the
 * deployer set wins). Snapshot buffers come and go every cycle; glibc keeps what they freed in
 * per-thread arenas and below its dynamic mmap threshold, so RSS rises while V8's heap and
 * arrayBuffers stay flat. Two arenas and a fixed 64 KiB mmap threshold (larger allocations go
 * back to the kernel when freed) measured 281.5 → 260.4 MB steady RSS at Tier M (one A/B pair,
 * BENCHMARKS.md). Other C libraries ignore them.
 */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536' };
