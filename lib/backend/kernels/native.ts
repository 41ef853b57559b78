/**
 * Native kernels registered over the project's wasm kernels: oneDNN convolutions (forward and both
 * gradients), oneDNN's sgemm for BatchMatMul, the fused batch norm and layer norm, leading-axes Sum and
 * MaxPoolGrad in C++; plus the exact GELU forward and backward (SsladGelu, SsladGeluGrad), which only the
 * addon provides.
 *
 * They read and write the wasm backend's tensors in place: each kernel allocates its outputs first
 * (makeOutput may grow the heap, which detaches earlier views), then hands heap views to the addon.
 * Every kernel falls back, per call, to the project's wasm kernel for what it does not handle
 * (other dtypes or layouts, dilations, batch shapes that broadcast in more than one operand).
 *
 * `SSLAD_NATIVE_CONV=dnnl|columns` forces one convolution formulation (oneDNN's convolution, or
 * im2col + sgemm); by default each call takes the one measured faster for its shape (convMode).
 *
 * @example
 *   useNativeAddon(loadNative().addon);   // before registerWasmTrainingKernels
 *   setNativeKernelsActive(false);        // route every call to the wasm kernels (tests, benchmarks)
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NativeAddon } from '../native';
import { batchMatMulKernel, matMulGeometry } from './batch_matmul';
import { batchNormTrainGradKernel, batchNormTrainKernel } from './batch_norm';
import { conv2dKernel } from './conv2d_forward';
import { conv2dBackpropFilterKernel, conv2dBackpropInputKernel, convInfo } from './conv2d_backprop';
import { layerNormGradKernel, layerNormKernel } from './layer_norm';
import { maxPoolGradKernel, maxPoolInfo } from './max_pool_grad';
import { sumKernel } from './split_sum';
import { heapView, KernelAttrs, KernelInputs, TensorInfo } from './wasm_calls';

type Args = { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs };

let addon: NativeAddon | null = null;
let active = true;

/** The addon the native kernels call (null: every call goes to the wasm kernels). */
export function useNativeAddon(loaded: NativeAddon | null): void {
  addon = loaded;
}

/** Switch the registered native kernels between the addon and the wasm kernels at run time. */
export function setNativeKernelsActive(on: boolean): void {
  active = on;
}

/** Whether calls currently go to the addon. */
export function nativeKernelsActive(): boolean {
  return active && addon !== null;
}

function live(): NativeAddon | null {
  return active ? addon : null;
}

const f32 = (backend: BackendWasm, t: TensorInfo) => heapView(backend, t) as Float32Array;

type ConvPass = 'forward' | 'input' | 'filter';

/**
 * oneDNN's convolution (1) or im2col + sgemm (2). Measured one thread, batch 32, ResNet-18 at 64×64: columns
 * win for strided layers (no stride-phase work, small outputs) and where the output has ≤ 4 pixels (stage 4:
 * 2×2, 512 channels), oneDNN's blocked kernels everywhere else; the RGB stem's forward and filter gradient
 * (3 input channels) stay on oneDNN.
 */
function convMode(pass: ConvPass, cin: number, stride: number, outPixels: number): number {
  const forced = process.env.SSLAD_NATIVE_CONV;
  if (forced === 'dnnl') return 1;
  if (forced === 'columns') return 2;
  if (forced !== undefined && forced !== '' && forced !== 'auto') {
    throw new Error(`SSLAD_NATIVE_CONV=${forced} is not a formulation; use dnnl, columns or auto`);
  }
  if (cin < 8 && pass !== 'input') return 1;
  return stride > 1 || outPixels <= 4 ? 2 : 1;
}

function dilated(attrs: KernelAttrs): boolean {
  const d = attrs.dilations as number | [number, number] | undefined;
  return d !== undefined && (Array.isArray(d) ? d.some((v) => v !== 1) : d !== 1);
}

