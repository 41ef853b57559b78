/**
 * timm's VisionTransformer (`vit_tiny_patch16_224` by default) returning the CLS token after the final
 * LayerNorm. Image size, patch size, depth and heads are configurable so small CPU resolutions keep a
 * sensible token count; the position embedding has (1 + (S/p)²) rows.
 *
 * Names match timm's state dict (`cls_token`, `pos_embed`, `patch_embed.proj.weight`,
 * `blocks.3.attn.qkv.weight`, `norm.bias`, …). 5,524,416 parameters at 224/16, depth 12.
 * The patch embedding is a stride-p convolution; it is computed as patchify + matmul (identical maths,
 * no convolution gradient needed), with the kernel kept in conv HWIO form [p, p, 3, D].
 *
 * @example
 *   const vit = new VisionTransformer({ imageSize: 64, patchSize: 8, seed: 1 });
 *   const cls = tf.tidy(() => vit.forward(images));   // [N, 192]
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { SeedStream, normal, truncNormal, torchDefaultUniform, xavierUniform } from '../nn/init';
import { LayerNorm, Linear, LinearInit, ModuleList, gelu } from '../nn/layers';
import { Backbone } from './backbone';
import { withDefaults } from '../util/options';

/**
 * Split NHWC images into non-overlapping p×p patches: [N, H, W, C] → [N, (H/p)·(W/p), p·p·C].
 * Patches are in row-major grid order; each patch vector is ordered (row, column, channel), the order of
 * MAE's `einsum('nchpwq->nhwpqc')`, so per-patch targets agree with the PyTorch reference.
 */
export function patchify(images: tf.Tensor4D, patchSize: number): tf.Tensor3D {
  const [n, h, w, c] = images.shape;
  const p = patchSize;
  if (h % p !== 0 || w % p !== 0) throw new Error(`patchify: image size ${h}×${w} is not divisible by patch size ${p}`);
  return tf.tidy(() => {
    // [N·H/p, p, W/p, p·C] → [N·H/p, W/p, p, p·C]: rank-4 transposes only (wasm handles them well).
    const rows = images.reshape([n * (h / p), p, w / p, p * c]);
    return tf.transpose(rows, [0, 2, 1, 3]).reshape([n, (h / p) * (w / p), p * p * c]) as tf.Tensor3D;
  });
}

/** Inverse of `patchify`: [N, L, p·p·C] → [N, H, W, C] for a square grid (H = W = √L·p). */
export function unpatchify(patches: tf.Tensor3D, patchSize: number, channels = 3): tf.Tensor4D {
  const [n, l, d] = patches.shape;
  const grid = Math.round(Math.sqrt(l));
  const p = patchSize;
  if (grid * grid !== l || d !== p * p * channels) {
    throw new Error(`unpatchify: expected [N, g², ${p}·${p}·${channels}], got [${patches.shape}]`);
  }
  return tf.tidy(() => {
    const cells = patches.reshape([n * grid, grid, p, p * channels]);
    return tf.transpose(cells, [0, 2, 1, 3]).reshape([n, grid * p, grid * p, channels]) as tf.Tensor4D;
  });
}

/**
 * Per-sample row selection out[b, k] = x[b, ids[b, k]] for x [N, L, D] and int32 ids [N, K].
 * A one-hot batched matmul rather than tf.gather: gather's gradient needs UnsortedSegmentSum, which the
 * wasm backend lacks, and the selection matrices are small (K, L ≤ a few hundred).
 */
export function gatherRows(x: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => tf.matMul(tf.oneHot(ids.toInt(), x.shape[1]).toFloat() as tf.Tensor3D, x));
}

/** Multi-head self-attention with a fused qkv Linear (timm `Attention`, qkv_bias=True). */
export class Attention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly headDim: number;

  constructor(
    readonly dim: number,
    readonly numHeads: number,
    seeds: SeedStream,
    init: LinearInit,
  ) {
    super();
    if (dim % numHeads !== 0) throw new Error(`Attention: dim ${dim} is not divisible by ${numHeads} heads`);
    this.headDim = dim / numHeads;
    this.qkv = this.register('qkv', new Linear(dim, 3 * dim, { seeds, init }));
    this.proj = this.register('proj', new Linear(dim, dim, { seeds, init }));
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    const [n, t] = x.shape;
    return tf.tidy(() => {
      const qkv = this.qkv.forward(x);
      // torch reshapes qkv to (B, T, 3, heads, head_dim): the last axis is [q | k | v], each [head][dim].
      const [q, k, v] = tf
        .split(qkv, 3, 2)
        .map((part) => tf.transpose(part.reshape([n, t, this.numHeads, this.headDim]), [0, 2, 1, 3]) as tf.Tensor4D);
      const scores = tf.matMul(tf.mul(q, this.headDim ** -0.5) as tf.Tensor4D, k, false, true);
      const context = tf.matMul(tf.softmax(scores) as tf.Tensor4D, v);
      const merged = tf.transpose(context, [0, 2, 1, 3]).reshape([n, t, this.dim]);
      return this.proj.forward(merged) as tf.Tensor3D;
    });
  }
}

