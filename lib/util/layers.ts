/**
 * The layers of lib/, top to bottom, and a checker that every import points down them (DESIGN: data flows top to
 * bottom). A file may import its own folder and any folder below it. test/layers.test.ts reads every lib/**\/*.ts
 * file's imports with the TypeScript parser and hands them to importViolations.
 *
 * A `require('…')` of a lib module is a lazy load; those hide edges from the reader, so each must be listed in
 * LAZY_LOADS with its reason (and still point down). Requires of npm packages (optional dependencies: tslab,
 * danfojs-node, the native addon) are not lib modules and are not checked.
 *
 * @example
 *   importViolations([{ file: 'lib/runs/store.ts', specifier: '../train/run', lazy: false }]);
 *   // [{ file: 'lib/runs/store.ts', target: 'lib/train/run', kind: 'upward', ... }]
 */
import * as path from 'path';

/** Top first. A folder of lib/ not listed here is an error (every folder has a place). */
export const LAYERS = [
  'cli',
  'report',
  'experiments',
  'train',
  'methods',
  'runs',
  'losses',
  'models',
  'optim',
  'nn',
  'eval',
  'data',
  'backend',
  'util',
] as const;

/** The lazy loads of lib modules that are allowed, each with why it is lazy. */
export const LAZY_LOADS: ReadonlyArray<{ file: string; target: string; reason: string }> = [
  { file: 'lib/cli/index.ts', target: 'lib/backend', reason: 'TF.js costs ~1 s at start; only train/eval need it' },
  { file: 'lib/cli/index.ts', target: 'lib/train/frozen', reason: 'TF.js; only `ssl-ad probe` needs it' },
];

export interface ImportViolation {
  file: string;
  /** The imported module, relative to the repository root (lib/<layer>/...). */
  target: string;
  /** The specifier as written. */
  specifier: string;
  kind: 'upward' | 'lazy' | 'unknown-layer';
  message: string;
}

/** The layer a lib path belongs to: its first folder under lib/ (null for lib/ itself or a path outside it). */
export function layerOf(file: string): string | null {
  const parts = file.split('/');
  if (parts[0] !== 'lib' || parts.length < 2) return null;
  // lib/x.ts (a file directly under lib/) has no folder; lib/x as a directory import is the folder x.
  return parts.length === 2 ? parts[1].replace(/\.ts$/, '') : parts[1];
}

function rank(layer: string): number {
  return (LAYERS as readonly string[]).indexOf(layer);
}

/** One module specifier a lib file uses: a static import or re-export (lazy false), or a `require`/`import()`. */
export interface ImportEdge {
  /** Path relative to the repository root, with forward slashes: lib/<layer>/... */
  file: string;
  /** As written: './store', '../train/run'. Only relative specifiers are lib modules. */
  specifier: string;
  lazy: boolean;
}

/** The import edges of lib files that break the layering, each naming the file, the import and why. */
export function importViolations(edges: ImportEdge[]): ImportViolation[] {
  const violations: ImportViolation[] = [];
  for (const { file, specifier, lazy } of edges) {
    const from = layerOf(file);
    if (from === null || !specifier.startsWith('.')) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    const to = layerOf(target);
    if (to === null) continue; // outside lib/: package.json, data/paper/...
    const where = `${file} imports '${specifier}' (${target})`;
    const violation = (kind: ImportViolation['kind'], why: string) =>
      violations.push({ file, target, specifier, kind, message: `${where}${why}` });
    if (rank(from) < 0 || rank(to) < 0)
      violation('unknown-layer', `: lib/${rank(from) < 0 ? from : to} has no place in LAYERS (lib/util/layers.ts)`);
    else if (rank(to) < rank(from))
      violation('upward', `: lib/${from} may not import lib/${to}, a layer above it (${LAYERS.join(' > ')})`);
    if (lazy && !LAZY_LOADS.some((l) => l.file === file && l.target === target))
      violation('lazy', ' lazily: import it at the top of the file, or list it in LAZY_LOADS with the reason');
  }
  return violations;
}
