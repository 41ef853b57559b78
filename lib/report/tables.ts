/**
 * arquero helpers for the paper-style tables: markdown text, inline display in tslab,
 * wide (method rows × proportion columns) pivots, and paper-versus-ours comparisons.
 *
 * @example
 *   import { paperTable } from '../lib/report/paper';
 *   import { paperVsOurs, wideTable, showTable } from '../lib/report/tables';
 *   const paper = paperTable('table1').filter((d) => d.metric === 'f1');
 *   const both = paperVsOurs(ours, paper, ['method', 'backbone', 'trainProportion']); // ours: same keys + value
 *   showTable(both, { digits: 3, caption: 'Table 1, F1: ours vs paper' });
 *   showTable(wideTable(both, { rows: ['backbone', 'method'], columns: 'trainProportion', value: 'diff',
 *     columnLabel: (p) => `${Math.round(Number(p) * 100)}%` }));
 */
import * as aq from 'arquero';
import { displayBundle } from './display';

export interface MarkdownOptions {
  /** Decimal places for non-integer numbers (default 3). */
  digits?: number;
  /** Columns to include, in order (default all). */
  columns?: string[];
  /** Text for null / undefined / NaN (default '—', as the paper prints missing cells). */
  missing?: string;
}

function formatCell(value: unknown, digits: number, missing: string): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return missing;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  // Pipes would split the markdown cell.
  return String(value).replace(/\|/g, '\\|');
}

