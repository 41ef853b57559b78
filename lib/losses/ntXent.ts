/**
 * SimCLR's NT-Xent loss (docs/reference.md §5).
 *
 * The inputs are L2-normalised inside (as the paper's code does in its loss), so raw projector outputs
 * and already-normalised embeddings give the same value. Over the 2N embeddings, each row's positive is
 * the other view of the same image, its negatives are all other images' views, itself excluded:
 * L = −mean_i log(pos_i / (pos_i + neg_i)), sim = exp(z_i·z_j / T).
 *
 * @example
 *   const loss = ntXentLoss(projector(view1), projector(view2), 0.2); // scalar
 */
import * as tf from '@tensorflow/tfjs';
import { expectRank, expectSameShape, l2NormaliseRows } from './checks';

export function ntXentLoss(z1: tf.Tensor2D, z2: tf.Tensor2D, temperature = 0.2): tf.Scalar {
  expectRank('ntXentLoss', 'z1', z1, 2);
  expectSameShape('ntXentLoss', ['z1', z1], ['z2', z2]);
  if (!(temperature > 0)) throw new Error(`ntXentLoss: temperature must be > 0, got ${temperature}`);
  const n = z1.shape[0];
  return tf.tidy(() => {
    const z = l2NormaliseRows(tf.concat([z1, z2], 0));
    const sim = tf.exp(tf.div(tf.matMul(z, z, false, true), temperature));
    // Row i's partner is i+N (mod 2N); self-similarity is excluded from both sums.
    const partner = tf.concat([tf.range(n, 2 * n, 1, 'int32'), tf.range(0, n, 1, 'int32')]);
    const pairMask = tf.oneHot(partner, 2 * n).toFloat();
    const notSelf = tf.sub(1, tf.eye(2 * n));
    const pos = tf.sum(tf.mul(sim, pairMask), 1);
    const all = tf.sum(tf.mul(sim, notSelf), 1); // = pos + neg
    return tf.neg(tf.mean(tf.log(tf.div(pos, all)))) as tf.Scalar;
  });
}
