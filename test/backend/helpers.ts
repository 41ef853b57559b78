/**
 * Shared helpers for the kernel tests: seeded inputs, running on the cpu reference backend, comparing.
 *
 * @example
 *   const ref = await onCpu(() => tf.conv2d(x(), w(), 1, 'same'));   // back on wasm afterwards
 */
import * as tf from '@tensorflow/tfjs';

/** Deterministic uniform(-1, 1) values (mulberry32). */
export function randomValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Run `fn` on `backend`, read its outputs, dispose them, and restore the previous backend even on error. */
export async function onBackend(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const outs = tf.tidy(fn);
    const list = Array.isArray(outs) ? outs : [outs];
    const values = list.map((t) => t.dataSync() as Float32Array);
    tf.dispose(list);
    return values;
  } finally {
    await tf.setBackend(previous);
  }
}

export const onCpu = (fn: () => tf.Tensor | tf.Tensor[]) => onBackend('cpu', fn);
export const onWasm = (fn: () => tf.Tensor | tf.Tensor[]) => onBackend('wasm', fn);

/** max |actual − expected| / max |expected| (0 when both are all zeros). */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Padding as the Conv2D kernels take it: a mode, one number, or explicit NHWC pairs. */
export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** One convolution case of the kernel tests: input NHWC, kernel size, output channels, stride and padding. */
export interface ConvCase {
  x: [number, number, number, number];
  k: [number, number];
  cout: number;
  stride: number;
  pad: Pad;
}
