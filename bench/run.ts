/**
 * Side-by-side benchmark: our training steps with the native (oneDNN) kernels and with the pure-wasm kernels,
 * against PyTorch with the same thread count, in one invocation.
 *
 *   npm run bench                      # full table, written to bench/RESULTS.md
 *   npm run bench -- quick             # one repetition, no RESULTS.md
 *   BENCH_CASES=resnet_step,vit_step BENCH_WASM=0 npm run bench -- quick   # some cases, native column only
 *   npm run bench -- profile resnet    # per-kernel profile of one step (or: vit, simclr, byol, barlow, dino, mae)
 *   npm run bench -- memory            # 128×128 batch 32, then the largest batch at 224×224
 *   BENCH_REPEATS=5 npm run bench
 *
 * Both sides run the same models and losses: ours are the project's own (lib/models, lib/methods,
 * lib/optim, stepped with tf.variableGrads as lib/train/run.ts does), PyTorch's are torchvision resnet18
 * and a plain ViT-Tiny (tools/bench/torch_steps.py). The supervised steps use a Linear(d, 1) BCE head,
 * SGD (ResNet) and AdamW (ViT) on both sides; SimCLR, BYOL and Barlow Twins use SGD on both sides, because
 * torch has no LARS (the optimiser is a few ms of a step either way); DINO and MAE use their own AdamW on both.
 * DINO's gradient clipping and first-epoch prototype freezing are trainer steps, in neither side's step. The steps are the methods' losses only:
 * the trainer's online probe is not in them, on either side.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../lib/backend';
import { nativeKernelsActive, setNativeKernelsActive } from '../lib/backend/kernels/native';
import { makeRunConfig } from '../lib/methods/config';
import { type RunConfig } from '../lib/runs/config';
import { createMethod, type Method, type StepState } from '../lib/methods';
import { createOptimizer, type GroupOptimizer, type OptimizerKind } from '../lib/optim';
import { ensureSyntheticDataset, readSyntheticSplit } from '../lib/data/synthetic';
import { DataLoader, ImageCache, disposeBatch } from '../lib/data/loader';
import { dinoTeacherTemp } from '../lib/losses';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const BATCH = 32;
const SIZE = 64;
const PATCH = 8;
const VIT_DEPTH = 12;
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = path.join(__dirname, '..', 'tools', 'bench', 'torch_steps.py');
const RESULTS = path.join(__dirname, 'RESULTS.md');

type CaseName =
  | 'resnet_step'
  | 'vit_step'
  | 'simclr_step'
  | 'byol_step'
  | 'barlow_step'
  | 'dino_step'
  | 'mae_step'
  | 'resnet_forward'
  | 'vit_forward'
  | 'gemm'
  | 'conv3x3';

const ALL_CASES: Array<{ name: CaseName; label: string }> = [
  { name: 'resnet_step', label: `ResNet-18 train step (batch ${BATCH}, ${SIZE}×${SIZE})` },
  { name: 'vit_step', label: `ViT-Tiny train step (batch ${BATCH}, ${SIZE}×${SIZE}, patch ${PATCH})` },
  { name: 'simclr_step', label: `SimCLR step (2 views, ResNet-18, batch ${BATCH})` },
  { name: 'byol_step', label: `BYOL step (2 views, ResNet-18, batch ${BATCH})` },
  { name: 'barlow_step', label: `Barlow Twins step (2 views, ResNet-18, batch ${BATCH})` },
  { name: 'dino_step', label: `DINO step (2 views, ResNet-18, batch ${BATCH})` },
  { name: 'mae_step', label: `MAE step (ViT-Tiny encoder, batch ${BATCH})` },
  { name: 'resnet_forward', label: `ResNet-18 forward (batch ${BATCH})` },
  { name: 'vit_forward', label: `ViT-Tiny forward (batch ${BATCH})` },
  { name: 'gemm', label: 'ceiling: one GEMM [2080×192]·[192×768] (ViT fc1)' },
  { name: 'conv3x3', label: `ceiling: one 3×3 conv, 64→64 at 16×16, batch ${BATCH} (ResNet layer1)` },
];

/** `BENCH_CASES=a,b` runs only those cases. */
const CASES = process.env.BENCH_CASES
  ? ALL_CASES.filter((c) => process.env.BENCH_CASES!.split(',').includes(c.name))
  : ALL_CASES;
