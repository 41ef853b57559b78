/**
 * Optimisers over named parameter groups with explicit gradient maps, and their checkpointable state.
 *
 * A group is a list of `NamedParam`s with its own lr / weight decay / momentum / betas, as a PyTorch param
 * group. The online linear probe is a group of the SAME optimiser as the rest of the model, with
 * overrides (lr 1e-3·batch/256, weight decay 0, and for AdamW betas (0.9, 0)): that is how the paper's
 * code (daoterog/ssl-4-anomaly, `BaseSSL.learnable_params`, solo-learn style) builds it. See
 * `probeGroupOverrides` in ./index.
 *
 * Gradients are looked up by the variable's TF.js name (what `tf.variableGrads` returns) and, failing
 * that, by the parameter's PyTorch-style name. A parameter without a gradient is skipped entirely (no
 * decay, no momentum update), as torch does for `p.grad is None` (DINO's frozen prototypes in epoch 0).
 *
 * @example
 *   const opt = new Lars([{ name: 'backbone', params: model.namedParameters(), lr: 0.3 }], { weightDecay: 1e-6 });
 *   const { value, grads } = tf.variableGrads(() => lossFn(), opt.variables());
 *   opt.step(grads);
 *   tf.dispose([value, ...Object.values(grads)]);
 */
import * as tf from '@tensorflow/tfjs';
import { axpby } from '../backend/kernels/axpby';
import type { NamedParam } from '../nn/module';

export type GradMap = Record<string, tf.Tensor>;

export interface ParamGroupInput {
  name: string;
  params: NamedParam[];
  /** Base learning rate of the group (already batch-scaled); defaults to the optimiser's lr. */
  lr?: number;
  weightDecay?: number;
  /** LARS and SGD momentum. */
  momentum?: number;
  /** AdamW (β1, β2). */
  betas?: [number, number];
  /**
   * LARS and AdamW: false makes this group plain momentum SGD (torch.optim.SGD semantics), without LARS's trust
   * ratio or Adam's per-coordinate scaling; default true. The online probe's group uses it.
   */
  adaptive?: boolean;
}

export interface ParamGroup {
  name: string;
  params: NamedParam[];
  /** The lr the group was created with; schedules scale from it. */
  baseLr: number;
  /** The lr used by the next step (set by a schedule). */
  lr: number;
  weightDecay: number;
  momentum: number;
  betas: [number, number];
  adaptive: boolean;
}

export interface OptimizerOptions {
  lr?: number;
  weightDecay?: number;
  momentum?: number;
  betas?: [number, number];
  eps?: number;
  /** LARS trust coefficient η. */
  eta?: number;
  /** Parameters with ≤ 1 dimension (biases, norm scales) get weight decay 0, in every group. */
  excludeBiasAndNorm?: boolean;
}

/** Everything a checkpoint needs to resume the optimiser bit-exactly. */
export interface OptimizerState {
  tensors: Array<{ name: string; tensor: tf.Tensor }>;
  scalars: Record<string, number>;
}

export abstract class GroupOptimizer {
  readonly groups: ParamGroup[];
  protected readonly options: Required<Omit<OptimizerOptions, 'lr' | 'weightDecay' | 'momentum' | 'betas'>>;
  /** Per-parameter slot variables: slots.get(paramName).get(slotName). */
  protected readonly slots = new Map<string, Map<string, tf.Variable>>();
  /** Per-parameter step counts (AdamW bias correction). */
  protected readonly paramSteps = new Map<string, number>();
  /** Number of step() calls so far. */
  stepCount = 0;
  abstract readonly kind: 'lars' | 'adamw' | 'sgd';

  constructor(groups: ParamGroupInput[], options: OptimizerOptions = {}) {
    const lr = options.lr ?? 1e-3;
    const seen = new Set<string>();
    this.groups = groups.map((g) => {
      for (const p of g.params) {
        if (seen.has(p.name)) throw new Error(`optimizer: parameter '${p.name}' appears in more than one group`);
        seen.add(p.name);
      }
      const groupLr = g.lr ?? lr;
      if (!(groupLr >= 0) || !Number.isFinite(groupLr))
        throw new Error(`optimizer: group '${g.name}' lr must be ≥ 0, got ${groupLr}`);
      return {
        name: g.name,
        params: g.params,
        baseLr: groupLr,
        lr: groupLr,
        weightDecay: g.weightDecay ?? options.weightDecay ?? 0,
        momentum: g.momentum ?? options.momentum ?? 0.9,
        betas: g.betas ?? options.betas ?? [0.9, 0.999],
        adaptive: g.adaptive ?? true,
      };
    });
    this.options = {
      eps: options.eps ?? 1e-8,
      eta: options.eta ?? 0.001,
      excludeBiasAndNorm: options.excludeBiasAndNorm ?? false,
    };
  }

  /** All trainable variables, in group order (pass to tf.variableGrads). */
  variables(): tf.Variable[] {
    return this.groups.flatMap((g) => g.params.map((p) => p.variable));
  }

  /** Weight decay for one parameter of a group, after the ≤1-D exclusion. */
  protected decayFor(group: ParamGroup, p: NamedParam): number {
    return this.options.excludeBiasAndNorm && p.variable.rank <= 1 ? 0 : group.weightDecay;
  }

