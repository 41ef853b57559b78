/**
 * Choose and prepare the TF.js engine.
 *
 * Order of preference: tfjs-node-gpu (only when a CUDA device really works), tfjs-node, wasm with the
 * project's training kernels, then the pure-JS cpu backend. `SSLAD_BACKEND=gpu|node|wasm|cpu` forces a choice.
 * On wasm the native oneDNN kernels (./native.ts) replace the heavy kernels when the addon is built;
 * `SSLAD_NATIVE=0|1` forces that choice, `SSLAD_NATIVE_THREADS` sets their thread count.
 *
 * @example
 *   import { initBackend } from '../lib/backend';
 *   const info = await initBackend();   // prints once: "[backend] wasm — tfjs-node not installed …"
 *   info.name;                          // 'wasm'
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './kernels';
import { NATIVE_KERNELS, NATIVE_ONLY_KERNELS } from './kernels/native';
import { loadNative, type NativeEngineInfo } from './native';

export type BackendName = 'gpu' | 'node' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** Our name for the engine. */
  name: BackendName;
  /** The name TF.js reports (`tensorflow` for tfjs-node and tfjs-node-gpu). */
  tfBackend: string;
  /** Why this one was chosen, including why better ones were skipped. */
  reason: string;
  /** Whether the choice was forced by SSLAD_BACKEND. */
  forced: boolean;
  /** Kernels the project registered on this backend. */
  registeredKernels: string[];
  tfjsVersion: string;
  /**
   * Threads the engine computes with (wasm in Node is single-threaded; the native kernels use
   * SSLAD_NATIVE_THREADS).
   */
  threads: number;
  /** The native kernels under wasm (oneDNN version and the CPU ISA it chose), or null when they are not in use. */
  native: (NativeEngineInfo & { kernels: string[] }) | null;
}

const ORDER: BackendName[] = ['gpu', 'node', 'wasm', 'cpu'];
let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

/** The engine chosen by `initBackend`, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/** The backend SSLAD_BACKEND forces, or null; throws naming the allowed values for any other value. */
export function parseForced(): BackendName | null {
  const raw = process.env.SSLAD_BACKEND;
  if (!raw) return null;
  const value = raw.trim().toLowerCase();
  if (!(ORDER as string[]).includes(value)) {
    throw new Error(`SSLAD_BACKEND=${raw} is not a backend; use one of ${ORDER.join(', ')}`);
  }
  return value as BackendName;
}

/** Load a native binding without letting a missing libtensorflow crash the process. */
function tryRequire(moduleName: string): { ok: true } | { ok: false; why: string } {
  try {
    require(moduleName);
    return { ok: true };
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && message.includes(moduleName)) {
      return { ok: false, why: `${moduleName} is not installed` };
    }
    return { ok: false, why: `${moduleName} failed to load (${message})` };
  }
}

/** A GPU build that loads may still have no usable device; run one op to find out. */
function gpuReallyWorks(): { ok: boolean; why: string } {
  try {
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const y = tf.matMul(x, x);
    const v = y.dataSync();
    tf.dispose([x, y]);
    return v[0] === 7
      ? { ok: true, why: 'matmul ran on the GPU build' }
      : { ok: false, why: 'matmul gave a wrong result' };
  } catch (err) {
    return { ok: false, why: (err as Error).message.split('\n')[0] };
  }
}

type Activation = { ok: boolean; why: string; kernels: string[]; native?: BackendInfo['native'] };

async function activate(name: BackendName): Promise<Activation> {
  switch (name) {
    case 'gpu': {
      const loaded = tryRequire('@tensorflow/tfjs-node-gpu');
      if (!loaded.ok) return { ok: false, why: loaded.why, kernels: [] };
      if (!(await tf.setBackend('tensorflow')))
        return { ok: false, why: 'tensorflow backend did not start', kernels: [] };
      const check = gpuReallyWorks();
      return {
        ok: check.ok,
        why: check.ok ? 'tfjs-node-gpu loaded and a CUDA op ran' : `tfjs-node-gpu loaded but ${check.why}`,
        kernels: [],
      };
    }
    case 'node': {
      const loaded = tryRequire('@tensorflow/tfjs-node');
      if (!loaded.ok) return { ok: false, why: loaded.why, kernels: [] };
      const ok = await tf.setBackend('tensorflow');
      return {
        ok,
        why: ok ? 'tfjs-node (libtensorflow on CPU) loaded' : 'tensorflow backend did not start',
        kernels: [],
      };
    }
    case 'wasm': {
      const loaded = tryRequire('@tensorflow/tfjs-backend-wasm');
      if (!loaded.ok) return { ok: false, why: loaded.why, kernels: [] };
      const native = loadNative();
      const kernels = registerWasmTrainingKernels(native.addon);
      const ok = await tf.setBackend('wasm');
      const nativeKernels = kernels.filter(
        (k) => NATIVE_KERNELS[k] !== undefined || NATIVE_ONLY_KERNELS[k] !== undefined,
      );
      return {
        ok,
        why: ok
          ? 'wasm (XNNPACK) with the project training kernels; ' +
            (native.addon ? `${native.why} for ${nativeKernels.join(', ')}` : native.why)
          : 'wasm backend did not start',
        kernels,
        native: native.info ? { ...native.info, kernels: nativeKernels } : null,
      };
    }
    case 'cpu': {
      const ok = await tf.setBackend('cpu');
      return {
        ok,
        why: ok ? 'pure-JS cpu backend (very slow for training)' : 'cpu backend did not start',
        kernels: [],
      };
    }
  }
}

/**
 * Pick the best engine (or the forced one), make it current, print the choice once and return it.
 * Safe to call many times; later calls return the first result.
 */
export function initBackend(options: { quiet?: boolean } = {}): Promise<BackendInfo> {
  if (current) return Promise.resolve(current);
  if (pending) return pending;
  pending = (async () => {
    const forced = parseForced();
    const candidates = forced ? [forced] : ORDER;
    const skipped: string[] = [];
    for (const name of candidates) {
      const result = await activate(name);
      if (!result.ok) {
        skipped.push(`${name}: ${result.why}`);
        continue;
      }
      await tf.ready();
      const info: BackendInfo = {
        name,
        tfBackend: tf.getBackend(),
        reason:
          result.why +
          (forced ? ' (forced by SSLAD_BACKEND)' : '') +
          (skipped.length ? `; skipped ${skipped.join('; ')}` : ''),
        forced: forced !== null,
        registeredKernels: result.kernels,
        tfjsVersion: tf.version.tfjs,
        threads: result.native
          ? result.native.threads
          : name === 'wasm' || name === 'cpu'
            ? 1
            : require('os').cpus().length,
        native: result.native ?? null,
      };
      current = info;
      if (!options.quiet && !process.env.SSLAD_QUIET) console.log(`[backend] ${info.name} — ${info.reason}`);
      return info;
    }
    pending = null;
    throw new Error(`no TF.js backend could start: ${skipped.join('; ')}`);
  })();
  return pending;
}
