/**
 * Self-supervised and supervised losses as pure functions of tensors (docs/reference.md §5–6).
 *
 * @example
 *   import { ntXentLoss, weightedBce } from '../losses';
 *   const loss = tf.tidy(() => ntXentLoss(z1, z2, 0.2).add(weightedBce(logits, labels, posWeight)));
 */
export { ntXentLoss } from './ntXent';
export { byolLoss } from './byol';
export { barlowTwinsLoss } from './barlowTwins';
export { dinoLoss, dinoTeacherTemp } from './dino';
export type { DinoLossResult } from './dino';
export { maePixelLoss } from './maePixel';
export { weightedBce } from './weightedBce';
export { stopGradient } from './stopGradient';
