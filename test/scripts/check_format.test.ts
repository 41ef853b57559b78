import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'check-format.js');

/** A scratch tree with the repository's Prettier config and the given files. */
function scratchTree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'check-format-'));
  fs.copyFileSync(path.join(__dirname, '..', '..', '.prettierrc.json'), path.join(root, '.prettierrc.json'));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

function checkFormat(root: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [SCRIPT, '--root', root, ...args], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

const longComment = `// ${'word '.repeat(30).trim()}\n`; // 3 + 149 = 152 characters
const notebook = (line: string) =>
  JSON.stringify({
    cells: [
      { cell_type: 'markdown', source: ['x'.repeat(200)] },
      { cell_type: 'code', source: [line] },
    ],
  });

describe('scripts/check-format', function () {
  this.timeout(120000);
  let root = '';
  before(() => {
    root = scratchTree({
      'lib/clean.ts': "export const clean = 'short';\n",
      'lib/long.ts': `export const a = 1;\n${longComment}export const b = 2;\n`,
      'test/long.test.ts': `${longComment}${longComment}`,
      'notebooks/n.ipynb': notebook(`const x = '${'y'.repeat(130)}';`),
    });
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lists every line over the limit, in sources and notebook code cells only, and fails', () => {
    const { status, output } = checkFormat(root);
    assert.equal(status, 1, output);
    assert.match(output, /^lib\/long\.ts:2: 152 characters$/m);
    assert.match(output, /^test\/long\.test\.ts:1: 152 characters$/m);
    assert.match(output, /^test\/long\.test\.ts:2: 152 characters$/m);
    assert.match(output, /^notebooks\/n\.ipynb: cell 2, line 1: 143 characters$/m);
    assert.doesNotMatch(output, /cell 1/, 'markdown cells are not code');
    assert.match(output, /format: 4 lines over 120 characters in 3 files/);
  });

  it('--counts gives the number per file, --only narrows the check to some files or folders', () => {
    const counts = checkFormat(root, '--counts');
    assert.equal(counts.status, 1);
    assert.match(counts.output, /^ {4}2 {2}test\/long\.test\.ts$/m);
    assert.match(counts.output, /^ {4}1 {2}lib\/long\.ts$/m);
    const clean = checkFormat(root, '--only', 'lib/clean.ts', 'notebooks/missing-is-not-ok.ipynb');
    assert.equal(clean.status, 2, 'a path that does not exist is a usage error');
    const onlyClean = checkFormat(root, '--only', 'lib/clean.ts');
    assert.equal(onlyClean.status, 0, onlyClean.output);
    const onlyLib = checkFormat(root, '--only', 'lib');
    assert.equal(onlyLib.status, 1);
    assert.match(onlyLib.output, /format: 1 line over 120 characters in 1 file /);
  });

  it('reports an unformatted file and the long lines together', () => {
    const messy = scratchTree({ 'lib/messy.ts': `export const  x = "double";\n${longComment}` });
    try {
      const { status, output } = checkFormat(messy);
      assert.equal(status, 1);
      assert.match(output, /Prettier found unformatted files/);
      assert.match(output, /lib\/messy\.ts:2: 152 characters/);
    } finally {
      fs.rmSync(messy, { recursive: true, force: true });
    }
  });
});