/** `BENCH_WASM=0` skips the pure-wasm column (quicker iterations on the native kernels). */
const WITH_WASM = process.env.BENCH_WASM !== '0';
/**
 * Cases the pure-wasm kernels cannot run at this size: the MAE step (ViT-Tiny depth 12, batch 32, 64×64)
 * aborts the wasm module (`RuntimeError: Aborted()`, with SSLAD_NATIVE=0 too), which leaves it unusable.
 */
const WASM_ABORTS: ReadonlySet<CaseName> = new Set(['mae_step']);

/** GFLOP of the two ceiling cases, to print GFLOP/s. */
const CEILING_GFLOP: Partial<Record<CaseName, number>> = {
  gemm: (2 * 2080 * 192 * 768) / 1e9,
  conv3x3: (2 * BATCH * 16 * 16 * 64 * 64 * 9) / 1e9,
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Fastest run of the last `timeSeconds` call: the least disturbed by other load on a shared machine. */
let lastBest = NaN;

/** Median seconds of `fn` over `repeats` runs after one warm-up run (the fastest is left in `lastBest`). */
function timeSeconds(fn: () => void, repeats: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    times.push((performance.now() - start) / 1000);
  }
  lastBest = Math.min(...times);
  return median(times);
}

function benchConfig(
  method: 'supervised' | 'simclr' | 'byol' | 'barlow' | 'dino' | 'mae',
  backbone: 'resnet18' | 'vit_tiny',
  imageSize = SIZE,
  batchSize = BATCH,
): RunConfig {
  return makeRunConfig({ method, backbone, imageSize, patchSize: PATCH, vitDepth: VIT_DEPTH, batchSize }, 'default');
}

/** A method plus its optimiser, stepped exactly as the trainer does (variableGrads → optimiser → afterStep). */
class StepRunner {
  readonly method: Method;
  readonly optimizer: GroupOptimizer;
  readonly views: tf.Tensor4D[];
  readonly labels: tf.Tensor1D;
  private step = 0;

  constructor(
    readonly config: RunConfig,
    kind: OptimizerKind,
    lr: number,
  ) {
    this.method = createMethod(config, { posWeight: 3 });
    this.method.setTraining(true);
    this.optimizer = createOptimizer(
      { kind, lr, weightDecay: kind === 'adamw' ? 0.05 : 1e-4, momentum: 0.9, excludeBiasAndNorm: true },
      [{ name: 'method', params: this.method.trainable() }],
    );
    const n = config.batchSize;
    const s = config.imageSize;
    this.views = Array.from(
      { length: this.method.numViews },
      (_, i) => tf.randomNormal([n, s, s, 3], 0, 1, 'float32', 10 + i) as tf.Tensor4D,
    );
    this.labels = tf.tidy(
      () => tf.cast(tf.less(tf.randomUniform([n], 0, 1, 'float32', 3), 0.3), 'float32') as tf.Tensor1D,
    );
  }

  trainStep(): void {
    const state: StepState = { step: this.step, epoch: 0, totalSteps: 1000, stepsPerEpoch: 100 };
    const { value, grads } = tf.variableGrads(
      () => this.method.loss(this.views, this.labels, state).loss,
      this.optimizer.variables(),
    );
    value.dataSync();
    this.optimizer.step(grads);
    tf.dispose([value, ...Object.values(grads)]);
    this.method.afterStep(state);
    this.step++;
  }

