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
 */
export const V8_FLAGS: readonly string[] = ['--liftoff-only', '--max-semi-space-size=1'];
