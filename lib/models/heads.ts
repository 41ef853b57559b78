/**
 * Projection heads of the SSL methods (docs/reference.md §5), with torch.nn.Sequential child names
 * ('0', '1', …; activations occupy an index but hold no parameters), so solo-learn checkpoints map 1:1.
 * Hidden and output widths are configurable for small CPU scales; defaults are the paper's.
 *
 * @example
 *   const projector = new SimclrProjector({ inDim: 512, seed: 3 });
 *   const z = tf.tidy(() => projector.forward(features));   // [N, 256]
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { SeedStream } from '../nn/init';
import { BatchNorm, Linear, WeightNormLinear, l2Normalize } from '../nn/layers';
import { cholesky, solveCholesky } from '../eval/linalg';

export interface HeadOptions {
  inDim: number;
  hiddenDim?: number;
  outDim?: number;
  seed: number;
}

/** Linear(d, 2048) → ReLU → Linear(2048, 256). */
export class SimclrProjector extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(options: HeadOptions) {
    super();
    const seeds = new SeedStream(options.seed);
    const hidden = options.hiddenDim ?? 2048;
    this.fc1 = this.register('0', new Linear(options.inDim, hidden, { seeds }));
    this.fc2 = this.register('2', new Linear(hidden, options.outDim ?? 256, { seeds }));
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.fc2.forward(tf.relu(this.fc1.forward(x))) as tf.Tensor2D);
  }
}

/** BYOL projector and predictor: Linear → BatchNorm1d → ReLU → Linear (children '0', '1', '3'). */
export class ByolMlp extends Module {
  readonly fc1: Linear;
  readonly bn1: BatchNorm;
  readonly fc2: Linear;

  constructor(options: HeadOptions) {
    super();
    const seeds = new SeedStream(options.seed);
    const hidden = options.hiddenDim ?? 2048;
    this.fc1 = this.register('0', new Linear(options.inDim, hidden, { seeds }));
    this.bn1 = this.register('1', new BatchNorm(hidden));
    this.fc2 = this.register('3', new Linear(hidden, options.outDim ?? 256, { seeds }));
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.fc2.forward(tf.relu(this.bn1.forward(this.fc1.forward(x)))) as tf.Tensor2D);
  }
}

/** BYOL projector: Linear(d, 2048) → BN → ReLU → Linear(2048, 256). */
export function byolProjector(options: HeadOptions): ByolMlp {
  return new ByolMlp(options);
}

/** BYOL predictor: Linear(256, 2048) → BN → ReLU → Linear(2048, 256). */
export function byolPredictor(options: Omit<HeadOptions, 'inDim'> & { inDim?: number }): ByolMlp {
  return new ByolMlp({ ...options, inDim: options.inDim ?? options.outDim ?? 256 });
}

/** Barlow Twins: Linear(d,2048) → BN → ReLU → Linear(2048,2048) → BN → ReLU → Linear(2048,256). */
export class BarlowProjector extends Module {
  readonly fc1: Linear;
  readonly bn1: BatchNorm;
  readonly fc2: Linear;
  readonly bn2: BatchNorm;
  readonly fc3: Linear;

  constructor(options: HeadOptions) {
    super();
    const seeds = new SeedStream(options.seed);
    const hidden = options.hiddenDim ?? 2048;
    this.fc1 = this.register('0', new Linear(options.inDim, hidden, { seeds }));
    this.bn1 = this.register('1', new BatchNorm(hidden));
    this.fc2 = this.register('3', new Linear(hidden, hidden, { seeds }));
    this.bn2 = this.register('4', new BatchNorm(hidden));
    this.fc3 = this.register('6', new Linear(hidden, options.outDim ?? 256, { seeds }));
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const h1 = tf.relu(this.bn1.forward(this.fc1.forward(x)));
      const h2 = tf.relu(this.bn2.forward(this.fc2.forward(h1)));
      return this.fc3.forward(h2) as tf.Tensor2D;
    });
  }
}

class DinoMlp extends Module {
  readonly layers: Linear[];

