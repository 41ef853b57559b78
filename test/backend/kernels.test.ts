import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../../lib/backend';
import { batchNormTrain } from '../../lib/backend/kernels/batch_norm';
import { layerNorm } from '../../lib/backend/kernels/layer_norm';
import { transposedIsCheaper } from '../../lib/backend/kernels/batch_matmul';
import { setNativeKernelsActive } from '../../lib/backend/kernels/native';
import { onCpu, onWasm, randomValues, relativeError, type ConvCase, type Pad } from './helpers';

const TOLERANCE = 1e-4;

const explicit = (t: number, b: number, l: number, r: number): Pad => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

// Strides 1/2, kernels 1/3/7, 'same'/'valid'/numeric/explicit padding, odd sizes, ViT patch strides.
const CONV_CASES: ConvCase[] = [
  { x: [2, 9, 9, 3], k: [3, 3], cout: 4, stride: 1, pad: 'same' },
  { x: [2, 9, 7, 3], k: [3, 3], cout: 4, stride: 2, pad: 'same' },
  { x: [2, 8, 8, 5], k: [3, 3], cout: 6, stride: 2, pad: 'same' },
  { x: [2, 9, 9, 3], k: [3, 3], cout: 4, stride: 1, pad: 'valid' },
  { x: [2, 11, 10, 3], k: [3, 3], cout: 4, stride: 2, pad: 'valid' },
  { x: [2, 9, 9, 3], k: [3, 3], cout: 4, stride: 2, pad: 1 },
  { x: [3, 7, 9, 4], k: [1, 1], cout: 5, stride: 1, pad: 'valid' },
  { x: [3, 7, 9, 4], k: [1, 1], cout: 5, stride: 2, pad: 'valid' },
  { x: [2, 8, 8, 4], k: [1, 1], cout: 5, stride: 2, pad: 'same' },
  { x: [2, 15, 13, 3], k: [7, 7], cout: 4, stride: 2, pad: explicit(3, 3, 3, 3) },
  { x: [2, 16, 16, 3], k: [7, 7], cout: 4, stride: 2, pad: 'same' },
  { x: [2, 13, 13, 2], k: [7, 7], cout: 3, stride: 1, pad: 'valid' },
  { x: [1, 11, 12, 2], k: [7, 7], cout: 3, stride: 1, pad: 'same' },
  { x: [2, 10, 9, 3], k: [3, 3], cout: 2, stride: 2, pad: explicit(2, 0, 1, 3) },
  { x: [2, 16, 16, 3], k: [4, 4], cout: 5, stride: 4, pad: 'valid' },
  { x: [2, 18, 17, 3], k: [4, 4], cout: 5, stride: 4, pad: 'valid' },
  { x: [2, 16, 16, 3], k: [8, 8], cout: 6, stride: 8, pad: 'valid' },
  { x: [1, 32, 32, 3], k: [16, 16], cout: 4, stride: 16, pad: 'valid' },
  { x: [2, 9, 8, 3], k: [3, 1], cout: 4, stride: 2, pad: 'same' },
];

/** The kernels pick a formulation by size; tests exercise each one on every case. */
const FORMULATIONS = ['auto', 'conv', 'columns'];

async function withFormulation<T>(formulation: string, fn: () => Promise<T>): Promise<T> {
  const previous = process.env.SSLAD_CONV_GRAD;
  if (formulation === 'auto') delete process.env.SSLAD_CONV_GRAD;
  else process.env.SSLAD_CONV_GRAD = formulation;
  try {
    return await fn();
  } finally {
    if (previous === undefined) delete process.env.SSLAD_CONV_GRAD;
    else process.env.SSLAD_CONV_GRAD = previous;
  }
}

const describeCase = (c: ConvCase) =>
  `x ${c.x.join('x')}, kernel ${c.k.join('x')}→${c.cout}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`;

function convShapes(c: ConvCase) {
  const filterShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.cout];
  const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.stride, 1, c.pad as 'same');
  return { filterShape, dyShape: info.outShape };
}