/** timm `Mlp`: fc1 → GELU → fc2. */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, seeds: SeedStream, init: LinearInit) {
    super();
    this.fc1 = this.register('fc1', new Linear(dim, hidden, { seeds, init }));
    this.fc2 = this.register('fc2', new Linear(hidden, dim, { seeds, init }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(gelu(this.fc1.forward(x))));
  }
}

/** Pre-LN transformer block: x + attn(norm1(x)); x + mlp(norm2(x)). */
export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(dim: number, numHeads: number, mlpRatio: number, eps: number, seeds: SeedStream, init: LinearInit) {
    super();
    this.norm1 = this.register('norm1', new LayerNorm(dim, eps));
    this.attn = this.register('attn', new Attention(dim, numHeads, seeds, init));
    this.norm2 = this.register('norm2', new LayerNorm(dim, eps));
    this.mlp = this.register('mlp', new Mlp(dim, Math.round(dim * mlpRatio), seeds, init));
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const h = tf.add(x, this.attn.forward(this.norm1.forward(x) as tf.Tensor3D)) as tf.Tensor3D;
      return tf.add(h, this.mlp.forward(this.norm2.forward(h))) as tf.Tensor3D;
    });
  }
}

/** Conv patch embedding (`patch_embed.proj`), kernel [p, p, C, D] HWIO, evaluated as patchify + matmul. */
export class PatchEmbedProj extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly patchSize: number,
    readonly inChans: number,
    readonly embedDim: number,
    seeds: SeedStream,
    init: 'torch' | 'xavier',
  ) {
    super();
    const shape = [patchSize, patchSize, inChans, embedDim];
    const fanIn = patchSize * patchSize * inChans;
    // MAE: xavier_uniform on the weight viewed as [D, p·p·C]; timm keeps nn.Conv2d's default.
    this.weight = this.param(
      'weight',
      init === 'xavier'
        ? xavierUniform(shape, fanIn, embedDim, seeds.next())
        : torchDefaultUniform(shape, fanIn, seeds.next()),
    );
    this.bias = this.param(
      'bias',
      init === 'xavier' ? tf.zeros([embedDim]) : torchDefaultUniform([embedDim], fanIn, seeds.next()),
    );
  }

  /** [N, H, W, C] → [N, L, D]. */
  forward(images: tf.Tensor4D): tf.Tensor3D {
    if (images.shape[3] !== this.inChans)
      throw new Error(`patch_embed: expected ${this.inChans} channels, got [${images.shape}]`);
    return tf.tidy(() => {
      const patches = patchify(images, this.patchSize);
      const kernel = this.weight.reshape([
        this.patchSize * this.patchSize * this.inChans,
        this.embedDim,
      ]) as tf.Tensor2D;
      const [n, l, d] = patches.shape;
      const flat = tf.matMul(patches.reshape([n * l, d]) as tf.Tensor2D, kernel);
      return tf.add(flat, this.bias).reshape([n, l, this.embedDim]) as tf.Tensor3D;
    });
  }
}

class PatchEmbed extends Module {
  readonly proj: PatchEmbedProj;
  constructor(proj: PatchEmbedProj) {
    super();
    this.proj = this.register('proj', proj);
  }
}

/**
 * MAE's fixed 2-D sin-cos position embedding, [1 + g², dim] with a zero CLS row first.
 * The first dim/2 columns encode the column index, the last dim/2 the row index (MAE's
 * `get_2d_sincos_pos_embed`, whose meshgrid puts w first); each half is [sin(pos·ω) | cos(pos·ω)],
 * ω_k = 10000^(−k/(dim/4)).
 */
