/**
 * PyTorch-equivalent layers on TF.js: Linear, Conv2d, BatchNorm, LayerNorm, weight-normalised Linear,
 * plus a ModuleList container and functional helpers (exact GELU, max-pool, L2 normalisation).
 *
 * Parameter names, defaults and initialisation follow torch.nn; layouts follow TF.js (NHWC activations,
 * HWIO conv kernels, [in, out] linear kernels). `lib/models/safetensors.ts` converts layouts on import/export.
 *
 * @example
 *   const seeds = new SeedStream(0);
 *   const fc = new Linear(512, 10, { seeds });
 *   const bn = new BatchNorm(10);
 *   const y = tf.tidy(() => bn.forward(fc.forward(x)));   // train mode: batch stats, running stats updated
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from './module';
import { batchNormTrain } from '../backend/kernels/batch_norm';
import { isProjectWasmKernel } from '../backend/kernels';
import { layerNorm } from '../backend/kernels/layer_norm';
import { geluExact } from '../backend/kernels/gelu';
import { SeedStream, torchDefaultUniform, kaimingNormalFanOut, truncNormal, xavierUniform } from './init';

/** A module with a single-tensor forward. */
export interface Layer {
  forward(x: tf.Tensor): tf.Tensor;
}

/** Ordered children named '0', '1', … like nn.ModuleList / nn.Sequential. */
export class ModuleList<T extends Module> extends Module {
  readonly items: T[] = [];

  constructor(items: T[] = []) {
    super();
    for (const item of items) this.push(item);
  }

  push(item: T): T {
    this.register(String(this.items.length), item);
    this.items.push(item);
    return item;
  }
}

/**
 * How Linear weights start:
 * - 'torch': nn.Linear's default (kaiming_uniform a=√5, bias U(±1/√in));
 * - 'trunc_normal': timm/DINO (trunc_normal std .02, zero bias);
 * - 'xavier': MAE (xavier_uniform, zero bias).
 */
export type LinearInit = 'torch' | 'trunc_normal' | 'xavier';

export interface LinearOptions {
  seeds: SeedStream;
  bias?: boolean;
  init?: LinearInit;
}

/** y = x·W + b with W stored [in, out]; accepts any rank ≥ 2 (leading dimensions are batch). */
export class Linear extends Module implements Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions,
  ) {
    super();
    const init = options.init ?? 'torch';
    const shape = [inFeatures, outFeatures];
    if (init === 'torch')
      this.weight = this.param('weight', torchDefaultUniform(shape, inFeatures, options.seeds.next()));
    else if (init === 'trunc_normal')
      this.weight = this.param('weight', truncNormal(shape, 0.02, options.seeds.next()));
    else this.weight = this.param('weight', xavierUniform(shape, inFeatures, outFeatures, options.seeds.next()));
    if (options.bias === false) this.bias = null;
    else if (init === 'torch')
      this.bias = this.param('bias', torchDefaultUniform([outFeatures], inFeatures, options.seeds.next()));
    else this.bias = this.param('bias', tf.zeros([outFeatures]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const lastDim = x.shape[x.rank - 1];
    if (lastDim !== this.inFeatures) {
      throw new Error(
        `Linear(${this.inFeatures}→${this.outFeatures}): input has ${lastDim} features (shape [${x.shape}])`,
      );
    }
    return tf.tidy(() => {
      // 2-D matmul is wasm's fast path; fold leading dimensions into the batch.
      const flat = x.rank === 2 ? (x as tf.Tensor2D) : (x.reshape([-1, this.inFeatures]) as tf.Tensor2D);
      let y: tf.Tensor = tf.matMul(flat, this.weight as tf.Tensor2D);
      if (this.bias) y = tf.add(y, this.bias);
      return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), this.outFeatures]);
    });
  }
}

export interface Conv2dOptions {
  seeds: SeedStream;
  stride?: number;
  /** Symmetric zero padding on each side, as torch's `padding=int`. */
  padding?: number;
  bias?: boolean;
  /** 'torch': nn.Conv2d's default; 'kaiming_fan_out': torchvision ResNet's kaiming_normal_(fan_out, relu). */
  init?: 'torch' | 'kaiming_fan_out';
}

