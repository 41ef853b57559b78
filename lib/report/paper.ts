/**
 * The paper's own numbers (Tables 1–4 and the Figure 2 heatmaps), transcribed into
 * `data/paper/*.json`, as arquero tables in the same tidy shape as our results.
 *
 * Identifiers: method ∈ supervised | byol | barlow | dino | mae | simclr;
 * backbone ∈ resnet18 | vit_tiny; metric ∈ precision | recall | f1 | f2Ciw | f1Normal
 * (Table 2 adds timePerEpochMinutes); proportions are fractions (0.01 … 0.45);
 * values are fractions (Figure 2's percentages are divided by 100). A cell the paper
 * leaves empty or prints as '—' has `value: null` and says why in `note`.
 *
 * @example
 *   import { paperTable } from '../lib/report/paper';
 *   const table1 = paperTable('table1').filter((d) => d.metric === 'f1');
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../runs/paths';
import * as aq from 'arquero';

export type PaperTableName = 'table1' | 'table2' | 'table3' | 'table4' | 'figure2';

export const PAPER_TABLES: readonly PaperTableName[] = ['table1', 'table2', 'table3', 'table4', 'figure2'];

export interface PaperCell {
  table: PaperTableName;
  metric: string;
  method: string;
  backbone: string | null;
  split: 'train' | 'val';
  trainProportion: number | null;
  evalProportion: number | null;
  resolution: number | null;
  value: number | null;
  note: string | null;
}

/** Display names the paper uses, keyed by our identifiers. */
export const PAPER_LABELS: Readonly<Record<string, string>> = {
  supervised: 'Supervised',
  byol: 'BYOL',
  barlow: 'Barlow Twins',
  dino: 'DINO',
  mae: 'MAE',
  simclr: 'SimCLR',
  resnet18: 'ResNet-18',
  vit_tiny: 'ViT-Tiny',
  precision: 'Precision',
  recall: 'Recall',
  f1: 'F1',
  f2Ciw: 'F2_CIW',
  f1Normal: 'F1_Normal',
};

// Found from the project root, so the compiled copy in dist/lib/report reads the same files.
export const PAPER_DATA_DIR = path.join(projectRoot(), 'data', 'paper');

const FIELDS: ReadonlyArray<keyof PaperCell> = [
  'table',
  'metric',
  'method',
  'backbone',
  'split',
  'trainProportion',
  'evalProportion',
  'resolution',
  'value',
  'note',
];

/** The cells of one transcribed table, validated field by field. */
export function paperCells(name: PaperTableName, dir: string = PAPER_DATA_DIR): PaperCell[] {
  if (!PAPER_TABLES.includes(name)) {
    throw new Error(`paperCells: unknown table "${name}"; expected one of ${PAPER_TABLES.join(', ')}`);
  }
  const file = path.join(dir, `${name}.json`);
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  const cells = (parsed as { cells?: unknown }).cells;
  if (!Array.isArray(cells)) throw new Error(`${file}: expected an object with a "cells" array`);
  cells.forEach((raw: unknown, index) => {
    const where = `${file}: cells[${index}]`;
    if (typeof raw !== 'object' || raw === null) throw new Error(`${where} is not an object`);
    const record = raw as Record<string, unknown>;
    for (const field of FIELDS) {
      if (!(field in record)) throw new Error(`${where} lacks field "${field}"`);
    }
    if (record.table !== name) throw new Error(`${where}.table is ${JSON.stringify(record.table)}, expected "${name}"`);
    if (record.value !== null && (typeof record.value !== 'number' || !Number.isFinite(record.value))) {
      throw new Error(`${where}.value must be a finite number or null, got ${JSON.stringify(record.value)}`);
    }
  });
  return cells as PaperCell[];
}

/** One transcribed table as an arquero table (one row per cell). */
export function paperTable(name: PaperTableName, dir: string = PAPER_DATA_DIR): aq.ColumnTable {
  const cells = paperCells(name, dir);
  // Build by columns so every field exists even where all values are null.
  const columns: Record<string, unknown[]> = {};
  for (const field of FIELDS) columns[field] = cells.map((c) => c[field]);
  return aq.table(columns);
}

/** Every transcribed table concatenated. */
export function allPaperCells(dir: string = PAPER_DATA_DIR): aq.ColumnTable {
  const tables = PAPER_TABLES.map((name) => paperTable(name, dir));
  return tables.slice(1).reduce((acc, t) => acc.concat(t), tables[0]);
}
