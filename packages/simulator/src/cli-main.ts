/**
 * The simulator CLI as a function, so tests can run it in-process; cli.ts is the thin
 * executable wrapper.
 *
 *   node dist/src/simulator/cli.js --config FILE [--listen HOST:PORT] [--latency-ms N] [--log-level debug]
 *
 * Prints one JSON line `{"url": ..., "zones": {...}}` on stdout once listening; logs go to
 * stderr (requests only at debug).
 */
import { parseArgs } from 'node:util';
import { loadSimulatorConfig } from './config.js';
import { startSimulator, type Simulator } from './server.js';
import type { SimulatorConfig } from './types.js';

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

const USAGE = 'usage: ktcloud-sim --config FILE [--listen HOST:PORT] [--latency-ms N] [--log-level info|debug]';

/** Starts the simulator from argv; throws with a usage message on bad arguments. */
export async function runCli(argv: string[], io: CliIo): Promise<Simulator> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string' },
      'latency-ms': { type: 'string' },
      'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const config: SimulatorConfig = values.config ? await loadSimulatorConfig(values.config) : {};
  if (values.listen) config.listen = values.listen;
  if (values['latency-ms'] !== undefined) {
    const n = Number(values['latency-ms']);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--latency-ms must be a number >= 0\n${USAGE}`);
    config.latencyMs = n;
  }
  const level = values['log-level'];
  if (level !== 'info' && level !== 'debug') throw new Error(`--log-level must be info or debug\n${USAGE}`);
  const debug = level === 'debug';
  const sim = await startSimulator(config, {
    onRequest: debug
      ? (e) => io.stderr(JSON.stringify({ level: 'debug', msg: 'request', ...e, durationMs: Math.round(e.durationMs * 100) / 100 }))
      : undefined,
  });
  io.stdout(JSON.stringify({ url: sim.url, zones: sim.zoneEndpoints() }));
  io.stderr(JSON.stringify({ level: 'info', msg: 'simulator listening', url: sim.url, accounts: sim.data.accounts.length }));
  return sim;
}
