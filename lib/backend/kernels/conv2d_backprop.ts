/**
 * Conv2D gradients for the wasm backend, built on wasm's XNNPACK convolution and fast matmul.
 *
 * - Input gradient: one stride-1 convolution of the output gradient with a filter that stacks the
 *   stride² "phases" of the flipped, transposed filter along output channels, then DepthToSpace.
 *   No zero-dilated gradient is materialised (a dilated formulation would do stride² more work).
 * - Filter gradient: a convolution of the transposed input [Cin, H, W, N] with the transposed output
 *   gradient [Ho, Wo, N, Cout] as its filter, dilated by the stride; when the kernel tiles the input
 *   exactly (kernel = stride, no padding: 1×1 convs, ViT patch embedding) a single plain matmul.
 *   Neither needs an im2col buffer; the largest temporaries are one transposed copy of x and of dy.
 *
 * Cases outside NHWC float32 with dilation 1 and equal strides fall back to wasm's own kernel
 * (input gradient) or throw a clear error (filter gradient; wasm has none).
 *
 * @example
 *   tf.registerKernel(conv2dBackpropInputConfig());   // after rememberOriginal('Conv2DBackpropInput')
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapView, KernelAttrs, KernelInputs, KernelScope, TensorInfo, wasmKernel } from './wasm_calls';

type PadAttr = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

interface ConvAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as Parameters<typeof tf.backend_util.computeConv2DInfo>[4],
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

function explicitPad(top: number, bottom: number, left: number, right: number) {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * How to lay out one spatial axis of the input gradient as a stride-1 correlation.
 * With u = p + padBefore = s·Q + R, dx[p] = Σ_a dy[Q − a] · w[s·a + R]; the phase R becomes a channel group.
 */
interface PhasePlan {
  taps: number; // A = ceil(K / s), filter taps per phase
  padBefore: number;
  padAfter: number;
  cropBefore: number; // dy rows dropped at the start (never reach the needed outputs)
  cropAfter: number;
  outLength: number; // conv output length (phase blocks)
  offset: number; // where dx starts inside the interleaved result
}

function planPhases(kernel: number, stride: number, padBefore: number, inLength: number, dyLength: number): PhasePlan {
  const taps = Math.ceil(kernel / stride);
  const firstBlock = Math.floor(padBefore / stride);
  const lastBlock = Math.floor((padBefore + inLength - 1) / stride);
  const outLength = lastBlock - firstBlock + 1;
  let before = taps - 1 - firstBlock;
  let cropBefore = 0;
  if (before < 0) {
    cropBefore = -before;
    before = 0;
  }
  let after = outLength + taps - 1 - (dyLength - cropBefore) - before;
  let cropAfter = 0;
  if (after < 0) {
    cropAfter = -after;
    after = 0;
  }
  return {
    taps,
    padBefore: before,
    padAfter: after,
    cropBefore,
    cropAfter,
    outLength,
    offset: padBefore - stride * firstBlock,
  };
}

/**
 * Filter of the input-gradient convolution: [A, A', Cout, s·s'·Cin], phases stacked as DepthToSpace
 * orders them. Taps are whole Cin×Cout blocks, so the flip and phase split are block copies on the heap
 * (wasm's Reverse and rank-6 Transpose are slow); one rank-3 transpose then puts Cout before Cin.
 */
function phaseFilter(
  scope: KernelScope,
  filter: TensorInfo,
  sh: number,
  sw: number,
  ah: number,
  aw: number,
): TensorInfo {
  const [kh, kw, cin, cout] = filter.shape;
  const block = cin * cout;
  const taps = scope.alloc([ah * aw, sh * sw * cin, cout]);
  const src = heapView(scope.backend, filter);
  const dst = heapView(scope.backend, taps);
  let at = 0;
  for (let a = 0; a < ah; a++) {
    for (let b = 0; b < aw; b++) {
      for (let ry = 0; ry < sh; ry++) {
        for (let rx = 0; rx < sw; rx++, at += block) {
          const ky = sh * (ah - 1 - a) + ry;
          const kx = sw * (aw - 1 - b) + rx;
          if (ky < kh && kx < kw) dst.set(src.subarray((ky * kw + kx) * block, (ky * kw + kx + 1) * block), at);
          else dst.fill(0, at, at + block);
        }
      }
    }
  }
  return scope.reshape(scope.transpose(taps, [0, 2, 1]), [ah, aw, cout, sh * sw * cin]);
}

/** DepthToSpace as a rank-4 transpose (wasm's DepthToSpace runs at ~60 ns per element). */
function interleavePhases(scope: KernelScope, phases: TensorInfo, s: number): TensorInfo {
  const [n, qh, qw, c] = phases.shape;
  const split = scope.reshape(phases, [n * qh, qw, s, c / s]);
  return scope.reshape(scope.transpose(split, [0, 2, 1, 3]), [n, qh * s, qw * s, c / (s * s)]);
}

