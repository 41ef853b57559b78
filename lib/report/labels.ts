/**
 * One home for what the report prints for an identifier: method, backbone and metric names, proportions as
 * percentages, numbers with a typographic minus, and the order in which the paper lists methods and backbones.
 * Method names and their order come from the method registry (lib/methods), backbone names from the run config.
 *
 * @example
 *   methodLabel('barlow'); // 'Barlow Twins'
 *   percent(0.05); // '5%'
 *   signed(-0.1234, 3); // '−0.123'
 */
import { methodLabel as registeredLabel, methodNames } from '../methods';
import { METHOD_LABELS } from '../methods/config';
import { BACKBONE_LABELS, type BackboneName } from '../runs/config';

/** Display names of methods and backbones (re-exported so notebooks need one import). */
export { METHOD_LABELS, BACKBONE_LABELS };

export const METRIC_LABELS: Record<string, string> = {
  precision: 'Precision',
  recall: 'Recall',
  f1: 'F1',
  f2Ciw: 'F2_CIW',
  f2CiwPresent: 'F2_CIW (codes present)',
  f1Normal: 'F1_Normal',
  auroc: 'AUROC',
  auprc: 'AUPRC',
};

/** The order the tables list methods in: the registry's, the paper's table order (Supervised first). */
export function paperMethodOrder(): readonly string[] {
  return methodNames();
}
export const PAPER_BACKBONE_ORDER: readonly string[] = ['resnet18', 'vit_tiny'];

/** A method's display name (the raw value when it is not a registered method). */
export function methodLabel(method: string): string {
  return registeredLabel(method);
}

/** A backbone's display name (the raw value when it is not a known backbone). */
export function backboneLabel(backbone: string): string {
  return BACKBONE_LABELS[backbone as BackboneName] ?? backbone;
}

/** A metric's display name (the raw value when it is not a known metric). */
export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric] ?? metric;
}

/** "5%" for 0.05, "0.5%" for 0.005. */
export function percent(proportion: number): string {
  const value = Math.round(proportion * 1000) / 10;
  return `${value}%`;
}

/** A number for prose: fixed digits, a typographic minus, and 'undefined' for NaN. */
export function signed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits).replace(/^-/, '−') : 'undefined';
}

/** Whether two proportions are the same (they are stored as floats, e.g. 0.45). */
export function sameProportion(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}
