#!/usr/bin/env node
// The tree's one formatter is Prettier (.prettierrc.json). Prettier does not break comments or template strings, so
// the line limit is checked here too, together with the code cells of the notebooks, which Prettier does not read.
// Usage: node scripts/check-format.js [--write]
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const LIMIT = require(path.join(ROOT, '.prettierrc.json')).printWidth;
const SOURCE_GLOBS = [
  'lib/**/*.ts',
  'test/**/*.ts',
  'scripts/**/*.{js,ts}',
  'bench/**/*.{js,ts}',
  'bin/**/*.js',
  'native/*.js',
];

function prettier(args) {
  const bin = require.resolve('prettier/bin/prettier.cjs');
  return spawnSync(process.execPath, [bin, ...args, ...SOURCE_GLOBS], { cwd: ROOT, encoding: 'utf8' });
}

function listFiles(dir, test, out = []) {
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'build') listFiles(rel, test, out);
    } else if (test(entry.name)) out.push(rel);
  }
  return out;
}

function longLines() {
  const found = [];
  const sources = ['lib', 'test', 'scripts', 'bench', 'bin', 'native']
    .filter((d) => fs.existsSync(path.join(ROOT, d)))
    .flatMap((d) => listFiles(d, (name) => /\.(ts|js)$/.test(name)));
  for (const file of sources) {
    fs.readFileSync(path.join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.length > LIMIT) found.push(`${file}:${i + 1}: ${line.length} characters`);
      });
  }
  for (const file of listFiles('notebooks', (name) => name.endsWith('.ipynb'))) {
    const notebook = JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
    notebook.cells.forEach((cell, c) => {
      if (cell.cell_type !== 'code') return;
      const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      source.split('\n').forEach((line, i) => {
        if (line.length > LIMIT) found.push(`${file}: cell ${c + 1}, line ${i + 1}: ${line.length} characters`);
      });
    });
  }
  return found;
}

const write = process.argv.includes('--write');
const result = prettier([write ? '--write' : '--check', '--log-level', write ? 'warn' : 'log']);
if (result.status !== 0) {
  process.stderr.write(result.stdout + result.stderr);
  process.stderr.write(`format: Prettier found unformatted files; run npm run format\n`);
  process.exit(1);
}
const long = longLines();
if (long.length > 0) {
  process.stderr.write(
    `${long.join('\n')}\nformat: ${long.length} lines over ${LIMIT} characters (comments and strings are not wrapped by Prettier; wrap them by hand)\n`,
  );
  process.exit(1);
}
console.log(
  `format: every source file is Prettier-formatted and every line (notebook code cells included) fits in ${LIMIT} characters`,
);
