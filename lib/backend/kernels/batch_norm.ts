/**
 * Train-mode batch norm with a hand-written backward, fused into two kernels on wasm.
 *
 * Autodiff of tf.moments + normalise + affine runs about twenty full-size elementwise ops and
 * reductions per layer (wasm reduces non-innermost axes through a transpose); on the largest ResNet
 * layers each of those is a memory-bound pass over several MB. The fused kernels make two passes
 * forward (statistics, then y) and two backward (channel sums, then dx), straight on the wasm heap.
 * Other backends get the same maths as a tf.customGrad of plain ops (still far fewer ops than autodiff).
 *
 * @example
 *   const { y, mean, variance } = tf.tidy(() => batchNormTrain(x, weight, bias, 1e-5));   // x [..., C]
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, KernelAttrs, KernelInputs, TensorInfo } from './wasm_calls';

export const BATCH_NORM_TRAIN = 'SsladBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'SsladBatchNormTrainGrad';

function channelsOf(x: TensorInfo, kernel: string): { rows: number; channels: number } {
  if (x.dtype !== 'float32') throw new Error(`${kernel}: x must be float32, got ${x.dtype}`);
  const channels = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  if (!(rows >= 1)) throw new Error(`${kernel}: x [${x.shape}] has no rows`);
  return { rows, channels };
}

/** Inputs x [..., C], weight [C], bias [C]; outputs y, batch mean [C], biased batch variance [C]. */
function batchNormTrainWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo[] {
  const { inputs, backend } = args;
  const eps = Number(args.attrs.eps);
  const { x, weight, bias } = inputs;
  const { rows, channels } = channelsOf(x, BATCH_NORM_TRAIN);
  const y = backend.makeOutput(x.shape, 'float32');
  const meanOut = backend.makeOutput([channels], 'float32');
  const varOut = backend.makeOutput([channels], 'float32');
  // Views only after the last allocation (a heap growth detaches earlier views).
  const xs = heapView(backend, x) as Float32Array;
  const ys = heapView(backend, y) as Float32Array;
  const w = heapView(backend, weight) as Float32Array;
  const b = heapView(backend, bias) as Float32Array;
  // Shifted sums (shift = the first row) keep E[x²] − E[x]² accurate when |mean| ≫ std.
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let r = 0, at = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, at++) {
      const d = xs[at] - xs[c];
      sum[c] += d;
      sumSq[c] += d * d;
    }
  }
  const mean = heapView(backend, meanOut) as Float32Array;
  const variance = heapView(backend, varOut) as Float32Array;
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const m = sum[c] / rows;
    const v = Math.max(sumSq[c] / rows - m * m, 0);
    mean[c] = xs[c] + m;
    variance[c] = v;
    scale[c] = w[c] / Math.sqrt(v + eps);
    shift[c] = b[c] - mean[c] * scale[c];
  }
  for (let r = 0, at = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, at++) ys[at] = xs[at] * scale[c] + shift[c];
  }
  return [y, meanOut, varOut];
}

/**
 * Inputs dy, x, mean, variance, weight; outputs dx, dweight, dbias. With x̂ = (x − μ)·σ⁻¹:
 * dbias = Σ dy, dweight = Σ dy·x̂, dx = w·σ⁻¹·(dy − dbias/M − x̂·dweight/M).
 */
