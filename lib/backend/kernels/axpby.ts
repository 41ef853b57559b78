/**
 * a·x + b·y for same-shape tensors, not differentiated (optimiser updates, EMA teachers).
 *
 * With the native kernels active on wasm it is one pass (SsladAxpby); otherwise the same ops the optimisers
 * always ran (a multiply is skipped where its scalar is 1), so the pure-wasm and cpu paths are unchanged.
 * ResNet-18 has 11 M parameters: each elementwise pass of an SGD or EMA update is a few ms on wasm.
 *
 * @example
 *   w.assign(axpby(1, w, -lr, update));   // w − lr·update
 */
import * as tf from '@tensorflow/tfjs';
import { AXPBY, nativeKernelsActive } from './native';

export function axpby(a: number, x: tf.Tensor, b: number, y: tf.Tensor): tf.Tensor {
  const fused =
    nativeKernelsActive() &&
    tf.getBackend() === 'wasm' &&
    x.dtype === 'float32' &&
    y.dtype === 'float32' &&
    tf.util.arraysEqual(x.shape, y.shape) &&
    tf.getKernel(AXPBY, 'wasm') !== undefined;
  if (fused) return tf.engine().runKernel(AXPBY, { x, y }, { a, b }) as tf.Tensor;
  return tf.tidy(() => {
    const ax = a === 1 ? x : tf.mul(x, a);
    if (b === -1) return tf.sub(ax, y);
    return tf.add(ax, b === 1 ? y : tf.mul(y, b));
  });
}
