/**
 * Calling wasm kernels from inside another kernel, with the intermediates freed afterwards.
 *
 * A kernel function receives and returns `TensorInfo`s (no engine tensors), so compositions call
 * the other kernels' functions directly and must free every intermediate buffer themselves.
 *
 * @example
 *   const scope = new KernelScope(backend);
 *   try {
 *     const xT = scope.call('Transpose', { x }, { perm: [3, 1, 2, 0] });
 *     return scope.keep(scope.call('Conv2D', { x: xT, filter }, convAttrs));
 *   } finally {
 *     scope.dispose();   // frees xT, not the kept output
 *   }
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tf.TensorInfo;
export type KernelInputs = Record<string, TensorInfo>;
export type KernelAttrs = Record<string, unknown>;
export type WasmKernelFunc = (args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }) => TensorInfo;

/** The kernels as wasm registered them before the project replaced any (so compositions never recurse). */
const originals = new Map<string, tf.KernelConfig>();

/** Remember wasm's own kernel before it gets replaced. */
export function rememberOriginal(kernelName: string): tf.KernelConfig | undefined {
  if (!originals.has(kernelName)) {
    const config = tf.getKernel(kernelName, 'wasm');
    if (config) originals.set(kernelName, config);
  }
  return originals.get(kernelName);
}

/** wasm's own implementation of a kernel (the original when the project replaced it). */
export function wasmKernel(kernelName: string): WasmKernelFunc {
  const config = originals.get(kernelName) ?? tf.getKernel(kernelName, 'wasm');
  if (!config) throw new Error(`wasm backend has no kernel ${kernelName}`);
  return config.kernelFunc as unknown as WasmKernelFunc;
}

/** Runs wasm kernels and frees what they produced unless kept. */
export class KernelScope {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** Run a wasm kernel; its output is freed by `dispose()` unless passed to `keep`. */
  call(kernelName: string, inputs: KernelInputs, attrs: KernelAttrs = {}): TensorInfo {
    const out = wasmKernel(kernelName)({ inputs, backend: this.backend, attrs });
    this.owned.push(out);
    return out;
  }

  /** A view with another shape (shares the buffer; reference counted like wasm's Reshape). */
  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
    return this.call('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.call('Transpose', { x }, { perm });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i])) return x;
    const out = sliceKernel({ inputs: { x }, backend: this.backend, attrs: { begin, size } });
    this.owned.push(out);
    return out;
  }

  /** A fresh, uninitialised buffer on the wasm heap. */
  alloc(shape: number[], dtype: tf.DataType = 'float32'): TensorInfo {
    const out = this.backend.makeOutput(shape, dtype);
    this.owned.push(out);
    return out;
  }

  /** Free `x` with the scope (an output of a kernel function called directly). */
  adopt(x: TensorInfo): TensorInfo {
    this.owned.push(x);
    return x;
  }

  /** Exclude an output from `dispose()`; returns it. */
  keep(x: TensorInfo): TensorInfo {
    const at = this.owned.lastIndexOf(x);
    if (at >= 0) {
      this.owned.splice(at, 1);
    } else {
      // An input passed through unchanged: the caller gets its own reference.
      this.backend.incRef(x.dataId);
    }
    return x;
  }

  dispose(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/**
 * A live view of a tensor's buffer on the wasm heap. Take views only after the last allocation:
 * growing the heap detaches earlier views.
 */
export function heapView(backend: BackendWasm, x: TensorInfo): Float32Array | Int32Array | Uint8Array {
  return backend.typedArrayFromHeap(x) as Float32Array | Int32Array | Uint8Array;
}

/**
 * Slice that copies straight from the heap. wasm's own Slice first copies the *whole* input out of the
 * heap (readSync) for every call, which makes tf.split / slice / concat-gradients cost O(input) each.
 */
export function sliceKernel(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  if (x.dtype === 'string' || x.dtype === 'complex64') return wasmKernel('Slice')(args);
  const [begin, size] = tf.slice_util.parseSliceParams(
    x as tf.TensorInfo as tf.Tensor,
    attrs.begin as number[],
    attrs.size as number[],
  );
  const out = backend.makeOutput(size, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  const rank = x.shape.length;
  const strides = [...tf.util.computeStrides(x.shape), 1];
  // Contiguous run: the trailing dims taken whole, times the extent of the first partial one.
  let d = rank - 1;
  let run = 1;
  while (d >= 0 && size[d] === x.shape[d]) {
    run *= x.shape[d];
    d--;
  }
  const src = heapView(backend, x);
  const dst = heapView(backend, out);
  if (d < 0) {
    dst.set(src.subarray(0, total));
    return out;
  }
  run *= size[d];
  const base = begin.reduce((acc, b, i) => acc + b * strides[i], 0);
  const index = new Array<number>(d).fill(0);
  for (let written = 0; written < total; written += run) {
    let offset = base;
    for (let i = 0; i < d; i++) offset += index[i] * strides[i];
    dst.set(src.subarray(offset, offset + run), written);
    for (let i = d - 1; i >= 0; i--) {
      if (++index[i] < size[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

/**
 * Identity that shares the buffer (reference counted, as wasm's Reshape and the cpu backend's Identity do).
 * wasm's own copies it, and the engine clones every tensor it saves for the backward pass, so each
 * activation was stored twice and copied once per step. Tensors are immutable, so sharing is safe.
 */
export function identityKernel(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') return wasmKernel('Identity')(args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

/**
 * Concat that copies straight between heap buffers, one contiguous run per input and outer index.
 * wasm's own reads every input out of the heap first (readSync), about 5 ms for ViT-Tiny's qkv gradient.
 */
export function concatKernel(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { backend, attrs } = args;
  const list = Object.values(args.inputs) as TensorInfo[];
  const dtype = list[0]?.dtype;
  if (!dtype || dtype === 'string' || dtype === 'complex64' || list.some((t) => t.dtype !== dtype))
    return wasmKernel('Concat')(args);
  const axis = tf.util.parseAxisParam(attrs.axis as number, list[0].shape)[0];
  const outShape = tf.backend_util.computeOutShape(
    list.map((t) => t.shape),
    axis,
  );
  const out = backend.makeOutput(outShape, dtype);
  const total = tf.util.sizeFromShape(outShape);
  if (total === 0) return out;
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const parts = list
    .filter((t) => tf.util.sizeFromShape(t.shape) > 0)
    .map((t) => ({ view: heapView(backend, t), inner: tf.util.sizeFromShape(t.shape.slice(axis)) }));
  const dst = heapView(backend, out);
  for (let o = 0, at = 0; o < outer; o++) {
    for (const { view, inner } of parts) {
      dst.set(view.subarray(o * inner, (o + 1) * inner), at);
      at += inner;
    }
  }
  return out;
}