  forward(): void {
    tf.tidy(() => this.method.backbone.forward(this.views[0]).sum().dataSync());
  }

  dispose(): void {
    this.optimizer.dispose();
    this.method.dispose();
    tf.dispose([...this.views, this.labels]);
  }
}

function runnerFor(name: CaseName): StepRunner {
  if (name.startsWith('resnet')) return new StepRunner(benchConfig('supervised', 'resnet18'), 'sgd', 0.01);
  if (name.startsWith('vit')) return new StepRunner(benchConfig('supervised', 'vit_tiny'), 'adamw', 1e-4);
  if (name === 'simclr_step') return new StepRunner(benchConfig('simclr', 'resnet18'), 'sgd', 0.01);
  if (name === 'barlow_step') return new StepRunner(benchConfig('barlow', 'resnet18'), 'sgd', 0.01);
  // DINO trains with AdamW (its config's optimiser), which torch has too; LARS methods fall back to SGD.
  if (name === 'dino_step') return new StepRunner(benchConfig('dino', 'resnet18'), 'adamw', 1e-4);
  if (name === 'mae_step') return new StepRunner(benchConfig('mae', 'vit_tiny'), 'adamw', 1e-4);
  return new StepRunner(benchConfig('byol', 'resnet18'), 'sgd', 0.01);
}

/** The raw kernels with fresh operands every call (weights change every training step, so no packed-weight cache). */
function ceilingSeconds(name: 'gemm' | 'conv3x3', repeats: number): number {
  const operands = Array.from({ length: repeats + 1 }, (_, i) =>
    name === 'gemm'
      ? [tf.randomNormal([2080, 192], 0, 1, 'float32', i), tf.randomNormal([192, 768], 0, 1, 'float32', 100 + i)]
      : [
          tf.randomNormal([BATCH, 16, 16, 64], 0, 1, 'float32', i),
          tf.randomNormal([3, 3, 64, 64], 0, 1, 'float32', 100 + i),
        ],
  );
  let next = 0;
  const seconds = timeSeconds(() => {
    const [a, b] = operands[next++];
    tf.tidy(() =>
      (name === 'gemm'
        ? tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)
        : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')
      )
        .sum()
        .dataSync(),
    );
  }, repeats);
  tf.dispose(operands.flat());
  return seconds;
}

function oursSeconds(name: CaseName, repeats: number): number {
  if (name === 'gemm' || name === 'conv3x3') return ceilingSeconds(name, repeats);
  const runner = runnerFor(name);
  try {
    return timeSeconds(() => (name.endsWith('forward') ? runner.forward() : runner.trainStep()), repeats);
  } finally {
    runner.dispose();
  }
}

interface TorchResult {
  times: Partial<Record<CaseName, number>>;
  best: Partial<Record<CaseName, number>>;
  version: string | null;
  /** OpenBLAS build and the core it picked for this CPU (torch's matmuls). */
  blas: string | null;
  error: string | null;
}

/** Cases tools/bench/torch_steps.py implements. */
const TORCH_CASES: ReadonlySet<CaseName> = new Set([
  'resnet_step',
  'vit_step',
  'simclr_step',
  'byol_step',
  'barlow_step',
  'dino_step',
  'mae_step',
  'resnet_forward',
  'vit_forward',
  'gemm',
  'conv3x3',
]);