export function sincosPositionEmbedding(dim: number, gridSize: number, withClsToken = true): Float32Array {
  if (dim % 4 !== 0) throw new Error(`sincosPositionEmbedding: dim ${dim} must be divisible by 4`);
  const quarter = dim / 4;
  const rows = gridSize * gridSize + (withClsToken ? 1 : 0);
  const out = new Float32Array(rows * dim);
  const omega = Array.from({ length: quarter }, (_, k) => 1 / 10000 ** (k / quarter));
  for (let i = 0; i < gridSize; i++) {
    for (let j = 0; j < gridSize; j++) {
      const base = ((withClsToken ? 1 : 0) + i * gridSize + j) * dim;
      const coords = [j, i];
      coords.forEach((pos, half) => {
        for (let k = 0; k < quarter; k++) {
          out[base + half * 2 * quarter + k] = Math.sin(pos * omega[k]);
          out[base + half * 2 * quarter + quarter + k] = Math.cos(pos * omega[k]);
        }
      });
    }
  }
  return out;
}

export interface VitOptions {
  seed: number;
  /** Square input side S (default 224). */
  imageSize?: number;
  patchSize?: number;
  embedDim?: number;
  depth?: number;
  numHeads?: number;
  mlpRatio?: number;
  /** 'learned' (timm, trunc-normal .02) or 'sincos' (MAE, fixed buffer). */
  posEmbed?: 'learned' | 'sincos';
  /**
   * 'timm': trunc-normal .02 Linears, conv-default patch embed, cls normal(1e-6).
   * 'mae': xavier Linears and patch embed, cls normal(.02).
   */
  init?: 'timm' | 'mae';
}

/** Random masking result, as MAE's `random_masking`. */
export interface MaskedEncoding {
  /** [N, 1 + keep, D]: CLS then the kept patches, after the final LayerNorm. */
  latent: tf.Tensor3D;
  /** [N, L] float32, 1 = removed, in the original patch order. */
  mask: tf.Tensor2D;
  /** [N, L] int32: the permutation that restores patch order (argsort of the shuffle). */
  idsRestore: tf.Tensor2D;
}

export class VisionTransformer extends Backbone {
  readonly featureDim: number;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly numPatches: number;
  readonly depth: number;
  readonly numHeads: number;
  readonly mlpRatio: number;
  readonly clsToken: tf.Variable;
  readonly posEmbed: tf.Variable;
  readonly patchEmbed: PatchEmbedProj;
  readonly blocks: ModuleList<Block>;
  readonly norm: LayerNorm;

  constructor(options: VitOptions) {
    super();
    const seeds = new SeedStream(options.seed);
    this.imageSize = options.imageSize ?? 224;
    this.patchSize = options.patchSize ?? 16;
    const dim = options.embedDim ?? 192;
    const depth = (this.depth = options.depth ?? 12);
    const heads = (this.numHeads = options.numHeads ?? 3);
    const mlpRatio = (this.mlpRatio = options.mlpRatio ?? 4);
    const init = options.init ?? 'timm';
    if (this.imageSize % this.patchSize !== 0)
      throw new Error(
        `VisionTransformer: image size ${this.imageSize} is not divisible by patch size ${this.patchSize}`,
      );
    const grid = this.imageSize / this.patchSize;
    this.numPatches = grid * grid;
    this.featureDim = dim;
    const linearInit: LinearInit = init === 'mae' ? 'xavier' : 'trunc_normal';
    this.clsToken = this.param('cls_token', normal([1, 1, dim], init === 'mae' ? 0.02 : 1e-6, seeds.next()));
    if ((options.posEmbed ?? 'learned') === 'learned') {
      this.posEmbed = this.param('pos_embed', truncNormal([1, 1 + this.numPatches, dim], 0.02, seeds.next()));
    } else {
      this.posEmbed = this.buffer(
        'pos_embed',
        tf.tensor3d(sincosPositionEmbedding(dim, grid), [1, 1 + this.numPatches, dim]),
      );
    }
    const proj = new PatchEmbedProj(this.patchSize, 3, dim, seeds, init === 'mae' ? 'xavier' : 'torch');
    this.patchEmbed = this.register('patch_embed', new PatchEmbed(proj)).proj;
    this.blocks = this.register('blocks', new ModuleList<Block>());
    for (let i = 0; i < depth; i++) this.blocks.push(new Block(dim, heads, mlpRatio, 1e-6, seeds, linearInit));
    this.norm = this.register('norm', new LayerNorm(dim, 1e-6));
  }

