/**
 * Expected start-up failures, each one line for the operator: what could not be done and why.
 * main.ts prints the message alone (no stack: nothing in it helps) and exits 1.
 */
import { WebConfigError } from './http/web-config.js';

export class StartupError extends Error {}

const CAUSES: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'address not available on this host',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EAFNOSUPPORT: 'address family not supported',
};

export function listenError(host: string, port: number, err: unknown): StartupError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new StartupError(`cannot listen on ${where}: ${CAUSES[code] ?? (err as Error).message}`);
}

/** The one-line message of an expected start-up failure, or undefined for a bug. */
export function startupMessage(err: unknown): string | undefined {
  if (err instanceof StartupError || err instanceof WebConfigError) return err.message;
  return undefined;
}
