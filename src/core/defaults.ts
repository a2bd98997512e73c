import type { Hyperparameters, ModelKind } from './types.js';

/**
 * The model `als train` fits when no kind is given: the genre model, the latent model plus a genre
 * prior on each movie's factor; it measured better on every count we have (docs/defaults.md). On a
 * data set without genres it reduces to the latent model.
 */
export const DEFAULT_MODEL_KIND: ModelKind = 'genre';

/**
 * Default hyperparameters of `als train` (every model kind; the model kind itself is
 * DEFAULT_MODEL_KIND above): ALS-WR weighted regularisation of the factors (each user's and movie's
 * τ multiplied by its number of training ratings) with a constant bias ridge γ = 3 (not
 * count-scaled), λ = 1, τ = 0.12, τ_g = 100, dim 30. The measurements behind each value
 * (`node dist/bench/accuracy.js`, ML-100K u1 and ml-latest-small) are in docs/defaults.md.
 */
export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  kind: DEFAULT_MODEL_KIND,
  dim: 30,
  lambda: 1,
  tau: 0.12,
  gamma: 3,
  genreTau: 100,
  weightedRegularization: true,
  weightedBiasRegularization: false,
  weightExponent: 1,
});

/**
 * The defaults for one model kind. The bias model has no factors, and ALS-WR's count-scaled γ
 * only shrinks every bias by the same factor 1/(1 + γ), which fits worse than a plain ridge that
 * shrinks rarely-rated users and movies more: the bias model defaults to plain γ = 3
 * (ML-100K u1 0.954 vs 0.956 with ALS-WR; ml-latest-small random:0.1 0.858 vs 0.871;
 * γ = 0.3, 1, 5 measured 0.955/0.867, 0.954/0.860, 0.955/0.860).
 */
export function defaultHyperparameters(kind: ModelKind): Hyperparameters {
  if (kind === 'bias') return { ...DEFAULT_HYPERPARAMETERS, kind, dim: 0, gamma: 3, weightedRegularization: false, weightedBiasRegularization: false };
  return { ...DEFAULT_HYPERPARAMETERS, kind };
}