describe('wasm training kernels', function () {
  this.timeout(120000);

  // The wasm kernels themselves, with the native kernels registered over them switched to their wasm fallbacks.
  before(function () {
    if (tf.getBackend() !== 'wasm') this.skip();
    setNativeKernelsActive(false);
  });
  after(() => setNativeKernelsActive(true));

  it('are registered by initBackend', () => {
    const names = backendInfo()?.registeredKernels ?? [];
    for (const name of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'BatchMatMul',
      'Slice',
      'Concat',
      'Identity',
      'MaxPoolGrad',
      'SplitV',
      'Sum',
      'SsladBatchNormTrain',
      'SsladBatchNormTrainGrad',
      'Conv2D',
      'SsladLayerNorm',
      'SsladLayerNormGrad',
    ]) {
      assert.ok(names.includes(name), `${name} registered (got ${names.join(', ')})`);
      assert.ok(tf.getKernel(name, 'wasm'), `${name} present in the registry`);
    }
  });

  describe('Conv2DBackpropFilter matches cpu', () => {
    CONV_CASES.forEach((c, i) => {
      it(describeCase(c), async () => {
        const { filterShape, dyShape } = convShapes(c);
        const xValues = randomValues(tf.util.sizeFromShape(c.x), 10 + i);
        const dyValues = randomValues(tf.util.sizeFromShape(dyShape), 100 + i);
        const run = () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropFilter',
              { x: tf.tensor4d(xValues, c.x), dy: tf.tensor(dyValues, dyShape) },
              { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape },
            ) as tf.Tensor;
        const [expected] = await onCpu(run);
        for (const formulation of FORMULATIONS) {
          const before = tf.memory().numTensors;
          const [actual] = await withFormulation(formulation, () => onWasm(run));
          assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
          const err = relativeError(actual, expected);
          assert.ok(err < TOLERANCE, `${formulation} formulation: relative error ${err}`);
        }
      });
    });
  });

  describe('Conv2DBackpropInput matches cpu', () => {
    CONV_CASES.forEach((c, i) => {
      it(describeCase(c), async () => {
        const { filterShape, dyShape } = convShapes(c);
        const wValues = randomValues(tf.util.sizeFromShape(filterShape), 20 + i);
        const dyValues = randomValues(tf.util.sizeFromShape(dyShape), 200 + i);
        const run = () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy: tf.tensor(dyValues, dyShape), filter: tf.tensor4d(wValues, filterShape) },
              { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
            ) as tf.Tensor;
        const [expected] = await onCpu(run);
        for (const formulation of FORMULATIONS) {
          const [actual] = await withFormulation(formulation, () => onWasm(run));
          const err = relativeError(actual, expected);
          assert.ok(err < TOLERANCE, `${formulation} formulation: relative error ${err}`);
        }
      });
    });
  });

  it('BatchMatMul packs the smaller operand: weight gradients swap, forward products do not', () => {
    assert.equal(transposedIsCheaper(192, 2080, 768, true, false), true, 'ViT fc1 dW = Xᵀ·dY');
    assert.equal(transposedIsCheaper(2080, 192, 768, false, false), false, 'ViT fc1 forward');
    assert.equal(transposedIsCheaper(2080, 768, 192, false, true), false, 'ViT fc1 dX = dY·Wᵀ');
    assert.equal(transposedIsCheaper(6, 40, 50, true, false), true, 'the test case below');
  });

  describe('BatchMatMul matches cpu', () => {
    const cases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [];
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        cases.push({ a: ta ? [3, 7, 5] : [3, 5, 7], b: tb ? [3, 4, 7] : [3, 7, 4], ta, tb });
        cases.push({ a: ta ? [2, 3, 7, 5] : [2, 3, 5, 7], b: tb ? [4, 7] : [7, 4], ta, tb });
        cases.push({ a: ta ? [7, 5] : [5, 7], b: tb ? [4, 4, 7] : [4, 7, 4], ta, tb });
        cases.push({ a: ta ? [33, 17] : [17, 33], b: tb ? [9, 33] : [33, 9], ta, tb });
        // Few rows, wide output: computed as (op(B)ᵀ·op(A)ᵀ)ᵀ so the smaller operand is packed.
        cases.push({ a: ta ? [40, 6] : [6, 40], b: tb ? [50, 40] : [40, 50], ta, tb });
      }
    }
    cases.push({ a: [2, 1, 5, 7], b: [1, 3, 7, 4], ta: false, tb: false }); // mixed broadcast: wasm's own path
    cases.forEach((c, i) => {
      it(`a ${c.a.join('x')}${c.ta ? 'ᵀ' : ''} · b ${c.b.join('x')}${c.tb ? 'ᵀ' : ''}`, async () => {
        const aValues = randomValues(tf.util.sizeFromShape(c.a), 30 + i);
        const bValues = randomValues(tf.util.sizeFromShape(c.b), 300 + i);
        const run = () => tf.matMul(tf.tensor(aValues, c.a), tf.tensor(bValues, c.b), c.ta, c.tb);
        const [expected] = await onCpu(run);
        const [actual] = await onWasm(run);
        const err = relativeError(actual, expected);
        assert.ok(err < TOLERANCE, `relative error ${err}`);
      });
    });
  });

  describe('Slice matches cpu', () => {
    const cases: Array<{ shape: number[]; begin: number[]; size: number[]; dtype: 'float32' | 'int32' }> = [
      { shape: [10], begin: [3], size: [4], dtype: 'float32' },
      { shape: [5, 7], begin: [1, 2], size: [3, -1], dtype: 'float32' },
      { shape: [5, 7], begin: [2, 0], size: [2, 7], dtype: 'int32' },
      { shape: [4, 5, 6], begin: [1, 1, 1], size: [2, 3, 4], dtype: 'float32' },
      { shape: [3, 5, 6, 7], begin: [0, 2, 0, 0], size: [3, 2, 6, 7], dtype: 'float32' },
      { shape: [3, 5, 6, 7], begin: [1, 1, 2, 3], size: [2, 3, 3, 4], dtype: 'float32' },
      { shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 2, 0], size: [1, 3, 2, 2, 6], dtype: 'float32' },
      { shape: [2, 3, 4, 5, 6], begin: [0, 0, 0, 0, 5], size: [2, 3, 4, 5, 1], dtype: 'int32' },
    ];
    cases.forEach((c, i) => {
      it(`${c.dtype} ${c.shape.join('x')} from [${c.begin}] size [${c.size}]`, async () => {
        const values = randomValues(tf.util.sizeFromShape(c.shape), 40 + i).map((v) => Math.round(v * 1000));
        const run = () => tf.slice(tf.tensor(values, c.shape, c.dtype), c.begin, c.size).toFloat();
        const [expected] = await onCpu(run);
        const [actual] = await onWasm(run);
        assert.deepEqual(Array.from(actual), Array.from(expected));
      });
    });
  });
});