function batchNormTrainGradWasm(args: {
  inputs: KernelInputs;
  backend: BackendWasm;
  attrs: KernelAttrs;
}): TensorInfo[] {
  const { inputs, backend } = args;
  const eps = Number(args.attrs.eps);
  const { dy, x, mean, variance, weight } = inputs;
  const { rows, channels } = channelsOf(x, BATCH_NORM_TRAIN_GRAD);
  const dxOut = backend.makeOutput(x.shape, 'float32');
  const dwOut = backend.makeOutput([channels], 'float32');
  const dbOut = backend.makeOutput([channels], 'float32');
  const dys = heapView(backend, dy) as Float32Array;
  const xs = heapView(backend, x) as Float32Array;
  const mu = heapView(backend, mean) as Float32Array;
  const v = heapView(backend, variance) as Float32Array;
  const w = heapView(backend, weight) as Float32Array;
  const inv = new Float32Array(channels);
  for (let c = 0; c < channels; c++) inv[c] = 1 / Math.sqrt(v[c] + eps);
  const sumDy = new Float64Array(channels);
  const sumDyXc = new Float64Array(channels);
  for (let r = 0, at = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, at++) {
      const g = dys[at];
      sumDy[c] += g;
      sumDyXc[c] += g * (xs[at] - mu[c]);
    }
  }
  const dx = heapView(backend, dxOut) as Float32Array;
  const dw = heapView(backend, dwOut) as Float32Array;
  const db = heapView(backend, dbOut) as Float32Array;
  // dx = a·dy + k·x + k0 per channel, folded so the second pass is one multiply-add pair per element.
  const a = new Float32Array(channels);
  const k = new Float32Array(channels);
  const k0 = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    db[c] = sumDy[c];
    dw[c] = sumDyXc[c] * inv[c];
    a[c] = w[c] * inv[c];
    k[c] = -a[c] * inv[c] * inv[c] * (sumDyXc[c] / rows);
    k0[c] = -a[c] * (sumDy[c] / rows) - k[c] * mu[c];
  }
  for (let r = 0, at = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++, at++) dx[at] = a[c] * dys[at] + k[c] * xs[at] + k0[c];
  }
  return [dxOut, dwOut, dbOut];
}

export const batchNormTrainKernel = batchNormTrainWasm;
export const batchNormTrainGradKernel = batchNormTrainGradWasm;

function fusedAvailable(): boolean {
  return (
    tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()) !== undefined &&
    tf.getKernel(BATCH_NORM_TRAIN_GRAD, tf.getBackend()) !== undefined
  );
}

/**
 * Batch-statistics normalisation over every axis but the last, with affine weight and bias, differentiable
 * in x, weight and bias. Returns the batch mean and biased variance for the running statistics (not
 * differentiated). Call inside a tidy.
 */
export function batchNormTrain(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  eps: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const channels = x.shape[x.rank - 1];
  if (weight.size !== channels || bias.size !== channels) {
    throw new Error(
      `batchNormTrain: x [${x.shape}] has ${channels} channels but weight has ${weight.size} and bias ${bias.size}`,
    );
  }
  const rows = x.size / channels;
  const axes = [...Array(x.rank - 1).keys()];
  let stats: [tf.Tensor, tf.Tensor] | null = null;
  const fused = fusedAvailable();
  // customGrad runs its forward in a tidy: the statistics are kept there and handed to the caller's scope below.
  const op = tf.customGrad(((xIn: tf.Tensor, w: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    if (fused) {
      const [y, mean, variance] = tf
        .engine()
        .runKernel(BATCH_NORM_TRAIN, { x: xIn, weight: w, bias: b }, { eps }) as unknown as tf.Tensor[];
      stats = [tf.keep(mean), tf.keep(variance)];
      save([xIn, mean, variance, w]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, m, v, ws] = saved;
          return tf
            .engine()
            .runKernel(
              BATCH_NORM_TRAIN_GRAD,
              { dy, x: xs, mean: m, variance: v, weight: ws },
              { eps },
            ) as unknown as tf.Tensor[];
        },
      };
    }
    const mean = tf.mean(xIn, axes);
    const centred = tf.sub(xIn, mean);
    const variance = tf.mean(tf.square(centred), axes);
    const inv = tf.rsqrt(tf.add(variance, eps));
    const xHat = tf.mul(centred, inv);
    stats = [tf.keep(mean), tf.keep(variance)];
    save([xHat, inv, w]);
    return {
      value: tf.add(tf.mul(xHat, w), b),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, invStd, ws] = saved;
        const db = tf.sum(dy, axes);
        const dw = tf.sum(tf.mul(dy, xh), axes);
        const inner = tf.sub(tf.sub(dy, tf.div(db, rows)), tf.mul(xh, tf.div(dw, rows)));
        return [tf.mul(inner, tf.mul(ws, invStd)), dw, db];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = op(x, weight, bias);
  const [keptMean, keptVariance] = stats as unknown as [tf.Tensor, tf.Tensor];
  const mean = tf.clone(keptMean);
  const variance = tf.clone(keptVariance);
  tf.dispose([keptMean, keptVariance]);
  return { y, mean, variance };
}
