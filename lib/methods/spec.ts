/**
 * What a method is, as data: every list of methods (config validation, grids, labels, table order) is derived from
 * these specs, so adding a method is one method file (its spec and class) plus its loss. lib/methods/index.ts lists
 * the paper's six and lets a caller register more.
 *
 * @example
 *   export const simclr = defineMethod({
 *     name: 'simclr', label: 'SimCLR', backbones: ['resnet18', 'vit_tiny'], probe: true,
 *     settings: { projHiddenDim: 2048, projOutputDim: 256, temperature: 0.2 },
 *     rules: { projHiddenDim: WIDTH, projOutputDim: WIDTH, temperature: TEMPERATURE },
 *     widths: { smoke: { projHiddenDim: 64, projOutputDim: 32 }, default: { projHiddenDim: 512, projOutputDim: 128 } },
 *     appendixB: { optimizer: { kind: 'lars', lr: 0.3, ... }, batchSize: 256, probeLr: 1e-3 },
 *     build: (context, backbone) => new SimclrMethod(context, backbone),
 *   });
 */
import type { BackboneKind } from '../models';
import type { Backbone } from '../models/backbone';
import type { BackboneName, MethodSettings, OptimizerConfig, RunConfig } from '../runs/config';
import type { ScaleName } from '../runs/scale';
import type { Method, MethodContext } from './method';

/** The range a numeric setting must lie in, or 'boolean'. */
export type SettingRule = { min: number; max: number; integer?: boolean } | 'boolean';

/** Layer widths and head sizes. */
export const WIDTH: SettingRule = { min: 1, max: 65536, integer: true };
/** Temperatures divide logits: 0 gives Infinity/NaN at the first step. */
export const TEMPERATURE: SettingRule = { min: 1e-4, max: 10 };
/** A number of epochs. */
export const EPOCHS: SettingRule = { min: 0, max: 1000, integer: true };
/** An EMA coefficient τ. */
export const TAU: SettingRule = { min: 0, max: 1 };

/** A method's row of the paper's appendix B: optimiser and batch (lr and warmup_start_lr at batch 256). */
export interface AppendixBRow {
  optimizer: Omit<OptimizerConfig, 'warmupEpochs' | 'minLr' | 'eta'>;
  batchSize: number;
  probeLr: number;
}

export type SettingValues = Record<string, number | boolean>;

export interface MethodSpec<S extends SettingValues = SettingValues> {
  /** The name in configs, run ids and the CLI. */
  name: string;
  /** The name in tables and figures. */
  label: string;
  /** The settings this method reads, with the paper's values. */
  settings: S;
  /** What each setting may be; validateRunConfig checks every one. */
  rules: { [K in keyof S]: SettingRule };
  /**
   * Settings a CPU scale changes (the smoke scale's head widths, the default scale's MAE decoder depth and DINO
   * teacher warm-up); `paper` keeps `settings`.
   */
  widths: Partial<Record<ScaleName, Partial<S>>>;
  appendixB: AppendixBRow;
  /** The backbones it can train. */
  backbones: readonly BackboneName[];
  /** The backbone it builds in place of the config's (MAE's encoder is its own ViT variant). */
  encoder?: BackboneKind;
  /** false for a method that trains its own classifier (the supervised baseline): no online probe. */
  probe: boolean;
  /** The (student, teacher) module pairs the base method moves by EMA after every step. */
  teachers?: ReadonlyArray<{ student: string; teacher: string }>;
  /** Checks of a whole config this method needs beyond its settings' ranges: the problem, or null. */
  checkConfig?(config: RunConfig, settings: S): { field: string; value: unknown; problem: string } | null;
  /** The method's networks for one run; `makeBackbone` builds another backbone like the first (teachers). */
  build(context: MethodContext, backbone: Backbone, makeBackbone: () => Backbone): Method;
}

/** A spec, typed: its settings, rules and widths must name the same fields. */
export function defineMethod<S extends SettingValues>(spec: MethodSpec<S>): MethodSpec<S> {
  return spec;
}

/** A run's settings as the method's spec types them (validateRunConfig has checked every rule). */
export function settingsOf<S extends SettingValues>(_spec: MethodSpec<S>, config: RunConfig): S {
  return config.settings as MethodSettings as unknown as S;
}
