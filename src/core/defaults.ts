import type { Hyperparameters } from './types.js';

/**
 * Default hyperparameters of `als train` (provisional: the write-up's λ = 1, τ = 10; see the
 * accuracy benchmark src/bench/accuracy.ts for the measurements that choose them).
 */
export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  kind: 'latent',
  dim: 30,
  lambda: 1,
  tau: 10,
  gamma: 10,
  genreTau: 10,
  weightedRegularization: false,
});
