/**
 * BYOL's loss (docs/reference.md §5): ℓ(p, z) = 2 − 2·mean_batch cos(p, stopgrad(z)), symmetrised over the two
 * views and averaged (the paper's code divides by the number of view pairs, 2; solo-learn sums).
 * The momentum projections get no gradient.
 *
 * @example
 *   const loss = byolLoss(pred1, pred2, momentumProj1, momentumProj2);
 */
import * as tf from '@tensorflow/tfjs';
import { expectRank, expectSameShape } from './checks';
import { stopGradient } from './stopGradient';

/** torch.nn.functional.cosine_similarity along the last axis (eps 1e-8 on the norm product). */
function cosineSimilarityRows(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), -1);
    const na2 = tf.sum(tf.square(a), -1);
    const nb2 = tf.sum(tf.square(b), -1);
    return tf.div(dot, tf.sqrt(tf.maximum(tf.mul(na2, nb2), 1e-16))) as tf.Tensor1D;
  });
}

function byolTerm(p: tf.Tensor2D, zMomentum: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.sub(2, tf.mul(2, tf.mean(cosineSimilarityRows(p, stopGradient(zMomentum))))) as tf.Scalar);
}

export function byolLoss(p1: tf.Tensor2D, p2: tf.Tensor2D, z1m: tf.Tensor2D, z2m: tf.Tensor2D): tf.Scalar {
  expectRank('byolLoss', 'p1', p1, 2);
  expectSameShape('byolLoss', ['p1', p1], ['p2', p2]);
  expectSameShape('byolLoss', ['p1', p1], ['z1m', z1m]);
  expectSameShape('byolLoss', ['p1', p1], ['z2m', z2m]);
  // Each view's prediction is matched to the *other* view's momentum projection.
  return tf.tidy(() => tf.div(tf.add(byolTerm(p2, z1m), byolTerm(p1, z2m)), 2) as tf.Scalar);
}
