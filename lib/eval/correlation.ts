/**
 * Correlation coefficients and percentile-bootstrap confidence intervals, for questions such as the
 * paper's "does RankMe predict downstream F1?" (appendix D.4) answered with numbers rather than by eye.
 *
 * - `pearson`: the linear correlation coefficient.
 * - `spearman`: Pearson on average ranks (ties share the mean of the ranks they span).
 * - `kendallTauB`: Kendall's tau-b, which corrects for ties in either variable.
 * - `bootstrapCi`: resample the (x, y) pairs with replacement from a seeded `Rng`, so the same seed gives
 *   the same interval on every machine; degenerate resamples (a constant column) are skipped and counted.
 *
 * @example
 *   import { pearson, spearman, bootstrapCi } from './correlation';
 *   spearman([1, 2, 3, 4], [10, 20, 15, 40]); // 0.8
 *   const ci = bootstrapCi(rankme, valF1, spearman, { resamples: 2000, confidence: 0.95, seed: 42 });
 *   `${ci.estimate.toFixed(2)} [${ci.low.toFixed(2)}, ${ci.high.toFixed(2)}]`;
 */
import { Rng } from '../data/rng';

export type CorrelationFn = (x: ArrayLike<number>, y: ArrayLike<number>) => number;

function checkPairs(x: ArrayLike<number>, y: ArrayLike<number>, what: string): void {
  if (x.length !== y.length) throw new Error(`${what}: x has ${x.length} values but y has ${y.length}`);
  if (x.length < 2) throw new Error(`${what}: needs at least 2 pairs, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${what}: x[${i}] = ${x[i]} is not a finite number`);
    if (!Number.isFinite(y[i])) throw new Error(`${what}: y[${i}] = ${y[i]} is not a finite number`);
  }
}

/** Pearson's r; NaN when either variable is constant (the coefficient is undefined there). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPairs(x, y, 'pearson');
  const n = x.length;
  let meanX = 0;
  let meanY = 0;
  for (let i = 0; i < n; i++) {
    meanX += x[i];
    meanY += y[i];
  }
  meanX /= n;
  meanY /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - meanX;
    const dy = y[i] - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Rounding can push |r| a hair past 1 for perfectly collinear data.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks; tied values get the average of the ranks they occupy. */
export function averageRanks(values: ArrayLike<number>): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]] = rank;
    start = end + 1;
  }
  return ranks;
}

/** Spearman's rho: Pearson's r of the average ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPairs(x, y, 'spearman');
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Kendall's tau-b = (concordant − discordant) / sqrt((n0 − n1)(n0 − n2)), with n0 = n(n−1)/2 and n1, n2
 * the pairs tied in x and in y. O(n²), which is fine for the few hundred runs of a study.
 */
export function kendallTauB(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPairs(x, y, 'kendallTauB');
  const n = x.length;
  let concordant = 0;
  let discordant = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0) tiedX++;
      if (dy === 0) tiedY++;
      if (dx !== 0 && dy !== 0) {
        if (dx === dy) concordant++;
        else discordant++;
      }
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((pairs - tiedX) * (pairs - tiedY));
  return denominator === 0 ? NaN : (concordant - discordant) / denominator;
}

/** Quantile with linear interpolation between order statistics (numpy's default method). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error('quantile: empty sample');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q = ${q} is outside [0, 1]`);
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

export interface BootstrapOptions {
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Central coverage of the interval (default 0.95). */
  confidence?: number;
  /** Seed of the resampling stream (default 42). */
  seed?: number;
}

export interface BootstrapInterval {
  /** The statistic on the original pairs. */
  estimate: number;
  low: number;
  high: number;
  confidence: number;
  /** Resamples whose statistic was defined (the interval is computed from these). */
  resamples: number;
  /** Resamples skipped because the statistic was undefined (NaN), e.g. a resample of identical points. */
  skipped: number;
  n: number;
}

/**
 * Percentile bootstrap of `statistic` over (x, y) pairs. Resample b draws n indices with
 * `rng.int(0, n)` from one `Rng(seed)` stream, in order, so the interval can be replayed elsewhere.
 */
export function bootstrapCi(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  statistic: CorrelationFn,
  options: BootstrapOptions = {},
): BootstrapInterval {
  checkPairs(x, y, 'bootstrapCi');
  const resamples = options.resamples ?? 2000;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new Error(`bootstrapCi: resamples = ${resamples}; expected a positive integer`);
  if (!(confidence > 0 && confidence < 1))
    throw new Error(`bootstrapCi: confidence = ${confidence}; expected a number in (0, 1)`);
  const n = x.length;
  const rng = new Rng(options.seed ?? 42);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  const values: number[] = [];
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) {
      const k = rng.int(0, n);
      xs[i] = x[k];
      ys[i] = y[k];
    }
    const value = statistic(xs, ys);
    if (Number.isFinite(value)) values.push(value);
  }
  values.sort((a, b) => a - b);
  const alpha = (1 - confidence) / 2;
  return {
    estimate: statistic(x, y),
    low: values.length ? quantile(values, alpha) : NaN,
    high: values.length ? quantile(values, 1 - alpha) : NaN,
    confidence,
    resamples: values.length,
    skipped: resamples - values.length,
    n,
  };
}
