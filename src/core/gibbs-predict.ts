/**
 * Prediction from a Gibbs chain (./gibbs.ts): the posterior predictive distribution of a rating,
 * approximated by the S post-burn-in samples s with predictions r̂_s and noise precisions α_s:
 *
 *   mean  r̄ = (1/S) Σ_s r̂_s
 *   var   σ² = (1/S) Σ_s (r̂_s − r̄)² + (1/S) Σ_s 1/α_s   (spread of the model + the noise)
 *
 * The central q-interval is r̄ ± z_q σ (z_q the standard normal quantile of (1 + q)/2): the
 * predictive is a mixture of normals, and with many samples the normal with its two moments is
 * close to it. Calibration = the share of held-out ratings inside each interval.
 *
 * Stored samples (for checkpoints) hold each kept draw's arrays in float32: prediction needs only
 * r̂ = μ₀ + b + c + u·v, and float32's 7 digits are far below the sampling noise of the average.
 */
import type { RatingList } from '../data/types.js';
import { predict } from './als.js';
import { choleskyFactor, choleskySolve } from './normal-equations.js';
import type { ModelState } from './types.js';

/** Nominal central interval levels reported by calibration. */
export const CALIBRATION_LEVELS = [0.5, 0.8, 0.95] as const;

/** Φ⁻¹((1 + q)/2) for q in CALIBRATION_LEVELS, and the general case by bisection on erf. */
export function centralIntervalZ(level: number): number {
  if (level === 0.5) return 0.6744897501960817;
  if (level === 0.8) return 1.2815515655446004;
  if (level === 0.95) return 1.959963984540054;
  if (!(level > 0 && level < 1))
    throw new RangeError(`interval level must be in (0, 1), got ${level}`);
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (erf(mid / Math.SQRT2) < level) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** erf by Abramowitz & Stegun 7.1.26 refined: |error| < 1.5e-7, enough for interval levels. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** Share of ratings inside each central interval: nominal level and measured share. */
export interface CalibrationRow {
  level: number;
  share: number;
}

/**
 * Running posterior predictive moments over a fixed list of ratings (the held-out set): add one
 * sample at a time; its state (the sums) is what a resumed chain needs to continue the curve.
 *
 * With a rating `scale`, the point prediction is the average of each sample's r̂ clamped to
 * [min, max] (as libFM's MCMC averages clamped predictions): a rating never lies outside the
 * scale, so clamping can only move a prediction closer (measured on ML-100K u1, latent, 500
 * samples: 0.9078 unclamped, 0.9073 clamping the average, 0.9067 clamping each sample). The sd
 * and the intervals use the unclamped moments, whose normal approximation is the one derived above.
 */
export class PredictiveAccumulator {
  readonly ratings: RatingList;
  readonly scale: { min: number; max: number } | null;
  /** Σ_s r̂_s, Σ_s r̂_s² of the draws and Σ_s clamp(r̂_s) of the point models per rating. */
  readonly sum: Float64Array;
  readonly sumSquares: Float64Array;
  readonly clampedSum: Float64Array;
  /** S and Σ_s 1/α_s. */
  count = 0;
  inverseAlphaSum = 0;

  constructor(
    ratings: RatingList,
    scale: { min: number; max: number } | null,
    state?: PredictiveSums,
  ) {
    this.ratings = ratings;
    this.scale = scale;
    if (state !== undefined) {
      if (
        state.sum.length !== ratings.length ||
        state.sumSquares.length !== ratings.length ||
        state.clampedSum.length !== ratings.length
      ) {
        throw new RangeError('the predictive sums do not match the held-out ratings');
      }
      this.sum = state.sum.slice();
      this.sumSquares = state.sumSquares.slice();
      this.clampedSum = state.clampedSum.slice();
      this.count = state.count;
      this.inverseAlphaSum = state.inverseAlphaSum;
    } else {
      this.sum = new Float64Array(ratings.length);
      this.sumSquares = new Float64Array(ratings.length);
      this.clampedSum = new Float64Array(ratings.length);
    }
  }

  /**
   * Adds the predictions of one sample: `draw` is the sample itself (its spread gives the sd),
   * `pointModel` the same sample with rows that have no training ratings at their conditional
   * mean (GibbsSampler.predictionModel; the draw itself when there are none), for the point
   * prediction.
   */
  add(draw: ModelState, alpha: number, pointModel: ModelState = draw): void {
    const { users, items, length } = this.ratings;
    const lo = this.scale?.min ?? -Infinity;
    const hi = this.scale?.max ?? Infinity;
    for (let e = 0; e < length; e++) {
      const p = predict(draw, users[e]!, items[e]!);
      this.sum[e]! += p;
      this.sumSquares[e]! += p * p;
      const q = pointModel === draw ? p : predict(pointModel, users[e]!, items[e]!);
      this.clampedSum[e]! += Math.min(hi, Math.max(lo, q));
    }
    this.count++;
    this.inverseAlphaSum += 1 / alpha;
  }

  /** The point prediction of rating e: the average of the (clamped, with a scale) point-model predictions. */
  mean(e: number): number {
    return this.clampedSum[e]! / this.count;
  }

  /** Posterior predictive sd of rating e: √(sample variance of r̂ + mean of 1/α). */
  sd(e: number): number {
    const m = this.sum[e]! / this.count;
    const spread = Math.max(0, this.sumSquares[e]! / this.count - m * m);
    return Math.sqrt(spread + this.inverseAlphaSum / this.count);
  }

  /** RMSE of the point prediction (`clamped` false: of the plain average). NaN before any sample, 0 for no ratings. */
  rmse(clamped = true): number {
    if (this.count === 0) return NaN;
    const n = this.ratings.length;
    const sums = clamped ? this.clampedSum : this.sum;
    let s = 0;
    for (let e = 0; e < n; e++) {
      const d = this.ratings.values[e]! - sums[e]! / this.count;
      s += d * d;
    }
    return n > 0 ? Math.sqrt(s / n) : 0;
  }

  /** Share of ratings inside each central predictive interval (normal with the unclamped moments). */
  calibration(levels: readonly number[] = CALIBRATION_LEVELS): CalibrationRow[] {
    const n = this.ratings.length;
    return levels.map((level) => {
      const z = centralIntervalZ(level);
      let inside = 0;
      for (let e = 0; e < n; e++)
        if (Math.abs(this.ratings.values[e]! - this.sum[e]! / this.count) <= z * this.sd(e))
          inside++;
      return { level, share: n > 0 ? inside / n : NaN };
    });
  }

  /** Copies of the sums (for a resume point). */
  sums(): PredictiveSums {
    return {
      sum: this.sum.slice(),
      sumSquares: this.sumSquares.slice(),
      clampedSum: this.clampedSum.slice(),
      count: this.count,
      inverseAlphaSum: this.inverseAlphaSum,
    };
  }
}

/** The running sums of a PredictiveAccumulator. */
export interface PredictiveSums {
  sum: Float64Array;
  sumSquares: Float64Array;
  clampedSum: Float64Array;
  count: number;
  inverseAlphaSum: number;
}

/** One stored draw, float32: what prediction needs. */
export interface StoredSample {
  /** The sample number in the chain (1-based). */
  sample: number;
  alpha: number;
  userFactors: Float32Array;
  userBias: Float32Array;
  itemFactors: Float32Array;
  itemBias: Float32Array;
  genreFactors: Float32Array;
  /**
   * The sample's user prior (μ_U, π_U; K + 1 each, float64): with the movies and α of the sample,
   * what folding in a new user needs (its conditional posterior given this sample).
   */
  userPriorMean: Float64Array;
  userPriorPrecision: Float64Array;
  /** The sample's movie prior (μ_V, π_V): the spread of a movie without training ratings. */
  itemPriorMean: Float64Array;
  itemPriorPrecision: Float64Array;
}

/**
 * A float32 copy of a sample for prediction (GibbsSampler.predictionModel: rows without ratings
 * at their conditional mean), with its priors for fold-in and for the sd of such rows.
 */
export function storeSample(
  model: ModelState,
  alpha: number,
  sample: number,
  userPrior: { mean: Float64Array; precision: Float64Array },
  itemPrior: { mean: Float64Array; precision: Float64Array },
): StoredSample {
  return {
    sample,
    alpha,
    userPriorMean: userPrior.mean.slice(),
    userPriorPrecision: userPrior.precision.slice(),
    itemPriorMean: itemPrior.mean.slice(),
    itemPriorPrecision: itemPrior.precision.slice(),
    userFactors: Float32Array.from(model.userFactors),
    userBias: Float32Array.from(model.userBias),
    itemFactors: Float32Array.from(model.itemFactors),
    itemBias: Float32Array.from(model.itemBias),
    genreFactors: Float32Array.from(model.genreFactors),
  };
}

/**
 * Posterior predictive of one rating from stored samples (see the top of this file): `mean` the point
 * prediction (average of per-sample clamped r̂ with a scale), `rawMean` and `sd` the unclamped
 * moments for intervals. Unknown ids contribute 0. `cold` says whether the user / the movie had no
 * training ratings (the caller knows the counts), so that its prior spread enters the sd.
 */
export function predictFromSamples(
  samples: readonly StoredSample[],
  globalMean: number,
  dim: number,
  numUsers: number,
  numItems: number,
  user: number,
  item: number,
  scale: { min: number; max: number } | null = null,
  cold: { user: boolean; item: boolean } | null = null,
): { mean: number; sd: number; rawMean: number } {
  const lo = scale?.min ?? -Infinity;
  const hi = scale?.max ?? Infinity;
  let clampedSum = 0;
  // A row without training ratings is stored at its prior mean; its prior spread comes back
  // analytically: Var(u·v + c) over v ~ N(m, diag(π_V)⁻¹), c ~ N(μ_c, 1/π_c) is Σ_k u_k²/π_V,k + 1/π_c.
  let coldVariance = 0;
  const knownUser = user >= 0 && user < numUsers;
  const knownItem = item >= 0 && item < numItems;
  let sum = 0;
  let sumSquares = 0;
  let inverseAlpha = 0;
  for (const s of samples) {
    let r = globalMean;
    if (knownUser) r += s.userBias[user]!;
    if (knownItem) r += s.itemBias[item]!;
    if (knownUser && knownItem) {
      const ou = user * dim;
      const ov = item * dim;
      for (let k = 0; k < dim; k++) r += s.userFactors[ou + k]! * s.itemFactors[ov + k]!;
    }
    sum += r;
    sumSquares += r * r;
    clampedSum += Math.min(hi, Math.max(lo, r));
    inverseAlpha += 1 / s.alpha;
    if (cold !== null && knownUser && knownItem) {
      if (cold.item) {
        for (let k = 0; k < dim; k++)
          coldVariance += s.userFactors[user * dim + k]! ** 2 / s.itemPriorPrecision[k]!;
        coldVariance += 1 / s.itemPriorPrecision[dim]!;
      }
      if (cold.user) {
        for (let k = 0; k < dim; k++)
          coldVariance += s.itemFactors[item * dim + k]! ** 2 / s.userPriorPrecision[k]!;
        coldVariance += 1 / s.userPriorPrecision[dim]!;
      }
    }
  }
  const S = samples.length;
  const rawMean = sum / S;
  return {
    mean: clampedSum / S,
    rawMean,
    sd: Math.sqrt(
      Math.max(0, sumSquares / S - rawMean * rawMean) + (inverseAlpha + coldVariance) / S,
    ),
  };
}

/** RMSE of the stored samples' point prediction (clamped per sample with a scale) on a list of ratings. */
export function rmseFromSamples(
  samples: readonly StoredSample[],
  globalMean: number,
  dim: number,
  numUsers: number,
  numItems: number,
  ratings: RatingList,
  scale: { min: number; max: number } | null = null,
): number {
  let s = 0;
  for (let e = 0; e < ratings.length; e++) {
    const d =
      ratings.values[e]! -
      predictFromSamples(
        samples,
        globalMean,
        dim,
        numUsers,
        numItems,
        ratings.users[e]!,
        ratings.items[e]!,
        scale,
      ).mean;
    s += d * d;
  }
  return ratings.length > 0 ? Math.sqrt(s / ratings.length) : 0;
}

/**
 * A new user's posterior predictive for every movie, from their ratings (`items` movie indexes,
 * unknown ones ignored) and the stored samples. Per sample s, with the sample's movies, α_s and
 * user prior (μ_U, π_U) fixed, the new row x̃ = [u; b] has the Gaussian conditional of the user
 * half-sweep (SamplingArgs in ./kernel.ts): A_s = α_s Σ ṽṽᵀ + diag(π_U), m_s = A_s⁻¹(α_s Σ t ṽ + π_U∘μ_U).
 * Rather than one draw of x̃ per sample, it is integrated out exactly (Rao–Blackwellised), so
 * the result has no extra Monte Carlo noise: for movie n with ṽ_n = [v_n; 1],
 *
 *   r̂_s = μ₀ + c_n + m_s·ṽ_n,   Var_s = ṽ_nᵀ A_s⁻¹ ṽ_n = ‖L_s⁻¹ ṽ_n‖²  (A_s = L_s L_sᵀ)
 *   mean = (1/S) Σ_s clamp(r̂_s),  sd² = sample variance of r̂_s + (1/S) Σ_s (Var_s + 1/α_s).
 *
 * For a user with no ratings this is the prior predictive (μ_U and π_U only).
 *
 * `taste` is the taste match of the folded-in user, averaged over the samples:
 *
 *   taste_n = (1/S) Σ_s (u_s − μ_{U,s})·v_{s,n} / ‖v_{s,n}‖   (u_s = the factor part of m_s; 0 where v = 0)
 *
 * Measured from the prior mean μ_U, the average user's taste: a new user shrinks towards μ_U (not
 * towards 0 as in the ALS fold-in), and μ_U points at what everyone likes, so u_s itself would
 * rank the all-time favourites again; u_s − μ_U is what the given ratings add.
 *
 * It is taken per sample, not on the posterior-mean factors: u·v/‖v‖ is invariant to a rotation
 * of the factor space, which the chain drifts through from sample to sample, while averaging the
 * factors first mixes differently rotated samples and shrinks them towards zero.
 */
export function foldInUserPredictive(
  samples: readonly StoredSample[],
  globalMean: number,
  dim: number,
  numItems: number,
  items: Int32Array,
  values: Float32Array,
  scale: { min: number; max: number } | null = null,
): { mean: Float64Array; sd: Float64Array; taste: Float64Array } {
  const K = dim;
  const n = K + 1;
  const tasteSum = new Float64Array(numItems);
  const lo = scale?.min ?? -Infinity;
  const hi = scale?.max ?? Infinity;
  const sum = new Float64Array(numItems);
  const sumSquares = new Float64Array(numItems);
  const clampedSum = new Float64Array(numItems);
  let varianceSum = 0;
  const extraVariance = new Float64Array(numItems);
  const tri = new Float64Array((n * (n + 1)) / 2);
  const rhs = new Float64Array(n);
  const inverseDiagonal = new Float64Array(n);
  const w = new Float64Array(n);
  for (const s of samples) {
    tri.fill(0);
    rhs.fill(0);
    for (let e = 0; e < items.length; e++) {
      const j = items[e]!;
      if (j < 0 || j >= numItems) continue;
      const t = values[e]! - globalMean - s.itemBias[j]!;
      // ṽ = [v_j; 1]; packed upper triangle (column c holds rows 0..c).
      for (let c = 0; c < n; c++) {
        const vc = c < K ? s.itemFactors[j * K + c]! : 1;
        const col = (c * (c + 1)) / 2;
        for (let r = 0; r <= c; r++)
          tri[col + r]! += s.alpha * vc * (r < K ? s.itemFactors[j * K + r]! : 1);
        rhs[c]! += s.alpha * t * vc;
      }
    }
    for (let c = 0; c < n; c++) {
      tri[(c * (c + 3)) / 2]! += s.userPriorPrecision[c]!;
      rhs[c]! += s.userPriorPrecision[c]! * s.userPriorMean[c]!;
    }
    if (!choleskyFactor(tri, n, inverseDiagonal))
      throw new RangeError('fold-in: the posterior precision is not positive definite');
    choleskySolve(tri, n, rhs, inverseDiagonal); // rhs = m_s
    for (let item = 0; item < numItems; item++) {
      let dot = 0;
      let tasteDot = 0;
      let normSquared = 0;
      for (let k = 0; k < K; k++) {
        const v = s.itemFactors[item * K + k]!;
        dot += rhs[k]! * v;
        tasteDot += (rhs[k]! - s.userPriorMean[k]!) * v;
        normSquared += v * v;
      }
      const r = globalMean + s.itemBias[item]! + rhs[K]! + dot;
      if (normSquared > 0) tasteSum[item]! += tasteDot / Math.sqrt(normSquared);
      // w = L⁻¹ ṽ (forward substitution over the packed rows of L), Var_s = ‖w‖².
      let quad = 0;
      for (let i = 0; i < n; i++) {
        const rowI = (i * (i + 1)) / 2;
        let acc = i < K ? s.itemFactors[item * K + i]! : 1;
        for (let k = 0; k < i; k++) acc -= tri[rowI + k]! * w[k]!;
        w[i] = acc * inverseDiagonal[i]!;
        quad += w[i]! * w[i]!;
      }
      sum[item]! += r;
      sumSquares[item]! += r * r;
      clampedSum[item]! += Math.min(hi, Math.max(lo, r));
      extraVariance[item]! += quad;
    }
    varianceSum += 1 / s.alpha;
  }
  const S = samples.length;
  const mean = new Float64Array(numItems);
  const sd = new Float64Array(numItems);
  const taste = new Float64Array(numItems);
  for (let item = 0; item < numItems; item++) {
    taste[item] = tasteSum[item]! / S;
    const m = sum[item]! / S;
    mean[item] = clampedSum[item]! / S;
    sd[item] = Math.sqrt(
      Math.max(0, sumSquares[item]! / S - m * m) + (extraVariance[item]! + varianceSum) / S,
    );
  }
  return { mean, sd, taste };
}

/**
 * A training user's taste match with every movie from their stored draws, averaged over the
 * samples: taste_n = (1/S) Σ_s (u_s − μ_{U,s})·v_{s,n} / ‖v_{s,n}‖ (0 where v = 0; measured from
 * the average user's taste and taken per sample, as explained at foldInUserPredictive).
 */
export function storedUserTaste(
  samples: readonly StoredSample[],
  dim: number,
  numItems: number,
  userIndex: number,
): Float64Array {
  const K = dim;
  const taste = new Float64Array(numItems);
  if (K === 0 || samples.length === 0) return taste;
  for (const s of samples) {
    const u0 = userIndex * K;
    for (let item = 0; item < numItems; item++) {
      let dot = 0;
      let normSquared = 0;
      for (let k = 0; k < K; k++) {
        const v = s.itemFactors[item * K + k]!;
        dot += (s.userFactors[u0 + k]! - s.userPriorMean[k]!) * v;
        normSquared += v * v;
      }
      if (normSquared > 0) taste[item]! += dot / Math.sqrt(normSquared);
    }
  }
  for (let item = 0; item < numItems; item++) taste[item]! /= samples.length;
  return taste;
}