/**
 * Column (im2col) formulations pay off for the input gradient of strided layers (no stride² phase
 * filter) and where the spatial extent is tiny and channels wide (ResNet stage 4): the gradient,
 * not the large filter, becomes XNNPACK's packed operand. Their buffer is N·Ho·Wo·Kh·Kw·Cin floats, so
 * they are used only below COLUMN_LIMIT elements; everything else takes the convolution formulations,
 * which allocate no columns. For the filter gradient the convolution formulation measured as fast or
 * faster everywhere, so columns are used there only when forced.
 * `SSLAD_CONV_GRAD=conv|columns` forces one formulation (benchmarks, tests).
 */
const COLUMN_LIMIT = 4 * 1024 * 1024;

function forcedFormulation(): string | undefined {
  return typeof process !== 'undefined' ? process.env.SSLAD_CONV_GRAD : undefined;
}

function inputGradByColumns(batch: number, stride: number, outPixels: number, taps: number, cin: number): boolean {
  const forced = forcedFormulation();
  if (forced === 'conv') return false;
  if (forced === 'columns') return true;
  return (stride > 1 || outPixels <= 16) && batch * outPixels * taps * cin <= COLUMN_LIMIT;
}

function filterGradByColumns(): boolean {
  return forcedFormulation() === 'columns';
}

export interface Geometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  kh: number;
  kw: number;
  cout: number;
  ho: number;
  wo: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

/** dx = col2im(dy · Wᵀ), computed as (W · dyᵀ)ᵀ so that the small dyᵀ is the packed operand. */
function backpropInputByColumns(scope: KernelScope, dy: TensorInfo, filter: TensorInfo, g: Geometry): TensorInfo {
  const pixels = g.n * g.ho * g.wo;
  const row = g.kh * g.kw * g.cin;
  const dyT = scope.transpose(scope.reshape(dy, [pixels, g.cout]), [1, 0]);
  const colsT = scope.call(
    'BatchMatMul',
    { a: scope.reshape(filter, [1, row, g.cout]), b: scope.reshape(dyT, [1, g.cout, pixels]) },
    { transposeA: false, transposeB: false },
  );
  const cols = scope.transpose(scope.reshape(colsT, [row, pixels]), [1, 0]);
  const dx = scope.alloc([g.n, g.h, g.w, g.cin]);
  const src = heapView(scope.backend, cols);
  const dst = heapView(scope.backend, dx);
  dst.fill(0);
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.ho; oy++) {
      for (let ox = 0; ox < g.wo; ox++) {
        const rowStart = ((b * g.ho + oy) * g.wo + ox) * row;
        for (let ky = 0; ky < g.kh; ky++) {
          const y = oy * g.sh + ky - g.top;
          if (y < 0 || y >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const x = ox * g.sw + kx - g.left;
            if (x < 0 || x >= g.w) continue;
            const from = rowStart + (ky * g.kw + kx) * g.cin;
            const to = ((b * g.h + y) * g.w + x) * g.cin;
            for (let c = 0; c < g.cin; c++) dst[to + c] += src[from + c];
          }
        }
      }
    }
  }
  return dx;
}

/** im2col: [N·Ho·Wo, Kh·Kw·Cin] patches of x (zeros where the window covers padding), freed with the scope. */
export function columnsOf(scope: KernelScope, x: TensorInfo, g: Geometry): TensorInfo {
  const pixels = g.n * g.ho * g.wo;
  const row = g.kh * g.kw * g.cin;
  const cols = scope.alloc([pixels, row]);
  const src = heapView(scope.backend, x);
  const dst = heapView(scope.backend, cols);
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.ho; oy++) {
      for (let ox = 0; ox < g.wo; ox++) {
        let to = ((b * g.ho + oy) * g.wo + ox) * row;
        for (let ky = 0; ky < g.kh; ky++) {
          const y = oy * g.sh + ky - g.top;
          for (let kx = 0; kx < g.kw; kx++, to += g.cin) {
            const xx = ox * g.sw + kx - g.left;
            if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) {
              dst.fill(0, to, to + g.cin);
            } else {
              const from = ((b * g.h + y) * g.w + xx) * g.cin;
              dst.set(src.subarray(from, from + g.cin), to);
            }
          }
        }
      }
    }
  }
  return cols;
}

/** dW = im2col(x)ᵀ · dy, with dy (small here) as the packed operand. */
function backpropFilterByColumns(scope: KernelScope, x: TensorInfo, dy: TensorInfo, g: Geometry): TensorInfo {
  const pixels = g.n * g.ho * g.wo;
  const row = g.kh * g.kw * g.cin;
  const cols = columnsOf(scope, x, g);
  const colsT = scope.transpose(cols, [1, 0]);
  const dw = scope.call(
    'BatchMatMul',
    { a: scope.reshape(colsT, [1, row, pixels]), b: scope.reshape(dy, [1, pixels, g.cout]) },
    { transposeA: false, transposeB: false },
  );
  return scope.reshape(dw, [g.kh, g.kw, g.cin, g.cout]);
}

