import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../../lib/backend';
import { batchNormTrain } from '../../lib/backend/kernels/batch_norm';
import { geluExact } from '../../lib/backend/kernels/gelu';
import { axpby } from '../../lib/backend/kernels/axpby';
import { layerNorm } from '../../lib/backend/kernels/layer_norm';
import { nativeKernelsActive, setNativeKernelsActive } from '../../lib/backend/kernels/native';
import { loadNative, nativeAddonPath } from '../../lib/backend/native';
import { makeRunConfig } from '../../lib/methods/config';
import { methodNames } from '../../lib/methods';
import { createMethod } from '../../lib/methods';
import { onCpu, randomValues, relativeError, type ConvCase, type Pad } from './helpers';

/**
 * The native (oneDNN) kernels against the project's wasm kernels and the cpu backend, in one process:
 * setNativeKernelsActive(false) routes the same registered kernels to their wasm fallbacks.
 * Skipped, with the reason, where the addon is not built; the pure-wasm path is checked in a child process.
 */

const explicit = (t: number, b: number, l: number, r: number): Pad => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

// Odd sizes, strides 1/2/patch, kernels 1/3/7/patch, every padding form the models use, and tiny outputs
// (≤ 4 pixels) with wide channels where the column formulation is chosen by default.
const CONV_CASES: ConvCase[] = [
  { x: [2, 9, 9, 3], k: [3, 3], cout: 4, stride: 1, pad: 'same' },
  { x: [2, 9, 7, 5], k: [3, 3], cout: 6, stride: 2, pad: 'same' },
  { x: [3, 8, 8, 16], k: [3, 3], cout: 8, stride: 1, pad: 1 },
  { x: [2, 11, 10, 12], k: [3, 3], cout: 7, stride: 2, pad: 1 },
  { x: [2, 9, 9, 9], k: [3, 3], cout: 4, stride: 2, pad: 'valid' },
  { x: [3, 7, 9, 10], k: [1, 1], cout: 5, stride: 1, pad: 'valid' },
  { x: [3, 7, 9, 10], k: [1, 1], cout: 5, stride: 2, pad: 'valid' },
  { x: [2, 15, 13, 3], k: [7, 7], cout: 8, stride: 2, pad: explicit(3, 3, 3, 3) },
  { x: [2, 16, 16, 3], k: [7, 7], cout: 4, stride: 2, pad: 'same' },
  { x: [2, 10, 9, 11], k: [3, 3], cout: 2, stride: 2, pad: explicit(2, 0, 1, 3) },
  { x: [2, 16, 16, 3], k: [8, 8], cout: 6, stride: 8, pad: 'valid' },
  { x: [2, 18, 17, 3], k: [4, 4], cout: 5, stride: 4, pad: 'valid' },
  { x: [4, 2, 2, 40], k: [3, 3], cout: 36, stride: 1, pad: 1 },
  { x: [3, 4, 4, 24], k: [3, 3], cout: 20, stride: 2, pad: 1 },
  { x: [5, 2, 2, 24], k: [3, 3], cout: 20, stride: 2, pad: 1 },
  { x: [5, 2, 2, 24], k: [1, 1], cout: 20, stride: 2, pad: 'valid' },
  // tfjs-wasm 4.22's own Conv2D returns zeros for this 3×1 kernel (no model uses one): checked against cpu only.
  { x: [2, 9, 8, 6], k: [3, 1], cout: 4, stride: 2, pad: 'same' },
];
const WASM_CONV2D_WRONG = (c: ConvCase) => c.k[0] !== c.k[1];

const FORMULATIONS = ['auto', 'dnnl', 'columns'];

const TOLERANCE = 1e-4;

function withEnv<T>(name: string, value: string | undefined, fn: () => T): T {
  const previous = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return fn();
  } finally {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  }
}

/** Outputs of `fn` on wasm with the native kernels on, then off (the wasm fallbacks), read back as arrays. */
function nativeAndWasm(fn: () => tf.Tensor[]): { native: Float32Array[]; wasm: Float32Array[] } {
  const read = () => {
    const outs = tf.tidy(fn);
    const values = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return values;
  };
  assert.ok(nativeKernelsActive(), 'native kernels are active before the comparison');
  const native = read();
  setNativeKernelsActive(false);
  try {
    return { native, wasm: read() };
  } finally {
    setNativeKernelsActive(true);
  }
}

