/**
 * DINO's loss and centre update (docs/reference.md §5), and the teacher-temperature warm-up.
 *
 * Teacher probabilities q = softmax((t − center) / τ_t) get no gradient; the loss is the mean over the
 * cross-view pairs (teacher view ≠ student view) of mean_batch(−Σ_k q_k · log_softmax(s / τ_s)_k).
 * The new centre = m·center + (1 − m)·(mean over all teacher rows of both views), computed from the
 * teacher logits of this step and used from the next step on; the caller owns (and disposes) both.
 *
 * @example
 *   const { loss, center: next } = dinoLoss([s1, s2], [t1, t2], center, 0.1, dinoTeacherTemp(epoch, 15, 45));
 *   center.dispose(); center = next;  // or centerVar.assign(next)
 */
import * as tf from '@tensorflow/tfjs';
import { expectRank, expectSameShape } from './checks';
import { stopGradient } from './stopGradient';

export interface DinoLossResult {
  loss: tf.Scalar;
  /** [1, K] updated centre (no gradient). */
  center: tf.Tensor2D;
  /**
   * Mean entropy of the teacher targets over the pairs, so that loss − teacherEntropy is the mean KL(q ‖ p): the
   * part the student can reduce. The loss alone rises whenever the teacher temperature warms up, however well
   * the student follows.
   */
  teacherEntropy: tf.Scalar;
}

export function dinoLoss(
  studentLogits: tf.Tensor2D[],
  teacherLogits: tf.Tensor2D[],
  center: tf.Tensor,
  studentTemp = 0.1,
  teacherTemp = 0.04,
  centerMomentum = 0.9,
): DinoLossResult {
  if (studentLogits.length < 2 || teacherLogits.length !== studentLogits.length) {
    throw new Error(
      'dinoLoss: expected the same number (≥ 2) of student and teacher views, ' +
        `got ${studentLogits.length} and ${teacherLogits.length}`,
    );
  }
  studentLogits.forEach((s, i) => {
    expectRank('dinoLoss', `studentLogits[${i}]`, s, 2);
    expectSameShape('dinoLoss', ['studentLogits[0]', studentLogits[0]], [`studentLogits[${i}]`, s]);
    expectSameShape('dinoLoss', ['studentLogits[0]', studentLogits[0]], [`teacherLogits[${i}]`, teacherLogits[i]]);
  });
  const k = studentLogits[0].shape[1];
  if (center.size !== k) {
    throw new Error(`dinoLoss: 'center' must hold K = ${k} values, got shape [${center.shape.join(', ')}]`);
  }
  if (!(studentTemp > 0) || !(teacherTemp > 0)) {
    throw new Error(`dinoLoss: temperatures must be > 0, got student ${studentTemp}, teacher ${teacherTemp}`);
  }
  return tf.tidy(() => {
    const c = tf.reshape(center, [1, k]);
    const q = teacherLogits.map((t) => stopGradient(tf.softmax(tf.div(tf.sub(t, c), teacherTemp))));
    const logP = studentLogits.map((s) => tf.logSoftmax(tf.div(s, studentTemp)));
    const terms: tf.Scalar[] = [];
    const entropies: tf.Scalar[] = [];
    for (let iq = 0; iq < q.length; iq++) {
      const logQ = tf.log(tf.maximum(q[iq], 1e-30));
      const entropy = tf.mean(tf.sum(tf.mul(tf.neg(q[iq]), logQ), -1)) as tf.Scalar;
      for (let iv = 0; iv < logP.length; iv++) {
        if (iq === iv) continue;
        terms.push(tf.mean(tf.sum(tf.mul(tf.neg(q[iq]), logP[iv]), -1)) as tf.Scalar);
        entropies.push(entropy);
      }
    }
    const loss = tf.div(tf.addN(terms), terms.length) as tf.Scalar;
    const teacherEntropy = tf.div(tf.addN(entropies), entropies.length) as tf.Scalar;
    const batchCenter = tf.mean(
      tf.concat(
        teacherLogits.map((t) => stopGradient(t)),
        0,
      ),
      0,
      true,
    );
    const nextCenter = tf.add(tf.mul(c, centerMomentum), tf.mul(batchCenter, 1 - centerMomentum)) as tf.Tensor2D;
    return { loss, center: stopGradient(nextCenter), teacherEntropy };
  });
}

/**
 * Teacher temperature for an epoch (0-based): linear from `warmupTemp` to `finalTemp` across the first
 * `warmupEpochs` epochs (numpy.linspace, both ends included, as the paper's code), then `finalTemp`.
 * The schedule is per epoch, not per step.
 */
export function dinoTeacherTemp(
  epoch: number,
  warmupEpochs: number,
  totalEpochs: number,
  warmupTemp = 0.04,
  finalTemp = 0.07,
): number {
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new Error(`dinoTeacherTemp: epoch must be an integer ≥ 0, got ${epoch}`);
  const warm = Math.min(warmupEpochs, totalEpochs);
  if (epoch >= warm) return finalTemp;
  if (warm === 1) return warmupTemp;
  return warmupTemp + (epoch * (finalTemp - warmupTemp)) / (warm - 1);
}
