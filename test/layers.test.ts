import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { importViolations, LAYERS, LAZY_LOADS, layerOf } from '../lib/util/layers';
import { edgesOf, libEdges } from './imports';

const ROOT = path.resolve(__dirname, '..');

describe('layers: lib/ imports only point down', () => {
  it('every folder of lib/ has a place in the layer order', () => {
    const folders = fs
      .readdirSync(path.join(ROOT, 'lib'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    assert.deepEqual(
      folders.filter((f) => !(LAYERS as readonly string[]).includes(f)),
      [],
    );
    assert.ok(folders.length >= 10, `read ${folders.length} folders of lib/`);
  });

  it('no file imports from a layer above its own, and every lazy load of a lib module is a listed one', () => {
    const edges = libEdges();
    // The reader must have seen the imports it checks: hundreds of edges, the store's among them.
    assert.ok(edges.length > 300, `found only ${edges.length} import edges`);
    assert.ok(edges.some((e) => e.file === 'lib/train/run.ts' && e.specifier === '../runs/store'));
    const violations = importViolations(edges);
    assert.deepEqual(
      violations.map((v) => v.message),
      [],
    );
  });

  it('every listed lazy load exists and points down', () => {
    const lazy = libEdges().filter((e) => e.lazy);
    for (const allowed of LAZY_LOADS) {
      const edge = lazy.find(
        (e) => e.file === allowed.file && path.posix.join(path.posix.dirname(e.file), e.specifier) === allowed.target,
      );
      assert.ok(edge, `LAZY_LOADS lists ${allowed.file} → ${allowed.target}, which no longer exists: remove it`);
      const from = LAYERS.indexOf(layerOf(allowed.file) as (typeof LAYERS)[number]);
      const to = LAYERS.indexOf(layerOf(allowed.target) as (typeof LAYERS)[number]);
      assert.ok(to >= from, `${allowed.file} → ${allowed.target} points up`);
    }
  });

  it('fails on a synthetic upward import, naming the file and the import', () => {
    const source = [
      "import type { RunConfig } from '../runs/config';",
      "import { trainWith } from '../train/run';",
      "// import { main } from '../cli'; (a comment is no import)",
      'export const x = 1;',
    ].join('\n');
    const violations = importViolations(edgesOf('lib/methods/fake.ts', source));
    assert.equal(violations.length, 1);
    assert.equal(violations[0].kind, 'upward');
    assert.equal(violations[0].file, 'lib/methods/fake.ts');
    assert.equal(violations[0].target, 'lib/train/run');
    assert.match(violations[0].message, /lib\/methods\/fake\.ts imports '\.\.\/train\/run'/);
  });

  it('fails on a type-only upward import and on a re-export from above', () => {
    const source = [
      "export { runSweep } from '../experiments/sweep';",
      "type Report = typeof import('../../lib/report/study');",
    ].join('\n');
    const violations = importViolations(edgesOf('lib/runs/fake.ts', source));
    assert.deepEqual(
      violations.map((v) => [v.kind, v.target]),
      [
        ['upward', 'lib/experiments/sweep'],
        ['upward', 'lib/report/study'],
      ],
    );
  });

  it('flags a lazy require of a lib module, even a downward one, and not of an npm package', () => {
    const source = [
      'export function later() {',
      "  const { openRun } = require('../runs/store') as typeof import('../runs/store');",
      "  const tslab = require('tslab');",
      '  return [openRun, tslab];',
      '}',
    ].join('\n');
    const violations = importViolations(edgesOf('lib/train/fake.ts', source));
    assert.deepEqual(
      violations.map((v) => [v.kind, v.target]),
      [['lazy', 'lib/runs/store']],
    );
  });

  it('a folder missing from the order is an error, not a pass', () => {
    const violations = importViolations([{ file: 'lib/newthing/a.ts', specifier: '../util/options', lazy: false }]);
    assert.equal(violations[0].kind, 'unknown-layer');
  });
});