/**
 * The addon's geometry [n, h, w, cin, kh, kw, cout, ho, wo, sh, sw, top, bottom, left, right, mode], or null
 * when TF.js's padding does not give its output size exactly (a rounding mode oneDNN has no notion of).
 */
function geometry(pass: ConvPass, xShape: number[], filterShape: number[], attrs: KernelAttrs): Int32Array | null {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || dilated(attrs)) return null;
  const info = convInfo(xShape, filterShape, attrs as unknown as Parameters<typeof convInfo>[2]);
  const [kh, kw, cin, cout] = filterShape;
  const { top, bottom, left, right } = info.padInfo;
  const ho = info.outHeight;
  const wo = info.outWidth;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const fits = (inLen: number, padA: number, padB: number, k: number, s: number, out: number) =>
    padA >= 0 && padB >= 0 && Math.floor((inLen + padA + padB - k) / s) + 1 === out;
  if (!fits(info.inHeight, top, bottom, kh, sh, ho) || !fits(info.inWidth, left, right, kw, sw, wo)) return null;
  if (info.batchSize * ho * wo * cin * cout === 0) return null;
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    cin,
    kh,
    kw,
    cout,
    ho,
    wo,
    sh,
    sw,
    top,
    bottom,
    left,
    right,
    convMode(pass, cin, Math.max(sh, sw), ho * wo),
  ]);
}

function conv2dNative(args: Args): TensorInfo {
  const { x, filter } = args.inputs;
  const native = live();
  const g =
    native && x.dtype === 'float32' && filter.dtype === 'float32'
      ? geometry('forward', x.shape, filter.shape, args.attrs)
      : null;
  if (!native || !g) return conv2dKernel(args);
  const out = args.backend.makeOutput([g[0], g[7], g[8], g[6]], 'float32');
  native.conv2d(f32(args.backend, x), f32(args.backend, filter), f32(args.backend, out), g);
  return out;
}

function conv2dBackpropInputNative(args: Args): TensorInfo {
  const { dy, filter } = args.inputs;
  const inputShape = args.attrs.inputShape as number[];
  const native = live();
  const g =
    native && dy.dtype === 'float32' && filter.dtype === 'float32'
      ? geometry('input', inputShape, filter.shape, args.attrs)
      : null;
  if (!native || !g) return conv2dBackpropInputKernel(args);
  const out = args.backend.makeOutput(inputShape.slice(), 'float32');
  native.conv2dBackpropInput(f32(args.backend, dy), f32(args.backend, filter), f32(args.backend, out), g);
  return out;
}

function conv2dBackpropFilterNative(args: Args): TensorInfo {
  const { x, dy } = args.inputs;
  const filterShape = args.attrs.filterShape as number[];
  const native = live();
  const g =
    native && x.dtype === 'float32' && dy.dtype === 'float32'
      ? geometry('filter', x.shape, filterShape, args.attrs)
      : null;
  if (!native || !g) return conv2dBackpropFilterKernel(args);
  const out = args.backend.makeOutput(filterShape.slice(), 'float32');
  native.conv2dBackpropFilter(f32(args.backend, x), f32(args.backend, dy), f32(args.backend, out), g);
  return out;
}

function withoutLeadingOnes(shape: number[]): number[] {
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  return shape.slice(i);
}

function batchMatMulNative(args: Args): TensorInfo {
  const { a, b } = args.inputs;
  const native = live();
  if (!native || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2)
    return batchMatMulKernel(args);
  const { transposeA, transposeB, m, k, kB, n } = matMulGeometry(a, b, args.attrs);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(aBatch);
  const batchB = tf.util.sizeFromShape(bBatch);
  // One batch of 1 broadcasts, or both batches are the same; anything else is the wasm kernel's.
  const simple =
    batchA === 1 || batchB === 1 || tf.util.arraysEqual(withoutLeadingOnes(aBatch), withoutLeadingOnes(bBatch));
  if (k !== kB || !simple || m * n * k === 0) return batchMatMulKernel(args);
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const out = args.backend.makeOutput([...outBatch, m, n], 'float32');
  native.batchMatMul(
    f32(args.backend, a),
    f32(args.backend, b),
    f32(args.backend, out),
    Int32Array.from([batchA, batchB, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0]),
  );
  return out;
}

