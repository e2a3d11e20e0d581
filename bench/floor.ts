/**
 * The floor for "scrape cost at rest": a bare fastify route that answers with the exporter's
 * own pre-gzipped /metrics bytes, read once from a file. Nothing is rendered or compressed per
 * request; whatever the exporter costs beyond this is its own overhead.
 *
 *   node dist/bench/floor.js --file BODY.gz
 *
 * Prints {"address": "http://127.0.0.1:PORT"} once listening.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({ options: { file: { type: 'string' } } });
if (!values.file) {
  process.stderr.write('usage: floor.js --file BODY.gz\n');
  process.exit(2);
}
const body = readFileSync(values.file);
const app = Fastify({ logger: false, forceCloseConnections: true });
app.get('/metrics', (_req, reply) => {
  reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').header('content-encoding', 'gzip').header('vary', 'Accept-Encoding').send(body);
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ address })}\n`);
const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
