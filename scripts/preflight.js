#!/usr/bin/env node
// First step of `npm test` and `npm run reproduce`: name every missing piece and the command that installs it,
// before minutes of type-checking and unit tests end in a notebook that cannot start.
'use strict';
const { missingPieces } = require('./setup-check');

const missing = missingPieces();
if (missing.length) {
  console.error(`[preflight] ${missing.length === 1 ? 'one piece is' : `${missing.length} pieces are`} missing:`);
  for (const { what, install } of missing) console.error(`  - ${what}\n      install: ${install}`);
  console.error('[preflight] see environment.md (Set-up).');
  process.exit(1);
}
console.log('[preflight] Jupyter, the tslab kernel and Fashion-MNIST are in place.');
