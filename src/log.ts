/**
 * Structured JSON logs (pino). Secrets are kept out twice: credentials are Secret objects that
 * print as [REDACTED], and any field that looks like a credential is redacted by path.
 */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'password',
  'cloudId',
  'token',
  'id',
  '*.password',
  '*.cloudId',
  '*.token',
  'headers["x-auth-token"]',
  'headers["x-subject-token"]',
  '*.headers["x-auth-token"]',
  '*.headers["x-subject-token"]',
];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function createLogger(opts: { level?: string; name?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: opts.name ? { name: opts.name } : {},
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof opts.destination === 'object' ? (opts.destination as pino.DestinationStream) : pino.destination({ dest: opts.destination ?? 1, sync: true }),
  );
}

export type { Logger };
