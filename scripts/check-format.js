#!/usr/bin/env node
// The tree's one formatter is Prettier (.prettierrc.json). Prettier does not break comments or template strings, so
// the line limit is checked here too, together with the code cells of the notebooks, which Prettier does not read.
// Usage: node scripts/check-format.js [--write] [--counts] [--only <file or folder>...] [--root <dir>]
//   --write   let Prettier rewrite the files (long lines are still reported: they need wrapping by hand)
//   --counts  print the number of long lines per file instead of every line
//   --only    check only these files and folders (e.g. --only lib/data test/data)
//   --root    the tree to check (default: this repository; test/scripts/check_format.test.ts uses a scratch tree)
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const rootArg = process.argv.indexOf('--root');
const ROOT = rootArg > 0 ? path.resolve(process.argv[rootArg + 1] ?? '') : path.join(__dirname, '..');
const LIMIT = require(path.join(ROOT, '.prettierrc.json')).printWidth;
// Folders whose .ts/.js files Prettier formats; `native` only at its top level (native/build is compiled output).
const SOURCE_DIRS = ['lib', 'test', 'scripts', 'bench', 'bin'];
const NOTEBOOK_DIR = 'notebooks';

function parseArgs(argv) {
  const options = { write: false, counts: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--write') options.write = true;
    else if (arg === '--counts') options.counts = true;
    else if (arg === '--root') i++;
    else if (arg === '--only') {
      options.only = [];
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) options.only.push(argv[++i]);
      if (options.only.length === 0) usage('--only needs at least one file or folder');
      const missing = options.only.filter((p) => !fs.existsSync(path.join(ROOT, p)));
      if (missing.length > 0) usage(`--only: no such file or folder: ${missing.join(', ')}`);
    } else usage(`unknown argument ${arg}`);
  }
  return options;
}

function usage(problem) {
  process.stderr.write(
    `check-format: ${problem}\n` +
      'usage: node scripts/check-format.js [--write] [--counts] [--only <paths...>] [--root <dir>]\n',
  );
  process.exit(2);
}

function listFiles(dir, test, out = [], recurse = true) {
  if (!fs.existsSync(path.join(ROOT, dir))) return out;
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (recurse && entry.name !== 'node_modules' && entry.name !== 'build') listFiles(rel, test, out);
    } else if (test(entry.name)) out.push(rel);
  }
  return out;
}

/** Whether `file` is one of `only` or lies in one of its folders (null: every file). */
function selected(file, only) {
  if (only === null) return true;
  return only.some((p) => {
    const prefix = path.normalize(p).replace(/\/+$/, '');
    return file === prefix || file.startsWith(prefix + path.sep);
  });
}

function sourceFiles(only) {
  const isSource = (name) => /\.(ts|js)$/.test(name);
  const files = SOURCE_DIRS.flatMap((d) => listFiles(d, isSource));
  files.push(...listFiles('native', isSource, [], false));
  return files.filter((f) => selected(f, only));
}

function notebookFiles(only) {
  return listFiles(NOTEBOOK_DIR, (name) => name.endsWith('.ipynb')).filter((f) => selected(f, only));
}

function prettier(args, files) {
  const bin = require.resolve('prettier/bin/prettier.cjs');
  return spawnSync(process.execPath, [bin, ...args, ...files], { cwd: ROOT, encoding: 'utf8' });
}

/** Every line over the limit, as { file, where, length }. */
function longLines(sources, notebooks) {
  const found = [];
  for (const file of sources) {
    fs.readFileSync(path.join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.length > LIMIT) found.push({ file, where: `${i + 1}`, length: line.length });
      });
  }
  for (const file of notebooks) {
    const notebook = JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
    notebook.cells.forEach((cell, c) => {
      if (cell.cell_type !== 'code') return;
      const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      source.split('\n').forEach((line, i) => {
        if (line.length > LIMIT) found.push({ file, where: ` cell ${c + 1}, line ${i + 1}`, length: line.length });
      });
    });
  }
  return found;
}

function perFileCounts(long) {
  const counts = new Map();
  for (const { file } of long) counts.set(file, (counts.get(file) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

const options = parseArgs(process.argv.slice(2));
const sources = sourceFiles(options.only);
const notebooks = notebookFiles(options.only);
if (sources.length > 0) {
  const result = prettier(
    [options.write ? '--write' : '--check', '--log-level', options.write ? 'warn' : 'log'],
    sources,
  );
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    process.stderr.write(`format: Prettier found unformatted files; run npm run format\n`);
    process.exitCode = 1;
  }
}
const long = longLines(sources, notebooks);
if (long.length > 0) {
  const fileCount = perFileCounts(long).length;
  const lines = options.counts
    ? perFileCounts(long).map(([file, n]) => `${String(n).padStart(5)}  ${file}`)
    : long.map(({ file, where, length }) => `${file}:${where}: ${length} characters`);
  process.stderr.write(
    `${lines.join('\n')}\n` +
      `format: ${long.length} line${long.length === 1 ? '' : 's'} over ${LIMIT} characters ` +
      `in ${fileCount} file${fileCount === 1 ? '' : 's'} ` +
      '(comments and strings are not wrapped by Prettier; wrap them by hand)\n',
  );
  process.exit(1);
}
if (process.exitCode) process.exit();
const scope = options.only ? `the ${sources.length + notebooks.length} files checked` : 'every source file';
console.log(
  `format: ${scope} ${options.only ? 'are' : 'is'} Prettier-formatted and every line ` +
    `(notebook code cells included) fits in ${LIMIT} characters`,
);