  /**
   * Plain (momentum) SGD, torch.optim.SGD semantics (dampening 0, no Nesterov): d = g + wd·p; buf ← m·buf + d;
   * p ← p − lr·buf (no buffer when m = 0). `Sgd` is this rule; LARS and AdamW use it for `adaptive: false` groups.
   */
  protected momentumSgdUpdate(group: ParamGroup, p: NamedParam, grad: tf.Tensor): void {
    const wd = this.decayFor(group, p);
    const momentum = group.momentum;
    const buf = momentum !== 0 ? this.slot(p.name, 'momentum_buffer', p.variable) : undefined;
    tf.tidy(() => {
      const w = p.variable;
      const d = wd !== 0 ? axpby(1, grad, wd, w) : grad;
      let update: tf.Tensor = d;
      if (buf) {
        // A zero buffer times m plus d equals d exactly, so the first step needs no special case.
        update = axpby(momentum, buf, 1, d);
        buf.assign(update);
      }
      w.assign(axpby(1, w, -group.lr, update));
    });
  }

  protected slot(paramName: string, slotName: string, like: tf.Variable): tf.Variable {
    let perParam = this.slots.get(paramName);
    if (!perParam) {
      perParam = new Map();
      this.slots.set(paramName, perParam);
    }
    let v = perParam.get(slotName);
    if (!v) {
      const zeros = tf.zerosLike(like);
      v = tf.variable(zeros, false, undefined, like.dtype);
      zeros.dispose(); // the variable keeps its own reference to the data
      perParam.set(slotName, v);
    }
    return v;
  }

  /** Apply one update with the gradients in `grads` (not disposed here). */
  step(grads: GradMap): void {
    for (const group of this.groups) {
      for (const p of group.params) {
        const g = grads[p.variable.name] ?? grads[p.name];
        if (g === undefined) continue;
        if (g.shape.length !== p.variable.shape.length || g.shape.some((d, i) => d !== p.variable.shape[i])) {
          throw new Error(
            `optimizer: gradient for '${p.name}' has shape [${g.shape.join(', ')}], ` +
              `parameter has [${p.variable.shape.join(', ')}]`,
          );
        }
        this.updateParam(group, p, g);
      }
    }
    this.stepCount++;
  }

  protected abstract updateParam(group: ParamGroup, p: NamedParam, grad: tf.Tensor): void;

  /** Set every group's lr from its base lr (used by schedules). */
  setLearningRates(lrOf: (group: ParamGroup) => number): void {
    for (const g of this.groups) g.lr = lrOf(g);
  }

  /** Copies of the state (the caller disposes the tensors). */
  getState(): OptimizerState {
    const tensors: OptimizerState['tensors'] = [];
    for (const [paramName, perParam] of this.slots) {
      for (const [slotName, v] of perParam) tensors.push({ name: `${paramName}/${slotName}`, tensor: v.clone() });
    }
    const scalars: Record<string, number> = { stepCount: this.stepCount };
    for (const [paramName, n] of this.paramSteps) scalars[`${paramName}/step`] = n;
    for (const g of this.groups) scalars[`group/${g.name}/lr`] = g.lr;
    return { tensors, scalars };
  }

  /** Restore a state from getState() (values are copied; the caller keeps ownership of `state`). */
  setState(state: OptimizerState): void {
    const params = new Map<string, NamedParam>();
    for (const g of this.groups) for (const p of g.params) params.set(p.name, p);
    this.disposeSlots();
    this.paramSteps.clear();
    for (const { name, tensor } of state.tensors) {
      const cut = name.lastIndexOf('/');
      const paramName = name.slice(0, cut);
      const slotName = name.slice(cut + 1);
      const p = params.get(paramName);
      if (!p || cut < 0)
        throw new Error(`optimizer.setState: state tensor '${name}' names no parameter of this optimizer`);
      if (tensor.shape.length !== p.variable.shape.length || tensor.shape.some((d, i) => d !== p.variable.shape[i])) {
        throw new Error(
          `optimizer.setState: '${name}' has shape [${tensor.shape.join(', ')}], ` +
            `expected [${p.variable.shape.join(', ')}]`,
        );
      }
      this.slot(paramName, slotName, p.variable).assign(tensor);
    }
    for (const [key, value] of Object.entries(state.scalars)) {
      if (key === 'stepCount') this.stepCount = value;
      else if (key.startsWith('group/') && key.endsWith('/lr')) {
        const groupName = key.slice('group/'.length, -'/lr'.length);
        const g = this.groups.find((x) => x.name === groupName);
        if (!g) throw new Error(`optimizer.setState: scalar '${key}' names no group of this optimizer`);
        g.lr = value;
      } else if (key.endsWith('/step')) {
        const paramName = key.slice(0, -'/step'.length);
        if (!params.has(paramName)) throw new Error(`optimizer.setState: scalar '${key}' names no parameter`);
        this.paramSteps.set(paramName, value);
      } else throw new Error(`optimizer.setState: unknown scalar '${key}'`);
    }
  }

  /** Free the optimiser's slot variables (momenta, moments); the parameters stay with their owners. */
  dispose(): void {
    this.disposeSlots();
    this.paramSteps.clear();
  }

  private disposeSlots(): void {
    for (const perParam of this.slots.values()) for (const v of perParam.values()) v.dispose();
    this.slots.clear();
  }
}
