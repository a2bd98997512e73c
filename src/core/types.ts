/**
 * Shapes shared by the ALS core, the trainer, checkpoints and recommendations.
 *
 * Prediction (global mean kept apart from the biases):
 *   r̂(m,n) = μ + b_m + c_n + u_m · v_n
 * Loss minimised by the alternation:
 *   L = (λ/2) Σ_(m,n)∈train (r − r̂)² + (τ/2)(Σ‖u_m‖² + Σ‖v_n − p_n‖²) + (γ/2)(Σ b_m² + Σ c_n²)
 *       [+ (τ_g/2) Σ_g ‖f_g‖² for the genre model]
 * where p_n = 0 for the bias and latent models and p_n = (1/√|G_n|) Σ_(g∈G_n) f_g for the genre model.
 * With `weightedRegularization` (ALS-WR), τ of a user or movie is multiplied by s = max(1, n)^a,
 * n its number of training ratings and a = `weightExponent` (unset: 1); so is γ unless
 * `weightedBiasRegularization` is false (unset: same as `weightedRegularization`). With a constant γ the bias term is (γ/2)(Σ b_m² + Σ c_n²),
 * count-scaled it is (γ/2)(Σ s_m b_m² + Σ s_n c_n²).
 */

export type ModelKind = 'bias' | 'latent' | 'genre';

/** Every model kind, in the order the help lists them. */
export const MODEL_KINDS = ['bias', 'latent', 'genre'] as const satisfies readonly ModelKind[];

export interface Hyperparameters {
  kind: ModelKind;
  /** Latent dimension K (0 for the bias model). */
  dim: number;
  /** λ: weight of the squared errors. */
  lambda: number;
  /** τ: ridge on the factors (pulls u to 0 and v to its prior mean p_n). */
  tau: number;
  /** γ: ridge on the biases. */
  gamma: number;
  /** τ_g: ridge on the genre embeddings (genre model only). */
  genreTau: number;
  /** ALS-WR: scale τ (and γ, see below) of each row by its rating count. */
  weightedRegularization: boolean;
  /**
   * Scale γ by each row's rating count too. Unset: same as `weightedRegularization` (how every
   * model was trained before this field existed, so old checkpoints keep their meaning). False
   * keeps the bias ridge constant, so rarely-rated movies' biases are shrunk hard.
   */
  weightedBiasRegularization?: boolean;
  /**
   * a, the exponent of the count weighting: s_r = max(1, n_r)^a (ALS-WR is a = 1). Unset: 1, how
   * every model was trained before this field existed. 0 < a < 1 lets the ridge of a heavily rated
   * row grow slower than its data, so it is shrunk less (see docs/defaults.md, "At 32M ratings").
   */
  weightExponent?: number;
}

/** The learned parameters. Factor matrices are row-major: row r occupies [r*dim, (r+1)*dim). */
export interface ModelState {
  hyper: Hyperparameters;
  numUsers: number;
  numItems: number;
  /** μ: mean training rating. */
  globalMean: number;
  userBias: Float64Array;
  itemBias: Float64Array;
  /** numUsers × dim (empty for the bias model). */
  userFactors: Float64Array;
  /** numItems × dim (empty for the bias model). */
  itemFactors: Float64Array;
  /** numGenres × dim for the genre model, else empty. */
  genreFactors: Float64Array;
}

/** One line of the training history: what `als train` prints, checkpoints store and plots draw. */
export interface EpochMetrics {
  /** 1-based epoch number. */
  epoch: number;
  /** The loss L above (negative log-likelihood up to constants) on the training ratings. */
  loss: number;
  trainRmse: number;
  /** RMSE on the held-out ratings, null when the split has none. */
  validationRmse: number | null;
  /** Wall time of the epoch's updates (not of the metrics). */
  elapsedMs: number;
}
