#!/usr/bin/env node
// Add up the unit and notebook test summaries of the last `npm test` into one closing line.
'use strict';
const fs = require('fs');
const path = require('path');

const dir = path.resolve(__dirname, '..', 'runs', 'test-summary');
let passed = 0;
let failed = 0;
let skipped = 0;
const parts = [];
for (const name of ['unit', 'notebooks']) {
  const file = path.join(dir, `${name}.json`);
  if (!fs.existsSync(file)) {
    parts.push(`${name}: did not run`);
    failed += 1;
    continue;
  }
  const s = JSON.parse(fs.readFileSync(file, 'utf8'));
  passed += s.passed;
  failed += s.failed;
  skipped += s.skipped || 0;
  parts.push(`${name} ${s.passed}/${s.passed + s.failed}`);
}
console.log(`(${parts.join('; ')})`);
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
