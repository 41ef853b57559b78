import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  averageRanks,
  bootstrapCi,
  kendallTauB,
  pearson,
  quantile,
  spearman,
  type CorrelationFn,
} from '../../lib/eval/correlation';

interface Case {
  name: string;
  x: number[];
  y: number[];
  ranksX: number[];
  pearson: number | null;
  spearman: number | null;
  kendallTauB: number | null;
}
interface BootCase {
  case: string;
  statistic: 'pearson' | 'spearman';
  resamples: number;
  confidence: number;
  seed: number;
  estimate: number;
  low: number;
  high: number;
  kept: number;
  skipped: number;
  x?: number[];
  y?: number[];
}
const fx = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'eval', 'correlation.json'), 'utf8')) as {
  cases: Case[];
  bootstrap: BootCase[];
};
const STATISTICS: Record<string, CorrelationFn> = { pearson, spearman };

function close(actual: number, expected: number | null, what: string, tol = 1e-12): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: undefined in the reference, expected NaN, got ${actual}`);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);
}

describe('correlations against numpy (tools/fixtures/make_correlation_fixtures.py)', () => {
  for (const c of fx.cases) {
    it(`${c.name}: average ranks, Pearson, Spearman, Kendall tau-b`, () => {
      assert.deepEqual(averageRanks(c.x), c.ranksX);
      close(pearson(c.x, c.y), c.pearson, `${c.name} pearson`);
      close(spearman(c.x, c.y), c.spearman, `${c.name} spearman`);
      close(kendallTauB(c.x, c.y), c.kendallTauB, `${c.name} kendall`);
    });
  }

  it('hand-checked values: ties averaged, perfect orderings', () => {
    assert.deepEqual(averageRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
    close(spearman([1, 2, 3, 4], [10, 20, 15, 40]), 0.8, 'spearman');
    // 5 concordant, 1 discordant pair of 6, no ties.
    close(kendallTauB([1, 2, 3, 4], [10, 20, 15, 40]), 4 / 6, 'kendall');
    close(pearson([1, 2, 3], [-2, -4, -6]), -1, 'pearson');
  });

  it('rejects mismatched, short or non-finite input with the position', () => {
    assert.throws(() => pearson([1, 2], [1]), /x has 2 values but y has 1/);
    assert.throws(() => spearman([1], [1]), /at least 2 pairs/);
    assert.throws(() => kendallTauB([1, NaN], [1, 2]), /x\[1\] = NaN/);
  });
});

describe('percentile bootstrap with the seeded Rng', () => {
  for (const b of fx.bootstrap) {
    it(`${b.case} ${b.statistic}: replays numpy's resampling of the same mulberry32 stream`, () => {
      const source = b.x && b.y ? { x: b.x, y: b.y } : fx.cases.find((c) => c.name === b.case)!;
      const ci = bootstrapCi(source.x, source.y, STATISTICS[b.statistic], {
        resamples: b.resamples,
        confidence: b.confidence,
        seed: b.seed,
      });
      close(ci.estimate, b.estimate, 'estimate');
      close(ci.low, b.low, 'low', 1e-10);
      close(ci.high, b.high, 'high', 1e-10);
      assert.equal(ci.skipped, b.skipped);
      assert.equal(ci.resamples, b.kept);
      assert.equal(ci.resamples + ci.skipped, b.resamples);
    });
  }

  it('same seed, same interval; another seed, another interval', () => {
    const { x, y } = fx.cases[0];
    const a = bootstrapCi(x, y, spearman, { resamples: 200, seed: 1 });
    const again = bootstrapCi(x, y, spearman, { resamples: 200, seed: 1 });
    const other = bootstrapCi(x, y, spearman, { resamples: 200, seed: 2 });
    assert.deepEqual(a, again);
    assert.notEqual(a.low, other.low);
    assert.ok(a.low <= a.estimate && a.estimate <= a.high);
  });

  it('quantile interpolates like numpy and checks its arguments', () => {
    close(quantile([1, 2, 3, 4], 0.5), 2.5, 'median');
    close(quantile([0, 10], 0.25), 2.5, 'q25');
    assert.throws(() => quantile([], 0.5), /empty/);
    assert.throws(() => bootstrapCi([1, 2], [1, 2], pearson, { confidence: 1 }), /confidence = 1/);
  });
});
