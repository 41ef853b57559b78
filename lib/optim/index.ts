/**
 * Optimisers (LARS, AdamW, SGD) over named parameter groups, lr / EMA schedules, EMA update, clipping.
 *
 * The online probe is a param group of the main optimiser with `probeGroupOverrides` (the paper's code
 * does this; see ./optimizer for the details).
 *
 * @example
 *   const lars: CreateOptimizerOptions = { kind: 'lars', lr: scaleLrByBatch(0.3, 256), weightDecay: 1e-6 };
 *   const opt = createOptimizer({ ...lars, excludeBiasAndNorm: true }, [
 *     { name: 'backbone', params: backbone.namedParameters('backbone.') },
 *     { name: 'projector', params: projector.namedParameters('projector.') },
 *     { name: 'classifier', params: probe.namedParameters('classifier.'), ...probeGroupOverrides(256) },
 *   ]);
 *   applyWarmupCosine(opt, step, { totalSteps, warmupSteps, warmupStartLr: scaleLrByBatch(0.15, 256), minLr: 1e-6 });
 *   opt.step(grads);
 */
import { AdamW } from './adamw';
import { Lars } from './lars';
import { GroupOptimizer, type OptimizerOptions, type ParamGroupInput } from './optimizer';
import { Sgd } from './sgd';

export { AdamW, Lars, Sgd, GroupOptimizer };
export type { GradMap, OptimizerOptions, OptimizerState, ParamGroup, ParamGroupInput } from './optimizer';
export { warmupCosineLr, applyWarmupCosine, scaleLrByBatch, emaTau } from './schedules';
export type { LrScheduleConfig } from './schedules';
export { emaUpdate, copyParams } from './ema';
export { clipGradNormPerParam } from './clip';

export type OptimizerKind = 'lars' | 'adamw' | 'sgd';

/**
 * What `createOptimizer` builds: the optimiser's kind and its update options. Not the run config's optimiser
 * section (`OptimizerConfig` of the run config: lr at batch 256, warm-up, clipping), which the trainer turns into
 * one of these.
 */
export interface CreateOptimizerOptions extends OptimizerOptions {
  kind: OptimizerKind;
}

export function createOptimizer(config: CreateOptimizerOptions, groups: ParamGroupInput[]): GroupOptimizer {
  const { kind, ...options } = config;
  switch (kind) {
    case 'lars':
      return new Lars(groups, options);
    case 'adamw':
      return new AdamW(groups, options);
    case 'sgd':
      return new Sgd(groups, options);
    default:
      throw new Error(`createOptimizer: kind must be one of lars, adamw, sgd; got '${String(kind)}'`);
  }
}

/**
 * Overrides for the online linear probe's group: lr = probeLr·batch/256, weight decay 0, momentum 0.9, and plain
 * momentum SGD whatever the method's optimiser (`adaptive: false`), as the paper describes the probe. Two
 * departures from P's code, both measured at the default scale: inside LARS the trust ratio (η = 0.001) let the
 * probe move by only ~lr·η of its norm per step (every SSL probe stayed at chance), and in AdamW P turns the
 * second moment off (betas (0.9, 0)), whose step m/|g| blew up when a coordinate's gradient shrank (DINO's probe
 * loss climbed to 17).
 */
export function probeGroupOverrides(
  batchSize: number,
  probeLr = 1e-3,
  momentum = 0.9,
): Pick<ParamGroupInput, 'lr' | 'weightDecay' | 'momentum' | 'adaptive'> {
  return { lr: (probeLr * batchSize) / 256, weightDecay: 0, momentum, adaptive: false };
}
