/**
 * undici's Agent and `request`, loaded without the rest of undici. `import 'undici'` evaluates its
 * whole index (fetch, WebSocket, EventSource, mocks, cache interceptors, the SQLite cache store):
 * ~10 MB of RSS and 4 MB of heap in every worker thread, for the two things we use (measured in
 * BENCHMARKS.md "Memory: where it goes"). These are the files undici's own index re-exports;
 * `request` below is its index's URL handling for the case we have (an absolute URL, a dispatcher).
 * test/ktcloud/http-request.test.ts holds it to a real server, so an undici upgrade that moves
 * these files fails there.
 */
import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Dispatcher } from 'undici';

const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
const apiRequest = require('undici/lib/api/api-request.js') as (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

export type RequestOptions = { readonly dispatcher: Dispatcher } & Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> &
  Partial<Pick<Dispatcher.RequestOptions, 'method'>>;

/** Same as undici's `request(url, opts)`, except that the dispatcher is required (no global one). */
export function request(url: string | URL, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
  const u = new URL(url);
  const { dispatcher, ...rest } = opts;
  return apiRequest.call(dispatcher, {
    ...rest,
    origin: u.origin,
    path: u.search ? `${u.pathname}${u.search}` : u.pathname,
    method: opts.method ?? (opts.body ? 'PUT' : 'GET'),
  });
}
