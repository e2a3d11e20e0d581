/** Small statistics helpers shared by the benchmark processes. */

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** Nearest-rank percentiles of a sample (copied, then sorted). Empty: NaN everywhere. */
export function summarize(values: ArrayLike<number>): LatencySummary {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  const rank = (p: number) => (n === 0 ? NaN : a[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))]!);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a[i]!;
  return { count: n, p50Ms: round(rank(50)), p99Ms: round(rank(99)), maxMs: round(n ? a[n - 1]! : NaN), meanMs: round(n ? sum / n : NaN) };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const a = [...values].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/** Rounds to `digits` decimals (keeps figures readable in JSON). */
export function round(v: number, digits = 3): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export const MB = 1024 * 1024;