describe('wasm kernels from the step profiles', function () {
  this.timeout(120000);

  // The wasm kernels themselves, with the native kernels registered over them switched to their wasm fallbacks.
  before(function () {
    if (tf.getBackend() !== 'wasm') this.skip();
    setNativeKernelsActive(false);
  });
  after(() => setNativeKernelsActive(true));

  describe('MaxPoolGrad matches cpu (first maximum of each window, padded cells never win)', () => {
    const cases: Array<{
      x: [number, number, number, number];
      k: number;
      s: number;
      pad: 'same' | 'valid' | number;
      ties: boolean;
    }> = [
      { x: [2, 9, 9, 3], k: 3, s: 2, pad: 1, ties: false },
      { x: [2, 9, 9, 3], k: 3, s: 2, pad: 1, ties: true },
      { x: [1, 8, 7, 5], k: 2, s: 2, pad: 'valid', ties: false },
      { x: [2, 11, 10, 4], k: 3, s: 2, pad: 'same', ties: true },
      { x: [3, 5, 5, 2], k: 3, s: 1, pad: 1, ties: true },
      { x: [1, 16, 16, 64], k: 3, s: 2, pad: 1, ties: true },
    ];
    cases.forEach((c, i) => {
      const ties = c.ties ? ', many ties (ReLU zeros)' : '';
      it(`x ${c.x.join('x')}, window ${c.k}, stride ${c.s}, pad ${c.pad}${ties}`, async () => {
        // Ties: values on a coarse grid through a ReLU, as in ResNet's stem.
        const xValues = randomValues(tf.util.sizeFromShape(c.x), 500 + i).map((v) =>
          c.ties ? Math.max(0, Math.round(v * 2)) : v,
        );
        const run = () => {
          const x = tf.tensor4d(xValues, c.x);
          const y = tf.maxPool(x, c.k, c.s, c.pad);
          const cotangent = tf.tensor(randomValues(y.size, 600 + i), y.shape);
          return [
            y,
            tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, c.k, c.s, c.pad), cotangent)))(x),
          ];
        };
        const [yRef, dxRef] = await onCpu(run);
        const [y, dx] = await onWasm(run);
        assert.deepEqual(Array.from(y), Array.from(yRef), 'forward');
        assert.ok(relativeError(dx, dxRef) < 1e-6, `gradient: relative error ${relativeError(dx, dxRef)}`);
      });
    });
  });

  describe('fused BatchNorm (train mode) matches autodiff of the plain formula on cpu', () => {
    const cases: Array<{ shape: number[]; offset: number }> = [
      { shape: [7, 5], offset: 0 },
      { shape: [2, 3, 5, 4], offset: 0 },
      { shape: [3, 1, 1, 6], offset: 0 },
      { shape: [4, 9, 3, 3], offset: 50 }, // |mean| ≫ std: the variance must not cancel
      { shape: [5, 7, 7, 33], offset: -2 },
    ];
    cases.forEach((c, i) => {
      it(`x ${c.shape.join('x')}, values around ${c.offset}`, async () => {
        const channels = c.shape[c.shape.length - 1];
        const xValues = randomValues(tf.util.sizeFromShape(c.shape), 700 + i).map((v) => v + c.offset);
        const wValues = randomValues(channels, 710 + i);
        const bValues = randomValues(channels, 720 + i);
        const gValues = randomValues(tf.util.sizeFromShape(c.shape), 730 + i);
        const eps = 1e-5;
        const reference = () => {
          const [x, w, b, g] = [
            tf.tensor(xValues, c.shape),
            tf.tensor1d(wValues),
            tf.tensor1d(bValues),
            tf.tensor(gValues, c.shape),
          ];
          const axes = c.shape.slice(0, -1).map((_, a) => a);
          const f = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => {
            const { mean, variance } = tf.moments(xs, axes);
            return tf.add(tf.mul(tf.mul(tf.sub(xs, mean), tf.rsqrt(tf.add(variance, eps))), ws), bs);
          };
          const { mean, variance } = tf.moments(x, axes);
          const grads = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(f(xs, ws, bs), g)))([
            x,
            w,
            b,
          ]);
          return [f(x, w, b), mean, variance, ...grads];
        };
        const fused = () => {
          const [x, w, b, g] = [
            tf.tensor(xValues, c.shape),
            tf.tensor1d(wValues),
            tf.tensor1d(bValues),
            tf.tensor(gValues, c.shape),
          ];
          const out = batchNormTrain(x, w, b, eps);
          const grads = tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
            tf.sum(tf.mul(batchNormTrain(xs, ws, bs, eps).y, g)),
          )([x, w, b]);
          return [out.y, out.mean, out.variance, ...grads];
        };
        const expected = await onCpu(reference);
        const before = tf.memory().numTensors;
        const actual = await onWasm(fused);
        assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
        const cpuFallback = await onCpu(fused);
        ['y', 'mean', 'variance', 'dx', 'dweight', 'dbias'].forEach((name, k) => {
          const err = relativeError(actual[k], expected[k]);
          assert.ok(err < 1e-4, `wasm kernel ${name}: relative error ${err}`);
          const errFallback = relativeError(cpuFallback[k], expected[k]);
          assert.ok(errFallback < 1e-4, `plain-op fallback ${name}: relative error ${errFallback}`);
        });
      });
    });
  });

  it('Identity shares the buffer and survives disposal of its source', () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const before = tf.memory().numTensors;
    const y = tf.clone(x);
    assert.equal(tf.memory().numTensors, before + 1);
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4, 5, 6]);
    const z = tf.add(y, 1);
    assert.deepEqual(Array.from(z.dataSync()), [2, 3, 4, 5, 6, 7]);
    tf.dispose([y, z]);
  });

  describe('SplitV matches cpu', () => {
    const cases: Array<{ shape: number[]; splits: number | number[]; axis: number }> = [
      { shape: [3, 5, 12], splits: 3, axis: 2 },
      { shape: [4, 6], splits: [1, 3, 2], axis: 1 },
      { shape: [5, 4, 3], splits: [2, -1], axis: 0 },
      { shape: [2, 7, 3, 5], splits: [3, 4], axis: 1 },
    ];
    cases.forEach((c, i) => {
      it(`${c.shape.join('x')} into ${JSON.stringify(c.splits)} along ${c.axis}`, async () => {
        const values = randomValues(tf.util.sizeFromShape(c.shape), 800 + i);
        const run = () => tf.split(tf.tensor(values, c.shape), c.splits, c.axis);
        const expected = await onCpu(run);
        const actual = await onWasm(run);
        assert.equal(actual.length, expected.length);
        actual.forEach((part, k) => assert.deepEqual(Array.from(part), Array.from(expected[k]), `part ${k}`));
      });
    });
  });

  describe('Sum matches cpu', () => {
    const cases: Array<{ shape: number[]; axis: number | number[]; keepDims: boolean }> = [
      { shape: [2080, 7], axis: 0, keepDims: false },
      { shape: [3, 5, 7], axis: [0, 1], keepDims: false },
      { shape: [3, 5, 7], axis: [1, 0], keepDims: true },
      { shape: [4, 3, 2, 9], axis: [0, 1, 2], keepDims: false },
      { shape: [3, 5, 7], axis: 1, keepDims: false }, // not leading: wasm's own kernel
      { shape: [3, 5, 7], axis: [0, 2], keepDims: true },
      { shape: [3, 5, 7], axis: [0, 1, 2], keepDims: false },
    ];
    cases.forEach((c, i) => {
      it(`${c.shape.join('x')} over ${JSON.stringify(c.axis)}${c.keepDims ? ' (keepDims)' : ''}`, async () => {
        const values = randomValues(tf.util.sizeFromShape(c.shape), 900 + i);
        let shape: number[] = [];
        const run = () => {
          const y = tf.sum(tf.tensor(values, c.shape), c.axis, c.keepDims);
          shape = y.shape;
          return y;
        };
        const [expected] = await onCpu(run);
        const expectedShape = shape;
        const [actual] = await onWasm(run);
        assert.deepEqual(shape, expectedShape);
        assert.ok(relativeError(actual, expected) < 1e-5, `relative error ${relativeError(actual, expected)}`);
      });
    });
  });
});

