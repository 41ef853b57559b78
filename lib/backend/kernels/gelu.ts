/**
 * Exact GELU, 0.5·x·(1 + erf(x/√2)) (torch's approximate='none'), differentiable.
 *
 * With the native kernels active on wasm it is one fused kernel each way (SsladGelu, SsladGeluGrad:
 * dx = dy·(Φ(x) + x·φ(x))); autodiff of the composed ops runs Erf, Exp and about eight elementwise passes
 * per call, which in ViT-Tiny cost more than its fc1/fc2 matmuls. Elsewhere it is the composition of ops.
 *
 * @example
 *   const y = tf.tidy(() => geluExact(x));
 */
import * as tf from '@tensorflow/tfjs';
import { GELU, GELU_GRAD, nativeKernelsActive } from './native';

function fusedAvailable(): boolean {
  return nativeKernelsActive() && tf.getBackend() === 'wasm' && tf.getKernel(GELU, 'wasm') !== undefined;
}

export function geluExact(x: tf.Tensor): tf.Tensor {
  if (!fusedAvailable() || x.dtype !== 'float32') {
    return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)));
  }
  const op = tf.customGrad(((xIn: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xIn]);
    return {
      value: tf.engine().runKernel(GELU, { x: xIn }, {}) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(GELU_GRAD, { dy, x: saved[0] }, {}) as tf.Tensor,
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x);
}
