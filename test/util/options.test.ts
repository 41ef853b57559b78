import { strict as assert } from 'assert';
import { withDefaults } from '../../lib/util/options';

describe('withDefaults', () => {
  it('keeps a default where the option is explicitly undefined, and takes every defined option', () => {
    const merged = withDefaults({ depth: 12, numHeads: 12, init: 'mae' }, { numHeads: undefined, depth: 6, extra: 0 });
    assert.deepEqual(merged, { depth: 6, numHeads: 12, init: 'mae', extra: 0 });
  });

  it('keeps falsy but defined options (0, false, empty string, null)', () => {
    const merged = withDefaults({ a: 1, b: true, c: 'x', d: 'y' as string | null }, { a: 0, b: false, c: '', d: null });
    assert.deepEqual(merged, { a: 0, b: false, c: '', d: null });
  });

  it('does not modify its arguments', () => {
    const defaults = { a: 1 };
    const options = { a: 2 };
    withDefaults(defaults, options);
    assert.deepEqual([defaults, options], [{ a: 1 }, { a: 2 }]);
  });
});
