/**
 * `npm run demo`: the bundled KT Cloud simulator and the exporter, each as its own process,
 * with five demo accounts over four zones (one of them failing on purpose). Ctrl-C stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const simConfig = `${root}accounts/demo/simulator.yaml`;
const exporterConfig = `${root}accounts/demo/exporter.yaml`;
const children: ChildProcess[] = [];

function start(name: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' } });
  children.push(child);
  child.stderr!.pipe(process.stderr);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (process.env.DEMO_QUIET !== '1') process.stdout.write(`[${name}] ${line}\n`);
      if (ready.test(line)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code} (is port 8480 or 9105 in use?)`)));
  });
}

function stopAll(code: number): never {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  process.exit(code);
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

try {
  await start('simulator', [fileURLToPath(import.meta.resolve('@ktcloud-lb-exporter/simulator/cli')), '--config', simConfig], /"url"/);
  const exporter = await start('exporter', [`${root}bin/ktcloud-lb-exporter`, '--config', exporterConfig, '--web.enable-lifecycle'], /"msg":"listening"/);
  process.stdout.write(`
KT Cloud LB exporter demo is running (Ctrl-C stops it):
  metrics          http://127.0.0.1:9105/metrics
  account health   http://127.0.0.1:9105/accounts
  simulator API    http://127.0.0.1:8480/_sim/accounts
  reload           curl -X POST http://127.0.0.1:9105/-/reload   (enabled for the demo: --web.enable-lifecycle)
Every account is collected right after start, then every 10 s; "legacy" fails on purpose (its password was rotated).

`);
  exporter.once('exit', (code) => stopAll(code ?? 1));
} catch (err) {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  stopAll(1);
}
