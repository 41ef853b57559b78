/**
 * What every method shares: a backbone plus named heads (student side), optional teacher modules and extra
 * state tensors, train/eval switching and disposal. Method files add only their loss and their updates.
 *
 * Teachers are written once, here: a method declares each (student, teacher) pair with `addTeacher` and its τ
 * schedule by overriding `teacherTau`; after every optimiser step the base moves each teacher's parameters
 * towards its student's, θ_teacher ← τ·θ_teacher + (1 − τ)·θ_student (`emaUpdate`).
 *
 * @example
 *   this.addTeacher('momentum_backbone', makeBackbone(), 'backbone');   // in the constructor, after the heads
 *   protected teacherTau(state: StepState): number { return emaTau(state.step, state.totalSteps); }
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../models/backbone';
import type { Module, NamedParam } from '../nn/module';
import type { RunConfig } from '../runs/config';
import { copyParams, emaUpdate } from '../optim';
import { LossOutput, Method, MethodContext, StepState, prefixed } from './method';

/** A teacher (momentum copy) and the student module it follows, named as in the state dict. */
export interface TeacherPair {
  student: string;
  teacher: string;
}

export abstract class BaseMethod implements Method {
  abstract readonly name: string;
  readonly numViews: 1 | 2 = 2;
  readonly clipGrad: number | null;
  protected readonly config: RunConfig;
  /** Student heads, by PyTorch attribute name (`projector`, `predictor`, …). */
  private readonly heads = new Map<string, Module>();
  /** Teacher modules (momentum copies) with the student each follows, by name; no gradients, EMA-updated. */
  private readonly teachers = new Map<string, { module: Module; student: string }>();
  private tau: number | undefined;
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

  /**
   * Declare a teacher that follows the student module `student` ('backbone' or a head's name) by EMA after every
   * step; it starts as a copy of the student's parameters.
   */
  protected addTeacher<T extends Module>(name: string, teacher: T, student: string): T {
    copyParams(teacher.namedParameters(), this.studentModule(student).namedParameters());
    this.teachers.set(name, { module: teacher, student });
    return teacher;
  }

  private studentModule(name: string): Module {
    const module = name === 'backbone' ? this.backbone : this.heads.get(name);
    if (!module) throw new Error(`${this.name}: no student module '${name}' (add the head before its teacher)`);
    return module;
  }

  /** The (student, teacher) pairs the base updates by EMA, in the order they were declared. */
  teacherPairs(): TeacherPair[] {
    return [...this.teachers].map(([teacher, { student }]) => ({ student, teacher }));
  }

  /** The EMA τ of the teachers after `state`'s step; a method that declares teachers declares this schedule. */
  protected teacherTau(_state: StepState): number {
    throw new Error(`${this.name} declares teachers but no τ schedule (override teacherTau)`);
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
    for (const [name, teacher] of this.teachers) out.push(...prefixed(name, teacher.module.stateDict()));
    for (const [name, variable] of this.extraState) out.push({ name, variable });
    return out;
  }

  abstract loss(views: tf.Tensor4D[], labels: tf.Tensor1D, state: StepState): LossOutput;

  frozen(_state: StepState): Set<string> {
    return new Set();
  }

  /** After the optimiser step: each teacher's EMA towards its student, with τ for the step just taken. */
  afterStep(state: StepState): void {
    if (this.teachers.size === 0) return;
    this.tau = this.teacherTau(state);
    for (const [name, { module, student }] of this.teachers) {
      const studentParams = this.studentModule(student).namedParameters();
      emaUpdate(prefixed(name, module.namedParameters()), prefixed(name, studentParams), this.tau);
    }
  }

  get lastTau(): number | undefined {
    return this.tau;
  }

  setTraining(training: boolean): void {
    this.backbone.train(training);
    for (const head of this.heads.values()) head.train(training);
    // Teachers run in train mode while the student trains (batch statistics), as in the paper's code.
    for (const teacher of this.teachers.values()) teacher.module.train(training);
  }

  dispose(): void {
    this.backbone.dispose();
    for (const head of this.heads.values()) head.dispose();
    for (const teacher of this.teachers.values()) teacher.module.dispose();
    for (const v of this.extraState.values()) v.dispose();
  }
}
