// Mocha's spec output, plus a closing 'unit: N passed, N failed, N skipped' line and a summary file that
// scripts/test-summary.js adds up with the notebook test's.
'use strict';
const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      const line = `unit: ${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`;
      const dir = path.resolve(__dirname, '..', 'runs', 'test-summary');
      fs.mkdirSync(dir, { recursive: true });
      const counts = { passed: passes, failed: failures, skipped: pending };
      fs.writeFileSync(path.join(dir, 'unit.json'), JSON.stringify(counts));
      process.stdout.write(`${line}\n`);
    });
  }
}

module.exports = SpecWithSummary;
