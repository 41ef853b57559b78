/**
 * A backbone's architecture as read from the built model, for the metadata of its exported weights: everything a
 * PyTorch user needs to rebuild it (torchvision's resnet18, or timm's VisionTransformer) from the file alone.
 *
 * Read from the model, not from the config that asked for it: what is recorded is what the weights are.
 *
 * @example
 *   const arch = describeBackbone(createBackbone({ kind: 'vit_tiny', imageSize: 64, patchSize: 8 }, 1), 'vit_tiny');
 *   arch.numHeads; // 3
 *   architectureMetadata(arch, { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2], interpolation: 'bicubic' });
 */
import type { Backbone } from './backbone';
import { ResNet18 } from './resnet';
import { VisionTransformer } from './vit';

/** The value of the metadata key `architectureFormat`; bump when a key's meaning changes. */
export const ARCHITECTURE_FORMAT = 'ssl-ad-backbone/1';

export interface ResNetArchitecture {
  kind: 'resnet18';
  imageSize: number;
  featureDim: number;
  /** Global average pool of layer4's output (torchvision's `avgpool`), no `fc`. */
  pooling: 'avg';
  /** BasicBlocks per stage. */
  layers: number[];
  batchNormEps: number;
}

export interface VitArchitecture {
  kind: 'vit_tiny' | 'mae_vit_tiny';
  imageSize: number;
  featureDim: number;
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  /** The CLS token after the final LayerNorm (timm's `global_pool='token'`). */
  pooling: 'cls';
  /** 'learned' (a parameter, timm) or 'sincos' (a fixed buffer, MAE); either is stored in the file. */
  posEmbed: 'learned' | 'sincos';
  qkvBias: boolean;
  layerNormEps: number;
  /** Exact (erf) GELU, torch's default. */
  activation: 'gelu';
}

export type BackboneArchitecture = ResNetArchitecture | VitArchitecture;

/** How images become the backbone's input: RGB in [0, 1], resized to imageSize, then (x − mean) / std per channel. */
export interface InputNormalisation {
  mean: readonly number[];
  std: readonly number[];
  interpolation: string;
}

export function describeBackbone(
  backbone: Backbone,
  kind: BackboneArchitecture['kind'],
  imageSize?: number,
): BackboneArchitecture {
  if (backbone instanceof ResNet18) {
    if (kind !== 'resnet18') throw new Error(`describeBackbone: a ResNet-18 cannot be described as ${kind}`);
    if (imageSize === undefined)
      throw new Error('describeBackbone: ResNet-18 takes any input size; pass the imageSize the run used');
    return {
      kind,
      imageSize,
      featureDim: backbone.featureDim,
      pooling: 'avg',
      layers: backbone.stages.map((s) => s.items.length),
      batchNormEps: backbone.bn1.eps,
    };
  }
  if (backbone instanceof VisionTransformer) {
    if (kind === 'resnet18') throw new Error('describeBackbone: a ViT cannot be described as resnet18');
    const blocks = backbone.blocks.items;
    if (!blocks.length) throw new Error('describeBackbone: the ViT has no blocks');
    const first = blocks[0];
    const learned = backbone.parameters().includes(backbone.posEmbed);
    return {
      kind,
      imageSize: backbone.imageSize,
      featureDim: backbone.featureDim,
      patchSize: backbone.patchSize,
      embedDim: backbone.featureDim,
      depth: blocks.length,
      numHeads: first.attn.numHeads,
      mlpRatio: first.mlp.fc1.outFeatures / backbone.featureDim,
      pooling: 'cls',
      posEmbed: learned ? 'learned' : 'sincos',
      qkvBias: first.attn.qkv.bias !== null,
      layerNormEps: backbone.norm.eps,
      activation: 'gelu',
    };
  }
  throw new Error(`describeBackbone: no description for ${backbone.constructor.name}`);
}

/** The architecture and input normalisation as safetensors metadata (string values; lists and numbers as JSON). */
export function architectureMetadata(
  architecture: BackboneArchitecture,
  input: InputNormalisation,
): Record<string, string> {
  const out: Record<string, string> = { architectureFormat: ARCHITECTURE_FORMAT };
  for (const [key, value] of Object.entries(architecture))
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  out.inputLayout = 'NCHW';
  out.inputRange = '[0, 1]';
  out.inputMean = JSON.stringify(input.mean);
  out.inputStd = JSON.stringify(input.std);
  out.inputResize = input.interpolation;
  return out;
}
