import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  bootstrap,
  formatMeanCi,
  meanCi,
  pairCells,
  pairedBootstrapTest,
  studentTCdf,
  studentTQuantile,
  summarizeOverSeeds,
} from '../../lib/eval/stats';

const fx = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'labelfree', 'stats.json'), 'utf8')) as {
  t_quantiles: Array<{ p: number; df: number; q: number }>;
  intervals: Array<{ values: number[]; mean: number; low: number; high: number; std: number }>;
  bootstrap: {
    values: number[];
    resamples: number;
    seed: number;
    estimate: number;
    low: number;
    high: number;
    standard_error: number;
  };
  paired: {
    a: number[];
    b: number[];
    resamples: number;
    seed: number;
    mean_difference: number;
    low: number;
    high: number;
    p_value: number;
  };
};

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

describe('stats: Student-t quantiles and mean ± CI over seeds', () => {
  it('t quantiles match scipy.stats.t.ppf', () => {
    // scipy's stdtrit is good to ~1e-9 (t(0.9, 3) = 1.6377443536962 by the CDF, scipy says …57216), hence
    // 1e-8 against scipy, and the inversion itself is checked through the CDF.
    for (const { p, df, q } of fx.t_quantiles) {
      close(studentTQuantile(p, df), q, `t(${p}, ${df})`, 1e-8);
      close(studentTCdf(studentTQuantile(p, df), df), p, `cdf(t(${p}, ${df}))`, 1e-13);
    }
    close(studentTQuantile(0.025, 4), -studentTQuantile(0.975, 4), 'symmetry');
    close(studentTCdf(0, 3), 0.5, 'cdf(0)');
    close(studentTQuantile(0.975, 1), 12.706204736174698, 'df 1', 1e-9);
  });

  it('meanCi matches scipy.stats.t.interval', () => {
    for (const c of fx.intervals) {
      const ci = meanCi(c.values);
      close(ci.mean, c.mean, 'mean');
      close(ci.low, c.low, `low (n=${c.values.length})`, 1e-9);
      close(ci.high, c.high, `high (n=${c.values.length})`, 1e-9);
      close(ci.std, c.std, 'std');
      assert.equal(ci.n, c.values.length);
    }
  });

  it('a single seed has a mean and no interval; bad values are named', () => {
    const one = meanCi([0.7]);
    assert.equal(one.mean, 0.7);
    assert.ok(Number.isNaN(one.low) && Number.isNaN(one.halfWidth));
    assert.equal(formatMeanCi(one), '0.700');
    assert.equal(formatMeanCi(meanCi([1, 3])), '2.000 ± 12.706'); // s = √2, t₁ = 12.706, √n = √2
    assert.throws(() => meanCi([1, NaN]), /values\[1\] = NaN/);
    assert.throws(() => meanCi([]), /no values/);
    assert.throws(() => meanCi([1, 2], 1.5), /level = 1.5/);
  });
});

