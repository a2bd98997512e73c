import type { Hyperparameters, ModelKind } from './types.js';

/**
 * Default hyperparameters of `als train`: ALS-WR weighted regularisation (each user's and movie's
 * τ and γ multiplied by its number of training ratings), λ = 1, τ = γ = 0.12, τ_g = 100, dim 30.
 *
 * Why (measured with `node dist/bench/accuracy.js`, dim 30, seed 1; see the project notes):
 * - The write-up's plain λ = 1, τ = 10 overfits the small sets: on ML-100K u1 the latent model's
 *   held-out RMSE is best after ~3 epochs (0.929) and worse after 25 (0.933–0.936), so the
 *   result depends on when one stops. With ALS-WR the held-out RMSE decreases to a plateau
 *   (0.926 on u1, 0.847 on ml-latest-small random:0.1 after 40 epochs), so 100 epochs are safe.
 * - τ = 0.12 is the best of the grid 0.02 … 0.2 on both sets. γ = 0.5 hurts (under ALS-WR a bias
 *   is shrunk by the constant factor 1/(1 + γ)); γ = 0.06 is slightly better on u1 (0.925) and
 *   slightly worse on ml-latest-small (0.849), so γ = τ keeps one number to tune.
 * - τ_g: under ALS-WR a genre's embedding is pulled towards its movies with weight τ Σ_n s_n/|G_n|
 *   (thousands of ratings), so τ_g = 1 barely regularises it and the genre model overfits after a
 *   few epochs (u1 0.926 at epoch 4, 0.973 at 40); τ_g = 10⁴ over-shrinks. τ_g = 30 / 100 / 300
 *   give u1 0.934 / 0.922 / 0.920, latest-small 0.834 / 0.832 / 0.836, and on cold-items:0.1
 *   (unseen movies) 0.907 / 0.911 / – against 0.934 for the bias model: 100 is the compromise.
 */
export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  kind: 'latent',
  dim: 30,
  lambda: 1,
  tau: 0.12,
  gamma: 0.12,
  genreTau: 100,
  weightedRegularization: true,
});

/**
 * The defaults for one model kind. The bias model has no factors, and ALS-WR's count-scaled γ
 * only shrinks every bias by the same factor 1/(1 + γ), which fits worse than a plain ridge that
 * shrinks rarely-rated users and movies more: the bias model defaults to plain γ = 3
 * (ML-100K u1 0.954 vs 0.956 with ALS-WR; ml-latest-small random:0.1 0.858 vs 0.871;
 * γ = 0.3, 1, 5 measured 0.955/0.867, 0.954/0.860, 0.955/0.860).
 */
export function defaultHyperparameters(kind: ModelKind): Hyperparameters {
  if (kind === 'bias') return { ...DEFAULT_HYPERPARAMETERS, kind, dim: 0, gamma: 3, weightedRegularization: false };
  return { ...DEFAULT_HYPERPARAMETERS, kind };
}

/**
 * The model `als train` fits when --model is not given: the genre model. It is the latent model
 * plus a genre prior on each movie's factor, and it measured better on every count we have
 * (dim 30, defaults above, 100 epochs, seed 1): held-out RMSE on ML-100K u1 0.922 vs 0.926 and on
 * ml-latest-small random:0.1 0.832 vs 0.846; unseen movies (cold-items:0.1) 0.911 vs 0.940; and
 * its single-title recommendation lists are the write-up's kind (liked "Toy Story" → Toy Story 3,
 * Monsters, Inc., Finding Nemo, Toy Story 2 …; the latent model's list drifts to Speed and It's a
 * Wonderful Life). On a data set without genres it reduces to the latent model.
 */
export const DEFAULT_MODEL_KIND: ModelKind = 'genre';
