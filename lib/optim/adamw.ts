/**
 * AdamW with torch.optim.AdamW semantics (1.13, no amsgrad): per-parameter step t,
 * p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * p ← p − (lr / (1−β1^t)) · m / (sqrt(v)/sqrt(1−β2^t) + eps).
 * `excludeBiasAndNorm` gives ≤1-D parameters weight decay 0 (the paper's `exclude_bias_and_norm`).
 * A group with `adaptive: false` is plain momentum SGD instead: the online probe's group. (An earlier version gave
 * the probe Adam with betas (0.9, 0), i.e. v = g²; its step m/|g| blew up whenever a gradient coordinate shrank
 * below its running mean, and DINO's probe loss climbed to 17 at the default scale.)
 *
 * @example
 *   const opt = new AdamW(groups, { lr: 5e-4, weightDecay: 1e-4, excludeBiasAndNorm: true });
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedParam } from '../nn/module';
import { GroupOptimizer, type ParamGroup } from './optimizer';

export class AdamW extends GroupOptimizer {
  readonly kind = 'adamw' as const;

  protected updateParam(group: ParamGroup, p: NamedParam, grad: tf.Tensor): void {
    if (!group.adaptive) {
      this.momentumSgdUpdate(group, p, grad);
      return;
    }
    const m = this.slot(p.name, 'exp_avg', p.variable);
    const v = this.slot(p.name, 'exp_avg_sq', p.variable);
    const t = (this.paramSteps.get(p.name) ?? 0) + 1;
    this.paramSteps.set(p.name, t);
    const [beta1, beta2] = group.betas;
    const lr = group.lr;
    const wd = this.decayFor(group, p);
    const stepSize = lr / (1 - Math.pow(beta1, t));
    const biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
    const eps = this.options.eps;
    tf.tidy(() => {
      const w = p.variable;
      const decayed = wd !== 0 ? tf.mul(w, 1 - lr * wd) : w;
      const nextM = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
      const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.mul(grad, grad), 1 - beta2));
      const denom = tf.add(tf.div(tf.sqrt(nextV), biasCorrection2Sqrt), eps);
      m.assign(nextM);
      v.assign(nextV);
      w.assign(tf.sub(decayed, tf.mul(tf.div(nextM, denom), stepSize)));
    });
  }
}
