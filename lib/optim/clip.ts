/**
 * Per-parameter gradient clipping by L2 norm, as DINO's `clip_gradients` in the paper's code:
 * coef = maxNorm / (‖g‖ + 1e-6); g ← coef·g when coef < 1. Each gradient is clipped on its own
 * (not a global norm). P clips only the backbone's gradients: pass their keys in `only`.
 *
 * Returns a new map of new tensors (keys not clipped are cloned); the caller disposes both maps.
 *
 * @example
 *   const clipped = clipGradNormPerParam(grads, 1.0, new Set(backbone.parameters().map((v) => v.name)));
 *   tf.dispose(Object.values(grads));
 */
import * as tf from '@tensorflow/tfjs';
import type { GradMap } from './optimizer';

export function clipGradNormPerParam(grads: GradMap, maxNorm: number, only?: Set<string>): GradMap {
  if (!(maxNorm > 0)) throw new Error(`clipGradNormPerParam: maxNorm must be > 0, got ${maxNorm}`);
  const out: GradMap = {};
  for (const [key, g] of Object.entries(grads)) {
    out[key] = tf.tidy(() => {
      if (only && !only.has(key)) return g.clone();
      const coef = tf.div(maxNorm, tf.add(tf.norm(g), 1e-6));
      // min(coef, 1) leaves unclipped gradients bit-identical (x·1 = x).
      return tf.mul(g, tf.minimum(coef, 1));
    });
  }
  return out;
}
