/**
 * A real Prometheus for the end-to-end suite: generated config in a fresh temporary folder (data
 * dir included), a free loopback port, and a small client of its HTTP API.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ManagedProcess, removeTempDir, trackTempDir } from './processes.js';

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface Series {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export interface Alert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly value: string;
}

export interface RuleStatus {
  readonly name: string;
  readonly type: 'alerting' | 'recording';
  readonly health: string;
  readonly lastError?: string;
  readonly duration?: number;
  readonly query: string;
  readonly state?: string;
}

export interface Target {
  readonly labels: Record<string, string>;
  readonly scrapePool: string;
  readonly health: string;
  readonly lastError: string;
}

export interface StartOptions {
  readonly binary: string;
  readonly name?: string;
  /** The prometheus.yml content, given the address Prometheus will listen on (for a self-scrape job). */
  readonly config: (address: string) => Record<string, unknown>;
  /** Extra files written next to prometheus.yml (rule files), by file name. */
  readonly files?: Record<string, string>;
}

export class Prometheus {
  private constructor(
    readonly url: string,
    readonly dir: string,
    private readonly proc: ManagedProcess,
  ) {}

  /** Starts Prometheus and waits for /-/ready; retries on another port if the chosen one was taken meanwhile. */
  static async start(opts: StartOptions): Promise<Prometheus> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const dir = trackTempDir(mkdtempSync(join(tmpdir(), 'ktcloud-e2e-prom-')));
      const address = `127.0.0.1:${await freePort()}`;
      const configFile = join(dir, 'prometheus.yml');
      writeFileSync(configFile, stringify(opts.config(address)));
      for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), text);
      const proc = ManagedProcess.spawn(opts.name ?? 'prometheus', opts.binary, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=${address}`,
        '--log.level=warn',
      ], { cwd: dir });
      const prom = new Prometheus(`http://${address}`, dir, proc);
      try {
        await prom.waitReady(20_000);
        return prom;
      } catch (err) {
        lastError = err;
        await prom.close();
        if (!/address already in use/i.test(proc.output)) break;
      }
    }
    throw lastError;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!this.proc.running) throw new Error(`${this.proc.name} exited before it was ready:\n${this.proc.output}`);
      try {
        const res = await fetch(`${this.url}/-/ready`);
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > until) throw new Error(`${this.proc.name} not ready within ${timeoutMs} ms:\n${this.proc.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Prometheus's own log so far (warnings and errors), for failure messages. */
  get log(): string {
    return this.proc.output;
  }

  private async api<T>(path: string, params: Record<string, string | string[]> = {}): Promise<T> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
    const qs = q.toString();
    const res = await fetch(`${this.url}/api/v1/${path}${qs ? `?${qs}` : ''}`);
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`Prometheus /api/v1/${path}?${decodeURIComponent(qs)}: ${body.errorType}: ${body.error}`);
    return body.data;
  }

  /** An instant query; the result must be a vector (or a scalar, returned as one unlabelled series). */
  async query(expr: string): Promise<Series[]> {
    const data = await this.api<{ resultType: string; result: unknown }>('query', { query: expr });
    if (data.resultType === 'scalar') {
      const [, v] = data.result as [number, string];
      return [{ metric: {}, value: Number(v) }];
    }
    if (data.resultType !== 'vector') throw new Error(`${expr}: expected a vector, got ${data.resultType}`);
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** The one value of a query that must return exactly one series. */
  async value(expr: string): Promise<number> {
    const r = await this.query(expr);
    if (r.length !== 1) throw new Error(`${expr}: expected one series, got ${r.length}: ${JSON.stringify(r)}`);
    return r[0]!.value;
  }

  /** /api/v1/label/<label>/values?match[]=... (what Grafana's label_values() asks). */
  labelValues(label: string, match?: string): Promise<string[]> {
    return this.api<string[]>(`label/${encodeURIComponent(label)}/values`, match ? { 'match[]': match } : {});
  }

  async alerts(): Promise<Alert[]> {
    return (await this.api<{ alerts: Alert[] }>('alerts')).alerts;
  }

  async rules(): Promise<{ name: string; file: string; rules: RuleStatus[] }[]> {
    return (await this.api<{ groups: { name: string; file: string; rules: RuleStatus[] }[] }>('rules')).groups;
  }

  async targets(): Promise<Target[]> {
    return (await this.api<{ activeTargets: Target[] }>('targets', { state: 'active' })).activeTargets;
  }

  async close(): Promise<void> {
    await this.proc.stop(5000);
    removeTempDir(this.dir);
  }
}