function assertClose(actual: Float32Array[], expected: Float32Array[], what: string, tolerance = TOLERANCE): void {
  assert.equal(actual.length, expected.length, `${what}: number of outputs`);
  actual.forEach((a, i) => {
    const err = relativeError(a, expected[i]);
    assert.ok(err < tolerance, `${what}, output ${i}: relative error ${err.toExponential(2)} ≥ ${tolerance}`);
    assert.ok(
      expected[i].some((v) => v !== 0),
      `${what}, output ${i}: reference is all zeros`,
    );
  });
}

/** ‖actual − expected‖₂ / ‖expected‖₂. */
function l2Error(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(diff / Math.max(norm, 1e-30));
}

function describeConv(c: ConvCase): string {
  return `x ${c.x.join('×')}, ${c.k.join('×')}→${c.cout}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`;
}

/** Forward output, input gradient and filter gradient of one convolution against a fixed output gradient. */
function convPasses(c: ConvCase): tf.Tensor[] {
  const filterShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.cout];
  const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(c.x), 11), c.x);
  const w = tf.tensor4d(randomValues(tf.util.sizeFromShape(filterShape), 12), filterShape);
  const y = tf.conv2d(x, w, c.stride, c.pad as 'same');
  const dy = tf.tensor(randomValues(y.size, 13), y.shape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad as 'same'), dy)),
  )([x, w]);
  return [y, dx, dw];
}

