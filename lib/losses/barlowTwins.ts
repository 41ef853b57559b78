/**
 * Barlow Twins' loss (docs/reference.md §5). Each view is batch-normalised per dimension (batch mean, biased
 * variance, eps 1e-5, no affine), C = z1ᵀz2 / N, and
 * L = scaleLoss · [Σ_i (1 − C_ii)² + λ · Σ_{i≠j} C_ij²].
 *
 * @example
 *   const loss = barlowTwinsLoss(projector(view1), projector(view2)); // λ 0.0051, scale 0.024
 */
import * as tf from '@tensorflow/tfjs';
import { expectRank, expectSameShape } from './checks';

function batchNormNoAffine(z: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(z, 0, true);
    return tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor2D;
  });
}

export function barlowTwinsLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, lambda = 0.0051, scaleLoss = 0.024): tf.Scalar {
  expectRank('barlowTwinsLoss', 'z1', z1, 2);
  expectSameShape('barlowTwinsLoss', ['z1', z1], ['z2', z2]);
  const [n, d] = z1.shape;
  if (n < 2) throw new Error(`barlowTwinsLoss: batch-normalising needs at least 2 rows, got ${n}`);
  return tf.tidy(() => {
    const c = tf.div(tf.matMul(batchNormNoAffine(z1), batchNormNoAffine(z2), true, false), n);
    const eye = tf.eye(d);
    const onDiag = tf.sum(tf.square(tf.sub(1, tf.mul(c, eye).sum(1))));
    const offDiag = tf.sum(tf.square(tf.mul(c, tf.sub(1, eye))));
    return tf.mul(scaleLoss, tf.add(onDiag, tf.mul(lambda, offDiag))) as tf.Scalar;
  });
}
