/**
 * LARS as in the paper's code (P `src/utils/lars.py`, from the Barlow Twins / DINO repositories):
 * for every parameter that is not one-dimensional, g ← g + wd·p, then g ← q·g with the trust ratio
 * q = η‖p‖/‖g‖ when both norms are > 0, else 1. One-dimensional parameters (biases, norm scales) get
 * neither decay nor scaling. Then μ ← m·μ + g and p ← p − lr·μ.
 * (The test in P is `ndim != 1`, so a 0-D parameter would be decayed and scaled too; kept as is.)
 * A group with `adaptive: false` skips the trust ratio (and so is plain momentum SGD): the online probe's group,
 * whose weight would otherwise move by only lr·η of its norm per step.
 *
 * @example
 *   const opt = new Lars([{ name: 'model', params }], { weightDecay: 1e-6, eta: 0.001 });
 */
import * as tf from '@tensorflow/tfjs';
import { axpby } from '../backend/kernels/axpby';
import type { NamedParam } from '../nn/module';
import { GroupOptimizer, type ParamGroup } from './optimizer';

export class Lars extends GroupOptimizer {
  readonly kind = 'lars' as const;

  protected updateParam(group: ParamGroup, p: NamedParam, grad: tf.Tensor): void {
    const mu = this.slot(p.name, 'mu', p.variable);
    const wd = this.decayFor(group, p);
    const eta = this.options.eta;
    tf.tidy(() => {
      const w = p.variable;
      let d: tf.Tensor = grad;
      if (w.rank !== 1 && group.adaptive) {
        d = axpby(1, d, wd, w);
        const paramNorm = tf.norm(w);
        const updateNorm = tf.norm(d);
        const one = tf.onesLike(paramNorm);
        const trust = tf.where(
          tf.greater(paramNorm, 0),
          tf.where(tf.greater(updateNorm, 0), tf.div(tf.mul(paramNorm, eta), updateNorm), one),
          one,
        );
        d = tf.mul(d, trust);
      }
      const nextMu = axpby(group.momentum, mu, 1, d);
      mu.assign(nextMu);
      w.assign(axpby(1, w, -group.lr, nextMu));
    });
  }
}
