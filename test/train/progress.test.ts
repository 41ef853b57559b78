/**
 * The progress display: plain lines outside a notebook, and inside a real tslab kernel one display updated in
 * place (tslab's update_display_data, which JupyterLab and classic Notebook apply) that renders in both HTML
 * templates; with Chromium installed, both are screenshotted and the bar's pixels checked.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { createProgress, formatDuration } from '../../lib/train/progress';

const root = path.resolve(__dirname, '..', '..');

describe('train/progress', () => {
  it('writes plain lines with images/s and ETA outside a notebook, and always the final one', () => {
    const lines: string[] = [];
    const progress = createProgress({
      label: 'simclr p05',
      total: 100,
      write: (l) => lines.push(l),
      everySeconds: 3600,
    });
    progress.update(40, 'loss 1.0'); // the first line comes at once
    progress.update(10, 'loss 0.9'); // then not before everySeconds
    progress.done('val F1 0.5'); // the last one always
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0], /^simclr p05 █{10}░{14}\s+40% 40\/100 img · [\d.]+ img\/s · ETA \S+ · loss 1.0$/);
    assert.match(lines[1], /^simclr p05 █{12}░{12}\s+50% 50\/100 img · [\d.]+ img\/s · ETA \S+ · val F1 0.5 in \d+s$/);
  });

  it('formats durations', () => {
    assert.deepEqual(
      [formatDuration(59.4), formatDuration(61), formatDuration(3725), formatDuration(NaN)],
      ['59s', '1m01s', '1h02m', '?'],
    );
  });
});

function jupyter(): string | null {
  for (const candidate of ['/usr/bin/jupyter', 'jupyter'])
    if (spawnSync(candidate, ['nbconvert', '--version']).status === 0) return candidate;
  return null;
}

function chromium(): string | null {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser'])
    if (fs.existsSync(candidate)) return candidate;
  return null;
}

describe('train/progress in a tslab notebook', function () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-progress-'));
  const notebook = path.join(dir, 'progress.ipynb');
  let executed: {
    cells: Array<{
      outputs: Array<{ output_type: string; data?: Record<string, string | string[]>; text?: string | string[] }>;
    }>;
  } | null = null;
  /** nbformat stores multi-line strings as lists of lines. */
  const joined = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join('') : (value ?? ''));
  let finalLine = '';
  const env = {
    ...process.env,
    PATH: `${path.join(root, 'node_modules', '.bin')}:${process.env.PATH}`,
    SSLAD_QUIET: '',
  };

  before(function () {
    const jup = jupyter();
    if (!jup) {
      console.log(
        '      skipped: jupyter nbconvert not found (apt-get install -y ' +
          'jupyter-nbconvert python3-nbclient python3-ipykernel)',
      );
      this.skip();
    }
    require('../../scripts/ensure-built').ensureBuilt({ quiet: true });
    const source = [
      `const { runExperiment } = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'train', 'run'))});`,
      `const { makeRunConfig } = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'methods', 'config'))});`,
      `const config = makeRunConfig({ method: 'supervised', backbone: 'vit_tiny', trainProportion: 0.15,` +
        ` evalProportions: [0.45], epochs: 2, batchSize: 8, monitorSamples: 16 }, 'smoke');`,
      `const status = await runExperiment(config, { resultsDir: ${JSON.stringify(path.join(dir, 'results'))} });`,
      'status.state',
    ];
    fs.writeFileSync(
      notebook,
      JSON.stringify({
        cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: source.join('\n') }],
        metadata: { kernelspec: { display_name: 'TypeScript', language: 'typescript', name: 'tslab' } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    );
    const run = spawnSync(
      jup!,
      [
        'nbconvert',
        '--to',
        'notebook',
        '--execute',
        '--ExecutePreprocessor.kernel_name=tslab',
        '--ExecutePreprocessor.timeout=600',
        '--output',
        'executed.ipynb',
        notebook,
      ],
      { cwd: dir, env, encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    executed = JSON.parse(fs.readFileSync(path.join(dir, 'executed.ipynb'), 'utf8'));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows one display, updated in place to the final state, and no progress lines on stderr', () => {
    const outputs = executed!.cells[0].outputs;
    const displays = outputs.filter(
      (o) => o.output_type === 'display_data' && /img\/s/.test(joined(o.data?.['text/plain'])),
    );
    assert.equal(displays.length, 1, JSON.stringify(outputs, null, 1).slice(0, 2000));
    finalLine = joined(displays[0].data!['text/plain']);
    assert.match(
      finalLine,
      /^supervised\/vit_tiny p=0.15 █{24} 100% (\d+)\/\1 img · [\d.]+ img\/s · ETA 0s · val F1 [\d.]+ in \d+s$/,
    );
    const streamed = outputs.filter((o) => o.output_type === 'stream' && /img\/s/.test(joined(o.text)));
    assert.equal(streamed.length, 0, 'progress also went to stderr');
    // tslab prints the cell's value (the run's state) as the last output.
    const last = outputs[outputs.length - 1];
    assert.equal(
      joined(last.output_type === 'stream' ? last.text : last.data?.['text/plain'])
        .trim()
        .replace(/'/g, ''),
      'done',
    );
  });

  for (const template of ['lab', 'classic']) {
    const shot = chromium() ? ', screenshotted with headless Chromium' : '';
    it(`renders in nbconvert's ${template} HTML${shot}`, async function () {
      const html = path.join(dir, `progress-${template}.html`);
      const convert = spawnSync(
        jupyter()!,
        [
          'nbconvert',
          '--to',
          'html',
          '--template',
          template,
          '--output',
          path.basename(html),
          path.join(dir, 'executed.ipynb'),
        ],
        { cwd: dir, env, encoding: 'utf8' },
      );
      assert.equal(convert.status, 0, convert.stderr);
      const page = fs.readFileSync(html, 'utf8');
      assert.ok(
        page.includes(finalLine.replace(/&/g, '&amp;').replace(/</g, '&lt;')),
        'the final progress line is in the page',
      );
      const browser = chromium();
      if (!browser) {
        console.log('      (no screenshot: apt-get install -y chromium)');
        return;
      }
      const png = path.join(dir, `progress-${template}.png`);
      const shot = spawnSync(
        browser,
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--hide-scrollbars',
          `--screenshot=${png}`,
          '--window-size=1400,900',
          `file://${html}`,
        ],
        { encoding: 'utf8', timeout: 120000 },
      );
      assert.ok(fs.existsSync(png), `chromium wrote no screenshot: ${shot.stderr}`);
      // The bar is 24 full blocks in a row: some row of the page must hold a long run of dark pixels.
      const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
      let longest = 0;
      for (let y = 0; y < info.height; y++) {
        let run = 0;
        for (let x = 0; x < info.width; x++) {
          run = data[y * info.width + x] < 100 ? run + 1 : 0;
          longest = Math.max(longest, run);
        }
      }
      assert.ok(longest >= 100, `no bar-like run of dark pixels in the ${template} screenshot (longest ${longest} px)`);
      const keep = path.join(root, 'runs', 'test-summary');
      fs.mkdirSync(keep, { recursive: true });
      fs.copyFileSync(png, path.join(keep, path.basename(png)));
    });
  }
});
