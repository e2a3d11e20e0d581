/**
 * `limits.maxSeries`: one account may not flood /metrics. The cap is on the account (all its
 * zones together), so it is checked once every zone has been rendered; over it, each zone that
 * succeeded becomes a `too_many_series` failure and its snapshot is not sent. Only this account
 * is affected: its LB series go (store.ts drops the previous snapshot too), its health stays.
 */
import { Errors } from '../ktcloud/errors.js';
import type { CollectTask, ZoneOutcome } from '../protocol.js';

export function capSeries(task: CollectTask, zones: readonly ZoneOutcome[]): ZoneOutcome[] {
  const max = task.maxSeries ?? 0;
  let series = 0;
  for (const z of zones) if (z.ok) series += z.snapshot.series;
  if (max <= 0 || series <= max) return [...zones];
  return zones.map((z) => {
    if (!z.ok) return z;
    const { zone, startedAtMs, durationMs, requests, token } = z;
    // The token stays: the API answered; only what we would export is refused.
    return { zone, startedAtMs, durationMs, requests, token, ok: false, error: Errors.tooManySeries({ account: task.account, zone }, series, max).toInfo() };
  });
}
