/** Fixture access and tolerance checks shared by the model tests. */
import * as path from 'path';
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { readSafetensorsFile, StoredTensor, SafetensorsContents } from '../../lib/models/safetensors';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'models');

export function fixture(file: string): SafetensorsContents {
  return readSafetensorsFile(path.join(FIXTURES, file));
}

export function stored(contents: SafetensorsContents, name: string): StoredTensor {
  const t = contents.tensors.get(name);
  if (!t) throw new Error(`fixture has no tensor '${name}'`);
  return t;
}

/** A torch-layout fixture tensor as a tf tensor with the same (torch) shape. */
export function asTensor(contents: SafetensorsContents, name: string): tf.Tensor {
  const t = stored(contents, name);
  return tf.tensor(t.values, t.shape, t.values instanceof Int32Array ? 'int32' : 'float32');
}

/** NCHW fixture images → NHWC. */
export function imagesNHWC(contents: SafetensorsContents, name = 'input'): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(asTensor(contents, name), [0, 2, 3, 1]) as tf.Tensor4D);
}

/**
 * ‖actual − expected‖∞ ≤ rtol·‖expected‖∞ (+ atol): relative to the tensor's scale, since elementwise relative
 * error is meaningless at the zeros ReLU features contain.
 */
export function assertClose(
  actual: tf.Tensor | ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  rtol = 1e-4,
  atol = 1e-7,
): void {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  assert.equal(a.length, expected.length, `${what}: ${a.length} values vs ${expected.length} expected`);
  let maxDiff = 0;
  let scale = 0;
  let worst = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - expected[i]);
    if (Number.isNaN(d)) assert.fail(`${what}: NaN at ${i} (got ${a[i]}, want ${expected[i]})`);
    if (d > maxDiff) {
      maxDiff = d;
      worst = i;
    }
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.ok(
    maxDiff <= rtol * scale + atol,
    `${what}: max |diff| ${maxDiff.toExponential(3)} at ${worst} (got ${a[worst]}, want ${expected[worst]}) ` +
      `exceeds ${rtol}·${scale.toExponential(3)}`,
  );
}