interface MatMulCase {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

// Every transpose pair, a shared right or left operand, equal batches (3-D and 4-D), odd sizes, a vector-like
// product, and a two-sided broadcast that the native kernel hands to wasm.
const MATMUL_CASES: MatMulCase[] = [
  { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
  { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
  { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { a: [4, 9, 13], b: [13, 6], transposeA: false, transposeB: false },
  { a: [4, 9, 13], b: [6, 13], transposeA: false, transposeB: true },
  { a: [4, 13, 9], b: [13, 6], transposeA: true, transposeB: false },
  { a: [9, 13], b: [4, 13, 6], transposeA: false, transposeB: false },
  { a: [13, 9], b: [4, 6, 13], transposeA: true, transposeB: true },
  { a: [6, 17, 8], b: [6, 8, 17], transposeA: false, transposeB: false },
  { a: [6, 17, 8], b: [6, 17, 8], transposeA: false, transposeB: true },
  { a: [6, 8, 17], b: [6, 8, 5], transposeA: true, transposeB: false },
  { a: [2, 3, 11, 5], b: [2, 3, 5, 4], transposeA: false, transposeB: false },
  { a: [2, 3, 5, 11], b: [2, 3, 4, 5], transposeA: true, transposeB: true },
  { a: [1, 65], b: [65, 1], transposeA: false, transposeB: false },
  { a: [2, 1, 4, 3], b: [1, 3, 3, 5], transposeA: false, transposeB: false },
];

describe('native kernels (oneDNN)', function () {
  this.timeout(300000);

  before(function () {
    const loaded = tf.getBackend() === 'wasm' ? loadNative() : null;
    if (!loaded?.addon || !backendInfo()?.native) {
      console.log(`      skipped: ${loaded ? loaded.why : `backend is ${tf.getBackend()}, not wasm`}`);
      this.skip();
    }
  });

  it('are named by backendInfo with the oneDNN version and CPU ISA', () => {
    const native = backendInfo()!.native!;
    assert.equal(native.engine, 'oneDNN');
    assert.match(native.version, /^\d+\.\d+\.\d+$/);
    assert.ok(native.isa.length > 0 && native.isa !== 'all', `ISA ${native.isa}`);
    for (const name of [
      'Conv2D',
      'Conv2DBackpropInput',
      'Conv2DBackpropFilter',
      'BatchMatMul',
      'SsladBatchNormTrain',
      'SsladBatchNormTrainGrad',
      'SsladLayerNorm',
      'SsladLayerNormGrad',
      'Sum',
      'MaxPoolGrad',
      'SsladGelu',
      'SsladGeluGrad',
      'SsladAxpby',
    ]) {
      assert.ok(native.kernels.includes(name), `${name} is native (got ${native.kernels.join(', ')})`);
    }
  });

  for (const formulation of FORMULATIONS) {
    for (const c of CONV_CASES) {
      it(`Conv2D and both gradients (${formulation}): ${describeConv(c)}`, async () => {
        const { native, wasm } = withEnv('SSLAD_NATIVE_CONV', formulation === 'auto' ? undefined : formulation, () =>
          nativeAndWasm(() => convPasses(c)),
        );
        if (WASM_CONV2D_WRONG(c)) assertClose(native.slice(1), wasm.slice(1), 'native vs wasm (gradients)');
        else assertClose(native, wasm, 'native vs wasm');
        assertClose(native, await onCpu(() => convPasses(c)), 'native vs cpu');
      });
    }
  }

  for (const c of MATMUL_CASES) {
    const product = `${c.a.join('×')}${c.transposeA ? 'ᵀ' : ''} · ${c.b.join('×')}${c.transposeB ? 'ᵀ' : ''}`;
    it(`BatchMatMul ${product} (and its gradients where the batches match)`, async () => {
      const passes = () => {
        const a = tf.tensor(randomValues(tf.util.sizeFromShape(c.a), 21), c.a);
        const b = tf.tensor(randomValues(tf.util.sizeFromShape(c.b), 22), c.b);
        const y = tf.matMul(a, b, c.transposeA, c.transposeB);
        // TF.js's BatchMatMul gradient does not reduce over broadcast batch dimensions: forward only there.
        if (!tf.util.arraysEqual(c.a.slice(0, -2), c.b.slice(0, -2))) return [y];
        const dy = tf.tensor(randomValues(y.size, 23), y.shape);
        const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(p, q, c.transposeA, c.transposeB), dy)),
        )([a, b]);
        return [y, da, db];
      };
      const { native, wasm } = nativeAndWasm(passes);
      assertClose(native, wasm, 'native vs wasm');
      assertClose(native, await onCpu(passes), 'native vs cpu');
    });
  }

  for (const shape of [
    [4, 5, 6, 7],
    [3, 33],
    [2, 3, 3, 64],
  ]) {
    it(`fused batch norm forward and backward on [${shape}]`, async () => {
      const passes = () => {
        const channels = shape[shape.length - 1];
        // An offset mean (|mean| ≫ std) checks the shifted statistics.
        const x = tf.add(tf.tensor(randomValues(tf.util.sizeFromShape(shape), 31), shape), 5);
        const weight = tf.tensor1d(randomValues(channels, 32));
        const bias = tf.tensor1d(randomValues(channels, 33));
        const dy = tf.tensor(randomValues(tf.util.sizeFromShape(shape), 34), shape);
        const { y, mean, variance } = batchNormTrain(x, weight, bias, 1e-5);
        const grads = tf.grads((a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(batchNormTrain(a, w, b, 1e-5).y, dy)),
        )([x, weight, bias]);
        return [y, mean, variance, ...grads];
      };
      const { native, wasm } = nativeAndWasm(passes);
      assertClose(native, wasm, 'native vs wasm', 1e-4);
      assertClose(native, await onCpu(passes), 'native vs cpu', 1e-4);
    });
  }

  for (const shape of [
    [2, 5, 12],
    [7, 33],
    [3, 65, 192],
  ]) {
    it(`layer norm forward and backward on [${shape}]`, async () => {
      const passes = () => {
        const d = shape[shape.length - 1];
        const x = tf.add(tf.tensor(randomValues(tf.util.sizeFromShape(shape), 41), shape), 2);
        const weight = tf.tensor1d(randomValues(d, 42));
        const bias = tf.tensor1d(randomValues(d, 43));
        const dy = tf.tensor(randomValues(tf.util.sizeFromShape(shape), 44), shape);
        const y = layerNorm(x, weight, bias, 1e-6);
        const grads = tf.grads((a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(layerNorm(a, w, b, 1e-6), dy)),
        )([x, weight, bias]);
        return [y, ...grads];
      };
      const { native, wasm } = nativeAndWasm(passes);
      assertClose(native, wasm, 'native vs wasm');
      assertClose(native, await onCpu(passes), 'native vs cpu');
    });
  }

  for (const shape of [[3, 65, 37], [1001]]) {
    it(`exact GELU forward and backward on [${shape}] (fused natively, composed ops on wasm and cpu)`, async () => {
      const passes = () => {
        const x = tf.mul(tf.tensor(randomValues(tf.util.sizeFromShape(shape), 71), shape), 4);
        const dy = tf.tensor(randomValues(tf.util.sizeFromShape(shape), 72), shape);
        const y = geluExact(x);
        const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(geluExact(a), dy)))([x]);
        return [y, dx];
      };
      const { native, wasm } = nativeAndWasm(passes);
      assertClose(native, wasm, 'native vs wasm', 2e-4);
      assertClose(native, await onCpu(passes), 'native vs cpu', 2e-4);
    });
  }

