/**
 * Runs the exporter's command line (bin/ktcloud-lb-exporter) to completion without blocking this
 * process's event loop (a simulator in this process must keep answering), and never waits
 * forever: past `deadlineMs` the child is asked for a Node.js diagnostic report (its JavaScript
 * stack, its worker threads' stacks and its open handles) and killed, and the call rejects with
 * that report and the child's stderr, so a hang found in CI says where it hung.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeReport, type NodeReport } from '../../bench/lib/report.js';

const BIN = new URL('../../bin/ktcloud-lb-exporter', import.meta.url).pathname;
/**
 * Node's report options: allowed in NODE_OPTIONS, and they survive the launcher's re-exec (same
 * environment). To a file: a report of ~100 KB written to a pipe is cut short.
 */
const reportOptions = (dir: string) => `--report-on-signal --report-signal=SIGUSR2 --report-compact --report-directory=${dir} --report-filename=report.json`;

export interface ExporterRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runExporter(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; deadlineMs?: number } = {}): Promise<ExporterRun> {
  const deadlineMs = opts.deadlineMs ?? 20_000;
  const env = { ...(opts.env ?? process.env) };
  const reportDir = mkdtempSync(join(tmpdir(), 'ktcloud-report-'));
  env.NODE_OPTIONS = [env.NODE_OPTIONS, reportOptions(reportDir)].filter(Boolean).join(' ');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  let hung = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // Node says so once the report is written; a process that cannot write one is killed below.
    if (hung && stderr.includes('Node.js report completed')) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGUSR2');
      kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, deadlineMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      clearTimeout(kill);
      let report: string | undefined;
      try {
        report = readFileSync(join(reportDir, 'report.json'), 'utf8');
      } catch {
        // no report: the child never hung, or could not be interrupted
      }
      rmSync(reportDir, { recursive: true, force: true });
      if (!hung) return resolve({ status, signal, stdout, stderr });
      // Whether it had written its output tells a hang while working from one on the way out.
      const out = stdout ? `${stdout.length} bytes on stdout, ending ${JSON.stringify(stdout.slice(-120))}` : 'nothing on stdout';
      reject(new Error(`ktcloud-lb-exporter ${args.join(' ')} did not exit within ${deadlineMs} ms (${out}).\n${describeHang(report, stderr)}`));
    });
  });
}

/** The diagnostic report reduced to the threads' stacks and the active handles, then the child's stderr. */
export function describeHang(reportJson: string | undefined, stderr: string): string {
  if (!reportJson) return `no diagnostic report; stderr:\n${stderr}`;
  return `${describeReport(JSON.parse(reportJson) as NodeReport)}\nstderr:\n${stderr}`;
}
