/**
 * What most tests need: the real simulator, a config pointing at it, and the real app
 * (HTTP server on 127.0.0.1, piscina pool, compiled workers) in this process.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { App, type AppOptions } from '../../src/app.js';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import type { ExporterConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import type { ShardSpec } from '../../src/shard.js';
import { startSimulator, type Simulator, type SimulatorConfig } from '@ktcloud-lb-exporter/simulator';

export interface TestAccount {
  readonly name: string;
  readonly zones: readonly string[];
  /** CLOUD_ID; the simulator account id. */
  readonly id: string;
  readonly password: string;
  /** More keys of the account's flow mapping, e.g. `limits: { maxSeries: 10 }`. */
  readonly yaml?: string;
}

/** What a config needs of a simulator, in this process or in its own. */
export interface SimEndpoints {
  zoneEndpoints(): Record<string, string>;
  close(): Promise<void>;
}

/** YAML for an exporter config whose zones point at the simulator. */
export function exporterYaml(sim: SimEndpoints, accounts: readonly TestAccount[], extra = '', extraZones: Record<string, string> = {}): string {
  const zones = Object.entries({ ...sim.zoneEndpoints(), ...extraZones })
    .map(([z, url]) => `  ${z}: { endpoint: "${url}" }`)
    .join('\n');
  const accs = accounts.map((a) => `  - { name: "${a.name}", zones: [${a.zones.join(', ')}], id: "${a.id}", password: "${a.password}"${a.yaml ? `, ${a.yaml}` : ''} }`).join('\n');
  return `listen: 127.0.0.1:0\n${extra}\nzones:\n${zones}\n${accs ? `accounts:\n${accs}\n` : ''}`;
}

/** Captures every log line the app writes, for secret-leak checks and assertions. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(...chunk.toString().split('\n').filter(Boolean));
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface Running<S extends SimEndpoints = Simulator> {
  readonly sim: S;
  readonly app: App;
  readonly url: string;
  readonly logs: LogCapture;
  readonly config: ExporterConfig;
  /** The config file the app was started with. */
  readonly configFile: string;
  close(): Promise<void>;
}

export async function startStack<S extends SimEndpoints = Simulator>(opts: {
  /** A simulator config (started in this process), or a simulator already running. */
  sim: SimulatorConfig | { external: S };
  accounts: readonly TestAccount[];
  /** Extra top-level YAML (interval, timeout, limits...). */
  yaml?: string;
  shard?: ShardSpec;
  logLevel?: string;
  app?: Partial<AppOptions>;
  /** Start the schedule (listen() does); default true. */
  schedule?: boolean;
  /** Reloads re-read the config file (default: reloads return the same config). */
  reloadFromFile?: boolean;
  /** Write the config here instead of a fresh temporary folder. */
  configFile?: string;
  /** Zones besides the simulator's: name → endpoint. */
  extraZones?: Record<string, string>;
}): Promise<Running<S>> {
  const sim = ('external' in opts.sim ? opts.sim.external : await startSimulator({ listen: '127.0.0.1:0', ...opts.sim })) as S;
  const text = exporterYaml(sim, opts.accounts, opts.yaml ?? 'interval: 30s\ntimeout: 10s', opts.extraZones);
  const file = opts.configFile ?? join(mkdtempSync(join(tmpdir(), 'ktcloud-test-')), 'accounts.yaml');
  writeFileSync(file, text);
  const config = await parseConfig(text, file);
  const loadConfig = opts.reloadFromFile ? () => loadConfigFile(file) : () => config;
  const logs = new LogCapture();
  const level = opts.logLevel ?? 'info';
  const app = new App({ config, loadConfig, log: createLogger({ level, destination: logs }), logLevel: level, shard: opts.shard, watch: false, ...opts.app });
  let url: string;
  if (opts.schedule === false) {
    await app.http.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.http.server.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}`;
  } else url = await app.listen();
  return {
    sim,
    app,
    url,
    logs,
    config,
    configFile: file,
    async close() {
      await app.close(5000);
      await sim.close();
    },
  };
}

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A small parser of the text format for assertions (the e2e suite uses a real Prometheus). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // `s`: a label value may hold any character but the three escaped ones, \r and U+2028 included.
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/s.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/gs;
    for (let l; (l = re.exec(m[2] ?? '')); ) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseExposition(await res.text());
}

export function only(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** Polls until `check` returns a value that is not undefined, or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
