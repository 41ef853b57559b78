/**
 * Fault injection for tests: a loss that turns NaN at a chosen step (divergence handling) and a run that stops
 * abruptly after some steps, writing nothing more, as a killed process would (resumption). Both are no-ops unless
 * the run's options ask for them.
 *
 * @example
 *   await runExperiment(config, { nanAtStep: 2 });        // ends 'diverged' at step 2
 *   await runExperiment(config, { haltAfterSteps: 5 });   // returns after 5 steps, status still 'running'
 */
import * as tf from '@tensorflow/tfjs';

export interface FaultOptions {
  /** The loss of this global step becomes NaN. */
  nanAtStep?: number;
  /** Stop abruptly after this many optimiser steps in this invocation, writing nothing more. */
  haltAfterSteps?: number;
}

/** Thrown by `haltIfAsked`; the run's caller returns the status as the last checkpoint left it. */
export class Halted extends Error {}

/** The loss of `step`, or NaN times it at the step the options name (still inside the gradient tape). */
export function injectNan(loss: tf.Scalar, step: number, faults: FaultOptions): tf.Scalar {
  return faults.nanAtStep === step ? (tf.mul(loss, NaN) as tf.Scalar) : loss;
}

/** Throw `Halted` once this invocation has taken the steps the options allow. */
export function haltIfAsked(stepsThisInvocation: number, faults: FaultOptions): void {
  if (faults.haltAfterSteps !== undefined && stepsThisInvocation >= faults.haltAfterSteps) {
    throw new Halted('halted for a resumption test');
  }
}
