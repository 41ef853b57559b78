/**
 * MaxPoolGrad for the wasm backend (wasm's own returns wrong gradients in tfjs 4.22).
 *
 * Each output cell sends its gradient to the first maximum of its window in row-major order, padded cells
 * never winning: the rule of PyTorch and of TF.js's cpu backend. Runs straight on the wasm heap with
 * per-channel running maxima, so one pass over the windows.
 *
 * @example
 *   tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGradKernel });
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, KernelAttrs, KernelInputs, TensorInfo } from './wasm_calls';

/** The pooling geometry of a MaxPoolGrad call (NHWC input, the forward pool's attributes). */
export function maxPoolInfo(input: TensorInfo, attrs: KernelAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
}

function maxPoolGradWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(
      `MaxPoolGrad (wasm, project kernel): input is ${input.dtype} and dy ${dy.dtype}; both must be float32`,
    );
  }
  const info = maxPoolInfo(input, attrs);
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: c,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    filterHeight,
    filterWidth,
  } = info;
  if (dy.shape[1] !== outHeight || dy.shape[2] !== outWidth || dy.shape[3] !== c) {
    throw new Error(
      `MaxPoolGrad (wasm, project kernel): dy [${dy.shape}] does not match the pooled shape of input [${input.shape}]`,
    );
  }
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = backend.makeOutput(input.shape, 'float32');
  const x = heapView(backend, input) as Float32Array;
  const g = heapView(backend, dy) as Float32Array;
  const dx = heapView(backend, out) as Float32Array;
  dx.fill(0);
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left;
        best.fill(-Infinity);
        where.fill(-1);
        for (let ky = 0; ky < filterHeight; ky++) {
          const y = y0 + ky;
          if (y < 0 || y >= inHeight) continue;
          for (let kx = 0; kx < filterWidth; kx++) {
            const xx = x0 + kx;
            if (xx < 0 || xx >= inWidth) continue;
            const base = ((b * inHeight + y) * inWidth + xx) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch];
              // Strictly greater: the first maximum keeps the gradient (cpu backend and torch alike).
              if (v > best[ch]) {
                best[ch] = v;
                where[ch] = base + ch;
              }
            }
          }
        }
        const gBase = ((b * outHeight + oy) * outWidth + ox) * c;
        for (let ch = 0; ch < c; ch++) if (where[ch] >= 0) dx[where[ch]] += g[gBase + ch];
      }
    }
  }
  return out;
}

export const maxPoolGradKernel = maxPoolGradWasm;
