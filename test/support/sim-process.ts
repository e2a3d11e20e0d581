/**
 * The simulator as its own process (the compiled CLI), for measurements that must not share an
 * event loop with the exporter under test: rate limits, benchmarks, end-to-end runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import type { Faults, SimulatorConfig } from '@ktcloud-lb-exporter/simulator';

const CLI = new URL('../../packages/simulator/dist/cli.js', import.meta.url).pathname;

/** Simulators still running; killed if the test process exits without closing them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export class SimProcess {
  private constructor(
    readonly url: string,
    private readonly zones: Record<string, string>,
    readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(config: SimulatorConfig): Promise<SimProcess> {
    const file = join(mkdtempSync(join(tmpdir(), 'ktcloud-sim-')), 'sim.yaml');
    writeFileSync(file, stringify({ listen: '127.0.0.1:0', ...config }));
    const child = spawn(process.execPath, [CLI, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${stderr}`)));
    });
    const { url, zones } = JSON.parse(line) as { url: string; zones: Record<string, string> };
    return new SimProcess(url, zones, child, dirname(file));
  }

  zoneEndpoints(): Record<string, string> {
    return this.zones;
  }

  zoneEndpoint(zone: string): string {
    return this.zones[zone]!;
  }

  async stats(query: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.url}/_sim/stats?${new URLSearchParams(query)}`);
    return (await res.json()) as Record<string, unknown>;
  }

  async resetStats(): Promise<void> {
    await this.post('reset-stats', {});
  }

  async setFaults(account: string, faults: Faults, zone?: string): Promise<void> {
    await this.post('faults', { account, zone, faults });
  }

  async setServerState(account: string, zone: string, lbId: number, ip: string, state: string): Promise<void> {
    await this.post('server-state', { account, zone, lbId, ip, state });
  }

  async data(): Promise<{ accounts: Array<{ id: string; zones: Record<string, { loadBalancers: Array<{ loadbalancerid: number; name: string; state: string; servers: Array<{ ipaddress: string; state: string }> }> }> }> }> {
    return (await (await fetch(`${this.url}/_sim/accounts`)).json()) as never;
  }

  private async post(path: string, body: unknown): Promise<void> {
    const res = await fetch(`${this.url}/_sim/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`/_sim/${path} answered ${res.status}: ${await res.text()}`);
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s; removes its temporary folder. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
