/**
 * A few seconds of real training, to show that the chosen engine can learn: a small conv net with a
 * residual block and batch statistics learns to tell images with a bright blob from images without.
 *
 * @example
 *   const losses = await tinyTrainingRun({ steps: 20 });
 *   losses[losses.length - 1] < losses[0]; // true
 */
import * as tf from '@tensorflow/tfjs';

export interface TinyRunOptions {
  steps?: number;
  batch?: number;
  size?: number;
  learningRate?: number;
  seed?: number;
}

function makeBatch(batch: number, size: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const noise = tf.randomUniform([batch, size, size, 3], 0, 0.5, 'float32', seed);
    const labels = tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 2),
      'float32',
    );
    // A centred Gaussian blob marks the positive class, so the task is learnable but needs the convs.
    const coords = tf
      .range(0, size)
      .sub(size / 2)
      .div(size / 6);
    const blob = tf.exp(
      coords
        .square()
        .reshape([size, 1])
        .add(coords.square().reshape([1, size]))
        .neg(),
    );
    const x = noise.add(
      labels
        .reshape([batch, 1, 1, 1])
        .mul(blob.reshape([1, size, size, 1]))
        .mul(0.8),
    ) as tf.Tensor4D;
    return { x, y: labels.reshape([batch, 1]) as tf.Tensor2D };
  });
}

/** Train for `steps` SGD steps and return the loss at each step. */
export async function tinyTrainingRun(options: TinyRunOptions = {}): Promise<number[]> {
  const { steps = 20, batch = 16, size = 16, learningRate = 0.3, seed = 42 } = options;
  const init = (shape: number[], fanIn: number, s: number): tf.Variable =>
    tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', seed + s));
  const stemKernel = init([3, 3, 3, 8], 27, 1) as tf.Variable<tf.Rank.R4>;
  const blockKernel = init([3, 3, 8, 8], 72, 2) as tf.Variable<tf.Rank.R4>;
  const downKernel = init([1, 1, 8, 16], 8, 3) as tf.Variable<tf.Rank.R4>;
  const head = init([16, 1], 16, 4) as tf.Variable<tf.Rank.R2>;
  const bias = tf.variable(tf.zeros([1]));
  const vars = [stemKernel, blockKernel, downKernel, head, bias];
  const normalise = (t: tf.Tensor4D) => {
    const { mean, variance } = tf.moments(t, [0, 1, 2]);
    return t.sub(mean).div(variance.add(1e-5).sqrt()) as tf.Tensor4D;
  };
  const losses: number[] = [];
  try {
    for (let step = 0; step < steps; step++) {
      const { x, y } = makeBatch(batch, size, seed + 100 + step);
      const { value, grads } = tf.variableGrads(() => {
        const stem = tf.relu(normalise(tf.conv2d(x, stemKernel, 2, 'same')));
        const block = tf.relu(stem.add(normalise(tf.conv2d(stem, blockKernel, 1, 'same')))) as tf.Tensor4D;
        const down = tf.relu(normalise(tf.conv2d(block, downKernel, 2, 'valid')));
        const pooled = down.mean([1, 2]) as tf.Tensor2D;
        const logits = pooled.matMul(head).add(bias);
        return tf.losses.sigmoidCrossEntropy(y, logits) as tf.Scalar;
      }, vars);
      tf.tidy(() => {
        for (const v of vars) v.assign(v.sub(grads[v.name].mul(learningRate)));
      });
      losses.push((await value.data())[0]);
      tf.dispose([x, y, value, ...Object.values(grads)]);
    }
  } finally {
    tf.dispose(vars);
  }
  return losses;
}
