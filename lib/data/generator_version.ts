/**
 * Version of the procedural sewer generator (`lib/data/synthetic.ts`). Bump it whenever a frame would come out
 * different: the dataset folder is regenerated, decoded-image caches change key, and run ids change, so results
 * trained on an older dataset are never mistaken for current ones.
 */
export const SYNTHETIC_GENERATOR_VERSION = 3;
