/**
 * Table helpers on arquero shared by every report module: building a table with fixed columns, the mean over
 * seeds per group, the paper's row order, and filters a notebook can call with its own variables.
 *
 * @example
 *   const cells = meanOverSeeds(rowsToTable(rows), ['metric', 'method', 'backbone', 'trainProportion']);
 *   paperOrder(cells, ['f1', 'f2Ciw']).objects(); // metric, then backbone, then Supervised, BYOL, …
 *   whereEquals(cells, { metric: 'f1', method: ['simclr', 'byol'] });
 */
import * as aq from 'arquero';
import type { ResultRow } from '../runs/store';
import { PAPER_BACKBONE_ORDER, paperMethodOrder } from './labels';

const { op } = aq;

/** The columns of the tidy results table (store.ts `ResultRow`), kept when a table has no rows. */
export const RESULT_COLUMNS = [
  'runId',
  'method',
  'backbone',
  'trainProportion',
  'evalProportion',
  'split',
  'metric',
  'value',
  'seed',
  'threshold',
  'epoch',
  'dataset',
  'scale',
  'imageSize',
];

/** Objects to an arquero table with fixed columns (kept even when there are no rows; missing values null). */
export function tableOf(records: readonly object[], columns: readonly string[]): aq.ColumnTable {
  return aq.table(
    Object.fromEntries(columns.map((c) => [c, records.map((r) => (r as Record<string, unknown>)[c] ?? null)])),
  );
}

/** Result rows to an arquero table that keeps its columns even when there are no rows. */
export function rowsToTable(rows: readonly ResultRow[]): aq.ColumnTable {
  return rows.length ? aq.from(rows) : tableOf([], RESULT_COLUMNS);
}

/**
 * The mean of a column's valid values as an arquero aggregate expression: their sum over their count, the
 * arithmetic of the report's earlier hand-written means (op.mean's running mean differs in the last digit).
 */
export function meanOf(field: string): string {
  const column = `d[${JSON.stringify(field)}]`;
  return `op.sum(${column}) / op.valid(${column})`;
}

/**
 * Mean over seeds of the finite values of `value` per combination of `keys`: columns `keys…, value, n, sd`
 * (`sd` the sample standard deviation, null with one value). Groups without a finite value are left out.
 */
export function meanOverSeeds(table: aq.ColumnTable, keys: readonly string[], value = 'value'): aq.ColumnTable {
  return table
    .filter(aq.escape((d: Record<string, unknown>) => Number.isFinite(d[value])))
    .groupby(...keys)
    .rollup({ value: meanOf(value), n: op.count(), sd: op.stdev(value) })
    .derive({ sd: (d: { sd: number | undefined }) => d.sd ?? null });
}

function rank(order: readonly string[], value: unknown): number {
  const i = order.indexOf(String(value));
  return i < 0 ? order.length : i;
}

/** Columns ordered by a list (metric, backbone, method), then numeric columns ascending. */
const NUMERIC_ORDER = ['trainProportion', 'evalProportion', 'imageSize', 'jitter', 'minScale', 'epoch'];

/**
 * The paper's row order: split (train before val), metric (in `metricOrder`), backbone (ResNet-18 first),
 * method (Supervised first, as the paper prints), then proportions, sizes and epochs ascending. Columns a table
 * lacks are skipped; ties keep their input order.
 */
export function paperOrder(table: aq.ColumnTable, metricOrder: readonly string[]): aq.ColumnTable {
  const names = table.columnNames();
  const listed: Array<[string, readonly string[]]> = [
    ['split', ['train', 'val']],
    ['metric', metricOrder],
    ['backbone', PAPER_BACKBONE_ORDER],
    ['method', paperMethodOrder()],
  ];
  const keys = [
    ...listed
      .filter(([field]) => names.includes(field))
      .map(([field, order]) => aq.escape((d: Record<string, unknown>) => rank(order, d[field]))),
    ...NUMERIC_ORDER.filter((field) => names.includes(field)),
  ];
  return keys.length ? table.orderby(...keys).reify() : table;
}

/** Rows whose fields equal the given values (arrays: any of the values); arquero's filter cannot see them. */
export function whereEquals(table: aq.ColumnTable, fields: Record<string, unknown>): aq.ColumnTable {
  const names = table.columnNames();
  for (const field of Object.keys(fields))
    if (!names.includes(field)) throw new Error(`whereEquals: no column "${field}" (columns: ${names.join(', ')})`);
  const matches = (d: Record<string, unknown>) =>
    Object.entries(fields).every(([k, v]) => (Array.isArray(v) ? v.includes(d[k]) : d[k] === v));
  return table.filter(aq.escape(matches)).reify();
}
