/**
 * The one catalogue of collection failures. Each kind of failure has one constructor below, so
 * that every message is written once, names account, zone and command, and carries a reason
 * from a fixed set (it becomes the `reason` label). Text that came from the API or from an
 * exception is passed through `cleanText` here, where the failure is created in the worker
 * (which knows the account's id, password and tokens), so no sink has to clean it again.
 */
export const ERROR_REASONS = ['auth', 'rate_limited', 'timeout', 'bad_response', 'api_error', 'network', 'internal', 'too_many_series'] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

/** What crosses the thread boundary and reaches metrics, logs and the /accounts page. */
export interface ErrorInfo {
  readonly reason: ErrorReason;
  /** A sentence a human understands, e.g. `authentication failed (HTTP 401) for DX-M1`. */
  readonly message: string;
  readonly account?: string;
  readonly zone: string;
  readonly command?: string;
  /** HTTP status, when a response arrived. */
  readonly status?: number;
  /** `errorcode` of an error inside an HTTP 200 answer. */
  readonly apiCode?: number;
}

/** Where a failure happened, and what must never be repeated in its message. */
export interface ErrorContext {
  readonly account?: string;
  readonly zone: string;
  readonly command?: string;
  /** The account's id, password and every token it used; redacted from any text we did not write. */
  readonly secrets?: readonly string[];
}

/** Longest piece of foreign text (API error text, exception message) kept in a message. */
export const MAX_FOREIGN_TEXT = 200;
export const REDACTED = '[REDACTED]';

export class KtCloudError extends Error {
  readonly reason: ErrorReason;
  readonly account?: string;
  readonly zone: string;
  readonly command?: string;
  readonly status?: number;
  readonly apiCode?: number;
  /** Whether trying the same request again may succeed. */
  readonly retryable: boolean;
  /** Seconds the API asked us to wait (Retry-After). */
  readonly retryAfterMs?: number;

  constructor(info: ErrorInfo & { retryable?: boolean; retryAfterMs?: number }) {
    super(info.message);
    this.name = 'KtCloudError';
    this.reason = info.reason;
    this.account = info.account;
    this.zone = info.zone;
    this.command = info.command;
    this.status = info.status;
    this.apiCode = info.apiCode;
    this.retryable = info.retryable ?? false;
    this.retryAfterMs = info.retryAfterMs;
  }

  toInfo(): ErrorInfo {
    return { reason: this.reason, message: this.message, account: this.account, zone: this.zone, command: this.command, status: this.status, apiCode: this.apiCode };
  }
}

/**
 * Foreign text made safe to show: every known secret (and its JSON- and URL-encoded forms)
 * replaced first, so that truncation cannot leave half a secret behind; then one line without
 * control characters; then at most `max` characters.
 */
export function cleanText(text: string, secrets: readonly string[] = [], max = MAX_FOREIGN_TEXT): string {
  let t = redact(text, secrets);
  // C0/C1 controls, DEL and the Unicode line/paragraph separators would break a log line or the page.
  t = t.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  const chars = Array.from(t.length > max * 2 ? t.slice(0, max * 2) : t);
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

export function redact(text: string, secrets: readonly string[]): string {
  let t = text;
  for (const s of secrets) {
    if (!s) continue;
    for (const form of new Set([s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)])) t = t.split(form).join(REDACTED);
  }
  return t;
}

const at = (c: ErrorContext) => c.zone;
const err = (c: ErrorContext, reason: ErrorReason, message: string, extra: Partial<ErrorInfo> & { retryable?: boolean; retryAfterMs?: number } = {}) =>
  new KtCloudError({ reason, account: c.account, zone: c.zone, command: c.command, message: redact(message, c.secrets ?? []), ...extra });
const cmd = (c: ErrorContext) => c.command ?? 'request';
/** `: <text>` when the answer carried an error text, cleaned and redacted. */
const said = (c: ErrorContext, detail: string | undefined) => (detail ? `: ${cleanText(detail, c.secrets)}` : '');