describe('wasm fused LayerNorm', function () {
  this.timeout(120000);

  // The wasm kernels themselves, with the native kernels registered over them switched to their wasm fallbacks.
  before(function () {
    if (tf.getBackend() !== 'wasm') this.skip();
    setNativeKernelsActive(false);
  });
  after(() => setNativeKernelsActive(true));

  describe('fused LayerNorm matches autodiff of the plain formula on cpu', () => {
    const cases: Array<{ shape: number[]; offset: number }> = [
      { shape: [5, 7], offset: 0 },
      { shape: [2, 65, 12], offset: 3 },
      { shape: [3, 1, 1], offset: 0 },
      { shape: [4, 33], offset: -20 },
    ];
    cases.forEach((c, i) => {
      it(`x ${c.shape.join('x')}, values around ${c.offset}`, async () => {
        const d = c.shape[c.shape.length - 1];
        const xValues = randomValues(tf.util.sizeFromShape(c.shape), 1100 + i).map((v) => v + c.offset);
        const wValues = randomValues(d, 1110 + i);
        const bValues = randomValues(d, 1120 + i);
        const gValues = randomValues(tf.util.sizeFromShape(c.shape), 1130 + i);
        const eps = 1e-6;
        const inputs = () => [
          tf.tensor(xValues, c.shape),
          tf.tensor1d(wValues),
          tf.tensor1d(bValues),
          tf.tensor(gValues, c.shape),
        ];
        const reference = () => {
          const [x, w, b, g] = inputs();
          const f = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => {
            const { mean, variance } = tf.moments(xs, -1, true);
            return tf.add(tf.mul(tf.mul(tf.sub(xs, mean), tf.rsqrt(tf.add(variance, eps))), ws), bs);
          };
          return [
            f(x, w, b),
            ...tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(f(xs, ws, bs), g)))([x, w, b]),
          ];
        };
        const fused = () => {
          const [x, w, b, g] = inputs();
          return [
            layerNorm(x, w, b, eps),
            ...tf.grads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(layerNorm(xs, ws, bs, eps), g)))(
              [x, w, b],
            ),
          ];
        };
        const expected = await onCpu(reference);
        const before = tf.memory().numTensors;
        const actual = await onWasm(fused);
        assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
        const cpuFallback = await onCpu(fused);
        ['y', 'dx', 'dweight', 'dbias'].forEach((name, k) => {
          const err = relativeError(actual[k], expected[k]);
          assert.ok(err < 1e-4, `wasm kernel ${name}: relative error ${err}`);
          const errFallback = relativeError(cpuFallback[k], expected[k]);
          assert.ok(errFallback < 1e-4, `plain-op fallback ${name}: relative error ${errFallback}`);
        });
      });
    });
  });
});

