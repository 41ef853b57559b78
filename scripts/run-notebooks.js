#!/usr/bin/env node
// Execute the notebooks in notebooks/ top to bottom under the real tslab kernel in real Jupyter
// (jupyter nbconvert --execute), in order, failing on the first cell error.
//
//   node scripts/run-notebooks.js --execute --scale smoke            # what `npm test` runs
//   node scripts/run-notebooks.js --execute --scale default --out runs/notebooks   # `npm run reproduce`
//   node scripts/run-notebooks.js --check-clean                        # committed notebooks carry no outputs
//   options: --only 03_ssl_sweep,04_imbalanced_validation   --sewer-ml /path/to/sewer-ml   --timeout 7200
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn, execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const notebooksDir = path.join(root, 'notebooks');

function parseArgs(argv) {
  const args = {
    execute: false,
    checkClean: false,
    scale: process.env.SSLAD_SCALE || 'smoke',
    out: null,
    only: null,
    timeout: null,
    sewerMl: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--execute') args.execute = true;
    else if (a === '--check-clean') args.checkClean = true;
    else if (a === '--scale') args.scale = next();
    else if (a === '--out') args.out = next();
    else if (a === '--only')
      args.only = next()
        .split(',')
        .map((s) => s.replace(/\.ipynb$/, ''));
    else if (a === '--timeout') args.timeout = Number(next());
    else if (a === '--sewer-ml') args.sewerMl = path.resolve(next());
    else if (a === '--help' || a === '-h') {
      console.log(
        fs
          .readFileSync(__filename, 'utf8')
          .split('\n')
          .slice(1, 9)
          .map((l) => l.replace(/^\/\/ ?/, ''))
          .join('\n'),
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  if (!['smoke', 'default', 'paper'].includes(args.scale))
    throw new Error(`--scale ${args.scale}: use smoke, default or paper`);
  return args;
}

function listNotebooks(only) {
  const all = fs
    .readdirSync(notebooksDir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  if (!only) return all;
  const missing = only.filter((o) => !all.includes(`${o}.ipynb`));
  if (missing.length) throw new Error(`no such notebook: ${missing.join(', ')} (have ${all.join(', ')})`);
  return all.filter((f) => only.includes(f.replace(/\.ipynb$/, '')));
}

/** A committed notebook must carry no outputs: results come from running it. */
function checkClean(files) {
  const dirty = [];
  for (const f of files) {
    const nb = JSON.parse(fs.readFileSync(path.join(notebooksDir, f), 'utf8'));
    nb.cells.forEach((cell, i) => {
      if (cell.cell_type !== 'code') return;
      if ((cell.outputs && cell.outputs.length) || cell.execution_count != null) dirty.push(`${f} cell ${i + 1}`);
    });
  }
  if (dirty.length) throw new Error(`notebooks saved with outputs (clear them before committing): ${dirty.join(', ')}`);
  console.log(`[notebooks] ${files.length} notebooks are saved without outputs`);
}

function findJupyter() {
  for (const candidate of ['/usr/bin/jupyter', 'jupyter']) {
    try {
      execFileSync(candidate, ['nbconvert', '--version'], { stdio: 'pipe' });
      return candidate;
    } catch {
      /* try the next */
    }
  }
  throw new Error(
    'jupyter nbconvert not found: ' +
      'apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel (see environment.md)',
  );
}

function checkKernel(jupyter) {
  const python = jupyter === '/usr/bin/jupyter' ? '/usr/bin/python3' : 'python3';
  let specs = '';
  try {
    specs = execFileSync(
      python,
      [
        '-c',
        'import json; from jupyter_client.kernelspec import KernelSpecManager as K; ' +
          'print(json.dumps(K().find_kernel_specs()))',
      ],
      { stdio: 'pipe' },
    ).toString();
  } catch (err) {
    throw new Error(`cannot list Jupyter kernels with ${python}: ${String(err.stderr || err.message)}`);
  }
  if (!JSON.parse(specs).tslab) {
    throw new Error(
      'the tslab kernel is not registered with Jupyter: ' +
        `run  npx tslab install --python=${python}  (see environment.md)`,
    );
  }
}

function run(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd: notebooksDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The cell error nbconvert reports, without its Python traceback. */
function cellError(output) {
  const at = output.indexOf('CellExecutionError');
  return at >= 0 ? output.slice(at).split('\n').slice(0, 40).join('\n') : output.split('\n').slice(-40).join('\n');
}

async function execute(files, args) {
  const jupyter = findJupyter();
  checkKernel(jupyter);
  require('./ensure-built').ensureBuilt();
  const outDir = path.resolve(root, args.out || path.join('runs', 'notebooks', args.scale));
  fs.mkdirSync(outDir, { recursive: true });
  // The kernel spec starts a bare `tslab`: put this project's copy first on PATH.
  const env = {
    ...process.env,
    SSLAD_SCALE: args.scale,
    PATH: `${path.join(root, 'node_modules', '.bin')}:${process.env.PATH}`,
  };
  if (args.sewerMl) env.SSLAD_SEWERML_DIR = args.sewerMl;
  const timeout = args.timeout || (args.scale === 'smoke' ? 900 : 6 * 3600);
  const failures = [];
  const started = Date.now();
  for (const [i, f] of files.entries()) {
    const t0 = Date.now();
    process.stdout.write(`[notebooks] (${i + 1}/${files.length}) ${f} at scale ${args.scale} … `);
    const { code, out } = await run(
      jupyter,
      [
        'nbconvert',
        '--to',
        'notebook',
        '--execute',
        '--ExecutePreprocessor.kernel_name=tslab',
        `--ExecutePreprocessor.timeout=${timeout}`,
        '--output-dir',
        outDir,
        f,
      ],
      env,
    );
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (code === 0) console.log(`ok (${secs} s)`);
    else {
      console.log(`FAILED (${secs} s)`);
      console.log(cellError(out));
      failures.push(f);
    }
  }
  const total = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`[notebooks] executed copies in ${path.relative(root, outDir)}/ (${total} s)`);
  const summaryDir = path.join(root, 'runs', 'test-summary');
  fs.mkdirSync(summaryDir, { recursive: true });
  fs.writeFileSync(
    path.join(summaryDir, 'notebooks.json'),
    JSON.stringify({ passed: files.length - failures.length, failed: failures.length }),
  );
  console.log(`notebooks: ${files.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length) throw new Error(`notebooks failed: ${failures.join(', ')}`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const files = listNotebooks(args.only);
  if (!args.execute && !args.checkClean) throw new Error('nothing to do: pass --execute and/or --check-clean');
  if (args.checkClean) checkClean(listNotebooks(null));
  if (args.execute) await execute(files, args);
}

main().catch((err) => {
  console.error(`[notebooks] ${err.message}`);
  process.exit(1);
});
