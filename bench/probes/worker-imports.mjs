// node --expose-gc bench/probes/worker-imports.mjs MOD...  (from the repo root; BENCHMARKS.md "Memory: where it goes")
// One worker thread imports each module in turn (cumulative); prints the worker's heap after a
// full GC and the process RSS. The first line is a bare worker thread.
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
const MB = 1 << 20;
const rss = () => +(process.memoryUsage().rss / MB).toFixed(1);
const mods = process.argv.slice(2);
if (isMainThread) {
  console.log(JSON.stringify({ what: 'main thread only', rss: rss() }));
  const w = new Worker(new URL(import.meta.url), { argv: mods });
  w.on('message', (m) => console.log(JSON.stringify({ ...m, rss: rss() })));
} else {
  const v8 = await import('node:v8');
  const { createRequire } = await import('node:module');
  const req = createRequire(pathToFileURL(process.cwd() + '/package.json'));
  const post = (what) => {
    globalThis.gc?.();
    const h = v8.getHeapStatistics();
    parentPort.postMessage({ what, heapUsed: +(h.used_heap_size / MB).toFixed(1), heapTotal: +(h.total_heap_size / MB).toFixed(1) });
  };
  await new Promise((r) => setTimeout(r, 100));
  post('worker bare');
  for (const m of mods) {
    await import(m.startsWith('.') ? pathToFileURL(m).href : pathToFileURL(req.resolve(m)).href);
    await new Promise((r) => setTimeout(r, 100));
    post(m);
  }
}
