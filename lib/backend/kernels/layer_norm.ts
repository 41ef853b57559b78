/**
 * LayerNorm over the last axis with a hand-written backward, fused into two kernels on wasm.
 *
 * Autodiff of tf.moments(keepDims) + normalise + affine runs about twenty ops per call (ViT-Tiny: 25 calls
 * per step). The wasm kernels make one pass per row forward and one backward; other backends get the same
 * maths as a tf.customGrad of plain ops.
 *
 * @example
 *   const y = tf.tidy(() => layerNorm(x, weight, bias, 1e-6));   // x [..., D], weight and bias [D]
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, KernelAttrs, KernelInputs, TensorInfo } from './wasm_calls';

export const LAYER_NORM = 'SsladLayerNorm';
export const LAYER_NORM_GRAD = 'SsladLayerNormGrad';

/** Inputs x [..., D], weight [D], bias [D]; outputs y and the per-row 1/σ [rows] (saved for the backward). */
function layerNormWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo[] {
  const { inputs, backend } = args;
  const eps = Number(args.attrs.eps);
  const { x, weight, bias } = inputs;
  if (x.dtype !== 'float32') throw new Error(`${LAYER_NORM}: x must be float32, got ${x.dtype}`);
  const d = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / d;
  const y = backend.makeOutput(x.shape, 'float32');
  const rstdOut = backend.makeOutput([rows], 'float32');
  const xs = heapView(backend, x) as Float32Array;
  const ys = heapView(backend, y) as Float32Array;
  const w = heapView(backend, weight) as Float32Array;
  const b = heapView(backend, bias) as Float32Array;
  const rstd = heapView(backend, rstdOut) as Float32Array;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let sum = 0;
    for (let c = 0; c < d; c++) sum += xs[base + c];
    const mean = sum / d;
    let sq = 0;
    for (let c = 0; c < d; c++) {
      const t = xs[base + c] - mean;
      sq += t * t;
    }
    const inv = 1 / Math.sqrt(sq / d + eps);
    rstd[r] = inv;
    for (let c = 0; c < d; c++) ys[base + c] = (xs[base + c] - mean) * inv * w[c] + b[c];
  }
  return [y, rstdOut];
}

/**
 * Inputs dy, x, rstd, weight; outputs dx, dweight, dbias. With x̂ = (x − μ)·rstd and g = dy·w per row:
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), dweight = Σ_rows dy·x̂, dbias = Σ_rows dy.
 */
function layerNormGradWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo[] {
  const { inputs, backend } = args;
  const { dy, x, rstd, weight } = inputs;
  const d = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / d;
  const dxOut = backend.makeOutput(x.shape, 'float32');
  const dwOut = backend.makeOutput([d], 'float32');
  const dbOut = backend.makeOutput([d], 'float32');
  const dys = heapView(backend, dy) as Float32Array;
  const xs = heapView(backend, x) as Float32Array;
  const inv = heapView(backend, rstd) as Float32Array;
  const w = heapView(backend, weight) as Float32Array;
  const dx = heapView(backend, dxOut) as Float32Array;
  const dwAcc = new Float64Array(d);
  const dbAcc = new Float64Array(d);
  const xHat = new Float64Array(d);
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let sum = 0;
    for (let c = 0; c < d; c++) sum += xs[base + c];
    const mean = sum / d;
    let gSum = 0;
    let gxSum = 0;
    for (let c = 0; c < d; c++) {
      const h = (xs[base + c] - mean) * inv[r];
      xHat[c] = h;
      const g = dys[base + c];
      const gw = g * w[c];
      gSum += gw;
      gxSum += gw * h;
      dwAcc[c] += g * h;
      dbAcc[c] += g;
    }
    const gMean = gSum / d;
    const gxMean = gxSum / d;
    for (let c = 0; c < d; c++) dx[base + c] = inv[r] * (dys[base + c] * w[c] - gMean - xHat[c] * gxMean);
  }
  (heapView(backend, dwOut) as Float32Array).set(dwAcc);
  (heapView(backend, dbOut) as Float32Array).set(dbAcc);
  return [dxOut, dwOut, dbOut];
}

export const layerNormKernel = layerNormWasm;
export const layerNormGradKernel = layerNormGradWasm;

function fusedAvailable(): boolean {
  return (
    tf.getKernel(LAYER_NORM, tf.getBackend()) !== undefined &&
    tf.getKernel(LAYER_NORM_GRAD, tf.getBackend()) !== undefined
  );
}

/** nn.LayerNorm's maths over the last axis, differentiable in x, weight and bias. Call inside a tidy. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const d = x.shape[x.rank - 1];
  if (weight.size !== d || bias.size !== d) {
    throw new Error(
      `layerNorm: x [${x.shape}] has last dimension ${d} but weight has ${weight.size} and bias ${bias.size}`,
    );
  }
  const fused = fusedAvailable();
  const leading = [...Array(x.rank - 1).keys()];
  const op = tf.customGrad(((xIn: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    if (fused) {
      const [y, rstd] = tf
        .engine()
        .runKernel(LAYER_NORM, { x: xIn, weight: w, bias: b }, { eps }) as unknown as tf.Tensor[];
      save([xIn, rstd, w]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, r, ws] = saved;
          return tf
            .engine()
            .runKernel(LAYER_NORM_GRAD, { dy, x: xs, rstd: r, weight: ws }, {}) as unknown as tf.Tensor[];
        },
      };
    }
    const { mean, variance } = tf.moments(xIn, -1, true);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const xHat = tf.mul(tf.sub(xIn, mean), rstd);
    save([xHat, rstd, w]);
    return {
      value: tf.add(tf.mul(xHat, w), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, r, ws] = saved;
        const g = tf.mul(dy, ws);
        const inner = tf.sub(tf.sub(g, tf.mean(g, -1, true)), tf.mul(xh, tf.mean(tf.mul(g, xh), -1, true)));
        return [tf.mul(inner, r), tf.sum(tf.mul(dy, xh), leading), tf.sum(dy, leading)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x, weight, bias);
}