  constructor(inDim: number, hidden: number, bottleneck: number, seeds: SeedStream) {
    super();
    // Sequential(Linear, ReLU, Linear, ReLU, Linear): parameterised children at 0, 2, 4.
    this.layers = [
      this.register('0', new Linear(inDim, hidden, { seeds, init: 'trunc_normal' })),
      this.register('2', new Linear(hidden, hidden, { seeds, init: 'trunc_normal' })),
      this.register('4', new Linear(hidden, bottleneck, { seeds, init: 'trunc_normal' })),
    ];
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor = x;
      this.layers.forEach((layer, i) => {
        h = layer.forward(h);
        if (i < this.layers.length - 1) h = tf.relu(h);
      });
      return h as tf.Tensor2D;
    });
  }
}

export interface DinoHeadOptions extends HeadOptions {
  /** Bottleneck width before L2 normalisation (256). */
  bottleneckDim?: number;
  /** Number of prototypes K (8192). */
  numPrototypes?: number;
}

/**
 * DINO head: mlp (Linear(d,2048) → ReLU → Linear(2048,2048) → ReLU → Linear(2048,256), trunc-normal .02,
 * zero bias) → L2-normalise → `last_layer`, a weight-normalised Linear(256, K, bias=False) with trainable
 * `weight_g` initialised to 1. Returns the K prototype logits.
 */
export class DinoHead extends Module {
  readonly mlp: DinoMlp;
  readonly lastLayer: WeightNormLinear;

  constructor(options: DinoHeadOptions) {
    super();
    const seeds = new SeedStream(options.seed);
    const bottleneck = options.bottleneckDim ?? options.outDim ?? 256;
    this.mlp = this.register('mlp', new DinoMlp(options.inDim, options.hiddenDim ?? 2048, bottleneck, seeds));
    this.lastLayer = this.register(
      'last_layer',
      new WeightNormLinear(bottleneck, options.numPrototypes ?? 8192, { seeds }),
    );
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.lastLayer.forward(l2Normalize(this.mlp.forward(x))) as tf.Tensor2D);
  }
}

export interface LinearProbeOptions {
  inDim: number;
  seed: number;
  /**
   * Standardise the detached features before the linear layer with a BatchNorm1d without affine (MAE's
   * linear-probing head). A few hundred SGD steps cannot fit a plain Linear on features whose coordinates differ
   * in scale by orders of magnitude (ViT CLS tokens after the final LayerNorm); standardised, they can.
   */
  standardize?: boolean;
  /**
   * Step along (H + λI)⁻¹·g instead of g, where H is a running Gauss–Newton curvature of the weighted BCE over
   * the probe's inputs (with a constant column for the bias). On features of low effective rank, such as ViT-Tiny's
   * CLS tokens (RankMe 6–15 of 192 at the default scale), plain SGD moves along the few large directions and barely
   * along the rest in a few hundred steps; preconditioned, every direction converges at the same rate.
   */
  gaussNewton?: boolean;
}

/** Decay of the probe's running curvature per step: about the last 100 steps (13 000 views at batch 64) count. */
export const PROBE_CURVATURE_DECAY = 0.99;
/** Damping λ of the preconditioner, relative to the mean diagonal of the curvature. */
export const PROBE_CURVATURE_DAMPING = 1e-3;
/** A logistic curvature p(1 − p) at p = 0.5: the running curvature's starting value (times the identity). */
const PROBE_CURVATURE_START = 0.25;

/**
 * The online linear probe: Linear(d, 1), optionally behind BatchNorm1d(d, affine=False, eps 1e-6). State dict
 * `weight`, `bias` (as nn.Linear, so a plain probe file loads into a Linear) plus `norm.running_mean`,
 * `norm.running_var`, `norm.num_batches_tracked` when standardising, and `curvature` with `gaussNewton` (training
 * state a resumed run needs; scoring does not). Call train()/eval() like any module: the normalisation uses batch
 * statistics in train mode and the running ones in eval mode.
 *
 * @example
 *   const probe = new LinearProbe({ inDim: 512, seed: 143, standardize: true });
 *   const logits = tf.tidy(() => probe.forward(features));   // [N, 1]
 *   // The Gauss–Newton step, as lib/train/step.ts takes it:
 *   const gn = new LinearProbe({ inDim: 192, seed: 143, standardize: true, gaussNewton: true });
 *   gn.observeCurvature([gn.inputs(features) as tf.Tensor2D], [logitsOfThoseInputs], labels, posWeight);
 *   const step = gn.precondition(weightGrad, biasGrad);   // hand step.weight / step.bias to the optimiser
 */
