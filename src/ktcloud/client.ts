import { setTimeout as sleep } from 'node:timers/promises';
import type { LimitFunction } from 'p-limit';
import type { Dispatcher } from 'undici';
import { request } from './http-request.js';
import type { ApiOptions } from '../config/types.js';
import { Errors, httpError, KtCloudError, type ErrorContext } from './errors.js';
import { errorDetail, jsonProblem, MAX_JSON_DEPTH, nestingExceeds } from './answer.js';
import type { SharedPacer } from './pacer.js';
import { pace, type Priority } from './zone-gate.js';
import { parseLoadBalancers, parseWebServers, type LoadBalancer, type WebServer } from './parse.js';

interface Answer {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly json: unknown;
}

/** A Keystone token and when it stops being valid. */
export interface TokenInfo {
  readonly value: string;
  readonly expiresAtMs: number;
}

/** Tokens live about an hour; the official SDK renews after 57 minutes. Renew this long before expiry. */
export const TOKEN_RENEW_MARGIN_MS = 3 * 60_000;
const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60_000;
const MAX_RETRY_AFTER_MS = 60_000;
/** Orders clients created without a priority. */
let clients = 0;

export interface ZoneClientOptions {
  /** The account's configured name; every error names it. */
  readonly account?: string;
  readonly zone: string;
  /** Base URL of the zone, e.g. https://api.ucloudbiz.olleh.com/d1. */
  readonly endpoint: string;
  readonly cloudId: string;
  readonly password: string;
  /** A token from an earlier cycle, reused while it is valid. */
  readonly token?: TokenInfo;
  readonly api: ApiOptions;
  readonly dispatcher: Dispatcher;
  /** Per-account pacing (requests/s), shared by all zones of the account. */
  readonly accountPacer: SharedPacer;
  /** Per-zone pacing, shared by every account and worker thread. */
  readonly zonePacer: SharedPacer;
  /** Per-account concurrency. */
  readonly limit: LimitFunction;
  /** The collection's deadline. */
  readonly signal: AbortSignal;
  /** The same deadline as a time (ms since the epoch), to decide whether a retry can still fit. */
  readonly deadlineMs?: number;
  /** Where this client's requests stand among those waiting for the zone (see zone-gate.ts); default: by deadline, then creation. */
  readonly priority?: Priority;
  /** Called once per HTTP attempt with its status code, or `error` when no answer came. */
  readonly onRequest: (command: string, code: string) => void;
}

/**
 * Talks to one zone of the KT Cloud API for one account: Keystone auth with token reuse,
 * the two load-balancer list commands, retries with backoff, and tolerant parsing.
 */
export class ZoneClient {
  token: TokenInfo | undefined;
  /** The authentication in flight, shared by every call that needs a token meanwhile. */
  private authenticating: Promise<TokenInfo> | undefined;
  /** Every token this client held: an echoing proxy may repeat an old one. */
  private readonly tokens = new Set<string>();

  private readonly priority: Priority;

  constructor(private readonly o: ZoneClientOptions) {
    this.priority = o.priority ?? { deadlineMs: o.deadlineMs ?? Date.now(), seq: ++clients, msPerRequest: 0, remaining: 0 };
    this.token = o.token;
    if (o.token) this.tokens.add(o.token.value);
  }

  /** What an error of this client must never repeat: id, password and every token. */
  secrets(): string[] {
    return [this.o.cloudId, this.o.password, ...this.tokens];
  }

  /** Account, zone, command and secrets of an error raised here. */
  context(command?: string): ErrorContext {
    return { account: this.o.account, zone: this.o.zone, command, secrets: this.secrets() };
  }

  listLoadBalancers(): Promise<LoadBalancer[]> {
    return this.call('listLoadBalancers', {}).then((body) => parseLoadBalancers(body, this.context()));
  }

  listWebServers(loadBalancerId: string): Promise<WebServer[]> {
    return this.call('listLoadBalancerWebServers', { loadbalancerid: loadBalancerId }).then((body) => parseWebServers(body, this.context()));
  }

