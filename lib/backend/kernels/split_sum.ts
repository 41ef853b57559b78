/**
 * Two wasm kernels whose originals cost O(input) extra per call:
 * - SplitV: wasm's calls its internal Slice, which copies the whole input out of the heap for every part;
 *   here each part is the project's heap-to-heap slice (tf.split of ViT's qkv, of concatenated views).
 * - Sum over leading axes (bias gradients: [rows, C] → [C]): wasm transposes the reduced axes innermost
 *   first; here one pass accumulates rows on the heap. Other reductions keep wasm's kernel.
 *
 * @example
 *   tf.registerKernel({ kernelName: 'SplitV', backendName: 'wasm', kernelFunc: splitVKernel });
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, KernelAttrs, KernelInputs, sliceKernel, TensorInfo, wasmKernel } from './wasm_calls';

function splitVWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x, attrs.numOrSizeSplits as number[] | number, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const part = sliceKernel({ inputs: { x }, backend, attrs: { begin: begin.slice(), size } });
    begin[axis] += s;
    return part;
  });
}

function sumWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return wasmKernel('Sum')(args);
  const kept = x.shape.slice(axes.length);
  const inner = tf.util.sizeFromShape(kept);
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  const outShape = attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept;
  const out = backend.makeOutput(outShape, 'float32');
  const src = heapView(backend, x) as Float32Array;
  const dst = heapView(backend, out) as Float32Array;
  const acc = new Float64Array(inner);
  for (let r = 0, at = 0; r < rows; r++) {
    for (let c = 0; c < inner; c++, at++) acc[c] += src[at];
  }
  dst.set(acc);
  return out;
}

export const splitVKernel = splitVWasm;
export const sumKernel = sumWasm;
