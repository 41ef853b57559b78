/**
 * Versions of everything a result depends on, for the environment notebook and for run records.
 *
 * @example
 *   libraryVersions()['@tensorflow/tfjs']; // '4.22.0'
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'sharp',
  'arquero',
  'vega',
  'vega-lite',
  'tslab',
];

/** Read the version from the package's own package.json, which some packages (sharp) do not export. */
function installedVersion(name: string): string | null {
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    return null;
  }
  let dir = path.dirname(entry);
  while (dir !== path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const parsed = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === name) return parsed.version ?? null;
    }
    dir = path.dirname(dir);
  }
  return null;
}

/** Package name → installed version (null when not installed), plus node and the machine. */
export function libraryVersions(): Record<string, string | null> {
  const out: Record<string, string | null> = {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
  };
  for (const name of PACKAGES) out[name] = installedVersion(name);
  return out;
}
