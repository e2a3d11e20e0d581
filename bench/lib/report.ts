/**
 * A Node.js diagnostic report (process.report) reduced to what says where a process is stuck:
 * each thread's JavaScript stack and the active libuv handles. Used when a benchmark cycle or a
 * test's exporter does not finish, so that a rare hang on a busy machine leaves evidence.
 */
export interface NodeReport {
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: ({ type: string; is_active?: boolean } & Record<string, unknown>)[];
  workers?: NodeReport[];
  header?: { threadId?: number };
}

export function describeReport(report: NodeReport): string {
  const stack = (r: NodeReport) => [r.javascriptStack?.message, ...(r.javascriptStack?.stack ?? [])].filter(Boolean).join('\n    ');
  const handles = (report.libuv ?? [])
    .filter((h) => h.is_active)
    .map(({ type, address: _a, is_active: _i, ...rest }) => `${type} ${JSON.stringify(rest)}`);
  return [
    `main thread: ${stack(report)}`,
    ...(report.workers ?? []).map((w) => `worker thread ${w.header?.threadId ?? '?'}: ${stack(w)}`),
    `active handles:\n    ${handles.join('\n    ') || 'none'}`,
  ].join('\n');
}
