/**
 * Figures as Vega-Lite v5 specs built from arquero tables, rendered to SVG by vega in
 * Node, rasterised to PNG by sharp, and shown inline in tslab as one MIME bundle
 * (Vega-Lite for JupyterLab, SVG for everything else; see display.ts).
 *
 * @example
 *   import * as aq from 'arquero';
 *   import { heatmap, showFigure } from '../lib/report/figures';
 *   const cells = aq.from(rows); // {method, trainProportion, evalProportion, metric, value}
 *   const spec = heatmap(cells.derive({ row: (d) => d.method + ' ' + d.trainProportion * 100 + '%' }), {
 *     x: 'evalProportion', y: 'row', color: 'value', column: 'metric',
 *     title: 'ResNet-18 validation performance', xTitle: 'validation defect proportion', xFormat: '.0%',
 *   });
 *   await showFigure(spec, { name: 'figure2' }); // figures/figure2.svg + .png, inline in the notebook
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as aq from 'arquero';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import sharp from 'sharp';
import { projectPaths } from '../runs/paths';
import type { ScaleName } from '../runs/scale';
import { displayBundle, DisplayOutcome } from './display';

/**
 * Where figures go: `figures/` (or SSLAD_FIGURES_DIR), and `figures/smoke` at the smoke scale so tests never
 * overwrite the committed figures.
 */
export function figuresDir(scale: ScaleName): string {
  const base = projectPaths().figures;
  return scale === 'smoke' ? path.join(base, 'smoke') : base;
}

export type FigureSpec = TopLevelSpec;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

type SortSetting = 'ascending' | 'descending' | null | Array<string | number>;
type Json = Record<string, unknown>;

interface CommonOptions {
  title: string;
  /** Optional subtitle under the title. */
  subtitle?: string;
  /** Size of one panel in pixels. */
  width?: number;
  height?: number;
  /** Field that splits the figure into side-by-side panels. */
  column?: string;
  columnTitle?: string | null;
  /** Field that splits the figure into stacked panels. */
  row?: string;
  rowTitle?: string | null;
}

function rowsOf(table: aq.ColumnTable): Json[] {
  return table.objects() as Json[];
}

function requireFields(table: aq.ColumnTable, fields: Array<string | undefined>, figure: string): void {
  const names = table.columnNames();
  for (const field of fields) {
    if (field !== undefined && !names.includes(field)) {
      throw new Error(`${figure}: the table has no column "${field}" (columns: ${names.join(', ')})`);
    }
  }
}

/**
 * Numbers sort numerically; anything else keeps the order of first appearance in the
 * table. The order is spelled out as an array because Vega-Lite facets ignore `sort: null`.
 */
function defaultSort(table: aq.ColumnTable, field: string): SortSetting {
  const values = Array.from(table.array(field) as ArrayLike<unknown>);
  if (values.every((v) => typeof v === 'number' || v === null || v === undefined)) return 'ascending';
  return [...new Set(values.filter((v): v is string | number => typeof v === 'string' || typeof v === 'number'))];
}

function titleBlock(options: CommonOptions): Json {
  return options.subtitle
    ? { text: options.title, subtitle: options.subtitle, anchor: 'start' }
    : { text: options.title, anchor: 'start' };
}

/**
 * Wrap a unit or layer spec into a top-level spec, faceted when `column` or `row` is set.
 * `independent` lists scales (e.g. 'color', 'y') that each panel should fit on its own.
 */
function assemble(table: aq.ColumnTable, options: CommonOptions, inner: Json, independent: string[] = []): FigureSpec {
  const top: Json = {
    $schema: SCHEMA,
    title: titleBlock(options),
    data: { values: rowsOf(table) },
    config: { view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 15 } },
  };
  const sized = { width: options.width ?? 240, height: options.height ?? 180, ...inner };
  if (!options.column && !options.row) return { ...top, ...sized } as unknown as FigureSpec;
  const facet: Json = {};
  if (options.column) {
    facet.column = {
      field: options.column,
      type: 'nominal',
      sort: defaultSort(table, options.column),
      title: options.columnTitle ?? null,
      header: { labelFontSize: 13 },
    };
  }
  if (options.row) {
    facet.row = {
      field: options.row,
      type: 'nominal',
      sort: defaultSort(table, options.row),
      title: options.rowTitle ?? null,
      header: { labelFontSize: 13 },
    };
  }
  const resolve = independent.length
    ? { resolve: { scale: Object.fromEntries(independent.map((s) => [s, 'independent'])) } }
    : {};
  return { ...top, facet, spec: sized, ...resolve } as unknown as FigureSpec;
}