function rowsAndLast(x: TensorInfo): { rows: number; last: number } {
  const last = x.shape[x.shape.length - 1];
  return { rows: tf.util.sizeFromShape(x.shape) / last, last };
}

function batchNormTrainNative(args: Args): TensorInfo[] {
  const { x, weight, bias } = args.inputs;
  const native = live();
  if (!native || x.dtype !== 'float32' || x.shape.length < 1 || tf.util.sizeFromShape(x.shape) === 0)
    return batchNormTrainKernel(args);
  const { rows, last } = rowsAndLast(x);
  const { backend } = args;
  const y = backend.makeOutput(x.shape, 'float32');
  const mean = backend.makeOutput([last], 'float32');
  const variance = backend.makeOutput([last], 'float32');
  native.batchNormTrain(
    f32(backend, x),
    f32(backend, weight),
    f32(backend, bias),
    f32(backend, y),
    f32(backend, mean),
    f32(backend, variance),
    rows,
    last,
    Number(args.attrs.eps),
  );
  return [y, mean, variance];
}

function batchNormTrainGradNative(args: Args): TensorInfo[] {
  const { dy, x, mean, variance, weight } = args.inputs;
  const native = live();
  if (!native || x.dtype !== 'float32' || dy.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0)
    return batchNormTrainGradKernel(args);
  const { rows, last } = rowsAndLast(x);
  const { backend } = args;
  const dx = backend.makeOutput(x.shape, 'float32');
  const dw = backend.makeOutput([last], 'float32');
  const db = backend.makeOutput([last], 'float32');
  native.batchNormTrainGrad(
    f32(backend, dy),
    f32(backend, x),
    f32(backend, mean),
    f32(backend, variance),
    f32(backend, weight),
    f32(backend, dx),
    f32(backend, dw),
    f32(backend, db),
    rows,
    last,
    Number(args.attrs.eps),
  );
  return [dx, dw, db];
}

function layerNormNative(args: Args): TensorInfo[] {
  const { x, weight, bias } = args.inputs;
  const native = live();
  if (!native || x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0) return layerNormKernel(args);
  const { rows, last } = rowsAndLast(x);
  const { backend } = args;
  const y = backend.makeOutput(x.shape, 'float32');
  const rstd = backend.makeOutput([rows], 'float32');
  native.layerNorm(
    f32(backend, x),
    f32(backend, weight),
    f32(backend, bias),
    f32(backend, y),
    f32(backend, rstd),
    rows,
    last,
    Number(args.attrs.eps),
  );
  return [y, rstd];
}

function layerNormGradNative(args: Args): TensorInfo[] {
  const { dy, x, rstd, weight } = args.inputs;
  const native = live();
  if (!native || x.dtype !== 'float32' || dy.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0)
    return layerNormGradKernel(args);
  const { rows, last } = rowsAndLast(x);
  const { backend } = args;
  const dx = backend.makeOutput(x.shape, 'float32');
  const dw = backend.makeOutput([last], 'float32');
  const db = backend.makeOutput([last], 'float32');
  native.layerNormGrad(
    f32(backend, dy),
    f32(backend, x),
    f32(backend, rstd),
    f32(backend, weight),
    f32(backend, dx),
    f32(backend, dw),
    f32(backend, db),
    rows,
    last,
  );
  return [dx, dw, db];
}

