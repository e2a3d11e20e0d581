#!/usr/bin/env node
/** Executable wrapper around runCli: wires stdio and shuts down cleanly on SIGTERM/SIGINT. */
import { runCli } from './cli-main.js';

const io = {
  stdout: (line: string) => process.stdout.write(`${line}\n`),
  stderr: (line: string) => process.stderr.write(`${line}\n`),
};

try {
  const sim = await runCli(process.argv.slice(2), io);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    io.stderr(JSON.stringify({ level: 'info', msg: 'simulator stopping', signal }));
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  io.stderr((err as Error).message);
  process.exit(2);
}