export interface HeatmapOptions extends CommonOptions {
  x: string;
  y: string;
  /** Quantitative field shown as colour and as the cell label. */
  color: string;
  /** d3-format of the cell labels and legend, e.g. '.3f' or '.1%'. */
  format?: string;
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  /** d3-format of numeric x / y axis labels, e.g. '.0%' for proportions. */
  xFormat?: string;
  yFormat?: string;
  xSort?: SortSetting;
  ySort?: SortSetting;
  /** Vega colour scheme; 'blues' goes light → dark. */
  scheme?: string;
  /** Where the scheme is dark, so that labels there are drawn white. */
  darkAt?: 'high' | 'low';
  /** Fixed colour domain; by default each panel spans its own min..max. */
  colorDomain?: [number, number];
  /** Pixel size of one cell (overrides width/height). */
  cellSize?: number;
}

/**
 * A heatmap with the value printed in every cell (paper Figures 2–5 and 3). With `column`,
 * one panel per value (e.g. per metric), each with its own colour scale.
 */
export function heatmap(table: aq.ColumnTable, options: HeatmapOptions): FigureSpec {
  requireFields(
    table,
    [options.x, options.y, options.color, options.column, options.row],
    `heatmap "${options.title}"`,
  );
  const format = options.format ?? '.3f';
  const cell = options.cellSize ?? 38;
  const groupby = [options.column, options.row].filter((f): f is string => f !== undefined);
  const c = JSON.stringify(options.color);
  // Label colour follows the cell's position within its panel's colour range.
  const [lo, hi] = options.colorDomain ?? [null, null];
  const relative =
    lo !== null && hi !== null
      ? `(datum[${c}] - ${lo}) / (${hi - lo} || 1)`
      : `(datum[${c}] - datum.__min) / ((datum.__max - datum.__min) || 1)`;
  const darkTest = (options.darkAt ?? 'high') === 'high' ? 'datum.__relative > 0.55' : 'datum.__relative < 0.45';
  const axisX: Json = {
    title: options.xTitle ?? options.x,
    labelAngle: 0,
    ...(options.xFormat ? { format: options.xFormat } : {}),
  };
  const axisY: Json = { title: options.yTitle ?? options.y, ...(options.yFormat ? { format: options.yFormat } : {}) };
  const inner: Json = {
    width: { step: cell },
    height: { step: Math.round(cell * 0.6) },
    transform: [
      { filter: `isValid(datum[${c}]) && isFinite(datum[${c}])` },
      {
        joinaggregate: [
          { op: 'min', field: options.color, as: '__min' },
          { op: 'max', field: options.color, as: '__max' },
        ],
        groupby,
      },
      { calculate: relative, as: '__relative' },
    ],
    encoding: {
      x: {
        field: options.x,
        type: 'ordinal',
        sort: options.xSort !== undefined ? options.xSort : defaultSort(table, options.x),
        axis: axisX,
      },
      y: {
        field: options.y,
        type: 'ordinal',
        sort: options.ySort !== undefined ? options.ySort : defaultSort(table, options.y),
        axis: axisY,
      },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: options.color,
            type: 'quantitative',
            title: options.colorTitle ?? options.color,
            scale: {
              scheme: options.scheme ?? 'blues',
              ...(options.colorDomain ? { domain: options.colorDomain } : {}),
            },
            legend: { format },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 10 },
        encoding: {
          text: { field: options.color, type: 'quantitative', format },
          color: { condition: { test: darkTest, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
  const spec = assemble(table, options, inner, ['color']) as unknown as Json;
  // Step sizes define the panel size; drop the default width/height assemble put in.
  const target = (spec.spec ?? spec) as Json;
  target.width = { step: cell };
  target.height = { step: Math.round(cell * 0.6) };
  return spec as unknown as FigureSpec;
}

export interface LineChartOptions extends CommonOptions {
  x: string;
  y: string;
  /** Field coloured by (e.g. method or backbone). */
  color?: string;
  /** Field drawn as dash patterns (e.g. train proportion). */
  strokeDash?: string;
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  strokeDashTitle?: string;
  /** Draw a point at each observation. */
  points?: boolean;
  /** Start the y axis at zero (default false: fit the data). */
  yZero?: boolean;
  /** Let each panel fit its own y range. */
  independentY?: boolean;
  /** Logarithmic x axis (e.g. a number of labels 1, 5, 10, 50). */
  xLog?: boolean;
}

/** Per-epoch monitoring curves (paper Figures 6–8). */
export function lineChart(table: aq.ColumnTable, options: LineChartOptions): FigureSpec {
  requireFields(
    table,
    [options.x, options.y, options.color, options.strokeDash, options.column, options.row],
    `lineChart "${options.title}"`,
  );
  const encoding: Json = {
    x: {
      field: options.x,
      type: 'quantitative',
      title: options.xTitle ?? options.x,
      ...(options.xLog ? { scale: { type: 'log' } } : {}),
    },
    y: {
      field: options.y,
      type: 'quantitative',
      title: options.yTitle ?? options.y,
      scale: { zero: options.yZero ?? false },
    },
  };
  if (options.color)
    encoding.color = {
      field: options.color,
      type: 'nominal',
      title: options.colorTitle ?? options.color,
      sort: defaultSort(table, options.color),
    };
  if (options.strokeDash)
    encoding.strokeDash = {
      field: options.strokeDash,
      type: 'nominal',
      title: options.strokeDashTitle ?? options.strokeDash,
      sort: defaultSort(table, options.strokeDash),
    };
  const inner: Json = { mark: { type: 'line', point: options.points ?? false, strokeWidth: 1.8 }, encoding };
  return assemble(table, options, inner, options.independentY ? ['y'] : []);
}

export interface ScatterOptions extends CommonOptions {
  x: string;
  y: string;
  color?: string;
  shape?: string;
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  shapeTitle?: string;
  /** Extra fields listed in the tooltip (JupyterLab). */
  tooltip?: string[];
  xZero?: boolean;
  yZero?: boolean;
}

/** RankMe against F1 and the like (paper Figures 9–10): colour by method, shape by backbone. */
export function scatter(table: aq.ColumnTable, options: ScatterOptions): FigureSpec {
  requireFields(
    table,
    [options.x, options.y, options.color, options.shape, options.column, options.row, ...(options.tooltip ?? [])],
    `scatter "${options.title}"`,
  );
  const encoding: Json = {
    x: {
      field: options.x,
      type: 'quantitative',
      title: options.xTitle ?? options.x,
      scale: { zero: options.xZero ?? false },
    },
    y: {
      field: options.y,
      type: 'quantitative',
      title: options.yTitle ?? options.y,
      scale: { zero: options.yZero ?? false },
    },
  };
  if (options.color)
    encoding.color = {
      field: options.color,
      type: 'nominal',
      title: options.colorTitle ?? options.color,
      sort: defaultSort(table, options.color),
    };
  if (options.shape)
    encoding.shape = {
      field: options.shape,
      type: 'nominal',
      title: options.shapeTitle ?? options.shape,
      sort: defaultSort(table, options.shape),
    };
  const tooltipFields = [options.x, options.y, options.color, options.shape, ...(options.tooltip ?? [])].filter(
    (f): f is string => f !== undefined,
  );
  encoding.tooltip = [...new Set(tooltipFields)].map((field) => ({ field }));
  const inner: Json = { mark: { type: 'point', filled: true, size: 60, opacity: 0.85 }, encoding };
  return assemble(table, options, inner);
}

export interface BarChartOptions extends CommonOptions {
  /** Category on the x axis. */
  x: string;
  /** Quantity (bar height). */
  y: string;
  /** Colour field; bars of different colour sit side by side within a category. */
  color?: string;
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  xSort?: SortSetting;
  /** d3-format for the value printed above each bar; omit for no labels. */
  labelFormat?: string;
}

/** Grouped bars (e.g. Table 2's F1 per resolution and backbone, Table 5's counts). */
export function barChart(table: aq.ColumnTable, options: BarChartOptions): FigureSpec {
  requireFields(
    table,
    [options.x, options.y, options.color, options.column, options.row],
    `barChart "${options.title}"`,
  );
  const encoding: Json = {
    x: {
      field: options.x,
      type: 'nominal',
      title: options.xTitle ?? options.x,
      sort: options.xSort !== undefined ? options.xSort : defaultSort(table, options.x),
      axis: { labelAngle: 0 },
    },
    y: { field: options.y, type: 'quantitative', title: options.yTitle ?? options.y },
  };
  if (options.color) {
    encoding.color = {
      field: options.color,
      type: 'nominal',
      title: options.colorTitle ?? options.color,
      sort: defaultSort(table, options.color),
    };
    encoding.xOffset = { field: options.color, sort: defaultSort(table, options.color) };
  }
  const layers: Json[] = [{ mark: { type: 'bar' } }];
  if (options.labelFormat) {
    layers.push({
      mark: { type: 'text', dy: -6, fontSize: 8 },
      encoding: { text: { field: options.y, type: 'quantitative', format: options.labelFormat } },
    });
  }
  return assemble(table, options, { encoding, layer: layers });
}

export interface CompiledFigure {
  vega: vega.Spec;
  /** Vega-Lite's warnings (an empty list for a clean spec). */
  warnings: string[];
}

/** Compile with vega-lite 5, collecting its warnings instead of printing them. */
export function compileFigure(spec: FigureSpec): CompiledFigure {
  const warnings: string[] = [];
  let level = 0;
  const logger = {
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    error(...args: unknown[]) {
      throw new Error(`vega-lite: ${args.map(String).join(' ')}`);
    },
    warn(...args: unknown[]) {
      warnings.push(args.map(String).join(' '));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  const compiled = vl.compile(spec, { logger: logger as unknown as vega.LoggerInterface });
  return { vega: compiled.spec as vega.Spec, warnings };
}

/** Render a Vega-Lite spec to an SVG string with vega in Node (no browser, no fonts needed). */
export async function renderSvg(spec: FigureSpec): Promise<string> {
  const { vega: compiled } = compileFigure(spec);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface ShowFigureOptions {
  /** File stem: letters, digits, '.', '_' and '-' only. */
  name: string;
  /** Output folder, created if missing. */
  dir?: string;
  /** PNG resolution in dpi relative to the SVG's 72 (144 = twice the SVG's pixel size). */
  density?: number;
  /** Display inline when in tslab (default true). */
  display?: boolean;
}

export interface FigureFiles {
  svg: string;
  png: string;
  /** How it was shown: one bundle (Vega-Lite + SVG), SVG only, or not at all (outside Jupyter). */
  displayed: DisplayOutcome;
}

/**
 * Write `<dir>/<name>.svg` and `<dir>/<name>.png`, and display the figure inline when
 * running in tslab. Returns the file paths.
 */
export async function showFigure(spec: FigureSpec, options: ShowFigureOptions): Promise<FigureFiles> {
  if (!/^[A-Za-z0-9._-]+$/.test(options.name)) {
    throw new Error(`showFigure: figure name "${options.name}" may only contain letters, digits, '.', '_' and '-'`);
  }
  const dir = options.dir ?? 'figures';
  const density = options.density ?? 144;
  const svg = await renderSvg(spec);
  fs.mkdirSync(dir, { recursive: true });
  const svgPath = path.join(dir, `${options.name}.svg`);
  const pngPath = path.join(dir, `${options.name}.png`);
  fs.writeFileSync(svgPath, svg);
  await sharp(Buffer.from(svg), { density }).png().toFile(pngPath);
  let displayed: DisplayOutcome = 'none';
  if (options.display ?? true) {
    const title = (spec as { title?: unknown }).title;
    const titleText = typeof title === 'string' ? title : (title as { text?: unknown } | undefined)?.text;
    displayed = displayBundle({
      'application/vnd.vegalite.v5+json': spec,
      'image/svg+xml': svg,
      'text/plain': `<figure ${options.name}: ${String(titleText ?? '')}>`,
    });
  }
  return { svg: svgPath, png: pngPath, displayed };
}
