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
    const wd = this.decayFor(group, p);
    const momentum = group.momentum;
    const buf = momentum !== 0 ? this.slot(p.name, 'momentum_buffer', p.variable) : undefined;
    tf.tidy(() => {
      const w = p.variable;
      const d = wd !== 0 ? tf.add(grad, tf.mul(w, wd)) : grad;
      let update: tf.Tensor = d;
      if (buf) {
        // A zero buffer times m plus d equals d exactly, so the first step needs no special case.
        update = tf.add(tf.mul(buf, momentum), d);
        buf.assign(update);
      }
      w.assign(tf.sub(w, tf.mul(update, group.lr)));
    });
  }
}
