/**
 * One home for what the report prints for an identifier: method, backbone and metric names, proportions as
 * percentages, numbers with a typographic minus, and the order in which the paper lists methods and backbones.
 * Method and backbone names come from the run config (`METHOD_LABELS`, `BACKBONE_LABELS`).
 *
 * @example
 *   methodLabel('barlow'); // 'Barlow Twins'
 *   percent(0.05); // '5%'
 *   signed(-0.1234, 3); // '−0.123'
 */
import { BACKBONE_LABELS, METHOD_LABELS, type BackboneName, type MethodName } from '../experiments/config';

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

/** The order the paper's tables list methods in (Supervised first); a method not listed comes last. */
export const PAPER_METHOD_ORDER: readonly string[] = ['supervised', 'byol', 'barlow', 'dino', 'mae', 'simclr'];
export const PAPER_BACKBONE_ORDER: readonly string[] = ['resnet18', 'vit_tiny'];

/** A method's display name (the raw value when it is not a known method). */
export function methodLabel(method: string): string {
  return METHOD_LABELS[method as MethodName] ?? method;
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
