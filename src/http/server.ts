/**
 * HTTP routes. /metrics writes the cached body parts straight to the socket: no rendering and
 * no copying per scrape. Everything else is small. Every route, 404s included, passes the web
 * config's basic auth and gets its headers (one onRequest hook); TLS is set when the server is made.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { hostname } from 'node:os';
import type { AccountBodies } from '../metrics/account-body.js';
import type { Exposition } from '../metrics/exposition.js';
import { renderAccountsPage } from './accounts-page.js';
import { registerMetricsRoute } from './metrics-route.js';
import type { AccountsView } from './accounts-view.js';
import { registerPageAssets } from './page-assets.js';
import { registerSdRoute, type SdDeps } from './sd.js';
import { guardSockets, httpTimeouts } from './sockets.js';
import type { WebState } from './web-config-live.js';
import type { TlsServerOptions } from './web-config-tls.js';

export interface HttpDeps {
  readonly log: Logger;
  readonly exposition: Exposition;
  /** /metrics?account= bodies and /sd (one scrape target per account); absent: neither is served. */
  readonly perAccount?: { readonly bodies: AccountBodies; readonly sd: SdDeps };
  readonly isReady: () => boolean;
  readonly accountsView: () => AccountsView;
  readonly reload: () => Promise<{ ok: boolean; error?: string; added?: string[]; removed?: string[]; changed?: string[] }>;
  readonly version: string;
  /** The web config in force (auth, headers), read per request so a reload applies at once. */
  readonly web: () => WebState;
  /** Serve HTTPS with these options instead of plain HTTP. */
  readonly tls?: TlsServerOptions;
  /** POST /-/reload answers 403 unless true (--web.enable-lifecycle). */
  readonly enableLifecycle: boolean;
  readonly maxConnections: number;
  /** Time a connection gets to send its first request head. Default FIRST_REQUEST_TIMEOUT_MS; tests shorten it. */
  readonly firstRequestTimeoutMs?: number;
}

/** What an HTML form can send cross-site without a CORS preflight: never accepted by lifecycle endpoints. */
const FORM_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

export function createHttpServer(d: HttpDeps): FastifyInstance {
  const timeouts = httpTimeouts(d.firstRequestTimeoutMs);
  const serverOptions = { ...timeouts, ...(d.tls ? { ...d.tls, handshakeTimeout: timeouts.headersTimeout } : {}) };
  const app = Fastify({
    // Per-request logs are info level; one per scrape is noise, so the HTTP logger starts at warn.
    loggerInstance: d.log.child({ module: 'http' }, { level: d.log.isLevelEnabled('debug') ? 'debug' : 'warn' }) as FastifyBaseLogger,
    // Idle keep-alive connections must not hold shutdown back.
    forceCloseConnections: 'idle',
    keepAliveTimeout: timeouts.keepAliveTimeout,
    requestTimeout: timeouts.requestTimeout,
    ...(d.tls ? { https: serverOptions } : { http: serverOptions }),
  }) as unknown as FastifyInstance;
  guardSockets(app.server, { maxConnections: d.maxConnections, firstRequestTimeoutMs: timeouts.headersTimeout });

  app.addHook('onRequest', async (req, reply) => {
    const web = d.web();
    // On the raw response, so that /metrics (which writes its own head) carries them too.
    for (const [name, value] of Object.entries(web.headers)) reply.raw.setHeader(name, value);
    if (web.auth.enabled && !(await web.auth.check(req.headers.authorization))) {
      // Never says whether the user or the password was wrong.
      return reply.code(401).header('www-authenticate', 'Basic').type('text/plain; charset=utf-8').send('Unauthorized\n');
    }
  });

  registerMetricsRoute(app, d.exposition, d.perAccount?.bodies);
  if (d.perAccount) registerSdRoute(app, d.perAccount.sd, hostname());

  app.get('/healthz', async () => ({ status: 'ok' }));

  const readyz = (reply: FastifyReply) => {
    const ready = d.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'waiting for the first collection of every account' });
  };
  app.get('/readyz', async (_req, reply) => readyz(reply));

  app.get<{ Querystring: { format?: string; refresh?: string | string[] } }>('/accounts', async (req, reply) => {
    const view = d.accountsView();
    const accept = String(req.headers.accept ?? '');
    const wantsJson = req.query.format === 'json' || (accept.includes('application/json') && !accept.includes('text/html'));
    reply.header('cache-control', 'no-store');
    if (wantsJson) return reply.send(view);
    return reply.type('text/html; charset=utf-8').send(renderAccountsPage(view, { refresh: req.query.refresh }));
  });

  registerPageAssets(app);

  app.get('/-/healthy', async () => ({ status: 'ok' }));
  app.get('/-/ready', async (_req, reply) => readyz(reply));

  // Lifecycle: off unless enabled, POST only, and never a form content type (a cross-site form
  // post cannot trigger it). Checked before the body is parsed.
  const lifecycle = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!d.enableLifecycle) return reply.code(403).type('text/plain; charset=utf-8').send('Lifecycle API is not enabled.\n');
    if (FORM_TYPES.test(String(req.headers['content-type'] ?? ''))) return reply.code(415).type('text/plain; charset=utf-8').send('Lifecycle endpoints do not accept form content types.\n');
  };
  app.post('/-/reload', { onRequest: lifecycle }, async (_req, reply) => {
    const r = await d.reload();
    return reply.code(r.ok ? 200 : 400).send(r.ok ? { status: 'ok', added: r.added, removed: r.removed, changed: r.changed } : { status: 'error', error: r.error });
  });
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url: '/-/reload',
    handler: async (_req, reply) => reply.code(405).header('allow', 'POST').type('text/plain; charset=utf-8').send('Only POST is allowed.\n'),
  });

  app.get('/', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>KT Cloud LB Exporter</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}code{font-size:90%}</style></head>
<body><h1>KT Cloud LB Exporter</h1><p>Version <code>${escapeHtml(d.version)}</code></p>
<ul>
<li><a href="metrics">/metrics</a>: Prometheus metrics of every account (<code>?account=NAME</code>: of one)</li>
<li><a href="sd">/sd</a>: Prometheus HTTP service discovery, one target per account</li>
<li><a href="accounts">/accounts</a>: health of every account (<a href="accounts?format=json">JSON</a>)</li>
<li><a href="healthz">/healthz</a> (<a href="-/healthy">/-/healthy</a>): the process is alive</li>
<li><a href="readyz">/readyz</a> (<a href="-/ready">/-/ready</a>): every account has been collected once</li>
</ul><p><code>POST /-/reload</code> reloads the configuration and credentials${d.enableLifecycle ? '' : ' (off: start with <code>--web.enable-lifecycle</code>)'}.</p></body></html>`),
  );

  return app;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
