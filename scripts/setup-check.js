// What `npm test` and `npm run reproduce` need beyond node_modules, found (or not) and named with the command
// that installs it. Shared by scripts/postinstall.js (registers the kernel) and scripts/preflight.js (checks).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const APT_JUPYTER = 'apt-get install -y jupyter-nbconvert python3-nbclient python3-ipykernel';
const FASHION_MNIST_FILE = '/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz';

/** Jupyter with nbconvert and the Python it runs on, or null: Debian's first, then whatever is on PATH. */
function findJupyter() {
  for (const [jupyter, python] of [
    ['/usr/bin/jupyter', '/usr/bin/python3'],
    ['jupyter', 'python3'],
  ]) {
    try {
      execFileSync(jupyter, ['nbconvert', '--version'], { stdio: 'pipe' });
      return { jupyter, python };
    } catch {
      /* try the next */
    }
  }
  return null;
}

/** Names of the kernels Jupyter knows, as its Python lists them. */
function kernelNames(python) {
  const code =
    'import json; from jupyter_client.kernelspec import KernelSpecManager as K; ' +
    'print(json.dumps(sorted(K().find_kernel_specs())))';
  return JSON.parse(execFileSync(python, ['-c', code], { stdio: 'pipe' }).toString());
}

function tslabInstallCommand(python) {
  return `npx tslab install --python=${python}`;
}

/** Register this project's tslab with Jupyter (per user, or system-wide as root, as tslab decides). */
function registerTslab(python) {
  const cli = path.join(root, 'node_modules', 'tslab', 'bin', 'tslab');
  execFileSync(process.execPath, [cli, 'install', `--python=${python}`], { stdio: 'pipe' });
}

/** Every missing piece as { what, install }; empty when all is there. */
function missingPieces() {
  const missing = [];
  const found = findJupyter();
  if (!found) {
    missing.push({
      what: 'Jupyter (jupyter nbconvert), which executes the notebooks',
      install: `${APT_JUPYTER}, then npm install again (it registers the kernel)`,
    });
  } else {
    let names = null;
    try {
      names = kernelNames(found.python);
    } catch (err) {
      missing.push({
        what: `a Python that can list Jupyter kernels (${found.python}: ${String(err.stderr || err.message)
          .trim()
          .split('\n')
          .pop()})`,
        install: APT_JUPYTER,
      });
    }
    if (names && !names.includes('tslab'))
      missing.push({ what: 'the tslab kernel, registered with Jupyter', install: tslabInstallCommand(found.python) });
  }
  if (!fs.existsSync(FASHION_MNIST_FILE))
    missing.push({
      what: `Fashion-MNIST (${path.dirname(FASHION_MNIST_FILE)}), read by notebook 07 and its tests`,
      install: 'apt-get install -y dataset-fashion-mnist',
    });
  return missing;
}

module.exports = { APT_JUPYTER, findJupyter, kernelNames, registerTslab, tslabInstallCommand, missingPieces };
