/**
 * The one interface every method meets, so the trainer never branches on a method's name.
 *
 * A method owns its networks (backbone, heads, teacher copies). The trainer adds the online linear probe,
 * the optimiser and the schedules around it.
 *
 * @example
 *   const method = createMethod(config, context);
 *   const { value, grads } = tf.variableGrads(() => method.loss(views, labels, state).loss, vars);
 *   method.afterStep(state);
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../models/backbone';
import type { Module, NamedParam } from '../nn/module';
import type { RunConfig } from '../runs/config';

export interface StepState {
  /** Global optimiser step (0-based). */
  step: number;
  epoch: number;
  totalSteps: number;
  stepsPerEpoch: number;
}

export interface MethodContext {
  config: RunConfig;
  /** n_neg / n_pos of the training subset (BCE pos_weight). */
  posWeight: number;
  seed: number;
}

export interface LossOutput {
  /** The method's own loss (SSL loss, or the supervised BCE). */
  loss: tf.Scalar;
  /** Backbone features of each view (the probe reads them detached; RankMe and monitors read them). */
  features: tf.Tensor2D[];
  /** Projector outputs of each view, for the feature/embedding monitors (absent for MAE and supervised). */
  embeddings: tf.Tensor2D[];
  /** Named loss terms to log (each a scalar; `loss` itself is logged by the trainer). */
  terms: Record<string, tf.Scalar>;
}

export interface Method {
  readonly name: string;
  /** 2 for the SSL methods (two augmented views), 1 for the supervised baseline. */
  readonly numViews: 1 | 2;
  readonly backbone: Backbone;
  /** Parameters the optimiser updates (the student side), PyTorch-named with module prefixes. */
  trainable(): NamedParam[];
  /** Everything a checkpoint must hold: trainable parameters, teachers, buffers, centres. */
  state(): NamedParam[];
  /** Compute the loss; runs inside tf.variableGrads. `views` are normalised NHWC batches. */
  loss(views: tf.Tensor4D[], labels: tf.Tensor1D, state: StepState): LossOutput;
  /** Names (as in trainable()) whose gradients are dropped at this step, e.g. DINO's prototypes in epoch 0. */
  frozen(state: StepState): Set<string>;
  /** Per-parameter gradient clipping norm, or null. */
  readonly clipGrad: number | null;
  /** After the optimiser step: EMA teachers, centres. */
  afterStep(state: StepState): void;
  /** Logits of a classifier the method trains itself (the supervised baseline); SSL methods use the probe. */
  classify?(features: tf.Tensor2D): tf.Tensor1D;
  /** Projector embeddings of backbone features, for the label-free monitors (absent for MAE and supervised). */
  embed?(features: tf.Tensor2D): tf.Tensor2D;
  /** That classifier's module (saved with the backbone for later evaluation). */
  readonly classifier?: Module;
  /** Modules that must switch between train and eval mode together. */
  setTraining(training: boolean): void;
  dispose(): void;
}

/** Prefix every name of a parameter list, as PyTorch does for sub-modules. */
export function prefixed(prefix: string, params: NamedParam[]): NamedParam[] {
  return params.map((p) => ({ name: `${prefix}.${p.name}`, variable: p.variable }));
}