  for (const c of [
    { shape: [2080, 37], axis: [0], keepDims: false },
    { shape: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: true },
    { shape: [3, 70001], axis: [0, 1], keepDims: false },
    { shape: [6, 7], axis: [1], keepDims: false },
  ]) {
    it(`Sum over axes [${c.axis}] of [${c.shape}]${c.keepDims ? ' (keepDims)' : ''}`, async () => {
      const passes = () => [
        tf.sum(tf.add(tf.tensor(randomValues(tf.util.sizeFromShape(c.shape), 81), c.shape), 0.5), c.axis, c.keepDims),
      ];
      const { native, wasm } = nativeAndWasm(passes);
      assertClose(native, wasm, 'native vs wasm');
      const cpu = await onCpu(passes);
      assertClose(native, cpu, 'native vs cpu');
      assert.deepEqual(
        tf.tidy(() => passes()[0].shape),
        c.keepDims
          ? c.shape.map((d, i) => (c.axis.includes(i) ? 1 : d))
          : c.shape.filter((_, i) => !c.axis.includes(i)),
      );
    });
  }

  for (const c of [
    { x: [2, 9, 9, 5], k: 3, s: 2, pad: 1 as const },
    { x: [3, 8, 7, 4], k: 2, s: 2, pad: 'valid' as const },
    { x: [2, 10, 10, 3], k: 3, s: 2, pad: 'same' as const },
  ]) {
    it(`MaxPoolGrad ${c.k}×${c.k}/${c.s} pad ${c.pad} on [${c.x}], ties included`, async () => {
      // Values on a coarse grid make ties in most windows: the first maximum (row-major) gets the gradient.
      const passes = () => {
        const x = tf.tensor4d(
          randomValues(tf.util.sizeFromShape(c.x), 91).map((v) => Math.round(v * 3)),
          c.x as [number, number, number, number],
        );
        const y = tf.maxPool(x, c.k, c.s, c.pad);
        const dy = tf.tensor(randomValues(y.size, 92), y.shape);
        const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.k, c.s, c.pad), dy)))([x]);
        return [dx];
      };
      const { native, wasm } = nativeAndWasm(passes);
      assertClose(native, wasm, 'native vs wasm', 1e-6);
      assertClose(native, await onCpu(passes), 'native vs cpu', 1e-6);
    });
  }

  for (const [a, b] of [
    [1, 0.05],
    [0.9, 1],
    [1, -0.1],
    [0.996, 0.004],
  ]) {
    it(`axpby ${a}·x + ${b}·y (optimiser and EMA updates)`, async () => {
      const passes = () => {
        const x = tf.tensor(randomValues(3 * 3 * 17 * 5, 101), [3, 3, 17, 5]);
        const y = tf.tensor(randomValues(3 * 3 * 17 * 5, 102), [3, 3, 17, 5]);
        return [axpby(a, x, b, y)];
      };
      const { native, wasm } = nativeAndWasm(passes);
      assertClose(native, wasm, 'native vs wasm', 1e-6);
      assertClose(native, await onCpu(passes), 'native vs cpu', 1e-6);
    });
  }

  it('fall back to wasm for inputs they do not handle (a dilated convolution)', async () => {
    const dilated = () => {
      const x = tf.tensor4d(randomValues(2 * 9 * 9 * 3, 51), [2, 9, 9, 3]);
      const w = tf.tensor4d(randomValues(3 * 3 * 3 * 4, 52), [3, 3, 3, 4]);
      return [tf.conv2d(x, w, 1, 'same', 'NHWC', 2)];
    };
    const { native, wasm } = nativeAndWasm(dilated);
    assertClose(native, wasm, 'native vs wasm');
    assertClose(native, await onCpu(dilated), 'native vs cpu');
  });

  // Every method's loss and gradients on both backbones with the native kernels equal the pure-wasm step.
  // Small images and batch keep this quick; the kernels see the models' real layer types and paddings.
  for (const method of methodNames()) {
    for (const backbone of method === 'mae' ? (['vit_tiny'] as const) : (['resnet18', 'vit_tiny'] as const)) {
      it(`a ${method} training step on ${backbone} equals the wasm step`, () => {
        // ResNet at 64×64 so that its last stage has 2×2 pixels: at 32×32 the batch norms of stage 4 see one
        // pixel per image, and float32 rounding differences (of any two engines, cpu included) grow to 1e-2 there.
        const size = backbone === 'resnet18' ? 64 : 32;
        const batch = 4;
        const config = makeRunConfig(
          { method, backbone, imageSize: size, patchSize: 8, vitDepth: 2, batchSize: batch },
          'smoke',
        );
        const model = createMethod(config, { posWeight: 3, seed: 5 });
        model.setTraining(true);
        const views = Array.from({ length: model.numViews }, (_, i) =>
          tf.tensor4d(randomValues(batch * size * size * 3, 60 + i), [batch, size, size, 3]),
        );
        const labels = tf.tensor1d([0, 1, 0, 1]);
        const params = model.trainable();
        const variables = params.map((p) => p.variable);
        const state = { step: 3, epoch: 0, totalSteps: 10, stepsPerEpoch: 5 };
        try {
          const { native, wasm } = nativeAndWasm(() => {
            const { value, grads } = tf.variableGrads(() => model.loss(views, labels, state).loss, variables);
            return [value, ...variables.map((v) => grads[v.name])];
          });
          const lossErr = Math.abs(native[0][0] - wasm[0][0]) / Math.max(1e-6, Math.abs(wasm[0][0]));
          assert.ok(lossErr < 1e-4, `loss ${native[0][0]} vs wasm ${wasm[0][0]}`);
          // ResNet's step is not smooth in its inputs (ReLU and max-pool gates switch): measured, perturbing the
          // input images by 1e-5 of their values moves the pure-wasm step's stem gradient by 1.8e-2 (relative L2).
          // Rounding differences between engines act the same way, so ResNet gradients get 5e-2 (a wrong kernel
          // gives errors of order 1); ViT (GELU, softmax) is smooth and gets 1e-3.
          const bound = backbone === 'resnet18' ? 5e-2 : 1e-3;
          const grads = { native: native.slice(1), wasm: wasm.slice(1) };
          const norms = grads.wasm.map((g) => Math.sqrt(g.reduce((acc, v) => acc + v * v, 0)));
          const largest = Math.max(...norms);
          let diff = 0;
          let total = 0;
          variables.forEach((v, i) => {
            const err = l2Error(grads.native[i], grads.wasm[i]);
            diff += (err * norms[i]) ** 2;
            total += norms[i] ** 2;
            // Biases right before a batch norm have a gradient that is zero up to rounding: no per-tensor bound.
            if (norms[i] < 1e-3 * largest) return;
            assert.ok(
              err < bound,
              `gradient of ${params[i].name} [${v.shape}]: relative L2 error ${err.toExponential(2)} ≥ ${bound}`,
            );
          });
          const overall = Math.sqrt(diff / total);
          assert.ok(
            overall < bound,
            `all gradients together: relative L2 error ${overall.toExponential(2)} ≥ ${bound}`,
          );
        } finally {
          tf.dispose([...views, labels]);
          model.dispose();
        }
      });
    }
  }
});