  private checkInput(x: tf.Tensor4D): void {
    if (x.rank !== 4 || x.shape[1] !== this.imageSize || x.shape[2] !== this.imageSize || x.shape[3] !== 3) {
      throw new Error(`VisionTransformer: expected [N, ${this.imageSize}, ${this.imageSize}, 3], got [${x.shape}]`);
    }
  }

  private encode(tokens: tf.Tensor3D): tf.Tensor3D {
    let h = tokens;
    for (const block of this.blocks.items) h = block.forward(h);
    return this.norm.forward(h) as tf.Tensor3D;
  }

  /** All tokens after the final LayerNorm, [N, 1 + L, D]. */
  forwardTokens(x: tf.Tensor4D): tf.Tensor3D {
    this.checkInput(x);
    return tf.tidy(() => {
      const n = x.shape[0];
      const patches = this.patchEmbed.forward(x);
      const cls = tf.tile(this.clsToken, [n, 1, 1]);
      return this.encode(tf.add(tf.concat([cls, patches], 1), this.posEmbed) as tf.Tensor3D);
    });
  }

  /** The CLS feature, [N, D]. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      const tokens = this.forwardTokens(x);
      return tokens.slice([0, 0, 0], [-1, 1, -1]).reshape([tokens.shape[0], this.featureDim]) as tf.Tensor2D;
    });
  }

  /**
   * MAE's `forward_encoder`: add position embeddings, keep int(L·(1 − maskRatio)) patches chosen by argsort
   * of uniform noise (pass `noise` [N, L] to fix it; otherwise tf.randomUniform with `seed`), prepend CLS.
   */
  forwardMasked(
    x: tf.Tensor4D,
    options: { maskRatio?: number; noise?: tf.Tensor2D; seed?: number } = {},
  ): MaskedEncoding {
    this.checkInput(x);
    const n = x.shape[0];
    const l = this.numPatches;
    const keep = Math.floor(l * (1 - (options.maskRatio ?? 0.75)));
    if (keep < 1) throw new Error(`forwardMasked: mask ratio ${options.maskRatio} keeps no patch of ${l}`);
    if (options.noise && (options.noise.shape[0] !== n || options.noise.shape[1] !== l)) {
      throw new Error(`forwardMasked: noise must be [${n}, ${l}], got [${options.noise.shape}]`);
    }
    const noiseValues = options.noise
      ? options.noise.dataSync()
      : tf.tidy(() => tf.randomUniform([n, l], 0, 1, 'float32', options.seed)).dataSync();
    // Index bookkeeping is tiny and gradient-free: do it in JS (stable ascending argsort, as torch.argsort on
    // distinct values).
    const keepIndices = new Int32Array(n * keep);
    const restore = new Int32Array(n * l);
    const mask = new Float32Array(n * l);
    for (let b = 0; b < n; b++) {
      const order = Array.from({ length: l }, (_, i) => i).sort(
        (i, j) => noiseValues[b * l + i] - noiseValues[b * l + j] || i - j,
      );
      order.forEach((patch, rank) => {
        restore[b * l + patch] = rank;
        mask[b * l + patch] = rank < keep ? 0 : 1;
        if (rank < keep) keepIndices[b * keep + rank] = patch;
      });
    }
    return tf.tidy(() => {
      const dim = this.featureDim;
      const pos = this.posEmbed.slice([0, 1, 0], [1, l, dim]);
      const patches = tf.add(this.patchEmbed.forward(x), pos) as tf.Tensor3D;
      const kept = gatherRows(patches, tf.tensor2d(keepIndices, [n, keep], 'int32'));
      const cls = tf.tile(tf.add(this.clsToken, this.posEmbed.slice([0, 0, 0], [1, 1, dim])), [n, 1, 1]);
      const latent = this.encode(tf.concat([cls, kept], 1) as tf.Tensor3D);
      return { latent, mask: tf.tensor2d(mask, [n, l]), idsRestore: tf.tensor2d(restore, [n, l], 'int32') };
    });
  }
}

/** timm `vit_tiny_patch16_224` geometry at any image/patch size. */
export function vitTiny(options: {
  seed: number;
  imageSize?: number;
  patchSize?: number;
  depth?: number;
  numHeads?: number;
}): VisionTransformer {
  return new VisionTransformer(
    withDefaults(
      { embedDim: 192, depth: 12, numHeads: 3, mlpRatio: 4, posEmbed: 'learned' as const, init: 'timm' as const },
      options,
    ),
  );
}
