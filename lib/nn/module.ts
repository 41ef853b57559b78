/**
 * A minimal PyTorch-like module system on TF.js variables.
 *
 * Parameters and buffers are named exactly as PyTorch names them (`layer1.0.conv1.weight`,
 * `bn1.running_mean`), so state dicts map one-to-one onto torchvision/timm checkpoints.
 * Layouts follow TF.js: activations NHWC, conv kernels HWIO, linear kernels [in, out].
 *
 * @example
 *   class Mlp extends Module {
 *     fc = this.register('fc', new Linear(4, 2));
 *     forward(x: tf.Tensor2D) { return this.fc.forward(x); }
 *   }
 *   new Mlp().namedParameters().map(p => p.name); // ['fc.weight', 'fc.bias']
 */
import * as tf from '@tensorflow/tfjs';

export interface NamedParam {
  /** PyTorch-style dotted name, relative to the module it was listed from. */
  name: string;
  variable: tf.Variable;
}

export abstract class Module {
  private readonly childModules = new Map<string, Module>();
  private readonly ownParams = new Map<string, tf.Variable>();
  private readonly ownBuffers = new Map<string, tf.Variable>();
  /** Train mode (batch statistics in BatchNorm, dropout on); set with train()/eval(). */
  training = true;

  /** Register a child module under `name`; returns it for field initialisers. */
  protected register<T extends Module>(name: string, child: T): T {
    if (this.childModules.has(name)) throw new Error(`module already has a child named '${name}'`);
    this.childModules.set(name, child);
    return child;
  }

  /** Create a trainable parameter from `init` (the tensor is taken over, not copied). */
  protected param(name: string, init: tf.Tensor): tf.Variable {
    if (this.ownParams.has(name)) throw new Error(`module already has a parameter named '${name}'`);
    const v = tf.variable(init, true);
    init.dispose();
    this.ownParams.set(name, v);
    return v;
  }

  /** Create a non-trainable buffer (BatchNorm running statistics, fixed position embeddings). */
  protected buffer(name: string, init: tf.Tensor): tf.Variable {
    if (this.ownBuffers.has(name)) throw new Error(`module already has a buffer named '${name}'`);
    const v = tf.variable(init, false);
    init.dispose();
    this.ownBuffers.set(name, v);
    return v;
  }

  children(): Array<[string, Module]> {
    return [...this.childModules.entries()];
  }

  /** Trainable parameters in registration order, PyTorch-named. */
  namedParameters(prefix = ''): NamedParam[] {
    const out: NamedParam[] = [];
    for (const [n, v] of this.ownParams) out.push({ name: prefix + n, variable: v });
    for (const [n, c] of this.childModules) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): NamedParam[] {
    const out: NamedParam[] = [];
    for (const [n, v] of this.ownBuffers) out.push({ name: prefix + n, variable: v });
    for (const [n, c] of this.childModules) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map((p) => p.variable);
  }

  /** Parameters followed by buffers: everything a checkpoint must hold. */
  stateDict(prefix = ''): NamedParam[] {
    return [...this.namedParameters(prefix), ...this.namedBuffers(prefix)];
  }

  numParameters(): number {
    return this.parameters().reduce((n, v) => n + v.size, 0);
  }

  train(mode = true): this {
    this.training = mode;
    for (const c of this.childModules.values()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const v of this.ownParams.values()) v.dispose();
    for (const v of this.ownBuffers.values()) v.dispose();
    for (const c of this.childModules.values()) c.dispose();
  }
}
