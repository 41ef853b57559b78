/**
 * What every method shares: a backbone plus named heads (student side), optional teacher modules and extra
 * state tensors, train/eval switching and disposal. Method files add only their loss and their updates.
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../models/backbone';
import type { Module, NamedParam } from '../nn/module';
import type { RunConfig } from '../runs/config';
import { LossOutput, Method, MethodContext, StepState, prefixed } from './method';

export abstract class BaseMethod implements Method {
  abstract readonly name: string;
  readonly numViews: 1 | 2 = 2;
  readonly clipGrad: number | null;
  protected readonly config: RunConfig;
  /** Student heads, by PyTorch attribute name (`projector`, `predictor`, …). */
  private readonly heads = new Map<string, Module>();
  /** Teacher modules (momentum copies), by name; no gradients, EMA-updated. */
  private readonly teachers = new Map<string, Module>();
  /** Extra state tensors that are not module parameters (DINO's centre). */
  private readonly extraState = new Map<string, tf.Variable>();

  constructor(
    protected readonly context: MethodContext,
    readonly backbone: Backbone,
  ) {
    this.config = context.config;
    this.clipGrad = context.config.optimizer.clipGrad;
  }

  protected addHead<T extends Module>(name: string, head: T): T {
    this.heads.set(name, head);
    return head;
  }

  protected addTeacher<T extends Module>(name: string, teacher: T): T {
    this.teachers.set(name, teacher);
    return teacher;
  }

  protected addState(name: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, false);
    init.dispose();
    this.extraState.set(name, v);
    return v;
  }

  trainable(): NamedParam[] {
    const out = prefixed('backbone', this.backbone.namedParameters());
    for (const [name, head] of this.heads) out.push(...prefixed(name, head.namedParameters()));
    return out;
  }

  state(): NamedParam[] {
    const out = prefixed('backbone', this.backbone.stateDict());
    for (const [name, head] of this.heads) out.push(...prefixed(name, head.stateDict()));
    for (const [name, teacher] of this.teachers) out.push(...prefixed(name, teacher.stateDict()));
    for (const [name, variable] of this.extraState) out.push({ name, variable });
    return out;
  }

  abstract loss(views: tf.Tensor4D[], labels: tf.Tensor1D, state: StepState): LossOutput;

  frozen(_state: StepState): Set<string> {
    return new Set();
  }

  afterStep(_state: StepState): void {}

  setTraining(training: boolean): void {
    this.backbone.train(training);
    for (const head of this.heads.values()) head.train(training);
    // Teachers run in train mode while the student trains (batch statistics), as in the paper's code.
    for (const teacher of this.teachers.values()) teacher.train(training);
  }

  dispose(): void {
    this.backbone.dispose();
    for (const m of [...this.heads.values(), ...this.teachers.values()]) m.dispose();
    for (const v of this.extraState.values()) v.dispose();
  }
}