function torchSeconds(repeats: number, only: CaseName[], threads: number): TorchResult {
  only = only.filter((c) => TORCH_CASES.has(c));
  if (only.length === 0) return { times: {}, best: {}, version: null, blas: null, error: null };
  // Every width and constant from the configs our steps are built from (benchConfig), so both sides compute the same.
  const settings = benchConfig('byol', 'resnet18').settings;
  const barlow = benchConfig('barlow', 'resnet18').settings;
  const dino = benchConfig('dino', 'resnet18');
  const mae = benchConfig('mae', 'vit_tiny').settings;
  if (
    barlow.projHiddenDim !== settings.projHiddenDim ||
    barlow.projOutputDim !== settings.projOutputDim ||
    dino.settings.projHiddenDim !== settings.projHiddenDim ||
    dino.settings.projOutputDim !== settings.projOutputDim
  ) {
    throw new Error(
      "bench: the Barlow Twins / DINO head widths differ from BYOL's; torch_steps.py takes one projHidden/projOut",
    );
  }
  const args = {
    batch: BATCH,
    size: SIZE,
    patch: PATCH,
    depth: VIT_DEPTH,
    projHidden: settings.projHiddenDim,
    projOut: settings.projOutputDim,
    predHidden: settings.predHiddenDim,
    temperature: benchConfig('simclr', 'resnet18').settings.temperature,
    lambda: barlow.lambda,
    scaleLoss: barlow.scaleLoss,
    // The bench steps DINO at epoch 0: the teacher temperature is the start of its warm-up.
    numPrototypes: dino.settings.numPrototypes,
    studentTemperature: dino.settings.studentTemperature,
    teacherTemperature: dinoTeacherTemp(
      0,
      dino.settings.warmupTeacherTemperatureEpochs,
      dino.epochs,
      dino.settings.warmupTeacherTemperature,
      dino.settings.teacherTemperature,
    ),
    emaBase: dino.settings.emaBase,
    maskRatio: mae.maskRatio,
    normPixLoss: mae.normPixLoss,
    decoderDim: mae.decoderEmbedDim,
    decoderDepth: mae.decoderDepth,
    decoderHeads: mae.decoderHeads,
    repeats,
    warmup: 1,
    only,
    threads,
  };
  if (!fs.existsSync(PYTHON))
    return {
      times: {},
      best: {},
      version: null,
      blas: null,
      error: `${PYTHON} not found: no PyTorch reference (install python3-torch)`,
    };
  const run = spawnSync(PYTHON, [TORCH_SCRIPT, JSON.stringify(args)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  if (run.status !== 0) {
    const why =
      /No module named '(torch|torchvision)'/.exec(run.stderr)?.[0] ?? run.stderr.trim().split('\n').slice(-1)[0];
    return {
      times: {},
      best: {},
      version: null,
      blas: null,
      error: `PyTorch reference unavailable (${why}); install Debian python3-torch and python3-torchvision`,
    };
  }
  const parsed = JSON.parse(run.stdout.trim().split('\n').slice(-1)[0]) as Record<string, number | string>;
  const times: Partial<Record<CaseName, number>> = {};
  const best: Partial<Record<CaseName, number>> = {};
  for (const c of CASES) {
    if (typeof parsed[c.name] === 'number') times[c.name] = parsed[c.name] as number;
    if (typeof parsed[`${c.name}_min`] === 'number') best[c.name] = parsed[`${c.name}_min`] as number;
  }
  return {
    times,
    best,
    version: String(parsed.torch_version),
    blas: parsed.blas ? String(parsed.blas) : null,
    error: null,
  };
}

/** Images/s of the SSL loader (augment from the decoded cache, two views) on the default synthetic set. */
async function pipelineImagesPerSecond(batches: number): Promise<number> {
  const dir = path.join('data', 'synthetic-sewer', 'default');
  await ensureSyntheticDataset(dir, 'default');
  const split = await readSyntheticSplit(dir, 'train');
  const cache = await ImageCache.open(split, { resolution: SIZE });
  await cache.ensure();
  const loader = new DataLoader({ cache, records: split.records, batchSize: BATCH, seed: 1, mode: 'ssl', prefetch: 0 });
  let images = 0;
  let first = true;
  let start = performance.now();
  for await (const batch of loader.epoch(0)) {
    await batch.views[1].data();
    disposeBatch(batch);
    if (first) {
      // The first batch reads shards from disk; time the steady state.
      first = false;
      start = performance.now();
      continue;
    }
    images += BATCH;
    if (images >= batches * BATCH) break;
  }
  return images / ((performance.now() - start) / 1000);
}

function machineLine(): string {
  const cpu = os.cpus();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, load average ${load}`;
}

function fmt(seconds: number | undefined): string {
  return seconds === undefined ? 'n/a' : `${(seconds * 1000).toFixed(0)} ms`;
}

async function table(repeats: number, write: boolean): Promise<void> {
  const info = await initBackend({ quiet: true });
  const threads = info.native?.threads ?? 1;
  const native = info.native ? `native ${info.native.engine} ${info.native.version} (${info.native.isa})` : null;
  const loadBefore = os.loadavg()[0];
  console.log(
    `[bench] ours ${native ?? 'without native kernels'} and pure wasm, PyTorch; ${threads} thread${threads === 1 ? '' : 's'} each; median of ${repeats} after 1 warm-up`,
  );
  console.log(`[bench] ${machineLine()}`);
  type Times = Partial<Record<CaseName, number>>;
  const ours: Times = {};
  const oursBest: Times = {};
  const wasm: Times = {};
  const wasmBest: Times = {};
  const theirs: Times = {};
  const theirsBest: Times = {};
  let torchVersion: string | null = null;
  let torchBlas: string | null = null;
  let torchError: string | null = null;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}×` : 'n/a';
  // Each case on both of our paths back to back with its PyTorch counterpart, so all see the same machine load.
  for (const c of CASES) {
    if (info.native) {
      setNativeKernelsActive(true);
      ours[c.name] = oursSeconds(c.name, repeats);
      oursBest[c.name] = lastBest;
    }
    if ((WITH_WASM || !info.native) && !WASM_ABORTS.has(c.name)) {
      setNativeKernelsActive(false);
      wasm[c.name] = oursSeconds(c.name, repeats);
      wasmBest[c.name] = lastBest;
      setNativeKernelsActive(true);
    }
    const torch = torchSeconds(repeats, [c.name], threads);
    theirsBest[c.name] = torch.best[c.name];
    if (torch.error) torchError = torch.error;
    torchVersion = torch.version ?? torchVersion;
    torchBlas = torch.blas ?? torchBlas;
    theirs[c.name] = torch.times[c.name];
    console.log(
      `[bench] ${c.label}: native ${fmt(ours[c.name])}, wasm ${fmt(wasm[c.name])}, PyTorch ${fmt(theirs[c.name])}; native/PyTorch ${ratio(ours[c.name], theirs[c.name])}`,
    );
  }
  if (torchError) console.log(`[bench] ${torchError}`);
  const pipeline = await pipelineImagesPerSecond(8);
  const simclr = ours.simclr_step ?? wasm.simclr_step;
  const consumed = simclr ? BATCH / simclr : undefined;

  const t = `${threads} thread${threads === 1 ? '' : 's'}`;
  const lines: string[] = [];
  lines.push(
    `| case | ours, native (${t}) | ours, wasm (1 thread) | PyTorch (${t}) | native / PyTorch (medians) | native / PyTorch (fastest runs) | wasm / PyTorch |`,
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const c of CASES) {
    const gflop = CEILING_GFLOP[c.name];
    const rate = (s: number | undefined) => (gflop && s ? ` (${(gflop / s).toFixed(0)} GFLOP/s)` : '');
    const cell = (s: number | undefined) => `${fmt(s)}${rate(s)}`;
    lines.push(
      `| ${c.label} | ${cell(ours[c.name])} | ${cell(wasm[c.name])} | ${cell(theirs[c.name])} | ${ratio(ours[c.name], theirs[c.name])} | ${ratio(oursBest[c.name], theirsBest[c.name])} | ${ratio(wasm[c.name], theirs[c.name])} |`,
    );
  }
  lines.push('');
  if (CASES.some((c) => WASM_ABORTS.has(c.name))) {
    lines.push(
      `Not run on pure wasm: ${CASES.filter((c) => WASM_ABORTS.has(c.name))
        .map((c) => c.label)
        .join(', ')} (the wasm module aborts at this size).`,
    );
    lines.push('');
  }
  if (consumed !== undefined) {
    lines.push('| data pipeline | images/s |');
    lines.push('|---|---:|');
    lines.push(`| augment from cache, 2 views, batch ${BATCH} at ${SIZE}px (one thread) | ${pipeline.toFixed(0)} |`);
    lines.push(
      `| consumed by our SimCLR step (${BATCH} images, 2 views each, per step${ours.simclr_step ? ', native' : ''}) | ${consumed.toFixed(0)} |`,
    );
    lines.push(`| pipeline / consumption | ${(pipeline / consumed).toFixed(1)}× |`);
  }
  const loadAfter = os.loadavg()[0];
  const header = [
    `Date: ${new Date().toISOString()}`,
    `Machine: ${machineLine()} (1-min load ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after)`,
    `Ours: TF.js ${tf.version.tfjs}, ${info.name} backend, project kernels: ${info.registeredKernels.join(', ')}`,
    `Native: ${info.native ? `${info.native.engine} ${info.native.version} (${info.native.runtime}), CPU ISA ${info.native.isa}, ${t}, for ${info.native.kernels.join(', ')}` : info.reason}`,
    `PyTorch: ${torchVersion ?? 'unavailable'}, torch.set_num_threads(${threads}); its matmuls on ${torchBlas ?? 'unknown BLAS'} (environment as found), its convolutions on its bundled oneDNN`,
    `Repetitions: median of ${repeats} after 1 warm-up`,
  ];
  console.log(`\n${header.join('\n')}\n\n${lines.join('\n')}`);
  if (write) writeResults(header, lines);
  if (!nativeKernelsActive() && info.native) throw new Error('bench: the native kernels were left switched off');
}

/** Replace the "Latest table" section of RESULTS.md, keeping the notes below it. */
function writeResults(header: string[], lines: string[]): void {
  const marker = '<!-- end of latest table -->';
  const previous = fs.existsSync(RESULTS) ? fs.readFileSync(RESULTS, 'utf8') : '';
  const notes = previous.includes(marker) ? previous.slice(previous.indexOf(marker) + marker.length) : '\n';
  const body = [
    '# Benchmark results',
    '',
    '## Latest table (`npm run bench`)',
    '',
    ...header.map((h) => `${h}  `),
    '',
    ...lines,
    '',
    marker,
  ].join('\n');
  fs.writeFileSync(RESULTS, body + notes);
  console.log(`[bench] wrote ${path.relative(process.cwd(), RESULTS)}`);
}

/** Per-kernel milliseconds of one step, and the part of the step no kernel accounts for. */
async function profile(which: string): Promise<void> {
  await initBackend({ quiet: true });
  const name = (
    {
      resnet: 'resnet_step',
      vit: 'vit_step',
      simclr: 'simclr_step',
      byol: 'byol_step',
      barlow: 'barlow_step',
      dino: 'dino_step',
      mae: 'mae_step',
    } as Record<string, CaseName>
  )[which];
  if (!name)
    throw new Error(`bench profile: unknown case '${which}' (use resnet, vit, simclr, byol, barlow, dino or mae)`);
  const runner = runnerFor(name);
  runner.trainStep();
  const wall = timeSeconds(() => runner.trainStep(), 1);
  const start = performance.now();
  const prof = await tf.profile(() => runner.trainStep());
  const profiledWall = performance.now() - start;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += k.kernelTimeMs as number;
    entry.calls++;
    byKernel.set(k.name, entry);
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  console.log(
    `${which} step: ${(wall * 1000).toFixed(0)} ms unprofiled; profiled run ${profiledWall.toFixed(0)} ms, kernels ${total.toFixed(0)} ms, ${prof.kernels.length} kernel calls`,
  );
  console.log('kernel'.padEnd(28) + 'ms'.padStart(9) + 'calls'.padStart(8));
  for (const [k, e] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(k.padEnd(28) + e.ms.toFixed(1).padStart(9) + String(e.calls).padStart(8));
  }
  console.log(`not in any kernel (tape, tidy, JS): ${(wall * 1000 - total).toFixed(0)} ms of the unprofiled step`);
  // The heaviest kernels split by input shapes (where the time goes inside Conv2D*, BatchMatMul, …).
  const byShape = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join('·')}`;
    const entry = byShape.get(key) ?? { ms: 0, calls: 0 };
    entry.ms += k.kernelTimeMs as number;
    entry.calls++;
    byShape.set(key, entry);
  }
  console.log('\nheaviest kernel calls by input shapes');
  for (const [k, e] of [...byShape.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
    console.log(`${e.ms.toFixed(1).padStart(9)} ms ${String(e.calls).padStart(4)}×  ${k}`);
  }
  runner.dispose();
}

function heapMegabytes(): number {
  const wasm = (tf.backend() as unknown as BackendWasm).wasm as unknown as { HEAPU8: Uint8Array };
  return wasm.HEAPU8.length / 1048576;
}

/** One ResNet-18 supervised step at (size, batch) in this process; prints a JSON line. */
async function memoryProbe(size: number, batch: number): Promise<void> {
  await initBackend({ quiet: true });
  const runner = new StepRunner(benchConfig('supervised', 'resnet18', size, batch), 'sgd', 0.01);
  const start = performance.now();
  runner.trainStep();
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ ok: true, size, batch, seconds, heapMB: heapMegabytes() }));
  runner.dispose();
}

/** Each probe in a fresh process: a failed allocation leaves the wasm module unusable. */
function probeInChild(size: number, batch: number): { ok: boolean; seconds?: number; heapMB?: number; error?: string } {
  const run = spawnSync(
    process.execPath,
    [...process.execArgv, __filename, 'memory-probe', String(size), String(batch)],
    { encoding: 'utf8' },
  );
  const last = run.stdout.trim().split('\n').slice(-1)[0];
  if (run.status === 0 && last.startsWith('{')) return JSON.parse(last);
  const why =
    (run.stderr.match(/(memory access out of bounds|Aborted\([^)]*\)|out of memory|RangeError[^\n]*)/i)?.[0] ??
      run.stderr.trim().split('\n').slice(-1)[0]) ||
    `exit ${run.status}`;
  return { ok: false, error: why };
}

async function memory(): Promise<void> {
  const report = (size: number, batch: number) => {
    const r = probeInChild(size, batch);
    console.log(
      `ResNet-18 step ${size}×${size} batch ${batch}: ${r.ok ? `ok, ${r.seconds!.toFixed(1)} s, wasm heap ${r.heapMB!.toFixed(0)} MB` : `FAILED (${r.error})`}`,
    );
    return r.ok;
  };
  report(128, 32);
  // Largest batch at 224×224: double until failure, then bisect.
  let good = 0;
  let bad = 0;
  for (let b = 8; b <= 512; b *= 2) {
    if (report(224, b)) good = b;
    else {
      bad = b;
      break;
    }
  }
  if (bad) {
    while (bad - good > Math.max(2, good / 8)) {
      const mid = Math.round((good + bad) / 2);
      if (report(224, mid)) good = mid;
      else bad = mid;
    }
  }
  console.log(`largest batch tried that fits at 224×224: ${good}${bad ? ` (${bad} failed)` : ''}`);
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  if (!mode) return table(REPEATS, true);
  if (mode === 'quick') return table(1, false);
  if (mode === 'profile') return profile(a ?? 'resnet');
  if (mode === 'memory') return memory();
  if (mode === 'memory-probe') return memoryProbe(Number(a), Number(b));
  throw new Error(`bench/run.ts: unknown mode '${mode}' (use quick, profile, memory or nothing)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
