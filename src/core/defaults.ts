import type { Hyperparameters, ModelKind } from './types.js';

/**
 * The model `als train` fits when no kind is given: the genre model, the latent model plus a genre
 * prior on each movie's factor; it measured better on every count we have (docs/defaults.md). On a
 * data set without genres it reduces to the latent model.
 */
export const DEFAULT_MODEL_KIND: ModelKind = 'genre';

/**
 * Default hyperparameters of `als train` (every model kind; the model kind itself is
 * DEFAULT_MODEL_KIND above): count-weighted regularisation of the factors with a square-root
 * weight, τ_r = τ·√n_r for a user or movie with n_r training ratings (weight exponent a = 1/2;
 * ALS-WR is a = 1), τ = 1.3, a constant bias ridge γ = 3 (not count-scaled), λ = 1, τ_g = 100,
 * dim 30. Why √n_r: the data term of a row grows like λ n_r, so ALS-WR's τ n_r shrinks a row with
 * 30,000 ratings as hard as one with 20 and the model stops improving with more data (32M-shaped
 * set: 0.872 held-out after 8 epochs), while a constant ridge overfits the light rows of the
 * small sets; τ√n_r lets the shrinkage fade as 1/√n_r. Measured (docs/defaults.md, "At 32M
 * ratings"): 32M-shaped 0.821 after 8 epochs; ML-100K u1 latent 0.920 / genre 0.914 (ALS-WR
 * 0.925 / 0.920); ml-latest-small random:0.1 0.838 / 0.821 (0.843 / 0.829).
 */
export const DEFAULT_HYPERPARAMETERS: Readonly<Hyperparameters> = Object.freeze({
  kind: DEFAULT_MODEL_KIND,
  dim: 30,
  lambda: 1,
  tau: 1.3,
  gamma: 3,
  genreTau: 100,
  weightedRegularization: true,
  weightedBiasRegularization: false,
  weightExponent: 0.5,
});

/**
 * The defaults for one model kind. The bias model has no factors, and ALS-WR's count-scaled γ
 * only shrinks every bias by the same factor 1/(1 + γ), which fits worse than a plain ridge that
 * shrinks rarely-rated users and movies more: the bias model defaults to plain γ = 3
 * (ML-100K u1 0.954 vs 0.956 with ALS-WR; ml-latest-small random:0.1 0.858 vs 0.871;
 * γ = 0.3, 1, 5 measured 0.955/0.867, 0.954/0.860, 0.955/0.860).
 */
export function defaultHyperparameters(kind: ModelKind): Hyperparameters {
  if (kind === 'bias')
    return {
      ...DEFAULT_HYPERPARAMETERS,
      kind,
      dim: 0,
      gamma: 3,
      weightedRegularization: false,
      weightedBiasRegularization: false,
    };
  return { ...DEFAULT_HYPERPARAMETERS, kind };
}