export class LinearProbe extends Linear {
  readonly norm: BatchNorm | null;
  /** Running Gauss–Newton curvature, (d + 1) × (d + 1) with the bias last; null without `gaussNewton`. */
  readonly curvature: tf.Variable | null;

  constructor(options: LinearProbeOptions) {
    super(options.inDim, 1, { seeds: new SeedStream(options.seed) });
    this.norm = options.standardize
      ? this.register('norm', new BatchNorm(options.inDim, { affine: false, eps: 1e-6 }))
      : null;
    this.curvature = options.gaussNewton
      ? this.buffer(
          'curvature',
          tf.tidy(() => tf.mul(tf.eye(options.inDim + 1), PROBE_CURVATURE_START)),
        )
      : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.norm) return super.forward(x);
    return tf.tidy(() => super.forward(this.norm!.forward(x)));
  }

  /** The features as the linear layer sees them (standardised when the probe standardises). */
  inputs(x: tf.Tensor): tf.Tensor {
    return this.norm ? this.norm.forward(x) : x;
  }

  /** The linear layer alone, on what `inputs` returned. */
  logitsOf(inputs: tf.Tensor): tf.Tensor {
    return super.forward(inputs);
  }

  /**
   * Fold one step's curvature into the running one: the mean over views of Σᵢ wᵢ·pᵢ(1 − pᵢ)·x̃ᵢx̃ᵢᵀ / n, with x̃ the
   * inputs plus a constant 1, p the predicted defect probability and w the BCE weight (posWeight for a defect).
   */
  observeCurvature(inputs: tf.Tensor2D[], logits: tf.Tensor[], labels: tf.Tensor1D, posWeight: number): void {
    const curvature = this.curvature;
    if (!curvature) throw new Error('LinearProbe.observeCurvature: this probe was built without gaussNewton');
    tf.tidy(() => {
      const weight = tf.add(1, tf.mul(posWeight - 1, labels.toFloat()));
      const perView = inputs.map((x, v) => {
        const p = tf.sigmoid(logits[v].reshape([-1]));
        const scale = tf.mul(weight, tf.mul(p, tf.sub(1, p)));
        const augmented = tf.concat([x, tf.ones([x.shape[0], 1])], 1);
        return tf.div(tf.matMul(tf.mul(augmented, scale.expandDims(1)), augmented, true, false), x.shape[0]);
      });
      const batch = tf.div(tf.addN(perView), perView.length);
      curvature.assign(tf.add(tf.mul(curvature, PROBE_CURVATURE_DECAY), tf.mul(batch, 1 - PROBE_CURVATURE_DECAY)));
    });
  }

  /** The preconditioned gradients (H + λI)⁻¹·g of the weight [d, 1] and bias [1], solved in float64. */
  precondition(weightGrad: tf.Tensor, biasGrad: tf.Tensor): { weight: tf.Tensor; bias: tf.Tensor } {
    const curvature = this.curvature;
    if (!curvature) throw new Error('LinearProbe.precondition: this probe was built without gaussNewton');
    const m = this.inFeatures + 1;
    const h = Float64Array.from(curvature.dataSync());
    let trace = 0;
    for (let i = 0; i < m; i++) trace += h[i * m + i];
    const damping = (PROBE_CURVATURE_DAMPING * trace) / m;
    for (let i = 0; i < m; i++) h[i * m + i] += damping;
    const g = new Float64Array(m);
    g.set(weightGrad.dataSync());
    g[m - 1] = biasGrad.dataSync()[0];
    const step = solveCholesky(cholesky(h, m), g, m);
    return {
      weight: tf.tensor(Float32Array.from(step.subarray(0, m - 1)), weightGrad.shape),
      bias: tf.tensor(Float32Array.from(step.subarray(m - 1)), biasGrad.shape),
    };
  }
}
