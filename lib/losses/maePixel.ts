/**
 * MAE's reconstruction loss (solo-learn semantics, docs/reference.md §5): per-patch mean squared error,
 * averaged over masked patches only. With `normPixLoss` the target is normalised per patch by its mean
 * and unbiased variance: (t − mean) / sqrt(var + 1e-6).
 *
 * `pred` and `target` are [N, L, p²·3] (target already patchified), `mask` is [N, L] with 1 for masked
 * (removed, to be reconstructed) patches and 0 for kept ones.
 *
 * @example
 *   const loss = maePixelLoss(decoderOut, patchify(images, 16), mask); // average this over the two views
 */
import * as tf from '@tensorflow/tfjs';
import { expectRank, expectSameShape } from './checks';

export function maePixelLoss(pred: tf.Tensor3D, target: tf.Tensor3D, mask: tf.Tensor2D, normPixLoss = true): tf.Scalar {
  expectRank('maePixelLoss', 'pred', pred, 3);
  expectSameShape('maePixelLoss', ['pred', pred], ['target', target]);
  expectRank('maePixelLoss', 'mask', mask, 2);
  if (mask.shape[0] !== pred.shape[0] || mask.shape[1] !== pred.shape[1]) {
    throw new Error(
      `maePixelLoss: 'mask' [${mask.shape.join(', ')}] must be [N, L] = [${pred.shape.slice(0, 2).join(', ')}]`,
    );
  }
  const p = pred.shape[2];
  if (normPixLoss && p < 2) throw new Error('maePixelLoss: normPixLoss needs at least 2 values per patch');
  return tf.tidy(() => {
    let t: tf.Tensor = target;
    if (normPixLoss) {
      const { mean, variance } = tf.moments(target, -1, true);
      const unbiased = tf.mul(variance, p / (p - 1));
      t = tf.div(tf.sub(target, mean), tf.sqrt(tf.add(unbiased, 1e-6)));
    }
    const perPatch = tf.mean(tf.square(tf.sub(pred, t)), -1);
    const m = mask.toFloat();
    return tf.div(tf.sum(tf.mul(perPatch, m)), tf.sum(m)) as tf.Scalar;
  });
}
