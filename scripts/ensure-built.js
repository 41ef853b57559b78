// Notebooks import the compiled library from dist/ (tslab only compiles .ts files under the notebook's
// own folder), so rebuild it whenever a source file is newer than the last build. A user who edits lib/
// restarts the kernel and reruns: the first cell calls this and picks up the change.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.tsbuildinfo');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function ensureBuilt({ quiet = false } = {}) {
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  const sources = Math.max(newestSource(path.join(root, 'lib')), fs.statSync(path.join(root, 'tsconfig.json')).mtimeMs);
  if (built >= sources) return 'dist/ is up to date with lib/';
  if (!quiet) console.log('[setup] lib/ changed since the last build; compiling to dist/ …');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'pipe' });
  } catch (err) {
    const out = String(err.stdout || '') + String(err.stderr || '');
    throw new Error(`compiling lib/ failed; fix these errors and rerun:\n${out}`);
  }
  // tsc leaves tsbuildinfo untouched when nothing changed in its view; touch it so the check above settles.
  const now = new Date();
  if (fs.existsSync(stamp)) fs.utimesSync(stamp, now, now);
  return 'rebuilt dist/ from lib/';
}

module.exports = { ensureBuilt };
if (require.main === module) ensureBuilt();
