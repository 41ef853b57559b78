import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../../lib/backend';
import { onCpu, onWasm, randomValues, relativeError } from './helpers';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  x: [number, number, number, number];
  k: [number, number];
  cout: number;
  stride: number;
  pad: Pad;
}

const TOLERANCE = 1e-4;

const explicit = (t: number, b: number, l: number, r: number): Pad => [[0, 0], [t, b], [l, r], [0, 0]];

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

  before(function () {
    if (tf.getBackend() !== 'wasm') this.skip();
  });

  it('are registered by initBackend', () => {
    const names = backendInfo()?.registeredKernels ?? [];
    for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', 'Slice']) {
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
          tf.engine().runKernel(
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
          tf.engine().runKernel(
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

  describe('BatchMatMul matches cpu', () => {
    const cases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [];
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        cases.push({ a: ta ? [3, 7, 5] : [3, 5, 7], b: tb ? [3, 4, 7] : [3, 7, 4], ta, tb });
        cases.push({ a: ta ? [2, 3, 7, 5] : [2, 3, 5, 7], b: tb ? [4, 7] : [7, 4], ta, tb });
        cases.push({ a: ta ? [7, 5] : [5, 7], b: tb ? [4, 4, 7] : [4, 7, 4], ta, tb });
        cases.push({ a: ta ? [33, 17] : [17, 33], b: tb ? [9, 33] : [33, 9], ta, tb });
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
