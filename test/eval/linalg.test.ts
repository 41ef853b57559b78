import { strict as assert } from 'assert';
import { cholesky, solveCholesky, symmetricEigen } from '../../lib/eval/linalg';
import { Rng } from '../../lib/data/rng';

describe('symmetricEigen on rank-deficient input', () => {
  it('converges when most eigenvalues sit at rounding noise (few surrogate classes in many dimensions)', () => {
    // A = Vᵀ V with V: 31 × 192, the shape of a between-class scatter with 32 classes of 192-d features.
    const rng = new Rng(3);
    const rank = 31;
    const m = 192;
    const v = Float64Array.from({ length: rank * m }, () => rng.normal());
    const a = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let r = 0; r < rank; r++) s += v[r * m + i] * v[r * m + j];
        a[i * m + j] = s;
      }
    }
    const { values } = symmetricEigen(a, m);
    let trace = 0;
    for (let i = 0; i < m; i++) trace += a[i * m + i];
    const sum = values.reduce((x, y) => x + y, 0);
    assert.ok(Math.abs(sum - trace) < 1e-9 * trace, `eigenvalues sum to the trace: ${sum} vs ${trace}`);
    const nonZero = Array.from(values).filter((x) => x > 1e-8 * values[0]).length;
    assert.equal(nonZero, rank);
  });
});

describe('solveCholesky', () => {
  it('solves A·x = b for a symmetric positive-definite A from its Cholesky factor', () => {
    const rng = new Rng(5);
    const m = 7;
    const v = Float64Array.from({ length: m * m }, () => rng.normal());
    const a = new Float64Array(m * m);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        let s = i === j ? 0.5 : 0;
        for (let k = 0; k < m; k++) s += v[k * m + i] * v[k * m + j];
        a[i * m + j] = s;
      }
    const b = Float64Array.from({ length: m }, () => rng.normal());
    const x = solveCholesky(cholesky(a, m), b, m);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += a[i * m + j] * x[j];
      assert.ok(Math.abs(s - b[i]) < 1e-9, `row ${i}: ${s} vs ${b[i]}`);
    }
  });
});
