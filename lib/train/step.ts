/**
 * One optimiser step, in two halves the step loop calls in turn: the loss (the method's plus the online probe's,
 * on detached features) and its gradients, read back as numbers to log; then the gradients applied (the method's
 * frozen parameters dropped, per-parameter clipping, the optimiser step, the method's own updates).
 *
 * @example
 *   const stepper = new Stepper(method, probe, optimizer, { posWeight: 3 });
 *   const { terms, grads, features, embeddings } = stepper.lossAndGradients(batch, state);
 *   stepper.apply(grads, state);
 */
import * as tf from '@tensorflow/tfjs';
import { disposeBatch, type Batch } from '../data/loader';
import { stopGradient, weightedBce } from '../losses';
import { clipGradNormPerParam, type GradMap, type GroupOptimizer } from '../optim';
import type { Method, StepState } from '../methods';
import type { LinearProbe } from '../models/heads';
import { injectNan, type FaultOptions } from './faults';

export interface StepLosses {
  /** `loss` (the total that was differentiated) and every named term, read back. */
  terms: Record<string, number>;
  grads: GradMap;
  /** Backbone features and projector embeddings of each view, kept for the monitors (the caller disposes them). */
  features: tf.Tensor2D[];
  embeddings: tf.Tensor2D[];
}

export class Stepper {
  private readonly variables: tf.Variable[];
  private readonly trainableByName: Map<string, tf.Variable>;
  private readonly backboneVariables: Set<string>;

  constructor(
    private readonly method: Method,
    private readonly probe: LinearProbe | null,
    private readonly optimizer: GroupOptimizer,
    private readonly options: { posWeight: number; faults?: FaultOptions },
  ) {
    this.backboneVariables = new Set(method.backbone.parameters().map((v) => v.name));
    this.variables = optimizer.variables();
    this.trainableByName = new Map(method.trainable().map((p) => [p.name, p.variable]));
  }

  /** Loss and gradients of one batch; disposes the batch. */
  lossAndGradients(batch: Batch, state: StepState): StepLosses {
    const kept: Record<string, tf.Tensor> = {};
    let features: tf.Tensor2D[] = [];
    let embeddings: tf.Tensor2D[] = [];
    let result: { value: tf.Scalar; grads: GradMap };
    try {
      result = tf.variableGrads(() => {
        const out = this.method.loss(batch.views, batch.labels, state);
        let total = injectNan(out.loss, state.step, this.options.faults ?? {});
        for (const [name, term] of Object.entries(out.terms)) kept[name] = tf.keep(term);
        if (this.probe) {
          const probeLoss = this.probeLoss(out.features, batch.labels);
          kept.probe_loss = tf.keep(probeLoss);
          total = tf.add(total, probeLoss) as tf.Scalar;
        }
        features = out.features.map((f) => tf.keep(f));
        embeddings = out.embeddings.map((e) => tf.keep(e));
        return total;
      }, this.variables);
    } finally {
      disposeBatch(batch);
    }
    const terms: Record<string, number> = { loss: readScalar(result.value) };
    for (const [name, t] of Object.entries(kept)) terms[name] = readScalar(t);
    tf.dispose([result.value, ...Object.values(kept)]);
    return { terms, grads: result.grads, features, embeddings };
  }

  /**
   * The online probe's weighted BCE on each view's detached features, averaged over the views; a Gauss–Newton
   * probe also folds this batch into its curvature here, before `apply` preconditions its step with it.
   */
  private probeLoss(features: tf.Tensor2D[], labels: tf.Tensor1D): tf.Scalar {
    const probe = this.probe!;
    const inputs = features.map((f) => probe.inputs(stopGradient(f)) as tf.Tensor2D);
    const logits = inputs.map((x) => (probe.logitsOf(x) as tf.Tensor2D).reshape([-1]));
    // Off the loss's path, so the tape takes no gradient through the curvature update.
    if (probe.curvature) probe.observeCurvature(inputs, logits, labels, this.options.posWeight);
    const losses = logits.map((l) => weightedBce(l, labels, this.options.posWeight));
    return tf.div(tf.addN(losses), losses.length) as tf.Scalar;
  }

  private preconditionProbe(grads: GradMap): void {
    const probe = this.probe!;
    const weightName = probe.weight.name;
    const biasName = probe.bias!.name;
    const step = probe.precondition(grads[weightName], grads[biasName]);
    tf.dispose([grads[weightName], grads[biasName]]);
    grads[weightName] = step.weight;
    grads[biasName] = step.bias;
  }

  /** Drop the gradients the method freezes at this step, clip, step the optimiser, then the method's updates. */
  apply(grads: GradMap, state: StepState): void {
    for (const name of this.method.frozen(state)) {
      const variable = this.trainableByName.get(name);
      if (variable && grads[variable.name]) {
        grads[variable.name].dispose();
        delete grads[variable.name];
      }
    }
    if (this.method.clipGrad !== null) {
      const clipped = clipGradNormPerParam(grads, this.method.clipGrad, this.backboneVariables);
      tf.dispose(Object.values(grads));
      grads = clipped;
    }
    if (this.probe?.curvature) this.preconditionProbe(grads);
    this.optimizer.step(grads);
    tf.dispose(Object.values(grads));
    this.method.afterStep(state);
  }
}

function readScalar(t: tf.Tensor): number {
  return t.dataSync()[0];
}