describe('native kernel switch', function () {
  this.timeout(120000);

  it('SSLAD_NATIVE=0 runs the pure-wasm kernels, and SSLAD_NATIVE=1 fails loudly when the addon is missing', () => {
    const script = [
      "const tf = require('@tensorflow/tfjs');",
      "const { initBackend } = require('./lib/backend');",
      '(async () => {',
      '  const info = await initBackend({ quiet: true });',
      '  const x = tf.randomNormal([2, 9, 9, 3], 0, 1, "float32", 1);',
      '  const w = tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 2);',
      '  const g = tf.grads((a, b) => tf.conv2d(a, b, 2, "same").square().sum())([x, w]);',
      '  const sum = g[1].sum().dataSync()[0];',
      '  console.log(JSON.stringify({ name: info.name, native: info.native, reason: info.reason, sum }));',
      '})().catch((e) => { console.error(e.message); process.exit(3); });',
    ].join('\n');
    const root = path.join(__dirname, '..', '..');
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, SSLAD_QUIET: '1', ...env },
      });
    const off = run({ SSLAD_NATIVE: '0' });
    assert.equal(off.status, 0, off.stderr);
    const result = JSON.parse(off.stdout.trim().split('\n').slice(-1)[0]);
    assert.equal(result.name, 'wasm');
    assert.equal(result.native, null);
    assert.match(result.reason, /SSLAD_NATIVE=0/);
    assert.ok(Number.isFinite(result.sum) && result.sum !== 0, `filter gradient sum ${result.sum}`);
    // Where the addon is built, SSLAD_NATIVE=1 loads it and gives the same gradient.
    if (loadNative().addon) {
      const on = run({ SSLAD_NATIVE: '1' });
      assert.equal(on.status, 0, on.stderr);
      const native = JSON.parse(on.stdout.trim().split('\n').slice(-1)[0]);
      assert.equal(native.native.engine, 'oneDNN');
      assert.ok(
        Math.abs(native.sum - result.sum) <= 1e-4 * Math.abs(result.sum),
        `native ${native.sum} vs wasm ${result.sum}`,
      );
      // Two OpenMP threads (SSLAD_NATIVE_THREADS) give the same gradient.
      const two = run({ SSLAD_NATIVE: '1', SSLAD_NATIVE_THREADS: '2' });
      assert.equal(two.status, 0, two.stderr);
      const threaded = JSON.parse(two.stdout.trim().split('\n').slice(-1)[0]);
      assert.equal(threaded.native.threads, 2);
      assert.ok(
        Math.abs(threaded.sum - result.sum) <= 1e-4 * Math.abs(result.sum),
        `2 threads ${threaded.sum} vs wasm ${result.sum}`,
      );
    }
    assert.ok(nativeAddonPath().endsWith(path.join('native', 'build', 'sslad_native.node')));
    const missing = run({
      SSLAD_NATIVE: '1',
      SSLAD_NATIVE_ADDON: path.join(root, 'native', 'build', 'no-such-addon.node'),
    });
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /SSLAD_NATIVE=1 but native kernels not built .*apt-get install -y libdnnl-dev/);
    const absent = run({ SSLAD_NATIVE_ADDON: path.join(root, 'native', 'build', 'no-such-addon.node') });
    assert.equal(absent.status, 0, absent.stderr);
    assert.equal(
      JSON.parse(absent.stdout.trim().split('\n').slice(-1)[0]).native,
      null,
      'a missing addon falls back to wasm',
    );
  });

  it('the install-time build never fails the install: a missing compiler gives one line saying what to install', () => {
    const build = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'native', 'build.js')], {
      encoding: 'utf8',
      env: { ...process.env, SSLAD_NATIVE: '', CXX: '/nonexistent/c++' },
    });
    assert.equal(build.status, 0, build.stderr);
    const lines = build.stdout.trim().split('\n');
    assert.equal(lines.length, 1, build.stdout);
    assert.equal(
      lines[0],
      '[native] no C++ compiler (/nonexistent/c++) found — apt-get install -y g++; ' +
        'the project runs on the wasm kernels',
    );
    const strict = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'native', 'build.js'), '--strict'], {
      encoding: 'utf8',
      env: { ...process.env, SSLAD_NATIVE: '', CXX: '/nonexistent/c++' },
    });
    assert.equal(strict.status, 1, '--strict fails where the addon cannot be built');
  });

  it('rejects a value of SSLAD_NATIVE that is not 0 or 1', () => {
    const run = spawnSync(
      process.execPath,
      [
        '-r',
        'tsx/cjs',
        '-e',
        "require('./lib/backend').initBackend({ quiet: true })" +
          '.then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); })',
      ],
      {
        cwd: path.join(__dirname, '..', '..'),
        encoding: 'utf8',
        env: { ...process.env, SSLAD_NATIVE: 'maybe' },
      },
    );
    assert.equal(run.status, 3);
    assert.match(run.stderr, /SSLAD_NATIVE=maybe is not a choice/);
  });
});