/** Every constructor of the catalogue. `detail` is foreign text and is always cleaned. */
export const Errors = {
  authFailed: (c: ErrorContext, status: number, detail?: string) =>
    err(c, 'auth', `authentication failed (HTTP ${status}) for ${at(c)}${said(c, detail)}`, { status }),
  tokenRefused: (c: ErrorContext, status: number, detail?: string) =>
    err(c, 'auth', `${cmd(c)} was refused: token not accepted (HTTP ${status}) for ${at(c)}${said(c, detail)}`, { status }),
  rateLimited: (c: ErrorContext, status: number, retryAfterMs?: number) =>
    err(c, 'rate_limited', `${what(c)} was rate limited (HTTP ${status}) by ${at(c)}`, { status, retryable: true, retryAfterMs }),
  serverError: (c: ErrorContext, status: number, detail?: string) =>
    err(c, 'api_error', `${what(c)} failed with a server error (HTTP ${status}) in ${at(c)}${said(c, detail)}`, { status, retryable: true }),
  rejected: (c: ErrorContext, status: number, detail?: string) =>
    err(c, 'api_error', `${what(c)} was rejected (HTTP ${status}) by ${at(c)}${said(c, detail)}`, { status }),
  apiError: (c: ErrorContext, apiCode: number, text: string) =>
    err(c, 'api_error', `${cmd(c)} returned API error ${apiCode || '(no code)'}: ${cleanText(text, c.secrets)} in ${at(c)}`, { apiCode }),
  requestTimeout: (c: ErrorContext, timeoutMs: number) =>
    err(c, 'timeout', `${cmd(c)} got no answer within ${timeoutMs / 1000}s (api.requestTimeout) from ${at(c)}`, { retryable: true }),
  deadlineExceeded: (c: ErrorContext) => err(c, 'timeout', `collection deadline exceeded during ${cmd(c)} in ${at(c)}`),
  /** Names where the JSON broke and what the server said it sent, never the body's bytes (they may be a secret). */
  malformedJson: (c: ErrorContext, status: number, problem: string, contentType: string | undefined) =>
    err(c, 'bad_response', `${cmd(c)} answered with malformed JSON (${problem}; content-type ${contentType ? cleanText(contentType, c.secrets, 60) : 'not given'}) in ${at(c)}`, { status }),
  tooDeep: (c: ErrorContext, status: number, maxDepth: number) =>
    err(c, 'bad_response', `${cmd(c)} answered with JSON nested deeper than ${maxDepth} levels in ${at(c)}`, { status }),
  tooLarge: (c: ErrorContext, status: number, maxBytes: number) =>
    err(c, 'bad_response', `${cmd(c)} answer is larger than the ${maxBytes}-byte limit (api.maxResponseBytes) in ${at(c)}`, { status }),
  missingToken: (c: ErrorContext, status: number) => err(c, 'bad_response', `authentication answered without an X-Subject-Token header in ${at(c)}`, { status }),
  unexpectedShape: (c: ErrorContext, problem: string) => err(c, 'bad_response', `${cmd(c)} ${cleanText(problem, c.secrets)} in ${at(c)}`),
  network: (c: ErrorContext, message: string | undefined, code: string | undefined) =>
    err(c, 'network', `${cmd(c)} could not reach ${at(c)}: ${cleanText(message ?? 'network error', c.secrets)}${code ? ` (${cleanText(code, c.secrets, 40)})` : ''}`, { retryable: true }),
  workerHung: (c: ErrorContext) => err(c, 'timeout', `worker thread did not answer within the deadline; the thread was replaced (${at(c)})`),
  workerCrashed: (c: ErrorContext, detail: string) => err(c, 'internal', `worker thread failed while collecting: ${cleanText(detail, c.secrets)} (${at(c)})`),
  /** Not an API failure: the operator's `limits.maxSeries` cap. The account's LB series are dropped for the cycle. */
  tooManySeries: (c: ErrorContext, series: number, maxSeries: number) =>
    err(c, 'too_many_series', `the account's collection made ${series} LB series in all its zones, more than limits.maxSeries (${maxSeries}): its LB series are not exported this cycle (${at(c)})`),
  /** A bug of ours (an exception in parsing or rendering): never blamed on the network. */
  internal: (c: ErrorContext, e: unknown) => err(c, 'internal', `internal error during ${cmd(c)} in ${at(c)}: ${cleanText(e instanceof Error ? `${e.name}: ${e.message}` : String(e), c.secrets)}`),
};

function what(c: ErrorContext): string {
  return c.command === 'auth' ? 'authentication' : cmd(c);
}

/** The catalogue error for an HTTP answer that is not a success; `detail` is the error text of its body, if any. */
export function httpError(c: ErrorContext, status: number, retryAfterMs?: number, detail?: string): KtCloudError {
  // Keystone's 401 text is always the same boilerplate: the message stays short and stable. A 403 may say why.
  const why = status === 401 ? undefined : detail;
  if (status === 401 || status === 403) return c.command === 'auth' ? Errors.authFailed(c, status, why) : Errors.tokenRefused(c, status, why);
  if (status === 429 || status === 503) return Errors.rateLimited(c, status, retryAfterMs);
  if (status >= 500) return Errors.serverError(c, status, detail);
  return Errors.rejected(c, status, detail);
}

/**
 * Any thrown value as catalogue information, redacted once more with the context's secrets.
 * A value that is not a catalogue error is a bug of ours: `internal`, not `network`.
 */
export function toErrorInfo(e: unknown, c: ErrorContext): ErrorInfo {
  const info = e instanceof KtCloudError ? e.toInfo() : Errors.internal(c, e).toInfo();
  return { ...info, account: info.account ?? c.account, message: redact(info.message, c.secrets ?? []) };
}
