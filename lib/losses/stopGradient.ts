/**
 * Identity in the forward pass, zero gradient in the backward pass (TF.js has no tf.stopGradient).
 * Used for targets that must not be trained through: BYOL momentum projections, DINO teacher probabilities.
 *
 * @example
 *   const target = stopGradient(teacherOut); // gradients of loss(student, target) never reach teacherOut
 */
import * as tf from '@tensorflow/tfjs';

const detach = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  return { value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

export function stopGradient<T extends tf.Tensor>(x: T): T {
  return detach(x) as T;
}
