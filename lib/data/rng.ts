/**
 * Small seeded pseudo-random generators, so every data decision (sampling, augmentation, synthetic images,
 * shuffling) replays exactly from a seed. Not cryptographic.
 *
 * @example
 *   import { Rng, mixSeed } from './rng';
 *   const rng = new Rng(mixSeed(42, 'epoch', 3));   // one stream per (seed, purpose, epoch)
 *   rng.next();            // uniform in [0, 1)
 *   rng.int(0, 10);        // integer in [0, 10)
 *   rng.shuffle([1, 2, 3]);
 */

/** mulberry32: a 32-bit state generator; returns a function giving uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit finaliser (murmur3 fmix32): spreads nearby seeds far apart. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Combine a seed with any number of labels (numbers or strings) into a new 32-bit seed, so independent
 * streams (e.g. seed 42 / 'shuffle' / epoch 3) never overlap by accident.
 */
export function mixSeed(seed: number, ...parts: Array<number | string>): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const part of parts) {
    if (typeof part === 'number') {
      h = fmix32(h ^ fmix32((part >>> 0) + 0x7f4a7c15));
      // keep the high part of large / fractional numbers too
      h = fmix32(h ^ Math.floor(part / 4294967296));
    } else {
      for (let i = 0; i < part.length; i++) h = fmix32(h ^ (part.charCodeAt(i) + 0x632be5ab));
    }
  }
  return h;
}

/** A seeded stream with the helpers the data code needs. */
export class Rng {
  private readonly draw: () => number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.draw = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.draw();
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.draw();
  }

  /** Integer in [low, high). */
  int(low: number, high: number): number {
    return low + Math.floor((high - low) * this.draw());
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.draw() < p;
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u <= Number.MIN_VALUE) u = this.draw();
    const v = this.draw();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return mean + std * radius * Math.cos(2 * Math.PI * v);
  }

  /** Index drawn with probability proportional to weights[i]. */
  weighted(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    let target = this.draw() * total;
    for (let i = 0; i < weights.length; i++) {
      target -= weights[i];
      if (target < 0) return i;
    }
    return weights.length - 1;
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.draw() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }
}