describe('stats: seeded bootstrap and the paired test', () => {
  it('percentile bootstrap of the median replays the numpy port of the same stream', () => {
    const b = fx.bootstrap;
    const r = bootstrap(b.values.length, (idx) => median(Array.from(idx, (i) => b.values[i])), {
      resamples: b.resamples,
      seed: b.seed,
    });
    close(r.estimate, b.estimate, 'estimate');
    close(r.low, b.low, 'low');
    close(r.high, b.high, 'high');
    close(r.standardError, b.standard_error, 'standard error', 1e-9);
    assert.equal(r.resamples, b.resamples);
    assert.equal(r.skipped, 0);
  });

  it('the same seed gives the same interval; non-finite statistics are skipped and counted', () => {
    const values = [1, 5, 2, 8, 3];
    const stat = (idx: Int32Array) => Array.from(idx, (i) => values[i]).reduce((s, v) => s + v, 0);
    assert.deepEqual(bootstrap(5, stat, { seed: 9, resamples: 50 }), bootstrap(5, stat, { seed: 9, resamples: 50 }));
    let calls = 0;
    const r = bootstrap(5, () => (calls++ % 2 === 0 ? 1 : NaN), { resamples: 10 });
    assert.equal(r.resamples + r.skipped, 10);
    assert.ok(r.skipped > 0);
    assert.throws(() => bootstrap(0, stat), /n must be a positive integer/);
  });

  it('paired test replays the numpy port', () => {
    const p = fx.paired;
    const r = pairedBootstrapTest(p.a, p.b, { resamples: p.resamples, seed: p.seed });
    close(r.meanDifference, p.mean_difference, 'difference');
    close(r.low, p.low, 'low');
    close(r.high, p.high, 'high');
    close(r.pValue, p.p_value, 'p');
  });

  it('identical inputs: difference 0, CI [0, 0], p = 1', () => {
    const a = [0.61, 0.55, 0.7, 0.42, 0.66];
    const r = pairedBootstrapTest(a, a.slice(), { resamples: 400 });
    assert.equal(r.meanDifference, 0);
    assert.equal(r.low, 0);
    assert.equal(r.high, 0);
    assert.equal(r.pValue, 1);
  });

  it('a constant shift: exactly that difference, a zero-width CI and the smallest p, 1/(B + 1)', () => {
    const b = [0.5, 0.25, 0.75, 0.125, 0.375, 0.625];
    const a = b.map((v) => v + 0.0625);
    const r = pairedBootstrapTest(a, b, { resamples: 999 });
    assert.equal(r.meanDifference, 0.0625);
    assert.equal(r.low, 0.0625);
    assert.equal(r.high, 0.0625);
    assert.equal(r.pValue, 1 / 1000);
    const swapped = pairedBootstrapTest(b, a, { resamples: 999 });
    assert.equal(swapped.meanDifference, -0.0625);
  });

  it('noise around no difference gives a large p; a real difference a small one', () => {
    const base = [0.6, 0.62, 0.58, 0.65, 0.61, 0.59, 0.63, 0.6];
    const jitter = [0.01, -0.012, 0.008, -0.009, 0.011, -0.01, 0.007, -0.006];
    assert.ok(
      pairedBootstrapTest(
        base.map((v, i) => v + jitter[i]),
        base,
      ).pValue > 0.3,
    );
    assert.ok(
      pairedBootstrapTest(
        base.map((v, i) => v + 0.05 + jitter[i]),
        base,
      ).pValue < 0.01,
    );
    assert.throws(() => pairedBootstrapTest([1, 2], [1]), /a has 2 cells but b has 1/);
    assert.throws(() => pairedBootstrapTest([1, NaN], [1, 2]), /a\[1\] = NaN/);
  });
});

describe('stats: tables over seeds', () => {
  const rows = [
    { method: 'simclr', p: 0.1, seed: 1, f1: 0.5 },
    { method: 'simclr', p: 0.1, seed: 2, f1: 0.7 },
    { method: 'byol', p: 0.1, seed: 1, f1: 0.4 },
    { method: 'simclr', p: 0.1, seed: 3, f1: null },
    { method: 'byol', p: 0.1, seed: 2, f1: 0.45 },
    { method: 'byol', p: 0.1, seed: 4, f1: 0.3 },
  ];

  it('summarizeOverSeeds groups, averages and counts missing values', () => {
    const out = summarizeOverSeeds(rows, { by: ['method', 'p'], value: 'f1' });
    assert.deepEqual(
      out.map((r) => [r.method, r.p, r.n, r.missing]),
      [
        ['simclr', 0.1, 2, 1],
        ['byol', 0.1, 3, 0],
      ],
    );
    close(out[0].mean, 0.6, 'mean');
    close(out[0].halfWidth, (12.706204736174698 * Math.sqrt(0.02)) / Math.SQRT2, 'half width', 1e-9);
  });

  it('pairCells matches cells and reports the unmatched ones', () => {
    const simclr = rows.filter((r) => r.method === 'simclr');
    const byol = rows.filter((r) => r.method === 'byol');
    const paired = pairCells(simclr, byol, ['seed', 'p'], 'f1');
    assert.deepEqual(paired.a, [0.5, 0.7]);
    assert.deepEqual(paired.b, [0.4, 0.45]);
    assert.deepEqual(paired.cells, ['[1,0.1]', '[2,0.1]']);
    assert.deepEqual(paired.unmatched, ['[3,0.1]', '[4,0.1]']);
    assert.throws(() => pairCells(rows, byol, ['p'], 'f1'), /cell \[0.1\] appears twice in rowsA/);
  });
});
