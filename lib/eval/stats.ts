/**
 * Aggregation over seeds and bootstrap inference for comparing runs.
 *
 * - `meanCi`: mean ± a Student-t confidence interval, mean ± t_{(1+level)/2, n−1}·s/√n with the unbiased s.
 *   The t-interval is used for every n (it tends to the normal interval as n grows, and with 3–10 seeds
 *   the normal one would be far too narrow); n = 1 gives the mean with a NaN interval.
 * - `bootstrap`: a seeded percentile bootstrap of any statistic of n items. Resample b draws n indices with
 *   `rng.int(0, n)` from one `Rng(seed)` stream, in order (as `bootstrapCi` in correlation.ts does), so a
 *   result replays anywhere; percentiles interpolate linearly (numpy's default). Resamples where the
 *   statistic is not finite are skipped and counted.
 * - `pairedBootstrapTest`: two methods over matched cells (e.g. the same seed and train proportion):
 *   differences d_i = a_i − b_i, estimate = mean d, percentile CI of the resampled means, and a two-sided
 *   p-value from the same resamples shifted to the null (mean 0): p = (1 + #{|m*_b − d̄| ≥ |d̄|}) / (B + 1).
 *   Identical inputs give d̄ = 0 and p = 1; the smallest p is 1/(B + 1).
 * - `summarizeOverSeeds` / `pairCells`: the table helpers the notebooks use around these.
 *
 * @example
 *   meanCi([0.61, 0.64, 0.58]);               // { mean: 0.61, low, high, halfWidth, std, n: 3, level: 0.95 }
 *   bootstrap(values.length, (idx) => median(idx.map((i) => values[i])), { resamples: 2000, seed: 42 });
 *   pairedBootstrapTest(simclrF1, byolF1);    // { meanDifference, low, high, pValue, ... }
 */
import { Rng } from '../data/rng';
import { quantile } from './correlation';

