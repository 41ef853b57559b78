/**
 * Masked autoencoder parts (He et al.; the configuration of solo-learn/the paper):
 * - `maeEncoder`: ViT-Tiny with 12 heads and a fixed 2-D sin-cos position embedding (a buffer);
 *   `encoder.forwardMasked(x, {noise})` keeps int(L·0.25) patches and returns latent, mask, idsRestore;
 *   `encoder.forward(x)` is the unmasked CLS feature (used by the online probe).
 * - `MaeDecoder`: Linear(192→192), mask token, fixed sin-cos position embedding, 12 blocks × 12 heads,
 *   LayerNorm, Linear(→p²·3). Parameter names are the MAE reference's (`decoder_embed`, `mask_token`,
 *   `decoder_pos_embed`, `decoder_blocks.*`, `decoder_norm`, `decoder_pred`), so a full MAE state dict
 *   loads into encoder and decoder with `strict: false`.
 *
 * @example
 *   const encoder = maeEncoder({ seed: 1, imageSize: 32, patchSize: 8 });
 *   const decoder = new MaeDecoder({ seed: 2, numPatches: encoder.numPatches, patchSize: 8 });
 *   const { latent, mask, idsRestore } = encoder.forwardMasked(images);
 *   const pred = decoder.forward(latent, idsRestore);   // [N, L, 8·8·3], patch vectors in patchify's order
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { SeedStream, normal } from '../nn/init';
import { LayerNorm, Linear, ModuleList } from '../nn/layers';
import { Block, VisionTransformer, gatherRows, sincosPositionEmbedding } from './vit';
import { withDefaults } from '../util/options';

export function maeEncoder(options: {
  seed: number;
  imageSize?: number;
  patchSize?: number;
  depth?: number;
  numHeads?: number;
  embedDim?: number;
}): VisionTransformer {
  return new VisionTransformer(
    withDefaults(
      { embedDim: 192, depth: 12, numHeads: 12, mlpRatio: 4, posEmbed: 'sincos' as const, init: 'mae' as const },
      options,
    ),
  );
}

export interface MaeDecoderOptions {
  seed: number;
  /** L = (S/p)², the encoder's patch count (a square grid). */
  numPatches: number;
  patchSize: number;
  encoderDim?: number;
  decoderDim?: number;
  depth?: number;
  numHeads?: number;
  mlpRatio?: number;
  inChans?: number;
}

export class MaeDecoder extends Module {
  readonly numPatches: number;
  readonly decoderDim: number;
  readonly decoderEmbed: Linear;
  readonly maskToken: tf.Variable;
  readonly decoderPosEmbed: tf.Variable;
  readonly decoderBlocks: ModuleList<Block>;
  readonly decoderNorm: LayerNorm;
  readonly decoderPred: Linear;

  constructor(options: MaeDecoderOptions) {
    super();
    const seeds = new SeedStream(options.seed);
    const grid = Math.round(Math.sqrt(options.numPatches));
    if (grid * grid !== options.numPatches)
      throw new Error(`MaeDecoder: numPatches ${options.numPatches} is not a square grid`);
    const encoderDim = options.encoderDim ?? 192;
    const dim = (this.decoderDim = options.decoderDim ?? 192);
    this.numPatches = options.numPatches;
    const depth = options.depth ?? 12;
    const heads = options.numHeads ?? 12;
    const outDim = options.patchSize * options.patchSize * (options.inChans ?? 3);
    this.decoderEmbed = this.register('decoder_embed', new Linear(encoderDim, dim, { seeds, init: 'xavier' }));
    this.maskToken = this.param('mask_token', normal([1, 1, dim], 0.02, seeds.next()));
    this.decoderPosEmbed = this.buffer(
      'decoder_pos_embed',
      tf.tensor3d(sincosPositionEmbedding(dim, grid), [1, 1 + options.numPatches, dim]),
    );
    this.decoderBlocks = this.register('decoder_blocks', new ModuleList<Block>());
    for (let i = 0; i < depth; i++)
      this.decoderBlocks.push(new Block(dim, heads, options.mlpRatio ?? 4, 1e-6, seeds, 'xavier'));
    this.decoderNorm = this.register('decoder_norm', new LayerNorm(dim, 1e-6));
    this.decoderPred = this.register('decoder_pred', new Linear(dim, outDim, { seeds, init: 'xavier' }));
  }

  /** latent [N, 1 + keep, De] and idsRestore [N, L] (int32) → per-patch predictions [N, L, p²·C]. */
  forward(latent: tf.Tensor3D, idsRestore: tf.Tensor2D): tf.Tensor3D {
    const [n, tokens] = latent.shape;
    const l = this.numPatches;
    if (idsRestore.shape[0] !== n || idsRestore.shape[1] !== l) {
      throw new Error(`MaeDecoder: idsRestore must be [${n}, ${l}], got [${idsRestore.shape}]`);
    }
    return tf.tidy(() => {
      const x = this.decoderEmbed.forward(latent) as tf.Tensor3D;
      const visible = x.slice([0, 1, 0], [-1, tokens - 1, -1]);
      const masked = tf.tile(this.maskToken, [n, l + 1 - tokens, 1]);
      const shuffled = tf.concat([visible, masked], 1) as tf.Tensor3D;
      const restored = gatherRows(shuffled, idsRestore);
      let h = tf.add(tf.concat([x.slice([0, 0, 0], [-1, 1, -1]), restored], 1), this.decoderPosEmbed) as tf.Tensor3D;
      for (const block of this.decoderBlocks.items) h = block.forward(h);
      const pred = this.decoderPred.forward(this.decoderNorm.forward(h)) as tf.Tensor3D;
      return pred.slice([0, 1, 0], [-1, l, -1]);
    });
  }
}