/** 2-D convolution on NHWC input with an HWIO kernel. */
export class Conv2d extends Module implements Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly stride: number;
  readonly padding: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    options: Conv2dOptions,
  ) {
    super();
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    const shape = [kernelSize, kernelSize, inChannels, outChannels];
    const fanIn = inChannels * kernelSize * kernelSize;
    const fanOut = outChannels * kernelSize * kernelSize;
    this.weight = this.param(
      'weight',
      options.init === 'kaiming_fan_out'
        ? kaimingNormalFanOut(shape, fanOut, options.seeds.next())
        : torchDefaultUniform(shape, fanIn, options.seeds.next()),
    );
    this.bias =
      options.bias === false
        ? null
        : this.param('bias', torchDefaultUniform([outChannels], fanIn, options.seeds.next()));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new Error(
        `Conv2d(${this.inChannels}→${this.outChannels}): ` +
          `expected NHWC input with ${this.inChannels} channels, got [${x.shape}]`,
      );
    }
    return tf.tidy(() => {
      const y = tf.conv2d(x as tf.Tensor4D, this.weight as tf.Tensor4D, this.stride, this.padding);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}

export interface BatchNormOptions {
  eps?: number;
  /** Torch convention: running ← (1 − momentum)·running + momentum·batch. */
  momentum?: number;
  affine?: boolean;
}

/**
 * nn.BatchNorm1d / nn.BatchNorm2d over the last (channel) axis of [N, C] or NHWC input.
 *
 * Train mode normalises with the batch mean and biased variance and updates the running statistics with
 * the unbiased variance, as torch does; eval mode uses the running statistics. The update is a
 * `Variable.assign` inside the forward pass: it is safe inside tf.tidy and tf.variableGrads (buffers are
 * not trainable, and the tape disposes what it saved).
 */
export class BatchNorm extends Module implements Layer {
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions = {},
  ) {
    super();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? true;
    this.weight = affine ? this.param('weight', tf.ones([numFeatures])) : null;
    this.bias = affine ? this.param('bias', tf.zeros([numFeatures])) : null;
    this.runningMean = this.buffer('running_mean', tf.zeros([numFeatures]));
    this.runningVar = this.buffer('running_var', tf.ones([numFeatures]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.numFeatures || x.rank < 2) {
      throw new Error(
        `BatchNorm(${this.numFeatures}): ` +
          `expected channels-last input with ${this.numFeatures} channels, got [${x.shape}]`,
      );
    }
    return tf.tidy(() => {
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (this.training) {
        const axes = [...Array(x.rank - 1).keys()];
        const count = x.size / this.numFeatures;
        if (count < 2)
          throw new Error(
            `BatchNorm(${this.numFeatures}): train mode needs more than 1 value per channel, got input [${x.shape}]`,
          );
        const m = this.momentum;
        if (this.weight && this.bias) {
          // Fused statistics, normalisation and affine with a hand-written backward (lib/backend/kernels/batch_norm).
          const fused = batchNormTrain(x, this.weight, this.bias, this.eps);
          const unbiased = tf.mul(fused.variance, count / (count - 1));
          this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(fused.mean, m)));
          this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
          this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
          return fused.y;
        }
        const moments = tf.moments(x, axes);
        mean = moments.mean;
        variance = moments.variance;
        const unbiased = tf.mul(variance, count / (count - 1));
        this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
        this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
        this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
      } else {
        mean = this.runningMean;
        variance = this.runningVar;
      }
      let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight && this.bias) y = tf.add(tf.mul(y, this.weight), this.bias);
      return y;
    });
  }
}

/** nn.LayerNorm over the last axis (weight 1, bias 0). */
export class LayerNorm extends Module implements Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly normalizedShape: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([normalizedShape]));
    this.bias = this.param('bias', tf.zeros([normalizedShape]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.normalizedShape) {
      throw new Error(
        `LayerNorm(${this.normalizedShape}): input has last dimension ${x.shape[x.rank - 1]} (shape [${x.shape}])`,
      );
    }
    // Fused kernels with a hand-written backward (lib/backend/kernels/layer_norm).
    return tf.tidy(() => layerNorm(x, this.weight, this.bias, this.eps));
  }
}

