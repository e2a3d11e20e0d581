/**
 * `promtool check metrics`, split into what matters and what we accept. promtool exits 1 for
 * both format errors and naming lint; the lint it reports on names the original exporter chose
 * (dashboards depend on them) and on prom-client's nodejs_* defaults is expected, anything
 * else is a finding.
 */
import { spawnSync } from 'node:child_process';
import { ORIGINAL_METRIC_NAMES } from '../../src/metrics/families.js';

const ACCEPTED_LINT = new Set<string>(ORIGINAL_METRIC_NAMES);

export interface PromtoolReport {
  /** Lines that are not accepted lint: format errors or lint on our own new names. */
  readonly problems: string[];
  readonly acceptedLint: string[];
}

export function checkMetrics(promtool: string, body: string | Buffer): PromtoolReport {
  const r = spawnSync(promtool, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  if (r.error) throw r.error;
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const problems: string[] = [];
  const acceptedLint: string[] = [];
  for (const line of lines) {
    const name = line.split(' ')[0]!;
    if (!/error|pars/i.test(line) && (ACCEPTED_LINT.has(name) || name.startsWith('nodejs_'))) acceptedLint.push(line);
    else problems.push(line);
  }
  if (r.status !== 0 && problems.length === 0 && acceptedLint.length === 0) problems.push(`promtool exited ${r.status} without output`);
  return { problems, acceptedLint };
}
