/**
 * The web config in force, re-read when the file or a certificate it names changes (cert-manager
 * rotating a Secret, an edited users list), or on SIGHUP / reload. A new one is built off to the
 * side and swapped in; a broken one is logged and the running one keeps serving. New
 * certificates apply to new connections through server.setSecureContext(), without a restart.
 */
import type { Server } from 'node:http';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { ChangeWatcher } from '../watch.js';
import { BasicAuth } from './basic-auth.js';
import { loadWebConfig, webConfigFiles, WebConfigError, type TlsSettings, type WebConfig } from './web-config.js';
import { clientCertRejection, tlsServerOptions, type TlsServerOptions } from './web-config-tls.js';

export interface WebState {
  readonly headers: Readonly<Record<string, string>>;
  readonly auth: BasicAuth;
  readonly tls?: TlsSettings;
}

const NO_WEB_CONFIG: WebState = Object.freeze({ headers: {}, auth: new BasicAuth(new Map()) });

export class LiveWebConfig {
  private current: WebState = NO_WEB_CONFIG;
  /** Options to create the HTTPS server with; undefined: plain HTTP. */
  readonly initialTls: TlsServerOptions | undefined;
  private server: TlsServer | undefined;
  private watcher: ChangeWatcher | undefined;
  private files: string[] = [];

  /** Throws WebConfigError (file and key) when the file is unusable: a start-up error. */
  constructor(
    private readonly file: string | undefined,
    private readonly log: Logger,
    private readonly pollMs?: number,
  ) {
    if (!file) return;
    const { config, tls } = build(file);
    this.current = state(config);
    this.files = webConfigFiles(config);
    this.initialTls = tls;
  }

  get state(): WebState {
    return this.current;
  }

  /** Enforces the client-certificate policy on each TLS connection of this server. */
  attach(server: Server): void {
    if (!this.initialTls) return;
    this.server = server as unknown as TlsServer;
    {
      server.on('secureConnection', (socket: TLSSocket) => {
        const why = this.current.tls && clientCertRejection(this.current.tls, socket);
        if (why) {
          this.log.debug({ remote: socket.remoteAddress, why }, 'TLS connection refused');
          socket.destroy();
        }
      });
    }
  }

  /** Re-reads on changes of the file or of a certificate it names. */
  watch(): void {
    if (!this.file || this.watcher) return;
    this.watcher = new ChangeWatcher(this.files, [], () => this.reload('file change'), this.pollMs);
  }

  /** Re-reads the file and certificates; false (and the old config kept) when they are unusable. */
  reload(trigger: string): boolean {
    if (!this.file) return true;
    try {
      const { config, tls } = build(this.file);
      if (!!tls !== !!this.initialTls) throw new WebConfigError(this.file, 'turning TLS on or off takes effect only after a restart');
      if (tls && this.server) {
        this.server.setSecureContext(tls);
        // Read by Node for each new connection; setSecureContext() leaves them alone.
        Object.assign(this.server, { requestCert: tls.requestCert, rejectUnauthorized: tls.rejectUnauthorized });
      }
      this.current = state(config);
      this.files = webConfigFiles(config);
      this.watcher?.update(this.files, []);
      this.log.info({ trigger, tls: !!tls, users: config.users.size }, 'web config reloaded');
      return true;
    } catch (err) {
      this.log.error({ trigger }, `web config reload rejected, keeping the running one: ${(err as Error).message}`);
      return false;
    }
  }

  close(): void {
    this.watcher?.close();
  }
}

function build(file: string): { config: WebConfig; tls: TlsServerOptions | undefined } {
  const config = loadWebConfig(file);
  try {
    return { config, tls: config.tls && tlsServerOptions(config.tls) };
  } catch (err) {
    throw new WebConfigError(file, (err as Error).message);
  }
}

function state(c: WebConfig): WebState {
  return Object.freeze({ headers: c.headers, auth: new BasicAuth(c.users), tls: c.tls });
}
