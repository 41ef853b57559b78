/**
 * Per-step learning-rate and EMA schedules (docs/reference.md §7).
 *
 * warmupCosineLr is the closed form of the paper's LinearWarmupCosineAnnealingLR (P
 * `src/utils/schedulers.py`, taken from solo-learn / Lightning Bolts) as it runs in P: stepped once per
 * optimiser step, with the optimiser step k using the value at k:
 *   k < W:  warmupStartLr + k·(baseLr − warmupStartLr)/(W − 1)        (reaches baseLr at k = W − 1)
 *   k ≥ W:  minLr + ½(baseLr − minLr)(1 + cos(π(k − W)/(T − W)))      (baseLr again at k = W)
 * P steps the chainable form of that scheduler; it equals this closed form up to float rounding.
 * Steps past T are clamped to T (the chainable form would climb back up). With W = 0 there is no
 * warm-up (P then passes warmupStartLr = lr, so the two agree).
 * Batch scaling: P scales lr and warmupStartLr by batch/256 (scaleLrByBatch); the minimum is not scaled.
 *
 * @example
 *   const lr = warmupCosineLr(
 *     step,
 *     45 * stepsPerEpoch,
 *     10 * stepsPerEpoch,
 *     scaleLrByBatch(0.3, 256),
 *     scaleLrByBatch(0.15, 256),
 *     1e-6,
 *   );
 *   const tau = emaTau(step, totalSteps, 0.996, 0.999);
 */
import type { GroupOptimizer } from './optimizer';

export function scaleLrByBatch(lr: number, batchSize: number): number {
  return (lr * batchSize) / 256;
}

export function warmupCosineLr(
  step: number,
  totalSteps: number,
  warmupSteps: number,
  baseLr: number,
  warmupStartLr: number,
  minLr: number,
): number {
  if (!(step >= 0)) throw new Error(`warmupCosineLr: step must be ≥ 0, got ${step}`);
  if (!(totalSteps > 0)) throw new Error(`warmupCosineLr: totalSteps must be > 0, got ${totalSteps}`);
  if (!(warmupSteps >= 0)) throw new Error(`warmupCosineLr: warmupSteps must be ≥ 0, got ${warmupSteps}`);
  const k = Math.min(step, totalSteps);
  if (k < warmupSteps) {
    if (warmupSteps <= 1) return warmupStartLr;
    return warmupStartLr + (k * (baseLr - warmupStartLr)) / (warmupSteps - 1);
  }
  if (totalSteps <= warmupSteps) return baseLr;
  return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos((Math.PI * (k - warmupSteps)) / (totalSteps - warmupSteps)));
}

export interface LrScheduleConfig {
  totalSteps: number;
  warmupSteps: number;
  /** Already batch-scaled. */
  warmupStartLr: number;
  minLr: number;
}

/**
 * Set every group's lr for optimiser step `step`. As in P, all groups share one warmupStartLr and each
 * warms to its own base lr; the probe group therefore starts at the method's warmupStartLr too.
 */
export function applyWarmupCosine(optimizer: GroupOptimizer, step: number, config: LrScheduleConfig): void {
  optimizer.setLearningRates((g) =>
    warmupCosineLr(step, config.totalSteps, config.warmupSteps, g.baseLr, config.warmupStartLr, config.minLr),
  );
}

/**
 * EMA coefficient τ at step k of K: τ_final − (τ_final − τ_base)·(cos(πk/K) + 1)/2 (P `MomentumUpdater`).
 */
export function emaTau(step: number, totalSteps: number, base = 0.996, final = 0.999): number {
  if (!(totalSteps > 0)) throw new Error(`emaTau: totalSteps must be > 0, got ${totalSteps}`);
  if (!(base >= 0 && base <= 1 && final >= 0 && final <= 1 && base <= final)) {
    throw new Error(`emaTau: need 0 ≤ base ≤ final ≤ 1, got base ${base}, final ${final}`);
  }
  return final - ((final - base) * (Math.cos((Math.PI * step) / totalSteps) + 1)) / 2;
}
