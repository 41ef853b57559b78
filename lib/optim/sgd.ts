/**
 * SGD with momentum, torch.optim.SGD semantics (dampening 0, no Nesterov):
 * d = g + wd·p; buf ← d on the first step, else m·buf + d; p ← p − lr·buf.
 *
 * @example
 *   const probeOpt = new Sgd([{ name: 'classifier', params: probe.namedParameters() }], { lr: 1e-3, momentum: 0.9 });
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedParam } from '../nn/module';
import { GroupOptimizer, type ParamGroup } from './optimizer';

export class Sgd extends GroupOptimizer {
  readonly kind = 'sgd' as const;

  protected updateParam(group: ParamGroup, p: NamedParam, grad: tf.Tensor): void {
    this.momentumSgdUpdate(group, p, grad);
  }
}
