// node bench/probes/wasm-tierup.mjs undici|http  (from the repo root; add --liftoff-only to compare)
// RSS of the process (and its peak, sampled every 5 ms) while one worker thread makes requests to
// a local server with undici (llhttp in WebAssembly) or node:http (llhttp in C).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import http from 'node:http';
const MB = 1 << 20;
const rss = () => +(process.memoryUsage().rss / MB).toFixed(1);
if (isMainThread) {
  const body = JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: 'lb-' + i, state: 'UP' })) });
  const srv = http.createServer((q, s) => s.end(body)).listen(0, '127.0.0.1', () => {
    const url = `http://127.0.0.1:${srv.address().port}/`;
    let peak = 0; const t = setInterval(() => { peak = Math.max(peak, rss()); }, 5);
    const log = (m) => console.log(JSON.stringify({ ...m, mainRss: rss(), peak }));
    log({ at: 'start' });
    const w = new Worker(new URL(import.meta.url), { workerData: { url, mode: process.argv[2] } });
    w.on('message', log);
    w.on('exit', () => { clearInterval(t); srv.close(); log({ at: 'exit' }); });
  });
} else {
  const post = (at) => parentPort.postMessage({ at });
  post('worker up');
  if (workerData.mode === 'http') {
    const get = () => new Promise((r) => http.get(workerData.url, (res) => { res.resume(); res.on('end', r); }));
    await get(); post('after 1 http.get');
    for (let i = 0; i < 200; i++) await get(); post('after 200');
  } else {
    const { Agent, request } = await import('undici'); post('undici loaded');
    const d = new Agent();
    await (await request(workerData.url, { dispatcher: d })).body.text(); post('after 1 request');
    await new Promise((r) => setTimeout(r, 300)); post('+300ms');
    for (let i = 0; i < 200; i++) await (await request(workerData.url, { dispatcher: d })).body.text(); post('after 200');
    await d.close();
  }
  await new Promise((r) => setTimeout(r, 300)); post('end');
}