function sumNative(args: Args): TensorInfo {
  const { x } = args.inputs;
  const native = live();
  if (!native || x.dtype !== 'float32') return sumKernel(args);
  const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  // Leading axes only (bias gradients [rows, C] → [C], and full reductions); others go to the wasm kernel.
  if (axes.length === 0 || !axes.every((a, i) => a === i)) return sumKernel(args);
  const kept = x.shape.slice(axes.length);
  const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
  const inner = tf.util.sizeFromShape(kept);
  if (rows * inner === 0) return sumKernel(args);
  const out = args.backend.makeOutput(args.attrs.keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
  native.sumRows(f32(args.backend, x), f32(args.backend, out), rows, inner);
  return out;
}

function maxPoolGradNative(args: Args): TensorInfo {
  const { dy, input } = args.inputs;
  const native = live();
  if (!native || dy.dtype !== 'float32' || input.dtype !== 'float32') return maxPoolGradKernel(args);
  const info = maxPoolInfo(input, args.attrs);
  if (dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth || dy.shape[3] !== info.inChannels)
    return maxPoolGradKernel(args);
  const out = args.backend.makeOutput(input.shape, 'float32');
  const params = Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
  native.maxPoolGrad(f32(args.backend, dy), f32(args.backend, input), f32(args.backend, out), params);
  return out;
}

export const GELU = 'SsladGelu';
export const GELU_GRAD = 'SsladGeluGrad';

function requireNative(kernel: string): NativeAddon {
  const native = live();
  if (!native)
    throw new Error(
      `${kernel}: the native kernels are off; callers check nativeKernelsActive() first (lib/backend/kernels/gelu.ts)`,
    );
  return native;
}

function geluNative(args: Args): TensorInfo {
  const { x } = args.inputs;
  const native = requireNative(GELU);
  if (x.dtype !== 'float32') throw new Error(`${GELU}: x must be float32, got ${x.dtype}`);
  const y = args.backend.makeOutput(x.shape, 'float32');
  native.gelu(f32(args.backend, x), f32(args.backend, y), tf.util.sizeFromShape(x.shape));
  return y;
}

function geluGradNative(args: Args): TensorInfo {
  const { dy, x } = args.inputs;
  const native = requireNative(GELU_GRAD);
  const dx = args.backend.makeOutput(x.shape, 'float32');
  native.geluGrad(f32(args.backend, dy), f32(args.backend, x), f32(args.backend, dx), tf.util.sizeFromShape(x.shape));
  return dx;
}

export const AXPBY = 'SsladAxpby';

/** out = a·x + b·y for same-shape float32 x and y (attrs a, b). */
function axpbyNative(args: Args): TensorInfo {
  const { x, y } = args.inputs;
  const native = requireNative(AXPBY);
  if (x.dtype !== 'float32' || y.dtype !== 'float32' || !tf.util.arraysEqual(x.shape, y.shape)) {
    throw new Error(`${AXPBY}: x [${x.shape}] ${x.dtype} and y [${y.shape}] ${y.dtype} must be float32 of one shape`);
  }
  const out = args.backend.makeOutput(x.shape, 'float32');
  native.axpby(
    f32(args.backend, x),
    f32(args.backend, y),
    f32(args.backend, out),
    Number(args.attrs.a),
    Number(args.attrs.b),
    tf.util.sizeFromShape(x.shape),
  );
  return out;
}

/** Kernels only the addon provides (no wasm kernel of that name); registered when it loads. */
export const NATIVE_ONLY_KERNELS: Record<string, unknown> = {
  [GELU]: geluNative,
  [GELU_GRAD]: geluGradNative,
  [AXPBY]: axpbyNative,
};

/** Kernel name → native kernel, each falling back to the project's wasm kernel of that name. */
export const NATIVE_KERNELS: Record<string, unknown> = {
  Conv2D: conv2dNative,
  Conv2DBackpropInput: conv2dBackpropInputNative,
  Conv2DBackpropFilter: conv2dBackpropFilterNative,
  BatchMatMul: batchMatMulNative,
  SsladBatchNormTrain: batchNormTrainNative,
  SsladBatchNormTrainGrad: batchNormTrainGradNative,
  SsladLayerNorm: layerNormNative,
  SsladLayerNormGrad: layerNormGradNative,
  Sum: sumNative,
  MaxPoolGrad: maxPoolGradNative,
};
