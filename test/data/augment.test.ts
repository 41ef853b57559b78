import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../lib/data/rng';
import {
  adjustBrightness,
  adjustContrast,
  adjustHue,
  adjustSaturation,
  applyAugment,
  applyAugmentTensor,
  augmentBatch,
  colorJitter,
  evalTransform,
  hflip,
  normalize,
  resizedCrop,
  sampleAugmentParams,
  sampleCropParams,
  sampleJitterParams,
  DEFAULT_AUGMENT,
  type AugmentParams,
  type CropParams,
} from '../../lib/data/augment';

interface Fixture {
  shape: [number, number, number, number];
  images: number[];
  cases: Record<
    string,
    {
      output: number[];
      factors?: number[];
      crops?: CropParams[];
      outSize?: number;
      mean?: number[];
      std?: number[];
      params?: Array<CropParams & Record<string, unknown>>;
    }
  >;
}
const fixture: Fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../fixtures/augment/torchvision_ops.json'), 'utf8'),
);

function maxAbsDiff(actual: tf.Tensor, expected: number[]): number {
  const values = actual.dataSync();
  assert.equal(values.length, expected.length, 'size mismatch');
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - expected[i]));
  return worst;
}

describe('data/augment', () => {
  let images: tf.Tensor4D;
  before(() => {
    images = tf.tensor4d(fixture.images, fixture.shape);
  });
  after(() => images.dispose());

  describe('agreement with torchvision functional ops', () => {
    const pointwise: Array<[string, (x: tf.Tensor4D, f: number[]) => tf.Tensor4D, number]> = [
      ['brightness', adjustBrightness, 1e-6],
      ['contrast', adjustContrast, 1e-6],
      ['saturation', adjustSaturation, 1e-6],
      ['hue', adjustHue, 2e-6],
    ];
    for (const [name, op, tolerance] of pointwise) {
      it(`adjust_${name}`, () => {
        const out = op(images, fixture.cases[name].factors!);
        const diff = maxAbsDiff(out, fixture.cases[name].output);
        out.dispose();
        assert.ok(diff < tolerance, `max |diff| ${diff}`);
      });
    }
    for (const mode of ['bilinear', 'bicubic'] as const) {
      it(`resized_crop (${mode}, antialias off)`, () => {
        const c = fixture.cases[`resized_crop_${mode}`];
        const out = resizedCrop(images, c.crops!, c.outSize!, c.outSize!, mode);
        const diff = maxAbsDiff(out, c.output);
        out.dispose();
        assert.ok(diff < 2e-6, `max |diff| ${diff}`);
      });
    }
    it('hflip and normalize', () => {
      const flipped = hflip(images);
      assert.ok(maxAbsDiff(flipped, fixture.cases.hflip.output) === 0);
      const c = fixture.cases.normalize;
      const normed = normalize(images, c.mean!, c.std!);
      assert.ok(maxAbsDiff(normed, c.output) < 1e-6);
      tf.dispose([flipped, normed]);
    });
    it('full chain: crop → jitter in a given order → flip → normalize', () => {
      const c = fixture.cases.chain;
      const params: AugmentParams[] = c.params!.map((p) => ({
        crop: p.crop as unknown as CropParams,
        flip: p.flip as boolean,
        jitter: {
          order: p.order as number[],
          brightness: p.brightness as number,
          contrast: p.contrast as number,
          saturation: p.saturation as number,
          hue: p.hue as number,
        },
      }));
      const out = applyAugment(images, params, { ...DEFAULT_AUGMENT, outSize: c.outSize!, mean: c.mean!, std: c.std! });
      const diff = maxAbsDiff(out, c.output);
      out.dispose();
      assert.ok(diff < 2e-5, `max |diff| ${diff}`);
    });
  });

  describe('invariants', () => {
    it('RandomResizedCrop areas lie in the scale range and boxes inside the image', () => {
      const rng = new Rng(3);
      for (const [h, w] of [
        [64, 64],
        [96, 96],
        [50, 80],
      ]) {
        for (let i = 0; i < 2000; i++) {
          const c = sampleCropParams(rng, h, w, [0.395, 1], [3 / 4, 4 / 3]);
          assert.ok(c.top >= 0 && c.left >= 0 && c.top + c.height <= h && c.left + c.width <= w, JSON.stringify(c));
          const fraction = (c.height * c.width) / (h * w);
          // rounding of w and h moves the area by at most about (w + h) / 2 + 1/4 pixels
          const slack = (c.height + c.width + 1) / 2 / (h * w);
          assert.ok(fraction >= 0.395 - slack && fraction <= 1 + slack, `area fraction ${fraction}`);
          const ratio = c.width / c.height;
          assert.ok(ratio > 0.7 && ratio < 1.45, `ratio ${ratio}`);
        }
      }
    });
    it('falls back to the centre crop when no attempt fits (torchvision)', () => {
      // a 1-pixel-high strip cannot hold any crop of ratio in [3/4, 4/3] with area ≥ 90 %
      const c = sampleCropParams(new Rng(1), 1, 40, [0.9, 1], [3 / 4, 4 / 3]);
      assert.deepEqual(c, { top: 0, left: 19, height: 1, width: Math.round(4 / 3) });
    });
    it('jitter with t = 0 is the identity, hue shift 0 is the identity', () => {
      const rng = new Rng(5);
      const params = Array.from({ length: 3 }, () => sampleJitterParams(rng, 0));
      assert.ok(params.every((p) => p.brightness === null && p.hue === null));
      const same = colorJitter(images, params);
      assert.equal(maxAbsDiff(same, fixture.images), 0);
      const hueZero = adjustHue(images, [0, 0, 0]);
      assert.ok(maxAbsDiff(hueZero, fixture.images) < 1e-6);
      tf.dispose([same, hueZero]);
    });
    it('jitter factors stay in torchvision ranges', () => {
      const rng = new Rng(9);
      for (let i = 0; i < 500; i++) {
        const p = sampleJitterParams(rng, 0.275);
        for (const f of [p.brightness!, p.contrast!, p.saturation!]) assert.ok(f >= 0.725 && f <= 1.275);
        assert.ok(Math.abs(p.hue!) <= 0.1375);
        assert.deepEqual([...p.order].sort(), [0, 1, 2, 3]);
      }
    });
    it('the same seed gives the same augmented batch; another seed differs', () => {
      const config = { ...DEFAULT_AUGMENT, outSize: 8 };
      const a = augmentBatch(images, new Rng(11), config);
      const b = augmentBatch(images, new Rng(11), config);
      const c = augmentBatch(images, new Rng(12), config);
      assert.equal(maxAbsDiff(a, Array.from(b.dataSync())), 0);
      assert.ok(maxAbsDiff(a, Array.from(c.dataSync())) > 1e-3);
      tf.dispose([a, b, c]);
    });
    it('the fast pixel path equals the tensor path on random parameters', () => {
      for (const interpolation of ['bicubic', 'bilinear'] as const) {
        const config = { ...DEFAULT_AUGMENT, outSize: 9, interpolation };
        const params = sampleAugmentParams(new Rng(21), 3, 12, 14, config);
        const fast = applyAugment(images, params, config);
        const reference = applyAugmentTensor(images, params, config);
        assert.ok(maxAbsDiff(fast, Array.from(reference.dataSync())) < 2e-5);
        tf.dispose([fast, reference]);
      }
    });
    it('eval transform resizes and normalises only; no tensor leaks', () => {
      const before = tf.memory().numTensors;
      const out = evalTransform(images, { outSize: 12, mean: [0, 0, 0], std: [1, 1, 1] });
      assert.deepEqual(out.shape, [3, 12, 12, 3]);
      out.dispose();
      const config = { ...DEFAULT_AUGMENT, outSize: 16 };
      const params = sampleAugmentParams(new Rng(2), 3, 12, 14, config);
      applyAugment(images, params, config).dispose();
      assert.equal(tf.memory().numTensors, before);
    });
  });
});
