/**
 * The methods: the paper's six specs, and a registry a caller can add to. Everything that lists methods (config
 * validation, the CLI, grids, labels, table order) reads it, so a new method is its file (spec + class) and its loss.
 *
 * @example
 *   methodNames();                         // ['supervised', 'byol', 'barlow', 'dino', 'mae', 'simclr']
 *   methodSpec('mae').backbones;           // ['vit_tiny']
 *   registerMethod(myMethod);              // now makeRunConfig({ method: myMethod.name, ... }) and the grid know it
 *   const method = createMethod(makeRunConfig({ method: 'byol', backbone: 'resnet18' }, 'smoke'), { posWeight: 3 });
 */
import type { MethodName, MethodSettings, RunConfig } from '../runs/config';
import type { ScaleName } from '../runs/scale';
import { createBackbone, type BackboneKind } from '../models';
import type { Backbone } from '../models/backbone';
import type { Method, MethodContext } from './method';
import type { MethodSpec, SettingRule, SettingValues } from './spec';
import { supervised } from './supervised';
import { simclr } from './simclr';
import { byol } from './byol';
import { barlow } from './barlow';
import { dino } from './dino';
import { mae } from './mae';

export type { Method, MethodContext, LossOutput, StepState } from './method';
export type { MethodSpec } from './spec';

/**
 * The paper's methods, in the order of its tables. Every run config carries the settings of all six (run ids have
 * always hashed them), so a finished run keeps its id when a method is added after them.
 */
export const PAPER_METHODS: readonly MethodSpec[] = [supervised, byol, barlow, dino, mae, simclr] as MethodSpec[];

const registry = new Map<string, MethodSpec>(PAPER_METHODS.map((spec) => [spec.name, spec]));

/** The setting each paper method shares with another must have one value, or configs would depend on order. */
function checkSharedSettings(spec: MethodSpec, others: Iterable<MethodSpec>): void {
  for (const other of others) {
    if (other === spec) continue;
    for (const [key, value] of Object.entries(spec.settings)) {
      if (!(key in other.settings)) continue;
      const same = (scale?: ScaleName) =>
        (scale ? spec.widths[scale]?.[key] : value) === (scale ? other.widths[scale]?.[key] : other.settings[key]);
      if (!same() || !(['smoke', 'default', 'paper'] as const).every(same))
        throw new Error(`method ${spec.name}: setting ${key} differs from ${other.name}'s; shared settings agree`);
    }
  }
}
for (const spec of PAPER_METHODS) checkSharedSettings(spec, PAPER_METHODS);

/** Add a method (a test's throwaway method, a user's own); its name must be new. */
export function registerMethod<S extends SettingValues>(spec: MethodSpec<S>): void {
  const added = spec as unknown as MethodSpec;
  if (registry.has(added.name)) throw new Error(`method ${added.name} is registered already`);
  checkSharedSettings(added, registry.values());
  registry.set(added.name, added);
}

/** Remove a method registered with registerMethod (the paper's stay). */
export function unregisterMethod(name: MethodName): void {
  if (PAPER_METHODS.some((spec) => spec.name === name)) throw new Error(`method ${name} is one of the paper's`);
  registry.delete(name);
}

/** Every registered method, the paper's first in the order of its tables. */
export function methodSpecs(): MethodSpec[] {
  return [...registry.values()];
}

export function methodNames(): MethodName[] {
  return methodSpecs().map((spec) => spec.name);
}

/** The spec of a registered method; throws naming the registered ones. */
export function methodSpec(name: MethodName): MethodSpec {
  const spec = registry.get(name);
  if (!spec) throw new Error(`unknown method ${JSON.stringify(name)}; registered: ${methodNames().join(', ')}`);
  return spec;
}

/** The method's name in tables and figures (the name itself for one not registered). */
export function methodLabel(name: MethodName): string {
  return registry.get(name)?.label ?? name;
}

/** A run's settings at a scale: every paper method's (as run ids have always hashed them), then its own method's. */
export function settingsFor(method: MethodName, scale: ScaleName): MethodSettings {
  const settings: SettingValues = {};
  for (const spec of [...PAPER_METHODS, methodSpec(method)]) Object.assign(settings, spec.settings, spec.widths[scale]);
  return settings as MethodSettings;
}

/** What each setting a run config carries may be, from the spec that owns it. */
export function settingRules(method: MethodName): Record<string, SettingRule> {
  const rules: Record<string, SettingRule> = {};
  for (const spec of [...PAPER_METHODS, methodSpec(method)]) Object.assign(rules, spec.rules);
  return rules;
}

/** The backbone a run trains (MAE's encoder is the ViT-Tiny variant with 12 heads and sin-cos positions). */
export function backboneFor(config: RunConfig, seed: number): Backbone {
  return createBackbone(
    { kind: backboneKindFor(config), imageSize: config.imageSize, patchSize: config.patchSize, depth: config.vitDepth },
    seed,
  );
}

/** The kind of backbone a run builds: its config's, or its method's own encoder. */
export function backboneKindFor(config: RunConfig): BackboneKind {
  return methodSpec(config.method).encoder ?? config.backbone;
}

export function createMethod(config: RunConfig, options: { posWeight: number; seed?: number }): Method {
  const seed = options.seed ?? config.seed;
  const context: MethodContext = { config, posWeight: options.posWeight, seed };
  return methodSpec(config.method).build(context, backboneFor(config, seed), () => backboneFor(config, seed));
}
