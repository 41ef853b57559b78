import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as aq from 'arquero';
import sharp from 'sharp';
import {
  heatmap,
  lineChart,
  scatter,
  barChart,
  compileFigure,
  renderSvg,
  showFigure,
  FigureSpec,
} from '../../lib/report/figures';

/** Cell label texts in the SVG, in document order. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

describe('report figures', () => {
  const grid = aq.table({
    metric: ['F1', 'F1', 'F1', 'F1', 'F1_Normal', 'F1_Normal', 'F1_Normal', 'F1_Normal'],
    row: ['SimCLR 1%', 'SimCLR 1%', 'Sup. 1%', 'Sup. 1%', 'SimCLR 1%', 'SimCLR 1%', 'Sup. 1%', 'Sup. 1%'],
    evalProportion: [0.01, 0.45, 0.01, 0.45, 0.01, 0.45, 0.01, 0.45],
    value: [0.05, 0.743, 0.123, 0.832, 0.823, 0.755, null, 0.868],
  });
  const epochs = aq.table({
    epoch: [0, 1, 2, 0, 1, 2],
    rankMe: [10, 20, 30, 12, 11, 9],
    backbone: ['resnet18', 'resnet18', 'resnet18', 'vit_tiny', 'vit_tiny', 'vit_tiny'],
    method: ['simclr', 'simclr', 'simclr', 'simclr', 'simclr', 'simclr'],
    f1: [0.5, 0.6, 0.7, 0.4, 0.45, 0.5],
  });

  const specs: Array<[string, FigureSpec]> = [
    [
      'heatmap',
      heatmap(grid, {
        x: 'evalProportion',
        y: 'row',
        color: 'value',
        column: 'metric',
        title: 'Heatmap title ZQX',
        xFormat: '.0%',
      }),
    ],
    [
      'lineChart',
      lineChart(epochs, {
        x: 'epoch',
        y: 'rankMe',
        color: 'backbone',
        column: 'method',
        title: 'Line title ZQX',
        points: true,
      }),
    ],
    [
      'scatter',
      scatter(epochs, { x: 'rankMe', y: 'f1', color: 'method', shape: 'backbone', title: 'Scatter title ZQX' }),
    ],
    [
      'barChart',
      barChart(epochs, { x: 'epoch', y: 'f1', color: 'backbone', title: 'Bar title ZQX', labelFormat: '.2f' }),
    ],
  ];

  for (const [name, spec] of specs) {
    it(`${name}: compiles with vega-lite 5 without warnings and renders an SVG with its title`, async () => {
      assert.equal((spec as { $schema?: string }).$schema, 'https://vega.github.io/schema/vega-lite/v5.json');
      const { warnings } = compileFigure(spec);
      assert.deepEqual(warnings, []);
      const svg = await renderSvg(spec);
      assert.ok(svg.startsWith('<svg'), svg.slice(0, 40));
      assert.ok(
        svgTexts(svg).some((t) => t.includes('title ZQX')),
        'title text missing from the SVG',
      );
    });
  }

  it('heatmap prints every valid cell value with the format, skips null cells, keeps facet order', async () => {
    const svg = await renderSvg(
      heatmap(grid, { x: 'evalProportion', y: 'row', color: 'value', column: 'metric', title: 't', format: '.3f' }),
    );
    const texts = svgTexts(svg);
    for (const label of ['0.050', '0.743', '0.123', '0.832', '0.823', '0.755', '0.868']) {
      assert.ok(texts.includes(label), `cell label ${label} missing`);
    }
    assert.ok(!texts.includes('0.000') && !texts.some((t) => t.includes('null') || t.includes('NaN')));
    assert.ok(texts.indexOf('F1') < texts.indexOf('F1_Normal'), 'facet columns should follow the data order');
    // The darkest cell of each panel gets a white label, the lightest a black one.
    assert.match(svg, /<text[^>]*fill="white"[^>]*>0\.832<\/text>/);
    assert.match(svg, /<text[^>]*fill="black"[^>]*>0\.050<\/text>/);
  });

  it('lineChart draws a log x axis when asked, and compiles', () => {
    const spec = lineChart(epochs, { x: 'epoch', y: 'rankMe', title: 'log x', xLog: true }) as unknown as {
      encoding: { x: { scale?: { type: string } } };
    };
    assert.equal(spec.encoding.x.scale?.type, 'log');
    assert.equal(
      (
        lineChart(epochs, { x: 'epoch', y: 'rankMe', title: 'linear x' }) as unknown as {
          encoding: { x: { scale?: unknown } };
        }
      ).encoding.x.scale,
      undefined,
    );
    assert.ok(compileFigure(spec as unknown as FigureSpec));
  });

  it('names a missing column in the error', () => {
    assert.throws(
      () => scatter(epochs, { x: 'rankme', y: 'f1', title: 'x' }),
      /scatter "x": the table has no column "rankme"/,
    );
  });

  it('showFigure writes the SVG and a PNG at the requested density, and displays nothing outside Jupyter', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'figures-'));
    try {
      const spec = lineChart(epochs, {
        x: 'epoch',
        y: 'rankMe',
        color: 'backbone',
        title: 'RankMe',
        width: 200,
        height: 100,
      });
      const files = await showFigure(spec, { name: 'rankme-test', dir, density: 144 });
      assert.deepEqual(files, {
        svg: path.join(dir, 'rankme-test.svg'),
        png: path.join(dir, 'rankme-test.png'),
        displayed: 'none',
      });
      const svg = fs.readFileSync(files.svg, 'utf8');
      const width = Number(/^<svg[^>]* width="(\d+)"/.exec(svg)?.[1]);
      const height = Number(/^<svg[^>]* height="(\d+)"/.exec(svg)?.[1]);
      assert.ok(width > 200 && height > 100, `svg ${width}×${height}`);
      const meta = await sharp(files.png).metadata();
      assert.equal(meta.format, 'png');
      assert.equal(meta.width, Math.round((width * 144) / 72));
      assert.equal(meta.height, Math.round((height * 144) / 72));
      await assert.rejects(showFigure(spec, { name: '../escape', dir }), /may only contain/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inside a tslab kernel sends ONE display_data with the Vega-Lite spec and the SVG', async () => {
    // Stand-ins for what tslab's kernel sets up: globalThis.__tslab__ and the exported
    // writer of tslab/dist/jupyter.js in the module cache.
    const sent: Array<{ content: { data: Record<string, unknown> }; update: boolean }> = [];
    const fakePath = path.join(os.tmpdir(), 'fake', 'node_modules', 'tslab', 'dist', 'jupyter.js');
    const globals = globalThis as { __tslab__?: unknown };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'figures-'));
    require.cache[fakePath] = {
      exports: {
        lastWriteDisplayData: (content: { data: Record<string, unknown> }, update: boolean) =>
          sent.push({ content, update }),
      },
    } as unknown as NodeJS.Module;
    globals.__tslab__ = {};
    try {
      const spec = scatter(epochs, { x: 'rankMe', y: 'f1', color: 'method', title: 'In kernel' });
      const files = await showFigure(spec, { name: 'kernel', dir });
      assert.equal(files.displayed, 'bundle');
      assert.equal(sent.length, 1);
      const data = sent[0].content.data;
      assert.deepEqual(Object.keys(data).sort(), ['application/vnd.vegalite.v5+json', 'image/svg+xml', 'text/plain']);
      assert.equal(data['application/vnd.vegalite.v5+json'], spec);
      assert.equal(data['image/svg+xml'], fs.readFileSync(files.svg, 'utf8'));
      assert.equal(sent[0].update, false);
    } finally {
      delete globals.__tslab__;
      delete require.cache[fakePath];
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
