/**
 * Conv2D for the wasm backend where the output has few pixels and many channels (ResNet stage 4 at small
 * resolutions): XNNPACK re-packs a new filter on every call (every training step makes new weights), which
 * there costs several times the convolution itself (3×3×512×512: ~50 ms packing against ~10 ms of
 * arithmetic). As columns, conv = im2col(x)·W, and the project's BatchMatMul computes it as (Wᵀ·colsᵀ)ᵀ,
 * packing the small column matrix instead. Everything else goes to wasm's own Conv2D.
 *
 * @example
 *   tf.registerKernel({ kernelName: 'Conv2D', backendName: 'wasm', kernelFunc: conv2dKernel });
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { batchMatMulKernel, transposedIsCheaper } from './batch_matmul';
import { columnsOf, convInfo } from './conv2d_backprop';
import { KernelAttrs, KernelInputs, KernelScope, TensorInfo, wasmKernel } from './wasm_calls';

/** Largest column buffer (floats) this path allocates. */
const COLUMN_LIMIT = 4 * 1024 * 1024;

function conv2dWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, filter } = inputs;
  const dilations = attrs.dilations as number | [number, number] | undefined;
  const dilated =
    dilations !== undefined && (Array.isArray(dilations) ? dilations.some((d) => d !== 1) : dilations !== 1);
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || x.dtype !== 'float32' || filter.dtype !== 'float32' || dilated) {
    return wasmKernel('Conv2D')(args);
  }
  const [kh, kw, cin, cout] = filter.shape;
  const info = convInfo(x.shape, filter.shape, attrs as unknown as Parameters<typeof convInfo>[2]);
  const pixels = info.batchSize * info.outHeight * info.outWidth;
  const row = kh * kw * cin;
  if (pixels * row > COLUMN_LIMIT || !transposedIsCheaper(pixels, row, cout, false, false))
    return wasmKernel('Conv2D')(args);
  const scope = new KernelScope(backend);
  try {
    const geometry = {
      n: info.batchSize,
      h: info.inHeight,
      w: info.inWidth,
      cin,
      kh,
      kw,
      cout,
      ho: info.outHeight,
      wo: info.outWidth,
      sh: info.strideHeight,
      sw: info.strideWidth,
      top: info.padInfo.top,
      left: info.padInfo.left,
    };
    const cols = columnsOf(scope, x, geometry);
    const product = batchMatMulKernel({
      inputs: { a: scope.reshape(cols, [1, pixels, row]), b: scope.reshape(filter, [1, row, cout]) },
      backend,
      attrs: { transposeA: false, transposeB: false },
    });
    scope.adopt(product);
    return scope.keep(scope.reshape(product, [info.batchSize, info.outHeight, info.outWidth, cout]));
  } finally {
    scope.dispose();
  }
}

export const conv2dKernel = conv2dWasm;
