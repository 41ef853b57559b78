import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { setNativeKernelsActive } from '../../lib/backend/kernels/native';
import { loadNative } from '../../lib/backend/native';
import { randomValues, relativeError } from './helpers';

/**
 * A small ResNet-style stack: conv 7×7/2 → BN (tf.moments) → ReLU → maxpool 3×3/2 → basic block with a
 * strided 1×1 downsample (3×3/2 conv → BN → ReLU → 3×3 conv → BN, plus 1×1/2 conv → BN) → ReLU →
 * global average pool → dense → squared loss. Odd input size so every padding edge case shows.
 */
const SHAPES: Record<string, number[]> = {
  stem: [7, 7, 3, 8],
  stemGamma: [8],
  stemBeta: [8],
  conv1: [3, 3, 8, 12],
  gamma1: [12],
  beta1: [12],
  conv2: [3, 3, 12, 12],
  gamma2: [12],
  beta2: [12],
  down: [1, 1, 8, 12],
  gammaDown: [12],
  betaDown: [12],
  fc: [12, 3],
  fcBias: [3],
};
const INPUT_SHAPE: [number, number, number, number] = [4, 19, 21, 3];

function batchNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(gamma).add(beta);
}

function loss(v: Record<string, tf.Variable>, x: tf.Tensor4D, target: tf.Tensor2D): tf.Scalar {
  const stemPadded = tf.conv2d(x, v.stem as tf.Tensor4D, 2, [
    [0, 0],
    [3, 3],
    [3, 3],
    [0, 0],
  ]);
  let h = tf.relu(batchNorm(stemPadded, v.stemGamma, v.stemBeta));
  h = tf.maxPool(h, 3, 2, 'same');
  let main = tf.relu(batchNorm(tf.conv2d(h, v.conv1 as tf.Tensor4D, 2, 'same'), v.gamma1, v.beta1));
  main = batchNorm(tf.conv2d(main, v.conv2 as tf.Tensor4D, 1, 'same'), v.gamma2, v.beta2);
  const shortcut = batchNorm(tf.conv2d(h, v.down as tf.Tensor4D, 2, 'valid'), v.gammaDown, v.betaDown);
  const out = tf.relu(main.add(shortcut));
  const pooled = out.mean([1, 2]) as tf.Tensor2D;
  const logits = tf.matMul(pooled, v.fc as tf.Tensor2D).add(v.fcBias);
  return tf.losses.meanSquaredError(target, logits) as tf.Scalar;
}

async function trainStep(backend: string): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const variables: Record<string, tf.Variable> = {};
    Object.entries(SHAPES).forEach(([name, shape], i) => {
      const scale = name.startsWith('gamma') || name === 'stemGamma' ? 0 : 1;
      const values = randomValues(tf.util.sizeFromShape(shape), 1000 + i).map((r) =>
        scale === 0 ? 1 + 0.2 * r : 0.3 * r,
      );
      const initial = tf.tensor(values, shape);
      variables[name] = tf.variable(initial, true, `${backend}_${name}_${Date.now()}`);
      initial.dispose();
    });
    const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(INPUT_SHAPE), 7), INPUT_SHAPE);
    const target = tf.tensor2d(randomValues(INPUT_SHAPE[0] * 3, 8), [INPUT_SHAPE[0], 3]);
    const { value, grads } = tf.variableGrads(() => loss(variables, x, target), Object.values(variables));
    const result = { loss: value.dataSync()[0], grads: {} as Record<string, Float32Array> };
    for (const [name, v] of Object.entries(variables)) result.grads[name] = grads[v.name].dataSync() as Float32Array;
    tf.dispose([value, x, target, ...Object.values(grads), ...Object.values(variables)]);
    return result;
  } finally {
    await tf.setBackend(previous);
  }
}

describe('ResNet-style training step on wasm', function () {
  this.timeout(120000);

  // The pure-wasm kernels, and the native (oneDNN) kernels over them where the addon is built.
  for (const engine of ['wasm kernels', 'native kernels'] as const) {
    it(`gives the cpu backend’s loss and gradients (${engine})`, async function () {
      if (tf.getBackend() !== 'wasm') this.skip();
      const native = engine === 'native kernels';
      if (native && !loadNative().addon) {
        console.log(`      skipped: ${loadNative().why}`);
        this.skip();
      }
      setNativeKernelsActive(native);
      try {
        const before = tf.memory().numTensors;
        const onWasm = await trainStep('wasm');
        assert.equal(tf.memory().numTensors, before, 'no tensor leaked on wasm');
        const onCpu = await trainStep('cpu');
        assert.equal(tf.getBackend(), 'wasm');
        assert.ok(
          Math.abs(onWasm.loss - onCpu.loss) <= 1e-4 * Math.abs(onCpu.loss),
          `loss ${onWasm.loss} vs ${onCpu.loss}`,
        );
        for (const name of Object.keys(SHAPES)) {
          const err = relativeError(onWasm.grads[name], onCpu.grads[name]);
          assert.ok(err < 1e-4, `gradient of ${name}: relative error ${err}`);
          assert.ok(
            onCpu.grads[name].some((g) => g !== 0),
            `gradient of ${name} is not all zeros`,
          );
        }
      } finally {
        setNativeKernelsActive(true);
      }
    });
  }
});