function conv2dBackpropInputWasm(args: { inputs: KernelInputs; backend: BackendWasm; attrs: KernelAttrs }): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const { dy, filter } = inputs;
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || dy.dtype !== 'float32' || sh !== sw) {
    return wasmKernel('Conv2DBackpropInput')(args);
  }
  const [n, h, w, cin] = attrs.inputShape;
  const rows = planPhases(info.filterHeight, sh, info.padInfo.top, h, dy.shape[1]);
  const cols = planPhases(info.filterWidth, sw, info.padInfo.left, w, dy.shape[2]);
  const scope = new KernelScope(backend);
  try {
    const [kh, kw, , cout] = filter.shape;
    if (inputGradByColumns(n, sh, dy.shape[1] * dy.shape[2], kh * kw, cin)) {
      const geometry = {
        n,
        h,
        w,
        cin,
        kh,
        kw,
        cout,
        ho: dy.shape[1],
        wo: dy.shape[2],
        sh,
        sw,
        top: info.padInfo.top,
        left: info.padInfo.left,
      };
      return scope.keep(backpropInputByColumns(scope, dy, filter, geometry));
    }
    const dyUsed = scope.slice(
      dy,
      [0, rows.cropBefore, cols.cropBefore, 0],
      [n, dy.shape[1] - rows.cropBefore - rows.cropAfter, dy.shape[2] - cols.cropBefore - cols.cropAfter, dy.shape[3]],
    );
    const g = phaseFilter(scope, filter, sh, sw, rows.taps, cols.taps);
    const phases = scope.call(
      'Conv2D',
      { x: dyUsed, filter: g },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: explicitPad(rows.padBefore, rows.padAfter, cols.padBefore, cols.padAfter),
        dataFormat: 'NHWC',
      },
    );
    const interleaved = sh > 1 ? interleavePhases(scope, phases, sh) : phases;
    return scope.keep(scope.slice(interleaved, [0, rows.offset, cols.offset, 0], [n, h, w, cin]));
  } finally {
    scope.dispose();
  }
}

function conv2dBackpropFilterWasm(args: {
  inputs: KernelInputs;
  backend: BackendWasm;
  attrs: KernelAttrs;
}): TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const { x, dy } = inputs;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') {
    throw new Error(
      `Conv2DBackpropFilter (wasm, project kernel): dataFormat ${attrs.dataFormat} unsupported; use NHWC`,
    );
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(
      `Conv2DBackpropFilter (wasm, project kernel): x is ${x.dtype} and dy ${dy.dtype}; both must be float32`,
    );
  }
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const [kh, kw, cin, cout] = attrs.filterShape;
  const [n, h, w] = x.shape;
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const [ho, wo] = [info.outHeight, info.outWidth];
  const { top, left } = info.padInfo;
  // Rows/cols of x the forward conv reads end at (out-1)·s + k − pad; beyond that x is cropped.
  const bottom = (ho - 1) * sh + kh - h - top;
  const right = (wo - 1) * sw + kw - w - left;
  const scope = new KernelScope(backend);
  try {
    if (!(kh === sh && kw === sw) && filterGradByColumns()) {
      const geometry = { n, h, w, cin, kh, kw, cout, ho, wo, sh, sw, top, left };
      return scope.keep(backpropFilterByColumns(scope, x, dy, geometry));
    }
    const xUsed = scope.slice(x, [0, 0, 0, 0], [n, h + Math.min(bottom, 0), w + Math.min(right, 0), cin]);
    if (kh === sh && kw === sw && top === 0 && left === 0 && bottom <= 0 && right <= 0) {
      // Patches tile x: dW[kh·kw·cin, cout] = patchesᵀ · dy, one plain matmul.
      // Two fast low-rank transposes (wasm's rank-6 transpose is slow): x → patches [N·Ho·Wo, Kh·Kw·Cin] → ᵀ.
      const rowsOfPatches = scope.reshape(xUsed, [n * ho, kh, wo, kw * cin]);
      const patches = scope.transpose(rowsOfPatches, [0, 2, 1, 3]);
      const patchesT = scope.transpose(scope.reshape(patches, [n * ho * wo, kh * kw * cin]), [1, 0]);
      const a = scope.reshape(patchesT, [1, kh * kw * cin, n * ho * wo]);
      const b = scope.reshape(dy, [1, n * ho * wo, cout]);
      const dw = scope.call('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
      return scope.keep(scope.reshape(dw, [kh, kw, cin, cout]));
    }
    const xT = scope.transpose(xUsed, [3, 1, 2, 0]); // [Cin, H, W, N]: batch = Cin, channels = N
    const dyT = scope.transpose(dy, [1, 2, 0, 3]); // filter [Ho, Wo, N, Cout]
    const dwT = scope.call(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        pad: explicitPad(top, Math.max(bottom, 0), left, Math.max(right, 0)),
        dataFormat: 'NHWC',
      },
    );
    if (dwT.shape[1] !== kh || dwT.shape[2] !== kw) {
      throw new Error(
        `Conv2DBackpropFilter (wasm, project kernel): internal shape ${dwT.shape} for filter ${attrs.filterShape}`,
      );
    }
    return scope.keep(scope.transpose(dwT, [1, 2, 0, 3]));
  } finally {
    scope.dispose();
  }
}

export const conv2dBackpropInputKernel = conv2dBackpropInputWasm;
export const conv2dBackpropFilterKernel = conv2dBackpropFilterWasm;
