/**
 * Seeded parameter initialisers matching PyTorch's, so a model built from one seed is reproducible.
 *
 * A `SeedStream` hands every parameter its own non-zero seed for TF.js's seeded samplers; two models
 * built from the same seed in the same order get identical weights.
 *
 * @example
 *   const seeds = new SeedStream(42);
 *   const w = torchDefaultUniform([3, 3, 16, 32], 3 * 3 * 16, seeds.next()); // nn.Conv2d's default init
 */
import * as tf from '@tensorflow/tfjs';

/** A deterministic stream of non-zero 31-bit seeds (TF.js treats seed 0 as "unseeded"). */
export class SeedStream {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`SeedStream: seed must be a finite number, got ${seed}`);
    this.state = (Math.floor(seed) ^ 0x5bd1e995) >>> 0;
  }

  /** Next seed; a murmur3-finalised counter, so nearby stream seeds give unrelated sequences. */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let h = this.state;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
    return h & 0x7fffffff || 1;
  }
}

export function uniform(shape: number[], bound: number, seed: number): tf.Tensor {
  return tf.randomUniform(shape, -bound, bound, 'float32', seed);
}

export function normal(shape: number[], std: number, seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, std, 'float32', seed);
}

/**
 * torch.nn.init.trunc_normal_(std, a=-2, b=2): truncation at absolute bounds, not at 2 std.
 * With timm's std 0.02 the bounds sit 100 std away, so this is a normal clipped at the bounds
 * (TF.js's truncatedNormal cuts at 2 std and would shrink the spread by about 12 %).
 */
export function truncNormal(shape: number[], std: number, seed: number, a = -2, b = 2): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.randomNormal(shape, 0, std, 'float32', seed), a, b));
}

/** nn.Linear / nn.Conv2d default: kaiming_uniform_(a=√5), i.e. U(±1/√fan_in); also their bias init. */
export function torchDefaultUniform(shape: number[], fanIn: number, seed: number): tf.Tensor {
  return uniform(shape, 1 / Math.sqrt(fanIn), seed);
}

/** kaiming_normal_(mode='fan_out', nonlinearity='relu'): torchvision ResNet's conv init. */
export function kaimingNormalFanOut(shape: number[], fanOut: number, seed: number): tf.Tensor {
  return normal(shape, Math.sqrt(2 / fanOut), seed);
}

/** xavier_uniform_: MAE's Linear and patch-embedding init. */
export function xavierUniform(shape: number[], fanIn: number, fanOut: number, seed: number): tf.Tensor {
  return uniform(shape, Math.sqrt(6 / (fanIn + fanOut)), seed);
}
