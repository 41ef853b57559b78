/**
 * Option objects with defaults, where an explicit `undefined` keeps the default.
 *
 * A plain spread `{ numHeads: 12, ...options }` lets `options.numHeads === undefined` replace the 12, which
 * silently built the MAE encoder with the ViT's fallback of 3 heads. This sits below every other layer and
 * imports nothing.
 *
 * @example
 *   withDefaults({ depth: 12, numHeads: 12 }, { numHeads: undefined, depth: 6 });   // { depth: 6, numHeads: 12 }
 */

/** `defaults` overlaid with every field of `options` whose value is not `undefined`. */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) merged[key] = value;
  }
  return merged as D & O;
}
