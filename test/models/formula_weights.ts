/**
 * "Formula weights" shared with tools/fixtures/make_model_fixtures.py: each value is a pure function of the
 * tensor's torch name and its flat index in torch layout, bit-exact in both languages (32-bit integer hashing,
 * float64 arithmetic, one rounding to float32). Lets tests compare full-size models with PyTorch without
 * committing their weights.
 *
 * @example
 *   loadTorchStateDict(model, formulaStateDictBytes(model));
 */
import { Module } from '../../lib/nn/module';
import { serializeSafetensors, toTorchLayout, torchShape, TensorToWrite } from '../../lib/models/safetensors';

function fnv1a(name: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The tensor's values in torch layout (see formula_tensor in the python script). */
export function formulaTensor(name: string, shape: number[]): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const seed = fnv1a(name);
  const out = new Float32Array(count);
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < count; i++) {
    const u = (fmix32((Math.imul(i, 0x9e3779b1) + seed) >>> 0) >>> 8) * 2 ** -23 - 1;
    let v: number;
    if (name.endsWith('running_var')) v = 1 + 0.25 * (u + 1);
    else if (shape.length >= 2 && (name.endsWith('weight') || name.endsWith('weight_v'))) v = u * Math.sqrt(3 / fanIn);
    else if (shape.length === 1 && name.endsWith('weight')) v = 1 + 0.1 * u;
    else if (shape.length === 1) v = 0.1 * u;
    else v = 0.5 * u;
    out[i] = v;
  }
  return out;
}

/** A torch-layout safetensors state dict for `module` holding formula weights (names in `keep` keep their values). */
export function formulaStateDictBytes(module: Module, keep: Set<string> = new Set()): Uint8Array {
  const entries: TensorToWrite[] = module.stateDict().map(({ name, variable }) => {
    const shape = torchShape(variable.shape);
    if (name.endsWith('num_batches_tracked')) return { name, shape, values: new Int32Array(1) };
    if (keep.has(name)) return { name, shape, values: toTorchLayout(variable) };
    return { name, shape, values: formulaTensor(name, shape) };
  });
  return serializeSafetensors(entries);
}
