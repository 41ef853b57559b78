/**
 * Method factory: one file per method, one interface (./method).
 *
 * @example
 *   const method = createMethod(makeRunConfig({ method: 'byol', backbone: 'resnet18' }, 'smoke'), { posWeight: 3 });
 */
import type { MethodName, RunConfig } from '../runs/config';
import { createBackbone, type BackboneKind } from '../models';
import type { Backbone } from '../models/backbone';
import type { Method, MethodContext } from './method';
import { SupervisedMethod } from './supervised';
import { SimclrMethod } from './simclr';
import { ByolMethod } from './byol';
import { BarlowMethod } from './barlow';
import { DinoMethod } from './dino';
import { MaeMethod } from './mae';

export type { Method, MethodContext, LossOutput, StepState } from './method';

/** The backbone a run trains (MAE's encoder is the ViT-Tiny variant with 12 heads and sin-cos positions). */
export function backboneFor(config: RunConfig, seed: number): Backbone {
  return createBackbone(
    { kind: backboneKindFor(config), imageSize: config.imageSize, patchSize: config.patchSize, depth: config.vitDepth },
    seed,
  );
}

/** The kind of backbone a run builds: its config's, except MAE's encoder. */
export function backboneKindFor(config: RunConfig): BackboneKind {
  return config.method === 'mae' ? 'mae_vit_tiny' : config.backbone;
}

const FACTORIES: Record<MethodName, (context: MethodContext, backbone: Backbone) => Method> = {
  supervised: (c, b) => new SupervisedMethod(c, b),
  simclr: (c, b) => new SimclrMethod(c, b),
  byol: (c, b) => new ByolMethod(c, b, () => backboneFor(c.config, c.seed)),
  barlow: (c, b) => new BarlowMethod(c, b),
  dino: (c, b) => new DinoMethod(c, b, () => backboneFor(c.config, c.seed)),
  mae: (c, b) => new MaeMethod(c, b),
};

export function createMethod(config: RunConfig, options: { posWeight: number; seed?: number }): Method {
  const seed = options.seed ?? config.seed;
  const context: MethodContext = { config, posWeight: options.posWeight, seed };
  return FACTORIES[config.method](context, backboneFor(config, seed));
}
