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
    return this.call('Slice', { x }, { begin, size });
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
