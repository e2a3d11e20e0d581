/**
 * The one catalogue of KT Cloud failures. Every error names account, zone and command, and
 * carries a reason from a fixed set (it becomes the `reason` label), never a credential.
 */
export const ERROR_REASONS = ['auth', 'rate_limited', 'timeout', 'bad_response', 'api_error', 'network'] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

/** What crosses the thread boundary and reaches metrics, logs and the /accounts page. */
export interface ErrorInfo {
  readonly reason: ErrorReason;
  /** A sentence a human understands, e.g. `authentication failed (HTTP 401) for DX-M1`. */
  readonly message: string;
  readonly zone: string;
  readonly command?: string;
  /** HTTP status, when a response arrived. */
  readonly status?: number;
  /** `errorcode` of an error inside an HTTP 200 answer. */
  readonly apiCode?: number;
}

export class KtCloudError extends Error {
  readonly reason: ErrorReason;
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
    this.zone = info.zone;
    this.command = info.command;
    this.status = info.status;
    this.apiCode = info.apiCode;
    this.retryable = info.retryable ?? false;
    this.retryAfterMs = info.retryAfterMs;
  }

  toInfo(): ErrorInfo {
    return { reason: this.reason, message: this.message, zone: this.zone, command: this.command, status: this.status, apiCode: this.apiCode };
  }
}

/** Builds the error for an HTTP answer that is not a success. */
export function httpError(zone: string, command: string, status: number, retryAfterMs?: number): KtCloudError {
  const what = command === 'auth' ? 'authentication' : command;
  if (status === 401 || status === 403) {
    return new KtCloudError({ reason: 'auth', zone, command, status, message: `${command === 'auth' ? 'authentication failed' : `${command} was refused: token not accepted`} (HTTP ${status}) for ${zone}` });
  }
  if (status === 429 || status === 503) {
    return new KtCloudError({ reason: 'rate_limited', zone, command, status, retryable: true, retryAfterMs, message: `${what} was rate limited (HTTP ${status}) by ${zone}` });
  }
  if (status >= 500) {
    return new KtCloudError({ reason: 'api_error', zone, command, status, retryable: true, message: `${what} failed with a server error (HTTP ${status}) in ${zone}` });
  }
  return new KtCloudError({ reason: 'api_error', zone, command, status, message: `${what} was rejected (HTTP ${status}) by ${zone}` });
}

/** Any thrown value as catalogue information; unknown errors count as `network`. */
export function toErrorInfo(err: unknown, zone: string, command?: string): ErrorInfo {
  if (err instanceof KtCloudError) return err.toInfo();
  const message = err instanceof Error ? err.message : String(err);
  return { reason: 'network', zone, command, message: `${command ?? 'request'} failed: ${message}` };
}
