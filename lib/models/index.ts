/**
 * Model factory and re-exports.
 *
 * @example
 *   const backbone = createBackbone({ kind: 'vit_tiny', imageSize: 64, patchSize: 8 }, 42);
 *   backbone.featureDim;                                  // 192
 *   const feats = tf.tidy(() => backbone.forward(images)); // [N, 192]
 */
import { Backbone } from './backbone';
import { ResNet18 } from './resnet';
import { VisionTransformer, vitTiny } from './vit';
import { maeEncoder } from './mae';

export { Backbone } from './backbone';
export { ResNet18, BasicBlock } from './resnet';
export { VisionTransformer, vitTiny, patchify, unpatchify, sincosPositionEmbedding } from './vit';
export type { MaskedEncoding, VitOptions } from './vit';
export { MaeDecoder, maeEncoder } from './mae';
export {
  SimclrProjector,
  ByolMlp,
  byolProjector,
  byolPredictor,
  BarlowProjector,
  DinoHead,
  LinearProbe,
} from './heads';
export {
  loadTorchStateDict,
  saveTorchStateDict,
  torchStateDictBytes,
  applyTorchStateDict,
  parseSafetensors,
  serializeSafetensors,
  readSafetensorsFile,
  writeSafetensorsFile,
} from './safetensors';

export type BackboneKind = 'resnet18' | 'vit_tiny' | 'mae_vit_tiny';

export interface BackboneConfig {
  kind: BackboneKind;
  /** Square input side; required by the ViTs (position-embedding length), ignored by ResNet-18. */
  imageSize: number;
  /** ViT patch size (default 16). */
  patchSize?: number;
  /** ViT depth (default 12) and heads (default 3 for vit_tiny, 12 for the MAE encoder). */
  depth?: number;
  numHeads?: number;
}

/** Build a backbone from a config; the same seed gives the same weights. */
export function createBackbone(config: BackboneConfig, seed: number): Backbone {
  switch (config.kind) {
    case 'resnet18':
      return new ResNet18({ seed });
    case 'vit_tiny':
      return vitTiny({
        seed,
        imageSize: config.imageSize,
        patchSize: config.patchSize,
        depth: config.depth,
        numHeads: config.numHeads,
      });
    case 'mae_vit_tiny':
      return maeEncoder({
        seed,
        imageSize: config.imageSize,
        patchSize: config.patchSize,
        depth: config.depth,
        numHeads: config.numHeads,
      });
    default:
      throw new Error(
        `createBackbone: unknown kind '${(config as { kind: string }).kind}' (use resnet18, vit_tiny or mae_vit_tiny)`,
      );
  }
}

/** Narrow a backbone to the ViT class (MAE needs `forwardMasked`). */
export function asVisionTransformer(backbone: Backbone): VisionTransformer {
  if (!(backbone instanceof VisionTransformer)) throw new Error('expected a ViT backbone');
  return backbone;
}
