#!/usr/bin/env node
/**
 * Builds the native kernels (native/sslad_native.cc → native/build/sslad_native.node) against Debian's
 * oneDNN. Run by the root package's `install` script (`npm install` / `npm ci`) and by `npm run build:native`.
 *
 * It never fails the install: when the compiler, Node's headers or oneDNN's headers are missing, or the
 * compile fails, it prints one line saying what is missing and how to get it, and exits 0; the project then
 * runs on the wasm kernels. `SSLAD_NATIVE=0` skips the build.
 *
 *   node native/build.js            # build (a few seconds)
 *   node native/build.js --strict   # exit 1 when the addon cannot be built (CI checks, tests)
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = __dirname;
const SOURCE = path.join(ROOT, 'sslad_native.cc');
const OUT_DIR = path.join(ROOT, 'build');
const OUT = path.join(OUT_DIR, 'sslad_native.node');
const CXX = process.env.CXX || 'c++';
const strict = process.argv.includes('--strict');

function say(line) {
  console.log(`[native] ${line}`);
}

function giveUp(line) {
  say(`${line}; the project runs on the wasm kernels`);
  process.exit(strict ? 1 : 0);
}

/** Directory holding node_api.h: Node's own install first, then Debian's nodejs headers. */
function nodeHeaders() {
  const candidates = [
    path.join(path.dirname(process.execPath), '..', 'include', 'node'),
    process.env.npm_config_nodedir ? path.join(process.env.npm_config_nodedir, 'include', 'node') : null,
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h'))) ?? null;
}

/** Whether the compiler finds a header on its own include path. */
function compilerFinds(header) {
  const probe = spawnSync(CXX, ['-x', 'c++', '-std=c++17', '-fsyntax-only', '-'], {
    input: `#include <${header}>\n`,
    encoding: 'utf8',
  });
  return probe.status === 0;
}

function main() {
  if (process.env.SSLAD_NATIVE === '0') {
    say('build skipped (SSLAD_NATIVE=0)');
    return;
  }
  const started = Date.now();
  const version = spawnSync(CXX, ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) giveUp(`no C++ compiler (${CXX}) found — apt-get install -y g++`);
  const nodeInclude = nodeHeaders();
  if (!nodeInclude)
    giveUp(
      'Node.js headers (node_api.h) not found — apt-get install -y libnode-dev, ' +
        'or use a Node.js install that ships include/node',
    );
  if (!compilerFinds('oneapi/dnnl/dnnl.hpp'))
    giveUp('oneDNN headers (dnnl.hpp) not found — apt-get install -y libdnnl-dev');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const partial = `${OUT}.partial`;
  const args = [
    '-O3',
    '-std=c++17',
    '-fPIC',
    '-shared',
    '-fopenmp',
    '-Wall',
    '-DNODE_GYP_MODULE_NAME=sslad_native',
    `-I${nodeInclude}`,
    SOURCE,
    '-o',
    partial,
    '-ldnnl',
  ];
  const compile = spawnSync(CXX, args, { encoding: 'utf8' });
  if (compile.status !== 0) {
    fs.rmSync(partial, { force: true });
    const firstError =
      (compile.stderr || String(compile.error)).split('\n').find((l) => /error/i.test(l)) ?? 'unknown error';
    giveUp(
      `compiling native/sslad_native.cc failed (${firstError.trim()}) — ` +
        'check that libdnnl-dev (oneDNN 2.x) is installed',
    );
  }
  fs.renameSync(partial, OUT);
  // Load it once here, so that a library missing at run time shows now rather than as a silent fallback.
  try {
    const info = require(OUT).info();
    say(
      `built native/build/sslad_native.node: ${info.engine} ${info.version} (${info.runtime}), ` +
        `CPU ISA ${info.isa}, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    fs.rmSync(OUT, { force: true });
    giveUp(`native/build/sslad_native.node was built but does not load (${String(err.message).split('\n')[0]})`);
  }
}

main();
