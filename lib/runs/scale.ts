/**
 * The run scale: one code path, three sizes.
 *
 * - `smoke`: seconds; what the test suite and `npm test` notebooks use.
 * - `default`: the CPU study on the bundled synthetic data (a 2-core machine, no libtensorflow).
 * - `paper`: the exact appendix-B settings on Sewer-ML at 224 px, for GPU machines.
 *
 * @example
 *   process.env.SSLAD_SCALE = 'smoke';
 *   currentScale(); // 'smoke'
 */
export const SCALES = ['smoke', 'default', 'paper'] as const;
export type ScaleName = (typeof SCALES)[number];

export function parseScale(raw: string, source = 'scale'): ScaleName {
  const value = raw.trim().toLowerCase();
  if (!(SCALES as readonly string[]).includes(value)) {
    throw new Error(`${source}=${raw} is not a scale; use one of ${SCALES.join(', ')}`);
  }
  return value as ScaleName;
}

/** The scale named by SSLAD_SCALE, or `default` when unset. */
export function currentScale(): ScaleName {
  const raw = process.env.SSLAD_SCALE;
  return raw ? parseScale(raw, 'SSLAD_SCALE') : 'default';
}