/**
 * nn.utils.weight_norm(nn.Linear(in, out, bias=False)) with torch's names: W = g · v/‖v‖ per output unit.
 * Ours: weight_v [in, out], weight_g [1, out] (torch: [out, in] and [out, 1]). g starts at 1 (DINO's
 * prototype layer), v at nn.Linear's default.
 */
export class WeightNormLinear extends Module implements Layer {
  readonly weightG: tf.Variable;
  readonly weightV: tf.Variable;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { seeds: SeedStream },
  ) {
    super();
    this.weightG = this.param('weight_g', tf.ones([1, outFeatures]));
    this.weightV = this.param(
      'weight_v',
      torchDefaultUniform([inFeatures, outFeatures], inFeatures, options.seeds.next()),
    );
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new Error(
        `WeightNormLinear(${this.inFeatures}→${this.outFeatures}): expected [N, ${this.inFeatures}], got [${x.shape}]`,
      );
    }
    return tf.tidy(() => {
      const norm = tf.sqrt(tf.sum(tf.square(this.weightV), 0, true));
      const weight = tf.mul(tf.div(this.weightV, norm), this.weightG) as tf.Tensor2D;
      return tf.matMul(x as tf.Tensor2D, weight);
    });
  }
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)): torch's default (approximate='none'); fused on the native kernels. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return geluExact(x);
}

/**
 * nn.MaxPool2d(kernel, stride, padding) on NHWC; padded cells never win, and ties send the gradient to the
 * first maximum in row-major window order, as torch does.
 *
 * Written as a running maximum over the k² strided window offsets instead of tf.maxPool because the wasm
 * backend's native MaxPoolGrad (tfjs 4.22) returns wrong gradients; slices, reshapes and Maximum
 * differentiate correctly everywhere, and the forward value is identical.
 */
export function maxPool2d(x: tf.Tensor4D, kernel: number, stride: number, padding: number): tf.Tensor4D {
  if (tf.getBackend() !== 'wasm' || isProjectWasmKernel('MaxPoolGrad')) {
    // One pooling kernel; the project's wasm MaxPoolGrad follows torch's first-maximum rule (a numeric pad
    // floors the output size as torch does, and padded cells never win).
    return tf.maxPool(x, kernel, stride, padding);
  }
  const [n, h, w, c] = x.shape;
  const outH = Math.floor((h + 2 * padding - kernel) / stride) + 1;
  const outW = Math.floor((w + 2 * padding - kernel) / stride) + 1;
  // Pad enough (with -inf) that every offset's strided run of out·stride rows/cols fits.
  const fullH = kernel - 1 + stride * outH;
  const fullW = kernel - 1 + stride * outW;
  return tf.tidy(() => {
    const padded = tf.pad(
      x,
      [
        [0, 0],
        [padding, Math.max(0, fullH - h - padding)],
        [padding, Math.max(0, fullW - w - padding)],
        [0, 0],
      ],
      -Infinity,
    );
    let best: tf.Tensor | null = null;
    for (let dy = 0; dy < kernel; dy++) {
      // rows dy, dy+s, …: take a run of s·outH rows, fold the stride into its own axis, keep index 0
      const rowRun = padded.slice([0, dy, 0, 0], [n, stride * outH, fullW, c]).reshape([n * outH, stride, fullW * c]);
      const rows = rowRun.slice([0, 0, 0], [n * outH, 1, fullW * c]).reshape([n * outH, fullW, c]);
      for (let dx = 0; dx < kernel; dx++) {
        const colRun = rows.slice([0, dx, 0], [n * outH, stride * outW, c]).reshape([n * outH, outW, stride * c]);
        const cells = colRun.slice([0, 0, 0], [n * outH, outW, c]);
        // Maximum's gradient goes to its first argument on ties: earlier offsets win, as in torch.
        best = best === null ? cells : tf.maximum(best, cells);
      }
    }
    return best!.reshape([n, outH, outW, c]) as tf.Tensor4D;
  });
}

/** F.normalize(x, dim=-1): x / max(‖x‖, eps). */
export function l2Normalize(x: tf.Tensor, eps = 1e-12): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), eps)));
}
