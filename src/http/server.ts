/**
 * HTTP routes. /metrics writes the cached body parts straight to the socket: no rendering and
 * no copying per scrape. Everything else is small.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Exposition } from '../metrics/exposition.js';
import { renderAccountsPage } from './accounts-page.js';
import { registerMetricsRoute } from './metrics-route.js';
import type { AccountsView } from './accounts-view.js';

export interface HttpDeps {
  readonly log: Logger;
  readonly exposition: Exposition;
  readonly isReady: () => boolean;
  readonly accountsView: () => AccountsView;
  readonly reload: () => Promise<{ ok: boolean; error?: string; added?: string[]; removed?: string[]; changed?: string[] }>;
  readonly version: string;
}

export function createHttpServer(d: HttpDeps): FastifyInstance {
  const app = Fastify({
    // Per-request logs are info level; one per scrape is noise, so the HTTP logger starts at warn.
    loggerInstance: d.log.child({ module: 'http' }, { level: d.log.isLevelEnabled('debug') ? 'debug' : 'warn' }) as FastifyBaseLogger,
    // Idle keep-alive connections must not hold shutdown back.
    forceCloseConnections: 'idle',
  });

  registerMetricsRoute(app, d.exposition);

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const ready = d.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'waiting for the first collection of every account' });
  });

  app.get<{ Querystring: { format?: string } }>('/accounts', async (req, reply) => {
    const view = d.accountsView();
    const accept = String(req.headers.accept ?? '');
    const wantsJson = req.query.format === 'json' || (accept.includes('application/json') && !accept.includes('text/html'));
    reply.header('cache-control', 'no-store');
    if (wantsJson) return reply.send(view);
    return reply.type('text/html; charset=utf-8').send(renderAccountsPage(view));
  });

  app.post('/-/reload', async (_req, reply) => {
    const r = await d.reload();
    return reply.code(r.ok ? 200 : 400).send(r.ok ? { status: 'ok', added: r.added, removed: r.removed, changed: r.changed } : { status: 'error', error: r.error });
  });

  app.get('/', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>KT Cloud LB Exporter</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}code{font-size:90%}</style></head>
<body><h1>KT Cloud LB Exporter</h1><p>Version <code>${escapeHtml(d.version)}</code></p>
<ul>
<li><a href="metrics">/metrics</a>: Prometheus metrics of every account</li>
<li><a href="accounts">/accounts</a>: health of every account (<a href="accounts?format=json">JSON</a>)</li>
<li><a href="healthz">/healthz</a>: the process is alive</li>
<li><a href="readyz">/readyz</a>: every account has been collected once</li>
</ul><p><code>POST /-/reload</code> reloads the configuration and credentials.</p></body></html>`),
  );

  return app;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
