#!/usr/bin/env node
// `npm install` step: register the tslab kernel with Jupyter when Jupyter is there, so that the next command can
// be `npm run reproduce`. It only ever reports: a failure here must never fail the install.
'use strict';
try {
  const { findJupyter, kernelNames, registerTslab, tslabInstallCommand, APT_JUPYTER } = require('./setup-check');
  const found = findJupyter();
  if (!found) {
    console.log(
      `[setup] Jupyter not found, so no notebook kernel was registered: ${APT_JUPYTER}, then npm install again.`,
    );
  } else {
    let registered = false;
    try {
      registered = kernelNames(found.python).includes('tslab');
    } catch {
      /* listing failed: try to register anyway */
    }
    if (registered) console.log(`[setup] the tslab kernel is registered with Jupyter (${found.jupyter}).`);
    else {
      try {
        registerTslab(found.python);
        console.log(`[setup] registered the tslab kernel with Jupyter (${found.jupyter}).`);
      } catch (err) {
        console.log(
          `[setup] could not register the tslab kernel (${String(err.stderr || err.message)
            .trim()
            .split('\n')
            .pop()}): run ${tslabInstallCommand(found.python)}`,
        );
      }
    }
  }
} catch (err) {
  console.log(`[setup] kernel registration skipped: ${err.message}`);
}
