#!/usr/bin/env node
// The `ssl-ad` command (package.json "bin"). Runs the compiled CLI from dist/, rebuilding dist/ first
// when lib/ changed since the last build; if that build fails (another file mid-edit), falls back to
// running the TypeScript source through tsx so the CLI still works.
'use strict';
const path = require('path');

function load() {
  try {
    require('../scripts/ensure-built').ensureBuilt({ quiet: true });
    return require('../dist/lib/cli');
  } catch (err) {
    process.stderr.write(
      `[ssl-ad] using the TypeScript sources (dist/ is not usable: ${String(err.message).split('\n')[0]})\n`,
    );
    require('tsx/cjs');
    return require(path.join(__dirname, '..', 'lib', 'cli', 'index.ts'));
  }
}

load()
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
