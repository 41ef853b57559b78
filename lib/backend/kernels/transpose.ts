/**
 * Transpose for the wasm backend on the heap: axes that stay adjacent are merged first, then either
 * contiguous runs are block-copied (the last axis stays last) or 32×32 tiles are transposed (batched 2-D
 * transposes). wasm's own Transpose walks element by element with index arithmetic (~13 ns per element
 * here), and every backward matmul and convolution gradient transposes whole activations.
 * Other layouts (and non-float32 data) keep wasm's kernel.
 *
 * @example
 *   tf.registerKernel({ kernelName: 'Transpose', backendName: 'wasm', kernelFunc: transposeKernel });
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, KernelAttrs, KernelInputs, TensorInfo, wasmKernel } from './wasm_calls';

/** Merge input axes that stay neighbours in the same order; returns the reduced shape and permutation. */
export function collapseTranspose(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  // Size-1 axes move nothing; among the others, rank = position in input order.
  const keep = perm.filter((axis) => shape[axis] !== 1);
  if (keep.length === 0) return { shape: [1], perm: [0] };
  const inputOrder = [...keep].sort((a, b) => a - b);
  const rankOf = (axis: number) => inputOrder.indexOf(axis);
  // Groups of output positions whose input axes are consecutive (ignoring size-1 axes).
  const groups: number[][] = [];
  for (const axis of keep) {
    const last = groups[groups.length - 1];
    if (last && rankOf(last[last.length - 1]) + 1 === rankOf(axis)) last.push(axis);
    else groups.push([axis]);
  }
  const byInputOrder = [...groups].sort((a, b) => a[0] - b[0]);
  const reducedShape = byInputOrder.map((g) => g.reduce((size, axis) => size * shape[axis], 1));
  const reducedPerm = groups.map((g) => byInputOrder.indexOf(g));
  return { shape: reducedShape, perm: reducedPerm };
}

const TILE = 32;

function transposeWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const perm = attrs.perm as number[];
  if (x.dtype !== 'float32' || perm.length !== x.shape.length) return wasmKernel('Transpose')(args);
  const outShape = perm.map((axis) => x.shape[axis]);
  const { shape, perm: p } = collapseTranspose(x.shape, perm);
  const rank = shape.length;
  const lastStays = p[rank - 1] === rank - 1;
  const batched2d = rank === 3 && p[0] === 0 && p[1] === 2 && p[2] === 1;
  if (!(rank === 1 || lastStays || rank === 2 || batched2d)) return wasmKernel('Transpose')(args);
  const out = backend.makeOutput(outShape, 'float32');
  const src = heapView(backend, x) as Float32Array;
  const dst = heapView(backend, out) as Float32Array;
  if (rank === 1) {
    dst.set(src);
    return out;
  }
  if (lastStays) {
    // Copy runs of the last axis; walk the output's other axes in order.
    const run = shape[rank - 1];
    const inStrides = new Array<number>(rank).fill(1);
    for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1] * shape[i + 1];
    const outDims = p.slice(0, -1).map((axis) => shape[axis]);
    const outStrideIn = p.slice(0, -1).map((axis) => inStrides[axis]);
    const index = new Array<number>(rank - 1).fill(0);
    const total = dst.length;
    for (let written = 0; written < total; written += run) {
      let from = 0;
      for (let i = 0; i < rank - 1; i++) from += index[i] * outStrideIn[i];
      dst.set(src.subarray(from, from + run), written);
      for (let i = rank - 2; i >= 0; i--) {
        if (++index[i] < outDims[i]) break;
        index[i] = 0;
      }
    }
    return out;
  }
  const batch = rank === 3 ? shape[0] : 1;
  const rows = rank === 3 ? shape[1] : shape[0];
  const cols = rank === 3 ? shape[2] : shape[1];
  for (let b = 0; b < batch; b++) {
    const base = b * rows * cols;
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const r1 = Math.min(r0 + TILE, rows);
      for (let c0 = 0; c0 < cols; c0 += TILE) {
        const c1 = Math.min(c0 + TILE, cols);
        for (let r = r0; r < r1; r++) {
          const rowAt = base + r * cols;
          for (let c = c0; c < c1; c++) dst[base + c * rows + r] = src[rowAt + c];
        }
      }
    }
  }
  return out;
}

export const transposeKernel = transposeWasm;
