/**
 * Micro-benchmark of the wasm training kernels: forward conv vs the project's backprop-input and
 * backprop-filter kernels (and wasm's own naive backprop-input), and wasm's BatchMatMul vs ours,
 * on ResNet-18 layers at 64×64 with batch 32 and ViT-Tiny shapes (batch 32, 64×64, patch 8).
 *
 *   npx tsx bench/kernels.ts            # all
 *   npx tsx bench/kernels.ts conv       # only the conv table (or: matmul)
 *   npx tsx bench/kernels.ts step       # ResNet-18-like step at 64×64 batch 32 with a per-kernel profile
 *   BENCH_REPEATS=5 npx tsx bench/kernels.ts
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../lib/backend';
import { wasmKernel } from '../lib/backend/kernels/wasm_calls';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

/** Median milliseconds of `fn` over REPEATS runs after one warm-up. */
function timeMs(fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function runAndDispose(kernelName: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) {
  tf.dispose(tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor);
}

/** wasm's own kernel, bypassing the project's registration. */
function runOriginal(kernelName: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown>) {
  const backend = tf.backend() as unknown as BackendWasm;
  const out = wasmKernel(kernelName)({ inputs, backend, attrs });
  backend.disposeData(out.dataId);
}

interface ConvLayer {
  name: string;
  x: [number, number, number, number];
  k: number;
  cout: number;
  stride: number;
  pad: 'same' | 'valid' | number;
}

const B = 32;
const CONV_LAYERS: ConvLayer[] = [
  { name: 'stem 7x7/2', x: [B, 64, 64, 3], k: 7, cout: 64, stride: 2, pad: 3 },
  { name: 'layer1 3x3', x: [B, 16, 16, 64], k: 3, cout: 64, stride: 1, pad: 1 },
  { name: 'layer2 3x3/2', x: [B, 16, 16, 64], k: 3, cout: 128, stride: 2, pad: 1 },
  { name: 'layer2 3x3', x: [B, 8, 8, 128], k: 3, cout: 128, stride: 1, pad: 1 },
  { name: 'layer2 down 1x1/2', x: [B, 16, 16, 64], k: 1, cout: 128, stride: 2, pad: 0 },
  { name: 'layer3 3x3/2', x: [B, 8, 8, 128], k: 3, cout: 256, stride: 2, pad: 1 },
  { name: 'layer3 3x3', x: [B, 4, 4, 256], k: 3, cout: 256, stride: 1, pad: 1 },
  { name: 'layer4 3x3/2', x: [B, 4, 4, 256], k: 3, cout: 512, stride: 2, pad: 1 },
  { name: 'layer4 3x3', x: [B, 2, 2, 512], k: 3, cout: 512, stride: 1, pad: 1 },
  { name: 'vit patch 8/8', x: [B, 64, 64, 3], k: 8, cout: 192, stride: 8, pad: 'valid' },
];

function benchConv(): void {
  console.log(`\nConv2D at batch ${B} (median of ${REPEATS}, ms; GFLOP/s of the forward in brackets)`);
  console.log(
    ['layer', 'forward', 'dx ours', 'dx wasm', 'dW ours'].map((s, i) => (i ? s.padStart(16) : s.padEnd(20))).join(''),
  );
  for (const layer of CONV_LAYERS) {
    const filterShape: [number, number, number, number] = [layer.k, layer.k, layer.x[3], layer.cout];
    const x = tf.randomNormal(layer.x) as tf.Tensor4D;
    const w = tf.randomNormal(filterShape) as tf.Tensor4D;
    const y = tf.conv2d(x, w, layer.stride, layer.pad);
    const dy = tf.randomNormal(y.shape);
    const flops = 2 * y.size * layer.k * layer.k * layer.x[3];
    const gflops = (ms: number) => `${ms.toFixed(1)} (${(flops / ms / 1e6).toFixed(1)})`;
    const forward = timeMs(() => tf.dispose(tf.conv2d(x, w, layer.stride, layer.pad)));
    const dxAttrs = { strides: layer.stride, pad: layer.pad, dataFormat: 'NHWC', inputShape: layer.x };
    const dxOurs = timeMs(() => runAndDispose('Conv2DBackpropInput', { dy, filter: w }, dxAttrs));
    const slow = layer.k * layer.k * layer.x[3] * layer.cout > 300000; // wasm's loop takes seconds there
    const dxWasm = slow ? NaN : timeMs(() => runOriginal('Conv2DBackpropInput', { dy, filter: w }, dxAttrs));
    const dwAttrs = { strides: layer.stride, pad: layer.pad, dataFormat: 'NHWC', filterShape };
    const dwOurs = timeMs(() => runAndDispose('Conv2DBackpropFilter', { x, dy }, dwAttrs));
    console.log(
      layer.name.padEnd(20) +
        [gflops(forward), gflops(dxOurs), Number.isNaN(dxWasm) ? 'skipped' : gflops(dxWasm), gflops(dwOurs)]
          .map((s) => s.padStart(16))
          .join(''),
    );
    tf.dispose([x, w, y, dy]);
  }
}

interface MatMulCase {
  name: string;
  a: number[];
  b: number[];
  ta: boolean;
  tb: boolean;
}

const T = 65; // 64 patches + CLS
const MATMULS: MatMulCase[] = [
  { name: 'vit qkv fwd', a: [B * T, 192], b: [192, 576], ta: false, tb: false },
  { name: 'vit qkv fwd 3-D', a: [B, T, 192], b: [192, 576], ta: false, tb: false },
  { name: 'vit qkv dX (b^T)', a: [B * T, 576], b: [192, 576], ta: false, tb: true },
  { name: 'vit qkv dW (a^T)', a: [B * T, 192], b: [B * T, 576], ta: true, tb: false },
  { name: 'vit mlp dW (a^T)', a: [B * T, 768], b: [B * T, 192], ta: true, tb: false },
  { name: 'attn q.k^T', a: [B * 3, T, 64], b: [B * 3, T, 64], ta: false, tb: true },
  { name: 'attn p.v', a: [B * 3, T, T], b: [B * 3, T, 64], ta: false, tb: false },
  { name: 'attn dP^T.v-ish', a: [B * 3, T, T], b: [B * 3, T, 64], ta: true, tb: false },
  { name: 'resnet fc dW', a: [B, 512], b: [B, 128], ta: true, tb: false },
];

function benchMatMul(): void {
  console.log(`\nBatchMatMul (median of ${REPEATS}, ms; GFLOP/s in brackets)`);
  console.log(['product', 'wasm own', 'ours'].map((s, i) => (i ? s.padStart(16) : s.padEnd(22))).join(''));
  for (const c of MATMULS) {
    const a = tf.randomNormal(c.a);
    const b = tf.randomNormal(c.b);
    const y = tf.matMul(a, b, c.ta, c.tb);
    const k = c.ta ? c.a[c.a.length - 2] : c.a[c.a.length - 1];
    const flops = 2 * y.size * k;
    const attrs = { transposeA: c.ta, transposeB: c.tb };
    const own = timeMs(() => runOriginal('BatchMatMul', { a, b }, attrs));
    const ours = timeMs(() => runAndDispose('BatchMatMul', { a, b }, attrs));
    const fmt = (ms: number) => `${ms.toFixed(2)} (${(flops / ms / 1e6).toFixed(1)})`;
    console.log(c.name.padEnd(22) + [fmt(own), fmt(ours)].map((s) => s.padStart(16)).join(''));
    tf.dispose([a, b, y]);
  }
}

/**
 * A ResNet-18-shaped training step (raw ops, BN via tf.moments, SGD update), timed, then profiled per
 * kernel. STEP_BATCH / STEP_SIZE change the batch and image size (memory checks: STEP_SIZE=128).
 */
async function benchResNetStep(): Promise<void> {
  const B = Number(process.env.STEP_BATCH ?? 32),
    S = Number(process.env.STEP_SIZE ?? 64);
  const vars: tf.Variable[] = [];
  const mk = (shape: number[]) => {
    const v = tf.variable(tf.randomNormal(shape, 0, 0.05));
    vars.push(v);
    return v;
  };
  const convW = (k: number, ci: number, co: number) => mk([k, k, ci, co]) as tf.Variable<tf.Rank.R4>;
  const bn = (x: tf.Tensor4D, g: tf.Variable, b: tf.Variable) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return x
      .sub(mean)
      .mul(tf.rsqrt(variance.add(1e-5)))
      .mul(g)
      .add(b) as tf.Tensor4D;
  };
  const bnP = (c: number) => [mk([c]), mk([c])] as const;
  const stem = convW(7, 3, 64),
    stemBn = bnP(64);
  type Block = {
    c1: tf.Variable<tf.Rank.R4>;
    b1: readonly [tf.Variable, tf.Variable];
    c2: tf.Variable<tf.Rank.R4>;
    b2: readonly [tf.Variable, tf.Variable];
    down?: tf.Variable<tf.Rank.R4>;
    bd?: readonly [tf.Variable, tf.Variable];
    s: number;
  };
  const blocks: Block[] = [];
  let cin = 64;
  for (const [w, s0] of [
    [64, 1],
    [128, 2],
    [256, 2],
    [512, 2],
  ])
    for (let i = 0; i < 2; i++) {
      const s = i === 0 ? s0 : 1;
      const b: Block = { c1: convW(3, cin, w), b1: bnP(w), c2: convW(3, w, w), b2: bnP(w), s };
      if (s !== 1 || cin !== w) {
        b.down = convW(1, cin, w);
        b.bd = bnP(w);
      }
      blocks.push(b);
      cin = w;
    }
  const fc = mk([512, 10]);
  const x = tf.randomNormal([B, S, S, 3]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32') as tf.Tensor1D, 10);
  const f = () => {
    let h: tf.Tensor4D = tf.relu(
      bn(
        tf.conv2d(x, stem, 2, [
          [0, 0],
          [3, 3],
          [3, 3],
          [0, 0],
        ]),
        ...stemBn,
      ),
    );
    h = tf.maxPool(h, 3, 2, 'same');
    for (const b of blocks) {
      const o: tf.Tensor4D = tf.relu(bn(tf.conv2d(h, b.c1, b.s, 'same'), ...b.b1));
      const o2 = bn(tf.conv2d(o, b.c2, 1, 'same'), ...b.b2);
      const sc = b.down ? bn(tf.conv2d(h, b.down, b.s, 'valid'), ...b.bd!) : h;
      h = tf.relu(o2.add(sc)) as tf.Tensor4D;
    }
    const logits = tf.matMul(h.mean([1, 2]) as tf.Tensor2D, fc as tf.Variable<tf.Rank.R2>);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  const step = () => {
    const { value, grads } = tf.variableGrads(f, vars);
    tf.tidy(() => {
      for (const v of vars) v.assign(v.sub(grads[v.name].mul(0.01)));
    });
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const t0 = performance.now();
  step();
  step();
  console.log(`step ${B}x${S}: ${((performance.now() - t0) / 2).toFixed(0)} ms`);
  {
    const prof = await tf.profile(step);
    const byKernel = new Map<string, number>();
    for (const k of prof.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    [...byKernel.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .forEach(([n, ms]) => console.log(n.padEnd(24), ms.toFixed(1)));
  }
  const heapBytes = ((tf.backend() as unknown as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.length;
  console.log(`wasm heap after the steps: ${(heapBytes / 1048576).toFixed(0)} MB`);
  tf.dispose([x, labels, ...vars]);
}

async function main(): Promise<void> {
  const info = await initBackend();
  if (info.name !== 'wasm') throw new Error(`bench/kernels.ts measures the wasm kernels; backend is ${info.name}`);
  const which = process.argv[2];
  if (!which || which === 'conv') benchConv();
  if (!which || which === 'matmul') benchMatMul();
  if (which === 'step') await benchResNetStep();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
