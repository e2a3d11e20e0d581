// node --expose-gc bench/probes/imports.mjs MOD...  (from the repo root; BENCHMARKS.md "Memory: where it goes")
// Main thread: RSS and heap after a full GC, after importing each module in turn (cumulative).
import { createRequire } from 'node:module';
const req = createRequire(process.cwd() + '/package.json');
const MB = 1 << 20;
const snap = (what) => { globalThis.gc?.(); const m = process.memoryUsage(); console.log(JSON.stringify({ what, rss: +(m.rss/MB).toFixed(1), heapUsed: +(m.heapUsed/MB).toFixed(1), heapTotal: +(m.heapTotal/MB).toFixed(1), external: +(m.external/MB).toFixed(1) })); };
snap('bare');
for (const m of process.argv.slice(2)) { await import(m.startsWith('.') || m.startsWith('/') ? new URL(m, 'file://' + process.cwd() + '/').href : req.resolve(m).startsWith('/') ? 'file://' + req.resolve(m) : m).catch(async () => import(m)); snap(m); }
