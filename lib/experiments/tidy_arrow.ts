/**
 * The tidy results table as an Arrow IPC *file* (the random-access format: `pyarrow.ipc.open_file`,
 * `pyarrow.feather.read_table`, `pandas.read_feather`; not `open_stream`) with one fixed schema.
 *
 * Left to itself the Arrow encoder picks each column's type from its values (an `imageSize` of 32 or 64 becomes
 * int8, 224 int16; strings become dictionaries), so exports of two scales had different schemas and
 * `pyarrow.concat_tables` refused them. Here every column of `ResultRow` has an explicit type; a column outside
 * it (a field some future row adds) is float64 when all its values are numbers and utf8 otherwise.
 *
 * @example
 *   fs.writeFileSync('tidy.arrow', tidyArrowFile(table));
 */
import { float64, int32, utf8, type DataType } from '@uwdata/flechette';
import type * as aq from 'arquero';

/** The type of every column of the tidy table; all nullable (a row from an older run may lack a field). */
export const TIDY_ARROW_TYPES: Readonly<Record<string, () => DataType>> = {
  runId: utf8,
  method: utf8,
  backbone: utf8,
  trainProportion: float64,
  evalProportion: float64,
  split: utf8,
  metric: utf8,
  value: float64,
  seed: int32,
  threshold: float64,
  epoch: int32,
  dataset: utf8,
  scale: utf8,
  imageSize: int32,
};

/** The Arrow type of each column of `table`: the fixed ones, and float64/utf8 for any other. */
export function tidyArrowTypes(table: aq.ColumnTable): Record<string, DataType> {
  const types: Record<string, DataType> = {};
  for (const name of table.columnNames()) {
    const fixed = TIDY_ARROW_TYPES[name];
    if (fixed) types[name] = fixed();
    else {
      const values = table.array(name) as unknown[];
      const numeric = values.every((v) => v === null || v === undefined || typeof v === 'number');
      types[name] = numeric ? float64() : utf8();
    }
  }
  for (const name of ['seed', 'epoch', 'imageSize']) {
    if (!table.columnNames().includes(name)) continue;
    const bad = (table.array(name) as unknown[]).findIndex(
      (v) => v !== null && v !== undefined && !(Number.isInteger(v) && Math.abs(v as number) < 2 ** 31),
    );
    if (bad >= 0)
      throw new Error(
        `tidy table row ${bad}: ${name} = ${String((table.array(name) as unknown[])[bad])} is not a 32-bit integer`,
      );
  }
  return types;
}

/** The tidy table as Arrow IPC file bytes with the fixed schema. */
export function tidyArrowFile(table: aq.ColumnTable): Uint8Array {
  const arquero = require('arquero') as typeof aq;
  return arquero.toArrowIPC(table, { format: 'file', types: tidyArrowTypes(table) });
}