describe('wasm Conv2D (columns where few output pixels meet wide channels)', function () {
  this.timeout(120000);

  // The wasm kernels themselves, with the native kernels registered over them switched to their wasm fallbacks.
  before(function () {
    if (tf.getBackend() !== 'wasm') this.skip();
    setNativeKernelsActive(false);
  });
  after(() => setNativeKernelsActive(true));

  const cases: ConvCase[] = [
    { x: [2, 2, 2, 40], k: [3, 3], cout: 50, stride: 1, pad: 'same' }, // ResNet stage 4 in small
    { x: [3, 4, 4, 20], k: [3, 3], cout: 60, stride: 2, pad: 1 },
    { x: [2, 3, 5, 16], k: [3, 3], cout: 70, stride: 1, pad: 'valid' },
    { x: [2, 4, 4, 24], k: [1, 1], cout: 64, stride: 2, pad: 'valid' },
    { x: [1, 3, 3, 33], k: [3, 3], cout: 65, stride: 1, pad: explicit(1, 0, 2, 1) },
    { x: [2, 9, 9, 3], k: [3, 3], cout: 4, stride: 1, pad: 'same' }, // wasm's own path
  ];
  cases.forEach((c, i) => {
    it(describeCase(c), async () => {
      const { filterShape } = convShapes(c);
      const xValues = randomValues(tf.util.sizeFromShape(c.x), 1200 + i);
      const wValues = randomValues(tf.util.sizeFromShape(filterShape), 1300 + i);
      const run = () =>
        tf.conv2d(tf.tensor4d(xValues, c.x), tf.tensor4d(wValues, filterShape), c.stride, c.pad as 'same');
      const [expected] = await onCpu(run);
      const before = tf.memory().numTensors;
      const [actual] = await onWasm(run);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      const err = relativeError(actual, expected);
      assert.ok(err < TOLERANCE, `relative error ${err}`);
    });
  });
});