  /** An authenticated GET; a 401 means the token died early: authenticate once more and retry. */
  private async call(command: string, params: Record<string, string>): Promise<unknown> {
    const query = new URLSearchParams({ command, response: 'json', ...params });
    const url = `${this.o.endpoint}/loadbalancer/client/api?${query}`;
    for (let reauthenticated = false; ; reauthenticated = true) {
      const token = await this.validToken();
      try {
        const answer = await this.withRetries(command, () => this.send(command, url, { method: 'GET', headers: { 'x-auth-token': token.value, accept: 'application/json' } }));
        return answer.json;
      } catch (err) {
        if (err instanceof KtCloudError && err.status === 401 && !reauthenticated) {
          // Concurrent calls that failed with the same dead token share one re-authentication.
          if (this.token === token) this.token = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  /** The current token, renewed shortly before expiry; one authentication at a time. */
  private validToken(): Promise<TokenInfo> {
    if (this.token && this.token.expiresAtMs - Date.now() > TOKEN_RENEW_MARGIN_MS) return Promise.resolve(this.token);
    this.token = undefined;
    this.authenticating ??= this.authenticate().finally(() => {
      this.authenticating = undefined;
    });
    return this.authenticating;
  }

  private async authenticate(): Promise<TokenInfo> {
    const body = JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { domain: { id: 'default' }, name: this.o.cloudId, password: this.o.password } } },
        scope: { project: { domain: { id: 'default' }, name: this.o.cloudId } },
      },
    });
    const url = `${this.o.endpoint}/identity/auth/tokens`;
    const res = await this.withRetries('auth', () =>
      this.send('auth', url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body }),
    );
    const value = res.headers['x-subject-token'];
    if (typeof value !== 'string' || value === '') throw Errors.missingToken(this.context('auth'), res.status);
    this.tokens.add(value);
    const expires = Date.parse(String((res.json as { token?: { expires_at?: unknown } } | undefined)?.token?.expires_at ?? ''));
    this.token = { value, expiresAtMs: Number.isFinite(expires) ? expires : Date.now() + DEFAULT_TOKEN_LIFETIME_MS };
    return this.token;
  }

  private async withRetries<T>(command: string, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const e = this.classify(err, command);
        if (!e.retryable || n >= this.o.api.retries) throw e;
        // Jitter (half to all of the backoff) keeps accounts that failed together from retrying together.
        const backoff = this.o.api.retryBaseMs * 2 ** n * (0.5 + Math.random() / 2);
        const waitMs = e.retryAfterMs ?? backoff;
        // No time left to wait and retry: report what the API said, not the deadline.
        if (Date.now() + waitMs >= this.deadlineAt()) throw e;
        try {
          await sleep(waitMs, undefined, { signal: this.o.signal });
        } catch {
          throw e;
        }
      }
    }
  }

  /** One HTTP attempt: wait for a concurrency slot and both pacers (one gate, by priority), send, read a bounded body. */
  private send(command: string, url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }): Promise<Answer> {
    return this.o.limit(async () => {
      await pace(this.o.zonePacer, this.o.accountPacer, this.priority, command !== 'listLoadBalancerWebServers', this.o.signal);
      const signal = AbortSignal.any([this.o.signal, AbortSignal.timeout(this.o.api.requestTimeoutMs)]);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { ...init, signal, dispatcher: this.o.dispatcher });
      } catch (err) {
        this.o.onRequest(command, 'error');
        throw err;
      }
      this.o.onRequest(command, String(res.statusCode));
      const ok = command === 'auth' ? res.statusCode === 201 || res.statusCode === 200 : res.statusCode === 200;
      if (!ok) {
        // Only the start of an error body is read: enough for its message, bounded however large it is.
        const detail = await errorDetail(res.body as AsyncIterable<Buffer> & { destroy(): void }).catch(() => undefined);
        throw httpError(this.context(command), res.statusCode, retryAfterMs(res.headers['retry-after']), detail);
      }
      const text = await this.readBody(res, command);
      // JSON.parse is iterative, but anything that walks the value afterwards may not be: refuse absurd nesting first.
      if (nestingExceeds(text, MAX_JSON_DEPTH)) throw Errors.tooDeep(this.context(command), res.statusCode, MAX_JSON_DEPTH);
      let json: unknown;
      try {
        json = text === '' && command === 'auth' ? undefined : JSON.parse(text);
      } catch (err) {
        const type = res.headers['content-type'];
        throw Errors.malformedJson(this.context(command), res.statusCode, jsonProblem(err, text), Array.isArray(type) ? type[0] : type);
      }
      return { status: res.statusCode, headers: res.headers, json };
    });
  }

  private async readBody(res: Dispatcher.ResponseData, command: string): Promise<string> {
    const max = this.o.api.maxResponseBytes;
    const tooLarge = () => {
      res.body.destroy();
      return Errors.tooLarge(this.context(command), res.statusCode, max);
    };
    if (Number(res.headers['content-length']) > max) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  /** Maps anything an attempt threw onto the catalogue. */
  private classify(err: unknown, command: string): KtCloudError {
    if (err instanceof KtCloudError) return err;
    if (this.o.signal.aborted) return this.deadlineError(command);
    const e = err as { name?: string; code?: string; message?: string };
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
      return Errors.requestTimeout(this.context(command), this.o.api.requestTimeoutMs);
    }
    // A TypeError or RangeError thrown by our own code is a bug, not the network.
    if (!e.code && (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError)) return Errors.internal(this.context(command), err);
    return Errors.network(this.context(command), e.message, e.code);
  }

  /** When the collection's deadline signal fires (the signal itself does not tell). */
  private deadlineAt(): number {
    return this.o.deadlineMs ?? Infinity;
  }

  private deadlineError(command: string): KtCloudError {
    return Errors.deadlineExceeded(this.context(command));
  }
}

/** `Retry-After` as seconds or an HTTP date, capped so a bad header cannot stall an account. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  const seconds = Number(v);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}
