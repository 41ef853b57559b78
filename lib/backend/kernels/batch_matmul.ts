/**
 * BatchMatMul for the wasm backend that always lands on XNNPACK's fully-connected path.
 *
 * wasm's own kernel uses XNNPACK only when both operands have batch 1 and neither is transposed;
 * everything else (every backward matmul, every [B, T, D]·[D, E] product) runs a scalar loop about
 * 10× slower. Here transposes are done explicitly (wasm's Transpose), a shared right operand folds
 * the batch into rows, and true batched products run one fast matmul per batch entry.
 *
 * @example
 *   tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMulKernel });
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KernelAttrs, KernelInputs, KernelScope, TensorInfo, wasmKernel } from './wasm_calls';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * Packing XNNPACK's right operand costs several times a transpose per element (measured: ~16 vs ~1.5 ns);
 * this weighs both orders of a single product by the elements each packs and transposes.
 */
const PACK_COST = 8;

export function transposedIsCheaper(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): boolean {
  const direct = PACK_COST * k * n + (transposeA ? m * k : 0) + (transposeB ? k * n : 0);
  const swapped = PACK_COST * k * m + (transposeB ? 0 : k * n) + (transposeA ? 0 : m * k) + m * n;
  return swapped < direct;
}

/** op(a) is [m, k] and op(b) is [kB, n] in the last two axes (kB must equal k for a valid product). */
export function matMulGeometry(
  a: TensorInfo,
  b: TensorInfo,
  attrs: KernelAttrs,
): { transposeA: boolean; transposeB: boolean; m: number; k: number; kB: number; n: number } {
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  return {
    transposeA,
    transposeB,
    m: transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2],
    k: transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1],
    kB: transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2],
    n: transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1],
  };
}

function batchMatMulWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { inputs, backend } = args;
  const { a, b } = inputs;
  const original = wasmKernel('BatchMatMul');
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return original(args);
  const { transposeA, transposeB, m, k, kB, n } = matMulGeometry(a, b, args.attrs);
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  if (k !== kB) {
    throw new Error(
      `BatchMatMul (wasm, project kernel): inner sizes differ: a ${a.shape} (transposeA=${transposeA}) ` +
        `and b ${b.shape} (transposeB=${transposeB})`,
    );
  }
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const outBatchShape = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const outShape = [...outBatchShape, m, n];
  if (m * n * k === 0 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return original(args);

  const scope = new KernelScope(backend);
  try {
    if (batchA === 1 && batchB === 1 && transposedIsCheaper(m, k, n, transposeA, transposeB)) {
      // Cᵀ = op(B)ᵀ·op(A)ᵀ: XNNPACK packs its right operand anew for every new tensor (training weights and
      // gradients always are), so pack the smaller one. Weight gradients Xᵀ·dY pack X instead of dY.
      const left = transposeB ? scope.reshape(b, [1, n, k]) : scope.transpose(scope.reshape(b, [1, k, n]), [0, 2, 1]);
      const right = transposeA ? scope.reshape(a, [1, k, m]) : scope.transpose(scope.reshape(a, [1, m, k]), [0, 2, 1]);
      const cT = scope.call('BatchMatMul', { a: left, b: right }, { transposeA: false, transposeB: false });
      return scope.keep(scope.reshape(scope.transpose(cT, [0, 2, 1]), outShape));
    }
    const aPlain = transposeA ? scope.transpose(a, swapLastTwo(aRank)) : a;
    const bPlain = transposeB ? scope.transpose(b, swapLastTwo(bRank)) : b;
    const fast = (left: TensorInfo, right: TensorInfo) =>
      scope.call('BatchMatMul', { a: left, b: right }, { transposeA: false, transposeB: false });
    if (batchB === 1) {
      // One weight matrix: fold every batch entry of a into rows.
      const c = fast(scope.reshape(aPlain, [1, batchA * m, k]), scope.reshape(bPlain, [1, k, n]));
      return scope.keep(scope.reshape(c, outShape));
    }
    if (batchA === 1) {
      // aᵀ shared: C[i] = A·B[i]; lay the B[i] side by side as one [K, batch·N] matrix.
      const bSide = scope.transpose(scope.reshape(bPlain, [batchB, k, n]), [1, 0, 2]);
      const c = fast(scope.reshape(aPlain, [1, m, k]), scope.reshape(bSide, [1, k, batchB * n]));
      const cT = scope.transpose(scope.reshape(c, [m, batchB, n]), [1, 0, 2]);
      return scope.keep(scope.reshape(cT, outShape));
    }
    const a3 = scope.reshape(aPlain, [batchA, m, k]);
    const b3 = scope.reshape(bPlain, [batchB, k, n]);
    const parts: TensorInfo[] = [];
    for (let i = 0; i < batchA; i++) {
      const ai = scope.slice(a3, [i, 0, 0], [1, m, k]);
      const bi = scope.slice(b3, [i, 0, 0], [1, k, n]);
      parts.push(fast(ai, bi));
    }
    const c = parts.length === 1 ? parts[0] : scope.call('Concat', parts as unknown as KernelInputs, { axis: 0 });
    return scope.keep(scope.reshape(c, outShape));
  } finally {
    scope.dispose();
  }
}

export const batchMatMulKernel = batchMatMulWasm;