describe('wasm Concat (heap to heap)', function () {
  before(function () {
    if (tf.getBackend() !== 'wasm') this.skip();
  });

  const cases: Array<{ shapes: number[][]; axis: number; dtype: 'float32' | 'int32' }> = [
    {
      shapes: [
        [2, 3, 4],
        [2, 3, 4],
        [2, 3, 4],
      ],
      axis: 2,
      dtype: 'float32',
    },
    {
      shapes: [
        [2, 3, 4],
        [2, 5, 4],
      ],
      axis: 1,
      dtype: 'float32',
    },
    {
      shapes: [
        [1, 3],
        [4, 3],
        [2, 3],
      ],
      axis: 0,
      dtype: 'float32',
    },
    {
      shapes: [
        [3, 2],
        [3, 0],
        [3, 5],
      ],
      axis: -1,
      dtype: 'int32',
    },
    {
      shapes: [
        [2, 1, 3, 2],
        [2, 2, 3, 2],
      ],
      axis: 1,
      dtype: 'int32',
    },
  ];
  for (const c of cases) {
    it(`matches cpu: ${c.shapes.map((s) => `[${s}]`).join(' + ')} along ${c.axis} (${c.dtype})`, async () => {
      const run = () =>
        tf
          .concat(
            c.shapes.map((s, i) =>
              tf.tensor(
                randomValues(tf.util.sizeFromShape(s), 200 + i).map((v) =>
                  c.dtype === 'int32' ? Math.round(v * 100) : v,
                ),
                s,
                c.dtype,
              ),
            ),
            c.axis,
          )
          .toFloat();
      const before = tf.memory().numTensors;
      const [actual] = await onWasm(run);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      const [expected] = await onCpu(run);
      assert.deepEqual(Array.from(actual), Array.from(expected));
    });
  }
});
