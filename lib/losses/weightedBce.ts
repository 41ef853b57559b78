/**
 * Binary cross-entropy on logits with a positive-class weight, averaged over all elements: the same value
 * as torch.nn.BCEWithLogitsLoss(pos_weight=posWeight). Used by the supervised baseline and the online
 * probe with posWeight = n_neg / n_pos of the training subset.
 *
 * Computed in the stable form (1 − y)·x + (1 + (w − 1)·y)·(log(1 + e^{−|x|}) + max(−x, 0)).
 *
 * @example
 *   const loss = weightedBce(probe(feats).squeeze([1]), labels, nNeg / nPos);
 */
import * as tf from '@tensorflow/tfjs';
import { expectSameShape } from './checks';

export function weightedBce(logits: tf.Tensor, labels: tf.Tensor, posWeight = 1): tf.Scalar {
  expectSameShape('weightedBce', ['logits', logits], ['labels', labels]);
  if (!(posWeight > 0) || !Number.isFinite(posWeight)) {
    throw new Error(`weightedBce: posWeight must be a finite number > 0, got ${posWeight}`);
  }
  return tf.tidy(() => {
    const x = logits.toFloat();
    const y = labels.toFloat();
    const softplusNeg = tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(x)))), tf.relu(tf.neg(x)));
    const weight = tf.add(1, tf.mul(posWeight - 1, y));
    const perElement = tf.add(tf.mul(tf.sub(1, y), x), tf.mul(weight, softplusNeg));
    return tf.mean(perElement) as tf.Scalar;
  });
}