/** A GitHub-flavoured markdown table; numbers right-aligned, text left-aligned. */
export function toMarkdown(table: aq.ColumnTable, options: MarkdownOptions = {}): string {
  const digits = options.digits ?? 3;
  const missing = options.missing ?? '—';
  const columns = options.columns ?? table.columnNames();
  for (const column of columns) {
    if (!table.columnNames().includes(column)) {
      throw new Error(`toMarkdown: no column "${column}" (columns: ${table.columnNames().join(', ')})`);
    }
  }
  const rows = table.objects() as Array<Record<string, unknown>>;
  const numeric = columns.map(
    (c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || r[c] === null || r[c] === undefined),
  );
  const header = `| ${columns.join(' | ')} |`;
  const rule = `|${numeric.map((isNumber) => (isNumber ? ' ---: ' : ' :--- ')).join('|')}|`;
  const body = rows.map((r) => `| ${columns.map((c) => formatCell(r[c], digits, missing)).join(' | ')} |`);
  return [header, rule, ...body].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An HTML table with the same formatting as toMarkdown. */
export function toHtml(table: aq.ColumnTable, options: MarkdownOptions = {}): string {
  const digits = options.digits ?? 3;
  const missing = options.missing ?? '—';
  const columns = options.columns ?? table.columnNames();
  const rows = table.objects() as Array<Record<string, unknown>>;
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${columns
          .map((c) => {
            const align = typeof r[c] === 'number' ? ' style="text-align:right"' : '';
            return `<td${align}>${escapeHtml(formatCell(r[c], digits, missing).replace(/\\\|/g, '|'))}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

export interface ShowTableOptions extends MarkdownOptions {
  /** Show at most this many rows (default 200); a note says how many were left out. */
  maxRows?: number;
  /** A heading printed above the table. */
  caption?: string;
}

/** The markdown `showTable` shows: caption, table (at most `maxRows` rows) and a note of the rows left out. */
export function tableMarkdown(table: aq.ColumnTable, options: ShowTableOptions = {}): string {
  return renderTable(table, options).markdown;
}

function renderTable(table: aq.ColumnTable, options: ShowTableOptions): { markdown: string; html: string } {
  const maxRows = options.maxRows ?? 200;
  const shown = table.numRows() > maxRows ? table.slice(0, maxRows) : table;
  const more = table.numRows() - shown.numRows();
  const note = more > 0 ? `\n\n(${more} more rows not shown)` : '';
  const caption = options.caption ? `**${options.caption}**\n\n` : '';
  const markdown = `${caption}${toMarkdown(shown, options)}${note}`;
  const htmlCaption = options.caption ? `<p><b>${escapeHtml(options.caption)}</b></p>\n` : '';
  const htmlNote = note ? `<p>${escapeHtml(note.trim())}</p>` : '';
  const html = `${htmlCaption}${toHtml(shown, options)}${htmlNote}`;
  return { markdown, html };
}

/**
 * Show a table in the notebook (HTML, with markdown and plain-text fallbacks), or print its markdown outside Jupyter.
 * Returns nothing, so that a cell ending with it does not also print a value.
 */
export function showTable(table: aq.ColumnTable, options: ShowTableOptions = {}): void {
  const { markdown, html } = renderTable(table, options);
  const displayed = displayBundle({ 'text/html': html, 'text/markdown': markdown, 'text/plain': markdown });
  if (displayed === 'none') console.log(markdown);
}

export interface WideTableOptions {
  /** Key columns that identify a row (e.g. ['method'] or ['backbone', 'method']). */
  rows: string[];
  /** The column whose values become new columns (e.g. 'trainProportion'). */
  columns: string;
  /** The column holding the cell values. */
  value: string;
  /** Header for a column value (default String(value)); e.g. (p) => `${Number(p) * 100}%`. */
  columnLabel?: (columnValue: unknown) => string;
  /** Column order (default: numbers ascending, other values in order of appearance). */
  columnOrder?: unknown[];
}

/**
 * Long → wide, like the paper's tables (method rows × proportion columns). Row order is
 * the order of first appearance; a cell without a value is null; two values for the same
 * cell are an error naming the keys.
 */
export function wideTable(table: aq.ColumnTable, options: WideTableOptions): aq.ColumnTable {
  const names = table.columnNames();
  for (const column of [...options.rows, options.columns, options.value]) {
    if (!names.includes(column)) throw new Error(`wideTable: no column "${column}" (columns: ${names.join(', ')})`);
  }
  const records = table.objects() as Array<Record<string, unknown>>;
  const label = options.columnLabel ?? ((v: unknown) => String(v));
  let order = options.columnOrder;
  if (!order) {
    const seen = [...new Set(records.map((r) => r[options.columns]))];
    order = seen.every((v) => typeof v === 'number') ? (seen as number[]).sort((a, b) => a - b) : seen;
  }
  const headers = order.map(label);
  const clash = headers.find((h) => options.rows.includes(h));
  if (clash) throw new Error(`wideTable: column label "${clash}" collides with a row key`);
  const rowIndex = new Map<string, Record<string, unknown>>();
  for (const record of records) {
    const key = JSON.stringify(options.rows.map((k) => record[k]));
    let row = rowIndex.get(key);
    if (!row) {
      row = Object.fromEntries(options.rows.map((k) => [k, record[k]]));
      for (const header of headers) row[header] = null;
      rowIndex.set(key, row);
    }
    const position = order.indexOf(record[options.columns]);
    if (position < 0) continue;
    const header = headers[position];
    if (row[header] !== null) {
      throw new Error(
        `wideTable: two values for ${options.rows.map((k) => `${k}=${String(record[k])}`).join(', ')}, ` +
          `${options.columns}=${String(record[options.columns])}`,
      );
    }
    row[header] = record[options.value] ?? null;
  }
  const rows = [...rowIndex.values()];
  const columns: Record<string, unknown[]> = {};
  for (const name of [...options.rows, ...headers]) columns[name] = rows.map((r) => r[name]);
  return aq.table(columns);
}

export interface PaperVsOursOptions {
  /** Value column in `ours` (default 'value'). */
  oursValue?: string;
  /** Value column in `paper` (default 'value'). */
  paperValue?: string;
}

/**
 * Join our values with the paper's on `keys` (a full outer join, so cells only one side
 * has are kept with null on the other) and add `diff = ours − paper` (null when either is
 * missing). Output columns: ...keys, ours, paper, diff.
 */
export function paperVsOurs(
  ours: aq.ColumnTable,
  paper: aq.ColumnTable,
  keys: string[],
  options: PaperVsOursOptions = {},
): aq.ColumnTable {
  const oursValue = options.oursValue ?? 'value';
  const paperValue = options.paperValue ?? 'value';
  for (const [name, table, value] of [
    ['ours', ours, oursValue],
    ['paper', paper, paperValue],
  ] as const) {
    for (const column of [...keys, value]) {
      if (!table.columnNames().includes(column)) {
        throw new Error(
          `paperVsOurs: the ${name} table has no column "${column}" (columns: ${table.columnNames().join(', ')})`,
        );
      }
    }
    const seen = new Set<string>();
    for (const record of table.objects() as Array<Record<string, unknown>>) {
      const key = JSON.stringify(keys.map((k) => record[k]));
      if (seen.has(key))
        throw new Error(
          `paperVsOurs: the ${name} table has two rows for ${keys.map((k) => `${k}=${String(record[k])}`).join(', ')}`,
        );
      seen.add(key);
    }
  }
  // Done by hand rather than with arquero's join_full so that key columns stay single and
  // paper-only rows keep their keys; order: ours' rows, then rows only the paper has.
  const paperRows = new Map<string, Record<string, unknown>>();
  for (const record of paper.objects() as Array<Record<string, unknown>>) {
    paperRows.set(JSON.stringify(keys.map((k) => record[k])), record);
  }
  const out: Array<Record<string, unknown>> = [];
  const asNumber = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const push = (keyed: Record<string, unknown>, oursCell: unknown, paperCell: unknown) => {
    const o = asNumber(oursCell);
    const p = asNumber(paperCell);
    out.push({
      ...Object.fromEntries(keys.map((k) => [k, keyed[k]])),
      ours: o,
      paper: p,
      diff: o !== null && p !== null ? o - p : null,
    });
  };
  for (const record of ours.objects() as Array<Record<string, unknown>>) {
    const key = JSON.stringify(keys.map((k) => record[k]));
    const match = paperRows.get(key);
    push(record, record[oursValue], match ? match[paperValue] : null);
    paperRows.delete(key);
  }
  for (const record of paperRows.values()) push(record, null, record[paperValue]);
  const columns: Record<string, unknown[]> = {};
  for (const name of [...keys, 'ours', 'paper', 'diff']) columns[name] = out.map((r) => r[name]);
  return aq.table(columns);
}
