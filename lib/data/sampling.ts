/**
 * The paper's data selection (docs/reference.md §2): a stratified 50 % sample of the training split (strata = the
 * joint 17-code combination, singleton strata dropped first) and resampling of any split to a target defect
 * proportion p with n_def = min(n_norm·p/(1−p), n_def_available), n_norm = n_def·(1−p)/p.
 * Everything is deterministic for a seed and returns records sorted by their split index.
 *
 * @example
 *   import { stratifiedHalf, resampleToProportion } from './sampling';
 *   const half = stratifiedHalf(train.records, { seed: 42 });
 *   const { records, report } = resampleToProportion(half.records, 0.05, { seed: 42 });
 *   report;   // { requested: 0.05, proportion: 0.05, nNormal: 1900, nDefect: 100, availableNormal, availableDefect }
 */
import { Rng, mixSeed } from './rng';
import type { SewerRecord } from './types';

/** The defect proportions the study uses. */
export const STUDY_PROPORTIONS = [0.01, 0.02, 0.05, 0.15, 0.45] as const;

export interface SampleReport {
  /** Proportion asked for (undefined for the stratified half). */
  requested?: number;
  /** Proportion of defects in the returned records. */
  proportion: number;
  nNormal: number;
  nDefect: number;
  availableNormal: number;
  availableDefect: number;
}

export interface SampleResult {
  records: SewerRecord[];
  report: SampleReport;
}

function countDefects(records: SewerRecord[]): number {
  let n = 0;
  for (const r of records) n += r.defect;
  return n;
}

function reportFor(records: SewerRecord[], source: SewerRecord[], requested?: number): SampleReport {
  const nDefect = countDefects(records);
  const availableDefect = countDefects(source);
  const report: SampleReport = {
    proportion: records.length > 0 ? nDefect / records.length : 0,
    nNormal: records.length - nDefect,
    nDefect,
    availableNormal: source.length - availableDefect,
    availableDefect,
  };
  if (requested !== undefined) report.requested = requested;
  return report;
}

/** Key of the joint 17-code combination. */
export function strataKey(record: SewerRecord): string {
  return Array.from(record.codes).join('');
}

/**
 * Stratified sample of `fraction` (default 0.5) of the records, as P does it with scikit-learn: strata with a
 * single record are dropped first; each stratum contributes floor(fraction·size) records and the remaining
 * slots up to round(fraction·N) go to randomly chosen strata with the largest remainders.
 */
export function stratifiedHalf(
  records: SewerRecord[],
  options: { seed?: number; fraction?: number } = {},
): SampleResult {
  const fraction = options.fraction ?? 0.5;
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`stratifiedHalf: fraction must be in (0, 1], got ${fraction}`);
  const rng = new Rng(mixSeed(options.seed ?? 42, 'stratified'));
  const strata = new Map<string, SewerRecord[]>();
  for (const record of records) {
    const key = strataKey(record);
    const list = strata.get(key);
    if (list) list.push(record);
    else strata.set(key, [record]);
  }
  const kept = [...strata.entries()]
    .filter(([, list]) => list.length > 1)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const total = kept.reduce((sum, [, list]) => sum + list.length, 0);
  const target = Math.round(total * fraction);
  const take = kept.map(([, list]) => Math.floor(list.length * fraction));
  let missing = target - take.reduce((a, b) => a + b, 0);
  // hand the leftover slots to strata by largest remainder, ties broken at random
  const order = kept
    .map(([, list], i) => ({ i, remainder: list.length * fraction - take[i], tie: rng.next() }))
    .sort((a, b) => b.remainder - a.remainder || a.tie - b.tie);
  for (const { i } of order) {
    if (missing <= 0) break;
    if (take[i] < kept[i][1].length) {
      take[i]++;
      missing--;
    }
  }
  const chosen: SewerRecord[] = [];
  kept.forEach(([, list], i) => {
    const shuffled = rng.shuffle(list.slice());
    chosen.push(...shuffled.slice(0, take[i]));
  });
  chosen.sort((a, b) => a.index - b.index);
  return { records: chosen, report: reportFor(chosen, records) };
}

/**
 * Resample to a defect proportion p (0 < p < 1) with the paper's formula, drawing without replacement.
 * Throws, saying why, when p cannot be reached (p outside (0, 1), no defects, or too few normals for even one
 * defect).
 */
export function resampleToProportion(
  records: SewerRecord[],
  proportion: number,
  options: { seed?: number } = {},
): SampleResult {
  const p = proportion;
  if (!(p > 0 && p < 1)) throw new Error(`resampleToProportion: proportion must be strictly between 0 and 1, got ${p}`);
  const defects = records.filter((r) => r.defect === 1);
  const normals = records.filter((r) => r.defect === 0);
  if (defects.length === 0)
    throw new Error(
      `resampleToProportion: cannot reach proportion ${p}: the ${records.length} records contain no defect`,
    );
  if (normals.length === 0)
    throw new Error(
      `resampleToProportion: cannot reach proportion ${p}: the ${records.length} records contain no normal image`,
    );
  // the small epsilon keeps exact products such as 1900·0.05/0.95 = 100 from flooring to 99
  const nDefect = Math.floor(Math.min((normals.length * p) / (1 - p), defects.length) + 1e-9);
  if (nDefect < 1) {
    throw new Error(
      `resampleToProportion: cannot reach proportion ${p}: ${normals.length} normal images allow ` +
        `${((normals.length * p) / (1 - p)).toFixed(3)} defects, fewer than one`,
    );
  }
  const nNormal = Math.floor((nDefect * (1 - p)) / p + 1e-9);
  if (nNormal < 1) {
    throw new Error(
      `resampleToProportion: cannot reach proportion ${p}: ${nDefect} defects leave no room for a normal image`,
    );
  }
  const rng = new Rng(mixSeed(options.seed ?? 42, 'resample', Math.round(p * 1e6)));
  const chosen = [...rng.shuffle(defects.slice()).slice(0, nDefect), ...rng.shuffle(normals.slice()).slice(0, nNormal)];
  chosen.sort((a, b) => a.index - b.index);
  return { records: chosen, report: reportFor(chosen, records, p) };
}
