/**
 * Run selection: which runs of a grid the notebooks train and analyse at each scale. The SSL notebooks run
 * `sslStudyConfigs(scale)`: the SSL grid (narrowed by SSLAD_SUBSET) and the extra seeds of `SEED_PLANS`, and
 * notebooks 07 and 08 the Fashion-MNIST grid of `fashionMnistGridOptions`, so that they share run ids.
 *
 * @example
 *   const configs = sslStudyConfigs(scale);   // default: 55 runs at seed 42 + 20 ResNet-18 runs at seeds 43, 44
 *   const fashion = studyGrid('ssl', fashionMnistGridOptions(scale));
 */
import type { BackboneName, MethodName, RunConfig } from '../runs/config';
import { runId } from '../runs/id';
import { studyGrid, type GridOptions } from './grid';
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
  return withUserSubset(scale === 'smoke' ? SMOKE_SSL_SUBSET : {});
}

/**
 * Notebook 10's runs at the default scale: supervised, SimCLR and BYOL ResNet-18 at 1 %, 15 % and 45 % (9 runs and
 * 3 untrained baselines). Its detectors need each run's frozen features of every training and validation image,
 * 1–3 minutes a run on two cores, so the whole 75-run study would cost it about two hours; these nine answer its
 * questions (best SSL detector, contamination cost, label efficiency) across the training proportions.
 */
export const ONE_CLASS_DEFAULT_SUBSET: SslSubset = {
  methods: ['supervised', 'simclr', 'byol'],
  backbones: ['resnet18'],
  proportions: [0.01, 0.15, 0.45],
};

/** Notebook 10's restriction: the smoke subset, ONE_CLASS_DEFAULT_SUBSET at default, the full grid at paper. */
export function oneClassSubsetFor(scale: ScaleName): SslSubset {
  const base = { smoke: SMOKE_SSL_SUBSET, default: ONE_CLASS_DEFAULT_SUBSET, paper: {} }[scale];
  return withUserSubset(base);
}

/** `base` overridden field by field by SSLAD_SUBSET, when it is set. */
function withUserSubset(base: SslSubset): SslSubset {
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

/** Extra seeds of part of the SSL grid: every method of those backbones at those training shares. */
export interface SeedPlan {
  seeds: number[];
  backbones: BackboneName[];
  proportions: number[];
}

/**
 * Seeds per scale. The default scale repeats the ResNet-18 half of the grid at 1 % and 45 % with three seeds
 * (20 runs more than the 55 of one seed): the paper's method comparisons are made there (the best SSL method at
 * 1 % and above 5 %, supervised against SSL), and three seeds of the whole grid would take three times the
 * two-hour budget. Smoke and paper run one seed.
 */
export const SEED_PLANS: Record<ScaleName, SeedPlan | null> = {
  smoke: null,
  default: { seeds: [42, 43, 44], backbones: ['resnet18'], proportions: [0.01, 0.45] },
  paper: null,
};

/**
 * The SSL study the notebooks run and analyse: the grid at seed 42 (narrowed by `sslSubsetFor`) and the extra
 * seeds of the scale's seed plan inside that subset, each run once. `subset` replaces the notebooks' restriction:
 * `sslStudyConfigs(scale, {})` is the whole grid with its seeds, what `ssl-ad export --grids ssl` keeps.
 */
export function sslStudyConfigs(scale: ScaleName, subset: SslSubset = sslSubsetFor(scale)): RunConfig[] {
  const configs = studyGrid('ssl', { scale, ...subset });
  const plan = SEED_PLANS[scale];
  if (plan) {
    const within = <T>(chosen: T[], allowed: T[] | undefined) => chosen.filter((x) => !allowed || allowed.includes(x));
    const backbones = within(plan.backbones, subset.backbones);
    const proportions = within(plan.proportions, subset.proportions);
    if (backbones.length && proportions.length)
      configs.push(...studyGrid('ssl', { scale, seeds: plan.seeds, methods: subset.methods, backbones, proportions }));
  }
  const seen = new Set<string>();
  return configs.filter((c) => {
    const id = runId(c);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** The seeds a list of runs covers, in order. */
export function seedsOf(configs: RunConfig[]): number[] {
  return [...new Set(configs.map((c) => c.seed))].sort((a, b) => a - b);
}

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