// ---------------------------------------------------------------------------------------- t quantiles

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) return h;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Student-t cumulative distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new Error(`studentTCdf: df must be positive, got ${df}`);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of the Student-t distribution (bisection on the CDF, to ~1e-13 relative). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`studentTQuantile: p = ${p} is outside (0, 1)`);
  if (!(df > 0)) throw new Error(`studentTQuantile: df must be positive, got ${df}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, df) < p) {
    low = high;
    high *= 2;
    if (high > 1e300) return Infinity;
  }
  for (let i = 0; i < 200 && high - low > 1e-14 * high; i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

// ---------------------------------------------------------------------------------------- mean ± CI

export interface MeanCi {
  mean: number;
  low: number;
  high: number;
  /** t·s/√n; NaN for n = 1. */
  halfWidth: number;
  /** Unbiased sample standard deviation; NaN for n = 1. */
  std: number;
  n: number;
  level: number;
}

function checkLevel(level: number, fn: string): void {
  if (!(level > 0 && level < 1)) throw new Error(`${fn}: level = ${level}; expected a number in (0, 1)`);
}

/** Mean with a Student-t interval over seeds (see the module doc). */
export function meanCi(values: ArrayLike<number>, level = 0.95): MeanCi {
  checkLevel(level, 'meanCi');
  const n = values.length;
  if (n === 0) throw new Error('meanCi: no values');
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(values[i])) throw new Error(`meanCi: values[${i}] = ${values[i]} is not a finite number`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  if (n === 1) return { mean, low: NaN, high: NaN, halfWidth: NaN, std: NaN, n, level };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const std = Math.sqrt(ss / (n - 1));
  const halfWidth = (studentTQuantile((1 + level) / 2, n - 1) * std) / Math.sqrt(n);
  return { mean, low: mean - halfWidth, high: mean + halfWidth, halfWidth, std, n, level };
}

/** "0.612 ± 0.034" (or "0.612" for a single value). */
export function formatMeanCi(ci: MeanCi, digits = 3): string {
  return Number.isFinite(ci.halfWidth)
    ? `${ci.mean.toFixed(digits)} ± ${ci.halfWidth.toFixed(digits)}`
    : ci.mean.toFixed(digits);
}

// ---------------------------------------------------------------------------------------- bootstrap

export interface BootstrapOptions {
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Seed of the resampling stream (default 42). */
  seed?: number;
  /** Central coverage of the interval (default 0.95). */
  level?: number;
}

export interface BootstrapResult {
  /** The statistic on the original sample (indices 0..n−1). */
  estimate: number;
  low: number;
  high: number;
  /** Standard deviation of the resampled statistics (the bootstrap standard error). */
  standardError: number;
  level: number;
  /** Resamples whose statistic was finite (the interval uses these). */
  resamples: number;
  skipped: number;
  n: number;
}

function readOptions(options: BootstrapOptions, fn: string): { resamples: number; seed: number; level: number } {
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new Error(`${fn}: resamples = ${resamples}; expected a positive integer`);
  checkLevel(level, fn);
  return { resamples, seed: options.seed ?? 42, level };
}

function summarise(estimate: number, stats: number[], level: number, resamples: number, n: number): BootstrapResult {
  stats.sort((x, y) => x - y);
  const alpha = (1 - level) / 2;
  let mean = 0;
  for (const s of stats) mean += s;
  mean /= stats.length;
  let ss = 0;
  for (const s of stats) ss += (s - mean) ** 2;
  return {
    estimate,
    low: stats.length ? quantile(stats, alpha) : NaN,
    high: stats.length ? quantile(stats, 1 - alpha) : NaN,
    standardError: stats.length > 1 ? Math.sqrt(ss / (stats.length - 1)) : NaN,
    level,
    resamples: stats.length,
    skipped: resamples - stats.length,
    n,
  };
}

/**
 * Percentile bootstrap of `statistic`, which receives the n indices of a resample (a reused buffer: read
 * it, do not keep it). The estimate is the statistic of indices 0..n−1.
 */
export function bootstrap(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: BootstrapOptions = {},
): BootstrapResult {
  if (!Number.isInteger(n) || n < 1) throw new Error(`bootstrap: n must be a positive integer, got ${n}`);
  const { resamples, seed, level } = readOptions(options, 'bootstrap');
  const indices = new Int32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  const estimate = statistic(indices);
  const rng = new Rng(seed);
  const stats: number[] = [];
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) indices[i] = rng.int(0, n);
    const value = statistic(indices);
    if (Number.isFinite(value)) stats.push(value);
  }
  return summarise(estimate, stats, level, resamples, n);
}

export interface PairedTest {
  /** mean(a − b) over the matched cells. */
  meanDifference: number;
  low: number;
  high: number;
  /** Two-sided bootstrap p-value of "mean difference = 0". */
  pValue: number;
  standardError: number;
  level: number;
  resamples: number;
  n: number;
}

/** Paired bootstrap comparison of two methods over matched cells (see the module doc). */
export function pairedBootstrapTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: BootstrapOptions = {},
): PairedTest {
  if (a.length !== b.length)
    throw new Error(`pairedBootstrapTest: a has ${a.length} cells but b has ${b.length}; the cells must be matched`);
  if (a.length === 0) throw new Error('pairedBootstrapTest: no cells');
  const n = a.length;
  const differences = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`pairedBootstrapTest: a[${i}] = ${a[i]} is not a finite number`);
    if (!Number.isFinite(b[i])) throw new Error(`pairedBootstrapTest: b[${i}] = ${b[i]} is not a finite number`);
    differences[i] = a[i] - b[i];
  }
  const { resamples, level } = readOptions(options, 'pairedBootstrapTest');
  const meanOf = (idx: Int32Array) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += differences[idx[i]];
    return s / idx.length;
  };
  const means: number[] = [];
  const result = bootstrap(
    n,
    (idx) => {
      const m = meanOf(idx);
      means.push(m);
      return m;
    },
    options,
  );
  means.shift(); // the first call is the estimate on the original cells
  const observed = result.estimate;
  let extreme = 0;
  for (const m of means) if (Math.abs(m - observed) >= Math.abs(observed)) extreme++;
  return {
    meanDifference: observed,
    low: result.low,
    high: result.high,
    pValue: (1 + extreme) / (1 + resamples),
    standardError: result.standardError,
    level,
    resamples,
    n,
  };
}

// ---------------------------------------------------------------------------------------- tables

export type Row = Record<string, unknown>;

export interface SeedSummary extends MeanCi {
  /** Rows of the group whose value was missing or not finite (left out of the mean). */
  missing: number;
}

function groupKey(row: Row, keys: readonly string[]): string {
  return JSON.stringify(keys.map((k) => row[k] ?? null));
}

/**
 * Group rows by `by` and summarise `value` over the rest (typically the seeds): one output row per group
 * with the group's key fields and a `MeanCi` plus `missing`. Groups keep their first-seen order.
 */
export function summarizeOverSeeds(
  rows: readonly Row[],
  options: { by: readonly string[]; value: string; level?: number },
): Array<Row & SeedSummary> {
  const groups = new Map<string, { first: Row; values: number[]; missing: number }>();
  for (const row of rows) {
    const key = groupKey(row, options.by);
    let group = groups.get(key);
    if (!group) {
      group = { first: row, values: [], missing: 0 };
      groups.set(key, group);
    }
    const v = row[options.value];
    if (typeof v === 'number' && Number.isFinite(v)) group.values.push(v);
    else group.missing++;
  }
  const out: Array<Row & SeedSummary> = [];
  for (const group of groups.values()) {
    const keyFields: Row = {};
    for (const k of options.by) keyFields[k] = group.first[k];
    const ci = group.values.length
      ? meanCi(group.values, options.level ?? 0.95)
      : { mean: NaN, low: NaN, high: NaN, halfWidth: NaN, std: NaN, n: 0, level: options.level ?? 0.95 };
    out.push({ ...keyFields, ...ci, missing: group.missing });
  }
  return out;
}

/**
 * Match two methods' rows on `keys` (e.g. ['seed', 'trainProportion']) and return their `value`s in the
 * same cell order, ready for `pairedBootstrapTest`. Cells present on one side only are listed in
 * `unmatched`; a cell appearing twice on one side is an error (the keys do not identify a cell).
 */
export function pairCells(
  rowsA: readonly Row[],
  rowsB: readonly Row[],
  keys: readonly string[],
  value: string,
): { a: number[]; b: number[]; cells: string[]; unmatched: string[] } {
  const index = (rows: readonly Row[], side: string) => {
    const map = new Map<string, number>();
    for (const row of rows) {
      const key = groupKey(row, keys);
      if (map.has(key))
        throw new Error(`pairCells: cell ${key} appears twice in ${side}; add keys that identify a cell`);
      const v = row[value];
      map.set(key, typeof v === 'number' ? v : NaN);
    }
    return map;
  };
  const mapA = index(rowsA, 'rowsA');
  const mapB = index(rowsB, 'rowsB');
  const a: number[] = [];
  const b: number[] = [];
  const cells: string[] = [];
  const unmatched: string[] = [];
  for (const [key, va] of mapA) {
    const vb = mapB.get(key);
    if (vb === undefined) unmatched.push(key);
    else {
      a.push(va);
      b.push(vb);
      cells.push(key);
    }
  }
  for (const key of mapB.keys()) if (!mapA.has(key)) unmatched.push(key);
  return { a, b, cells, unmatched };
}
