/** Shape checks shared by the loss functions, so bad input fails with the tensor's name. */
import * as tf from '@tensorflow/tfjs';

export function expectRank(fn: string, name: string, t: tf.Tensor, rank: number): void {
  if (t.rank !== rank) {
    throw new Error(`${fn}: '${name}' must have rank ${rank}, got shape [${t.shape.join(', ')}]`);
  }
}

export function expectSameShape(fn: string, a: [string, tf.Tensor], b: [string, tf.Tensor]): void {
  const [na, ta] = a;
  const [nb, tb] = b;
  if (ta.shape.length !== tb.shape.length || ta.shape.some((d, i) => d !== tb.shape[i])) {
    throw new Error(
      `${fn}: '${na}' [${ta.shape.join(', ')}] and '${nb}' [${tb.shape.join(', ')}] must have the same shape`,
    );
  }
}

/** Row-wise L2 normalisation as torch.nn.functional.normalize: x / max(‖x‖, 1e-12). */
export function l2NormaliseRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12);
    return tf.div(x, norm) as tf.Tensor2D;
  });
}
