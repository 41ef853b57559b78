/**
 * The native kernels (native/sslad_native.cc: oneDNN convolutions and sgemm, fused norms, GELU, row sums,
 * the max-pool gradient), loaded once.
 *
 * The addon is compiled from source by the package's install step (native/build.js) where a C++ compiler,
 * Node's headers and Debian's `libdnnl-dev` are present; otherwise it is absent and the wasm kernels run.
 * `SSLAD_NATIVE=0` never loads it; `SSLAD_NATIVE=1` makes a missing or broken addon an error.
 * `SSLAD_NATIVE_THREADS` sets its thread count (default 1: one per worker process).
 *
 * @example
 *   const loaded = loadNative();
 *   if (loaded.addon) loaded.addon.info();   // { engine: 'oneDNN', version: '2.6.3', isa: 'avx512_core_bf16', … }
 */
import * as fs from 'fs';
import * as path from 'path';

/** Float32 views into the wasm heap; parameters as Int32Array (see native/sslad_native.cc). */
export interface NativeAddon {
  info(): NativeEngineInfo & { cachedPrimitives: number };
  setThreads(threads: number): void;
  conv2d(x: Float32Array, filter: Float32Array, out: Float32Array, geometry: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, out: Float32Array, geometry: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, out: Float32Array, geometry: Int32Array): void;
  batchMatMul(a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array): void;
  batchNormTrain(
    x: Float32Array,
    weight: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    rows: number,
    channels: number,
    eps: number,
  ): void;
  batchNormTrainGrad(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    weight: Float32Array,
    dx: Float32Array,
    dweight: Float32Array,
    dbias: Float32Array,
    rows: number,
    channels: number,
    eps: number,
  ): void;
  layerNorm(
    x: Float32Array,
    weight: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    rstd: Float32Array,
    rows: number,
    d: number,
    eps: number,
  ): void;
  layerNormGrad(
    dy: Float32Array,
    x: Float32Array,
    rstd: Float32Array,
    weight: Float32Array,
    dx: Float32Array,
    dweight: Float32Array,
    dbias: Float32Array,
    rows: number,
    d: number,
  ): void;
  gelu(x: Float32Array, y: Float32Array, n: number): void;
  geluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, n: number): void;
  sumRows(x: Float32Array, out: Float32Array, rows: number, inner: number): void;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, params: Int32Array): void;
  axpby(x: Float32Array, y: Float32Array, out: Float32Array, a: number, b: number, n: number): void;
}

export interface NativeEngineInfo {
  /** 'oneDNN'. */
  engine: string;
  /** oneDNN's version, e.g. '2.6.3'. */
  version: string;
  /** The CPU instruction set oneDNN dispatches to (dnnl_get_effective_cpu_isa), e.g. 'avx512_core_bf16'. */
  isa: string;
  /** oneDNN's threading runtime ('OpenMP' in Debian's build). */
  runtime: string;
  threads: number;
}

export type NativeLoad =
  { addon: NativeAddon; info: NativeEngineInfo; why: string } | { addon: null; info: null; why: string };

const ADDON_FILE = path.join('native', 'build', 'sslad_native.node');
let loaded: NativeLoad | null = null;

/**
 * native/build/sslad_native.node in the package root, found upward from here (lib/ and dist/lib/ alike);
 * `SSLAD_NATIVE_ADDON` names another file (tests of a missing addon).
 */
export function nativeAddonPath(): string {
  if (process.env.SSLAD_NATIVE_ADDON) return path.resolve(process.env.SSLAD_NATIVE_ADDON);
  let dir = __dirname;
  while (dir !== path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'native', 'build.js'))) return path.join(dir, ADDON_FILE);
    dir = path.dirname(dir);
  }
  return path.join(__dirname, '..', '..', ADDON_FILE);
}

/** `SSLAD_NATIVE`: 'off' (0), 'on' (1, must load) or 'auto' (unset). */
export function nativeMode(): 'off' | 'on' | 'auto' {
  const raw = process.env.SSLAD_NATIVE;
  if (raw === undefined || raw.trim() === '') return 'auto';
  const value = raw.trim().toLowerCase();
  if (value === '0' || value === 'false' || value === 'off') return 'off';
  if (value === '1' || value === 'true' || value === 'on') return 'on';
  throw new Error(
    `SSLAD_NATIVE=${raw} is not a choice; use 0 (wasm kernels only) or 1 (native kernels, error if they cannot load)`,
  );
}

/** `SSLAD_NATIVE_THREADS` (default 1). */
export function nativeThreads(): number {
  const raw = process.env.SSLAD_NATIVE_THREADS;
  if (raw === undefined || raw.trim() === '') return 1;
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`SSLAD_NATIVE_THREADS=${raw} must be a whole number ≥ 1`);
  return threads;
}

/**
 * Load the addon once (honouring SSLAD_NATIVE and SSLAD_NATIVE_THREADS). Without it, `why` says what to do;
 * with SSLAD_NATIVE=1 a failure throws.
 */
export function loadNative(): NativeLoad {
  if (loaded) return loaded;
  const mode = nativeMode();
  if (mode === 'off') {
    loaded = { addon: null, info: null, why: 'native kernels off (SSLAD_NATIVE=0)' };
    return loaded;
  }
  const file = nativeAddonPath();
  let why: string;
  if (!fs.existsSync(file)) {
    why =
      `native kernels not built (${path.relative(process.cwd(), file) || file} missing: ` +
      'apt-get install -y libdnnl-dev, then npm run build:native)';
  } else {
    try {
      const addon = require(file) as NativeAddon;
      addon.setThreads(nativeThreads());
      const { cachedPrimitives: _, ...info } = addon.info();
      const threads = `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
      loaded = {
        addon,
        info,
        why: `native ${info.engine} ${info.version} kernels (${info.isa}, ${threads})`,
      };
      return loaded;
    } catch (err) {
      const firstLine = (err as Error).message.split('\n')[0];
      why = `native kernels failed to load (${firstLine}); rebuild with npm run build:native`;
    }
  }
  if (mode === 'on') throw new Error(`SSLAD_NATIVE=1 but ${why}`);
  loaded = { addon: null, info: null, why };
  return loaded;
}
