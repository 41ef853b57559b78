/**
 * Image grids as Vega-Lite specs (image marks with data-URL sources), so dataset samples go through the
 * same `showFigure` path as every chart: inline in the notebook, SVG and PNG in figures/.
 *
 * @example
 *   const cells = [{ row: 'defect', column: '1', url: await pngDataUrl(pixels, 64), caption: 'OS' }];
 *   await showFigure(imageGrid(cells, { title: 'Figure 1: samples' }), { name: 'figure1_samples' });
 */
import type { FigureSpec } from './figures';

export interface ImageCell {
  row: string;
  column: string;
  /** data:image/png;base64,… (or any URL the renderer can read). */
  url: string;
  /** Text under the image. */
  caption?: string;
}

export interface ImageGridOptions {
  title: string;
  subtitle?: string;
  /** Pixel size of each image (default 72). */
  size?: number;
  rowTitle?: string;
  columnTitle?: string;
}

export function imageGrid(cells: ImageCell[], options: ImageGridOptions): FigureSpec {
  if (!cells.length) throw new Error(`imageGrid "${options.title}": no images`);
  const size = options.size ?? 72;
  const rows = [...new Set(cells.map((c) => c.row))];
  const columns = [...new Set(cells.map((c) => c.column))];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.subtitle
      ? { text: options.title, subtitle: options.subtitle, anchor: 'start' }
      : { text: options.title, anchor: 'start' },
    data: { values: cells.map((c) => ({ ...c, caption: c.caption ?? '' })) },
    width: { step: size + 16 },
    height: { step: size + 26 },
    config: {
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 12, domain: false, ticks: false },
      title: { fontSize: 15 },
    },
    encoding: {
      x: {
        field: 'column',
        type: 'ordinal',
        sort: columns,
        axis: { orient: 'top', labelAngle: 0, title: options.columnTitle ?? null },
      },
      y: { field: 'row', type: 'ordinal', sort: rows, axis: { title: options.rowTitle ?? null } },
    },
    layer: [
      {
        mark: { type: 'image', width: size, height: size, yOffset: -8 },
        encoding: { url: { field: 'url', type: 'nominal' } },
      },
      {
        mark: { type: 'text', fontSize: 9, yOffset: size / 2 + 2 },
        encoding: { text: { field: 'caption', type: 'nominal' } },
      },
    ],
  };
  return spec as unknown as FigureSpec;
}
