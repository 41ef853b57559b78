/**
 * Run selection: which runs of a grid the notebooks train and analyse at each scale. The SSL notebooks run
 * `sslSubsetFor(scale)` of the SSL grid (narrowed by SSLAD_SUBSET), notebook 08 its `SEEDS_BY_SCALE`, and
 * notebooks 07 and 08 the Fashion-MNIST grid of `fashionMnistGridOptions`, so that they share run ids.
 *
 * @example
 *   const configs = studyGrid('ssl', { scale, seeds: SEEDS_BY_SCALE[scale], ...sslSubsetFor(scale) });
 *   const fashion = studyGrid('ssl', fashionMnistGridOptions(scale));
 */
import type { BackboneName, MethodName } from '../runs/config';
import type { GridOptions } from './grid';
import type { ScaleName } from '../runs/scale';

/** The part of a grid a notebook may narrow: methods, backbones and training proportions. */
export type SslSubset = Pick<GridOptions, 'methods' | 'backbones' | 'proportions'>;

/**
 * The part of the SSL grid the smoke scale runs (used by notebooks 03–06): one SSL method against the
 * supervised baseline, on both backbones, at the natural proportion (4 runs, 20–55 s each on 2 shared
 * cores). The full 55-run grid takes 15–25 minutes even at smoke size, too long for `npm test`; the default
 * and paper scales run every method and proportion.
 */
export const SMOKE_SSL_SUBSET: SslSubset = {
  methods: ['supervised', 'simclr'],
  backbones: ['resnet18', 'vit_tiny'],
  proportions: [0.45],
};

const SUBSET_FIELDS = ['methods', 'backbones', 'proportions'];

/**
 * The grid restriction for a scale: SMOKE_SSL_SUBSET at smoke, nothing (the full grid) otherwise. A user can
 * narrow any scale with SSLAD_SUBSET, a JSON object with any of `methods`, `backbones`, `proportions`
 * (e.g. `{"backbones":["resnet18"]}` to study one backbone on a CPU), which every SSL notebook obeys.
 */
export function sslSubsetFor(scale: ScaleName): SslSubset {
  const base: SslSubset = scale === 'smoke' ? SMOKE_SSL_SUBSET : {};
  const raw = process.env.SSLAD_SUBSET;
  if (!raw) return base;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`SSLAD_SUBSET is not valid JSON (${(err as Error).message}): ${raw}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`SSLAD_SUBSET must be a JSON object, got ${raw}`);
  for (const key of Object.keys(parsed)) {
    if (!SUBSET_FIELDS.includes(key))
      throw new Error(`SSLAD_SUBSET.${key} is not a subset field; allowed: ${SUBSET_FIELDS.join(', ')}`);
    if (!Array.isArray((parsed as Record<string, unknown>)[key])) throw new Error(`SSLAD_SUBSET.${key} must be a list`);
  }
  // The grid checks every value against the allowed methods, backbones and proportions.
  return { ...base, ...(parsed as SslSubset) };
}

/**
 * Seeds of the SSL grid notebook 08 analyses, per scale. One seed keeps 08 on the runs notebook 03 made; the
 * lead raises `default` to [42, 43, 44] when the time budget allows three seeds of the Table 1 grid.
 */
export const SEEDS_BY_SCALE: Record<ScaleName, number[]> = { smoke: [42], default: [42], paper: [42] };

/**
 * Notebook 07's Fashion-MNIST grid, spelled the same way so that the run ids match and 08 reuses 07's runs.
 * Keep in step with notebooks/07_fashion_mnist.ipynb. The default scale trains on 2 % of the 60 000 images
 * (1 200, the size of a synthetic run's subset): at 10 % a run took 15–20 minutes on two shared cores.
 */
export function fashionMnistGridOptions(scale: ScaleName): GridOptions {
  const reduced =
    scale === 'smoke'
      ? {
          methods: ['supervised'] as MethodName[],
          backbones: ['resnet18'] as BackboneName[],
          proportions: [0.45],
          trainFraction: 0.01,
          evalProportions: [0.45],
        }
      : {
          methods: ['supervised', 'simclr'] as MethodName[],
          backbones: ['resnet18'] as BackboneName[],
          proportions: [0.05, 0.45],
          trainFraction: scale === 'paper' ? 0.5 : 0.02,
          evalProportions: [0.01, 0.05, 0.45],
        };
  return {
    scale,
    methods: reduced.methods,
    backbones: reduced.backbones,
    proportions: reduced.proportions,
    overrides: {
      dataset: { kind: 'fashion-mnist', trainFraction: reduced.trainFraction, defectClass: 6 },
      evalProportions: reduced.evalProportions,
    } as GridOptions['overrides'],
  };
}
