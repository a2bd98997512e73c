/**
 * The ALS model outside the hot half-epoch kernel: initialisation, the genre embeddings' closed-form
 * update, prediction, the loss and RMSE, and folding in a new user or movie.
 *
 * Notation (as in ./types.ts): user m has factor u_m and bias b_m, movie n has v_n and c_n, μ is the
 * mean training rating, and r̂(m,n) = μ + b_m + c_n + u_m·v_n. The loss is
 *
 *   L = (λ/2) Σ_(m,n)∈train (r − r̂)² + (τ/2)(Σ_m s_m‖u_m‖² + Σ_n s_n‖v_n − p_n‖²)
 *       + (γ/2)(Σ_m s'_m b_m² + Σ_n s'_n c_n²) [+ (τ_g/2) Σ_g ‖f_g‖²]
 *
 * with s = max(1, number of training ratings) under ALS-WR weighted regularisation, else s = 1;
 * s' = s only with `weightedBiasRegularization` (count-scaled γ), else s' = 1 — the default keeps
 * γ constant (see ./defaults.ts); and p_n = (1/√|G_n|) Σ_(g∈G_n) f_g for the genre model (0 otherwise).
 *
 * One epoch of alternating least squares (see ./trainer.ts):
 *   1. every user row: (u_m, b_m) ← argmin L with movies fixed     (kernel, ./kernel-ts.ts)
 *   2. every movie row: (v_n, c_n) ← argmin L with users and F fixed (kernel, with priors p_n)
 *   3. genre model: F ← argmin L over (F, v of unrated movies) with the rest fixed (below), then
 *      p_n = (W F)_n and unrated movies take v_n = p_n, c_n = 0.
 * Each step minimises L exactly over its block, so L never increases.
 */
import type { RatingList, RatingMatrix } from '../data/types.js';
import { createTsSolveRows } from './kernel-ts.js';
import { biasRidgeWeighted, countScale, type HalfEpochArgs, type SolveRows } from './kernel.js';
import { choleskyFactor, choleskySolve, packedLength } from './normal-equations.js';
import { Random } from './random.js';
import type { Hyperparameters, ModelState } from './types.js';

/** Movie → genres as a CSR: genre ids of movie n are ids[offsets[n] .. offsets[n+1]). */
export interface ItemGenres {
  offsets: Int32Array;
  ids: Int32Array;
  numGenres: number;
}

/** Standard deviation of the initial factors. Small, so the first user solve sees near-zero
 * movie factors and starts from the biases; not zero, or every factor would stay zero (the
 * normal equations' right-hand side is λ Σ t y, which vanishes when all y = 0). */
export const INITIAL_FACTOR_STD = 0.1;

/** Mean of the training ratings (μ); 0 for an empty matrix. */
export function meanRating(matrix: RatingMatrix): number {
  const values = matrix.ratingsByUser.values;
  const n = matrix.numRatings;
  let sum = 0;
  for (let e = 0; e < n; e++) sum += values[e]!;
  return n > 0 ? sum / n : 0;
}

/**
 * A fresh model: biases 0, μ = `globalMean` (the training mean), factors drawn i.i.d.
 * N(0, 0.1²) from `seed` in a fixed order (user factors, movie factors, genre embeddings), so the
 * same seed always gives the same start.
 */
export function initModel(
  hyper: Hyperparameters,
  numUsers: number,
  numItems: number,
  numGenres: number,
  seed: number,
  globalMean = 0,
): ModelState {
  const K = hyper.kind === 'bias' ? 0 : hyper.dim;
  const rng = new Random(seed);
  const gaussian = (length: number): Float64Array => {
    const a = new Float64Array(length);
    for (let i = 0; i < length; i++) a[i] = INITIAL_FACTOR_STD * rng.nextGaussian();
    return a;
  };
  return {
    hyper: { ...hyper, dim: K },
    numUsers,
    numItems,
    globalMean,
    userBias: new Float64Array(numUsers),
    itemBias: new Float64Array(numItems),
    userFactors: gaussian(numUsers * K),
    itemFactors: gaussian(numItems * K),
    genreFactors: hyper.kind === 'genre' ? gaussian(numGenres * K) : new Float64Array(0),
  };
}

/** The regularisation scale s = max(1, n)^a of a row with n = `count` training ratings (1 unweighted; see ./kernel.ts). */
export function regularizationScale(count: number, weighted: boolean, exponent?: number): number {
  return countScale(count, weighted, exponent);
}

/**
 * Genre prior means p_n = (1/√|G_n|) Σ_(g∈G_n) f_g, written into `out` (numItems × K).
 * A movie with no genres gets p_n = 0.
 */
export function computeGenrePriors(
  genreFactors: Float64Array,
  dim: number,
  itemGenres: ItemGenres,
  numItems: number,
  out: Float64Array,
): void {
  const { offsets, ids } = itemGenres;
  for (let n = 0; n < numItems; n++) {
    const base = n * dim;
    out.fill(0, base, base + dim);
    const start = offsets[n]!;
    const end = offsets[n + 1]!;
    if (end === start) continue;
    const w = 1 / Math.sqrt(end - start);
    for (let e = start; e < end; e++) {
      const g = ids[e]! * dim;
      for (let k = 0; k < dim; k++) out[base + k]! += w * genreFactors[g + k]!;
    }
  }
}

/**
 * The closed-form genre update. With W the N×G matrix w_ng = 1/√|G_n| for g ∈ G_n (else 0) and
 * S = diag(s_n), the part of L that depends on F is
 *
 *   (τ/2) Σ_n s_n ‖v_n − (W F)_n‖² + (τ_g/2) ‖F‖²_F
 *
 * whose minimiser solves the G×G symmetric positive definite system with K right-hand sides
 *
 *   (τ Wᵀ S W + τ_g I) F = τ Wᵀ S V.
 *
 * Movies without training ratings are left out of the sums: their v_n is free and is set to
 * (W F)_n right after, which zeroes their term, so this is the exact minimiser over F and those
 * v_n jointly (and L still cannot increase). Movies without genres have w_n = 0 and drop out too.
 * Writes F into `genreFactors` (G × K). Needs τ_g > 0 or every genre to be used.
 */
export function updateGenreFactors(
  itemFactors: Float64Array,
  itemCounts: Int32Array,
  dim: number,
  tau: number,
  genreTau: number,
  weighted: boolean,
  itemGenres: ItemGenres,
  genreFactors: Float64Array,
  weightExponent?: number,
): void {
  createGenreUpdate(itemGenres, itemCounts, dim, {
    tau,
    genreTau,
    weightedRegularization: weighted,
    weightExponent,
  }).updateFactors(itemFactors, genreFactors);
}

/** The genre model's per-epoch steps, with everything that does not change between epochs done once. */
export interface GenreUpdate {
  /** updateGenreFactors: F ← (τ Wᵀ S W + τ_g I)⁻¹ τ Wᵀ S V, written into `genreFactors`. */
  updateFactors(itemFactors: Float64Array, genreFactors: Float64Array): void;
  /** computeGenrePriors: p_n = (W F)_n into `out` (numItems × K), bit for bit the same numbers. */
  computePriors(genreFactors: Float64Array, out: Float64Array): void;
}

/**
 * The genre update of a training run. The matrix τ Wᵀ S W + τ_g I depends only on the movies'
 * genres and training counts, so it is built and Cholesky-factored once here; an epoch then only
 * accumulates the right-hand side τ Wᵀ S V (same order, same numbers as updateGenreFactors always
 * did) and solves. The priors p_n depend only on a movie's genre list, and far fewer distinct lists
 * than movies occur (about 950 among ml-latest-small's 9,742 movies): each list's p is computed
 * once per epoch, in the same order of additions as computeGenrePriors, and copied to its movies.
 */
export function createGenreUpdate(
  itemGenres: ItemGenres,
  itemCounts: Int32Array,
  dim: number,
  hyper: Pick<Hyperparameters, 'tau' | 'genreTau' | 'weightedRegularization' | 'weightExponent'>,
): GenreUpdate {
  const G = itemGenres.numGenres;
  const { offsets, ids } = itemGenres;
  const numItems = offsets.length - 1;
  const { tau, genreTau, weightedRegularization: weighted, weightExponent } = hyper;

  // τ Wᵀ S W + τ_g I (packed upper triangle), and the movies in the sums (rated, with genres)
  // with their weight τ s_n w_n in the right-hand side.
  const tri = new Float64Array(packedLength(G));
  const summed: number[] = [];
  const rhsWeight = new Float64Array(numItems);
  for (let n = 0; n < numItems; n++) {
    const count = itemCounts[n + 1]! - itemCounts[n]!;
    const start = offsets[n]!;
    const end = offsets[n + 1]!;
    if (count === 0 || end === start) continue;
    const s = regularizationScale(count, weighted, weightExponent);
    const w = 1 / Math.sqrt(end - start);
    const ww = tau * s * w * w;
    summed.push(n);
    rhsWeight[n] = tau * s * w;
    for (let a = start; a < end; a++) {
      const ga = ids[a]!;
      for (let b = start; b < end; b++) {
        const gb = ids[b]!;
        if (ga <= gb) tri[(gb * (gb + 1)) / 2 + ga]! += ww;
      }
    }
  }
  for (let g = 0; g < G; g++) tri[(g * (g + 3)) / 2]! += genreTau;
  const inverseDiagonal = new Float64Array(G);
  const factored = G > 0 && choleskyFactor(tri, G, inverseDiagonal);
  const rhs = new Float64Array(G * dim); // τ Wᵀ S V, row g = genre g
  const column = new Float64Array(G);

  // Distinct genre lists (as id sequences): list l has the ids
  // listIds[listOffsets[l] .. listOffsets[l+1]), movie n has list listOf[n].
  const listOf = new Int32Array(numItems);
  const listOffsetsFound: number[] = [0];
  const listIdsFound: number[] = [];
  const seen = new Map<string, number>();
  for (let n = 0; n < numItems; n++) {
    const key = ids.subarray(offsets[n]!, offsets[n + 1]!).join(',');
    let list = seen.get(key);
    if (list === undefined) {
      list = listOffsetsFound.length - 1;
      seen.set(key, list);
      for (let e = offsets[n]!; e < offsets[n + 1]!; e++) listIdsFound.push(ids[e]!);
      listOffsetsFound.push(listIdsFound.length);
    }
    listOf[n] = list;
  }
  const listOffsets = Int32Array.from(listOffsetsFound);
  const listIds = Int32Array.from(listIdsFound);
  const numLists = listOffsets.length - 1;
  const listPriors = new Float64Array(numLists * dim);

  return {
    updateFactors(itemFactors, genreFactors) {
      if (G === 0 || dim === 0) return;
      if (!factored) {
        genreFactors.fill(NaN);
        return;
      }
      rhs.fill(0);
      // Movie n adds t = τ s_n w_n v_n to the row of each of its genres. For one to three genres
      // t is formed once per k and added to each row (the same numbers in the same order).
      for (let i = 0; i < summed.length; i++) {
        const n = summed[i]!;
        const wv = rhsWeight[n]!;
        const v = n * dim;
        const start = offsets[n]!;
        const end = offsets[n + 1]!;
        if (end - start === 1) {
          const r0 = ids[start]! * dim;
          for (let k = 0; k < dim; k++) rhs[r0 + k]! += wv * itemFactors[v + k]!;
        } else if (end - start === 2) {
          const r0 = ids[start]! * dim;
          const r1 = ids[start + 1]! * dim;
          for (let k = 0; k < dim; k++) {
            const t = wv * itemFactors[v + k]!;
            rhs[r0 + k]! += t;
            rhs[r1 + k]! += t;
          }
        } else if (end - start === 3) {
          const r0 = ids[start]! * dim;
          const r1 = ids[start + 1]! * dim;
          const r2 = ids[start + 2]! * dim;
          for (let k = 0; k < dim; k++) {
            const t = wv * itemFactors[v + k]!;
            rhs[r0 + k]! += t;
            rhs[r1 + k]! += t;
            rhs[r2 + k]! += t;
          }
        } else {
          for (let a = start; a < end; a++) {
            const row = ids[a]! * dim;
            for (let k = 0; k < dim; k++) rhs[row + k]! += wv * itemFactors[v + k]!;
          }
        }
      }
      // One solve per latent coordinate k: column k of F.
      for (let k = 0; k < dim; k++) {
        for (let g = 0; g < G; g++) column[g] = rhs[g * dim + k]!;
        choleskySolve(tri, G, column, inverseDiagonal);
        for (let g = 0; g < G; g++) genreFactors[g * dim + k] = column[g]!;
      }
    },
    computePriors(genreFactors, out) {
      for (let l = 0; l < numLists; l++) {
        const base = l * dim;
        const start = listOffsets[l]!;
        const end = listOffsets[l + 1]!;
        for (let k = 0; k < dim; k++) listPriors[base + k] = 0;
        if (end === start) continue;
        const w = 1 / Math.sqrt(end - start);
        for (let e = start; e < end; e++) {
          const g = listIds[e]! * dim;
          for (let k = 0; k < dim; k++) listPriors[base + k]! += w * genreFactors[g + k]!;
        }
      }
      for (let n = 0; n < numItems; n++) {
        const from = listOf[n]! * dim;
        const to = n * dim;
        for (let k = 0; k < dim; k++) out[to + k] = listPriors[from + k]!;
      }
    },
  };
}

/**
 * Cold start after a genre update: every movie without training ratings takes its prior mean,
 * v_n = p_n, c_n = 0 (the minimiser of its only loss term). For the latent model (priors null) it
 * gets v_n = 0, c_n = 0, so its prediction is μ + b_m.
 */
export function applyColdStart(
  itemFactors: Float64Array,
  itemBias: Float64Array,
  itemCounts: Int32Array,
  dim: number,
  priors: Float64Array | null,
): void {
  const numItems = itemCounts.length - 1;
  for (let n = 0; n < numItems; n++) {
    if (itemCounts[n + 1]! !== itemCounts[n]!) continue;
    const base = n * dim;
    if (priors === null) itemFactors.fill(0, base, base + dim);
    else for (let k = 0; k < dim; k++) itemFactors[base + k] = priors[base + k]!;
    itemBias[n] = 0;
  }
}

/** The parts of a model a prediction reads (a ModelState, or views of a trainer's arena). */
export type PredictingModel = Pick<
  ModelState,
  'numUsers' | 'numItems' | 'globalMean' | 'userBias' | 'itemBias' | 'userFactors' | 'itemFactors'
> & { hyper: { dim: number } };

/**
 * r̂(m,n) = μ + b_m + c_n + u_m·v_n. A user or movie outside the model contributes nothing
 * (its bias and factor are taken as 0), so the prediction falls back to μ plus whatever is known;
 * never NaN for a finite model.
 */
export function predict(model: PredictingModel, user: number, item: number): number {
  const K = model.hyper.dim;
  const knownUser = user >= 0 && user < model.numUsers;
  const knownItem = item >= 0 && item < model.numItems;
  let r = model.globalMean;
  if (knownUser) r += model.userBias[user]!;
  if (knownItem) r += model.itemBias[item]!;
  if (knownUser && knownItem && K > 0) {
    const u = model.userFactors;
    const v = model.itemFactors;
    const ou = user * K;
    const ov = item * K;
    for (let k = 0; k < K; k++) r += u[ou + k]! * v[ov + k]!;
  }
  return r;
}

/**
 * Prediction for a movie the model has no row for (new to the catalogue), from its genres:
 * μ + b_m + u_m·p with p = (1/√|G|) Σ_(g∈G) f_g (the genre model's prior mean; 0 otherwise).
 */
export function predictFromGenres(
  model: ModelState,
  user: number,
  genreIds: ArrayLike<number>,
): number {
  const K = model.hyper.dim;
  let r = model.globalMean;
  if (user < 0 || user >= model.numUsers) return r;
  r += model.userBias[user]!;
  const G = K > 0 ? model.genreFactors.length / K : 0;
  if (G === 0 || genreIds.length === 0) return r;
  const w = 1 / Math.sqrt(genreIds.length);
  const ou = user * K;
  for (let a = 0; a < genreIds.length; a++) {
    const g = genreIds[a]!;
    if (g < 0 || g >= G) continue;
    const og = g * K;
    let dot = 0;
    for (let k = 0; k < K; k++) dot += model.userFactors[ou + k]! * model.genreFactors[og + k]!;
    r += w * dot;
  }
  return r;
}

/** Root mean squared error of the model on a list of ratings (0 for an empty list). */
export function rmse(model: PredictingModel, ratings: RatingList): number {
  return rmseFromSum(predictionErrorSum(model, ratings), ratings.length);
}

/** Σ (r − r̂)² over a list of ratings, in list order. */
export function predictionErrorSum(model: PredictingModel, ratings: RatingList): number {
  let sum = 0;
  const n = ratings.length;
  for (let e = 0; e < n; e++) {
    const d = ratings.values[e]! - predict(model, ratings.users[e]!, ratings.items[e]!);
    sum += d * d;
  }
  return sum;
}

/** √(sum / n), 0 for no ratings. */
export function rmseFromSum(squaredErrors: number, numRatings: number): number {
  return numRatings > 0 ? Math.sqrt(squaredErrors / numRatings) : 0;
}

export interface TrainingObjective {
  /** The loss L above. */
  loss: number;
  /** RMSE on the training ratings. */
  rmse: number;
}

/**
 * Σ (r − r̂)² over the ratings of rows [rowStart, rowEnd) of a half-epoch's index (usually the
 * user side: rows = users, other = movies). The arguments are a HalfEpochArgs, so worker threads
 * can compute their share of the loss over the arrays they already hold.
 */
export function squaredErrorSum(args: HalfEpochArgs, rowStart: number, rowEnd: number): number {
  const {
    dim: K,
    offsets,
    indices,
    values,
    rowFactors: X,
    rowBias,
    otherFactors: Y,
    otherBias,
    globalMean,
  } = args;
  let sum = 0;
  for (let r = rowStart; r < rowEnd; r++) {
    const end = offsets[r + 1]!;
    const base = globalMean + rowBias[r]!;
    const ox = r * K;
    let e = offsets[r]!;
    // Four ratings at a time: four independent chains of additions instead of one (a dot product
    // is bound by the latency of its additions), each prediction still summed in the order k = 0…K−1
    // and the squares added in rating order, so the sum is the one-at-a-time sum exactly.
    for (; e + 4 <= end; e += 4) {
      const j0 = indices[e]!;
      const j1 = indices[e + 1]!;
      const j2 = indices[e + 2]!;
      const j3 = indices[e + 3]!;
      const o0 = j0 * K;
      const o1 = j1 * K;
      const o2 = j2 * K;
      const o3 = j3 * K;
      let p0 = base + otherBias[j0]!;
      let p1 = base + otherBias[j1]!;
      let p2 = base + otherBias[j2]!;
      let p3 = base + otherBias[j3]!;
      for (let k = 0; k < K; k++) {
        const x = X[ox + k]!;
        p0 += x * Y[o0 + k]!;
        p1 += x * Y[o1 + k]!;
        p2 += x * Y[o2 + k]!;
        p3 += x * Y[o3 + k]!;
      }
      const d0 = values[e]! - p0;
      const d1 = values[e + 1]! - p1;
      const d2 = values[e + 2]! - p2;
      const d3 = values[e + 3]! - p3;
      sum += d0 * d0;
      sum += d1 * d1;
      sum += d2 * d2;
      sum += d3 * d3;
    }
    for (; e < end; e++) {
      const j = indices[e]!;
      const oy = j * K;
      let prediction = base + otherBias[j]!;
      for (let k = 0; k < K; k++) prediction += X[ox + k]! * Y[oy + k]!;
      const d = values[e]! - prediction;
      sum += d * d;
    }
  }
  return sum;
}

/** Every row's ridge weights in L: s·τ on its factor, s'·γ on its bias (fixed for a training run). */
export interface RegularizationWeights {
  userFactor: Float64Array;
  userBias: Float64Array;
  itemFactor: Float64Array;
  itemBias: Float64Array;
}

/** The ridge weights s·τ and s'·γ of every user and movie, from their training counts. */
export function regularizationWeights(
  hyper: Hyperparameters,
  userOffsets: Int32Array,
  itemOffsets: Int32Array,
): RegularizationWeights {
  const { tau, gamma, weightedRegularization: weighted, weightExponent: a } = hyper;
  const weightedBias = biasRidgeWeighted(hyper);
  const side = (offsets: Int32Array): [Float64Array, Float64Array] => {
    const rows = offsets.length - 1;
    const factor = new Float64Array(rows);
    const bias = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const count = offsets[r + 1]! - offsets[r]!;
      factor[r] = regularizationScale(count, weighted, a) * tau;
      bias[r] = regularizationScale(count, weightedBias, a) * gamma;
    }
    return [factor, bias];
  };
  const [userFactor, userBias] = side(userOffsets);
  const [itemFactor, itemBias] = side(itemOffsets);
  return { userFactor, userBias, itemFactor, itemBias };
}

/**
 * The regularisation part of L (everything but the squared errors):
 *   (1/2)[τ Σ_m s_m‖u_m‖² + τ Σ_n s_n‖v_n − p_n‖² + γ Σ_m s'_m b_m² + γ Σ_n s'_n c_n² + τ_g Σ_g ‖f_g‖²]
 * with s the factor ridge's scale and s' the bias ridge's (count-scaled or 1, see ./kernel.ts).
 * `userOffsets`/`itemOffsets` give the rating counts behind s; `priors` the p_n (null: 0);
 * `weights` the s·τ and s'·γ of every row when already known (a trainer computes them once).
 */
export function regularizationTerm(
  model: ModelState,
  userOffsets: Int32Array,
  itemOffsets: Int32Array,
  priors: Float64Array | null,
  weights: RegularizationWeights = regularizationWeights(model.hyper, userOffsets, itemOffsets),
): number {
  const K = model.hyper.dim;
  const { userFactors, userBias, itemFactors, itemBias, genreFactors } = model;
  let sum = 0;
  for (let m = 0; m < model.numUsers; m++) {
    const ou = m * K;
    let norm = 0;
    for (let k = 0; k < K; k++) norm += userFactors[ou + k]! ** 2;
    sum += weights.userFactor[m]! * norm + weights.userBias[m]! * userBias[m]! ** 2;
  }
  for (let n = 0; n < model.numItems; n++) {
    const ov = n * K;
    let norm = 0;
    if (priors === null) {
      for (let k = 0; k < K; k++) {
        const d = itemFactors[ov + k]!;
        norm += d * d;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const d = itemFactors[ov + k]! - priors[ov + k]!;
        norm += d * d;
      }
    }
    sum += weights.itemFactor[n]! * norm + weights.itemBias[n]! * itemBias[n]! ** 2;
  }
  let genreNorm = 0;
  for (let i = 0; i < genreFactors.length; i++) genreNorm += genreFactors[i]! ** 2;
  return 0.5 * (sum + model.hyper.genreTau * genreNorm);
}

/** L = (λ/2)·(sum of squared errors) + regularisation, and the training RMSE, from the error sum. */
export function objectiveFromParts(
  lambda: number,
  squaredErrors: number,
  regularization: number,
  numRatings: number,
): TrainingObjective {
  return {
    loss: 0.5 * lambda * squaredErrors + regularization,
    rmse: numRatings > 0 ? Math.sqrt(squaredErrors / numRatings) : 0,
  };
}

/**
 * The loss L and the training RMSE over the training ratings (by user), plus the regularisers.
 * `priors` are the genre prior means p_n (null: 0).
 */
export function trainingObjective(
  model: ModelState,
  train: RatingMatrix,
  priors: Float64Array | null,
): TrainingObjective {
  const byUser = train.ratingsByUser;
  const squaredErrors = squaredErrorSum(
    {
      dim: model.hyper.dim,
      offsets: byUser.offsets,
      indices: byUser.indices,
      values: byUser.values,
      otherFactors: model.itemFactors,
      otherBias: model.itemBias,
      rowFactors: model.userFactors,
      rowBias: model.userBias,
      priorMeans: null,
      globalMean: model.globalMean,
      lambda: model.hyper.lambda,
      tau: model.hyper.tau,
      gamma: model.hyper.gamma,
      weightedRegularization: model.hyper.weightedRegularization,
      weightedBiasRegularization: biasRidgeWeighted(model.hyper),
      weightExponent: model.hyper.weightExponent,
    },
    0,
    train.numUsers,
  );
  const regularization = regularizationTerm(
    model,
    byUser.offsets,
    train.ratingsByItem.offsets,
    priors,
  );
  return objectiveFromParts(model.hyper.lambda, squaredErrors, regularization, train.numRatings);
}

/** A folded-in row: the bias and factor one ALS update gives a user (or movie) from its ratings. */
export interface FoldedRow {
  bias: number;
  factors: Float64Array;
}

let foldInSolver: SolveRows | null = null;

/**
 * Solves one row's system (./kernel.ts) with the same kernel code the half-epochs run: a one-row
 * sparse index over `others` (ids into the other side, out-of-range ones ignored) and `values`.
 */
function foldInRow(
  model: ModelState,
  hyper: Hyperparameters,
  others: Int32Array,
  values: Float32Array,
  numOthers: number,
  otherFactors: Float64Array,
  otherBias: Float64Array,
  prior: Float64Array | null,
): FoldedRow {
  const K = model.hyper.dim;
  let kept = 0;
  for (let e = 0; e < others.length; e++) if (others[e]! >= 0 && others[e]! < numOthers) kept++;
  const indices = new Int32Array(kept);
  const ratings = new Float32Array(kept);
  kept = 0;
  for (let e = 0; e < others.length; e++) {
    const j = others[e]!;
    if (j < 0 || j >= numOthers) continue;
    indices[kept] = j;
    ratings[kept++] = values[e]!;
  }
  const factors = new Float64Array(K);
  const bias = new Float64Array(1);
  const args: HalfEpochArgs = {
    dim: K,
    offsets: Int32Array.of(0, kept),
    indices,
    values: ratings,
    otherFactors,
    otherBias,
    rowFactors: factors,
    rowBias: bias,
    priorMeans: prior,
    globalMean: model.globalMean,
    lambda: hyper.lambda,
    tau: hyper.tau,
    gamma: hyper.gamma,
    weightedRegularization: hyper.weightedRegularization,
    weightedBiasRegularization: biasRidgeWeighted(hyper),
    weightExponent: hyper.weightExponent,
  };
  foldInSolver ??= createTsSolveRows();
  foldInSolver(args, 0, 1);
  return { bias: bias[0]!, factors };
}

/**
 * A new user's bias and factor from their ratings (`items` are movie indexes; unknown ones are
 * ignored), holding the movies fixed: exactly the system the user half-epoch solves, so for an
 * existing user's own training ratings this equals one more user-side update.
 */
export function foldInUser(
  model: ModelState,
  hyper: Hyperparameters,
  items: Int32Array,
  values: Float32Array,
): FoldedRow {
  return foldInRow(
    model,
    hyper,
    items,
    values,
    model.numItems,
    model.itemFactors,
    model.itemBias,
    null,
  );
}

/**
 * A movie's bias and factor from its ratings (`users` are user indexes), holding the users fixed:
 * the item half-epoch's system. `genreIds` (genre model) give the prior mean p_n the factor is
 * shrunk towards; with no ratings the result is exactly that prior (cold start).
 */
export function foldInItem(
  model: ModelState,
  hyper: Hyperparameters,
  users: Int32Array,
  values: Float32Array,
  genreIds: ArrayLike<number> | null = null,
): FoldedRow {
  const K = model.hyper.dim;
  let prior: Float64Array | null = null;
  const G = K > 0 ? model.genreFactors.length / K : 0;
  if (genreIds !== null && genreIds.length > 0 && G > 0) {
    prior = new Float64Array(K);
    const w = 1 / Math.sqrt(genreIds.length);
    for (let a = 0; a < genreIds.length; a++) {
      const g = genreIds[a]!;
      if (g < 0 || g >= G) continue;
      for (let k = 0; k < K; k++) prior[k]! += w * model.genreFactors[g * K + k]!;
    }
  }
  return foldInRow(
    model,
    hyper,
    users,
    values,
    model.numUsers,
    model.userFactors,
    model.userBias,
    prior,
  );
}

/**
 * Copies `model`'s numbers into `target`, a model of the same kind and shapes (e.g. an earlier
 * clone), and returns `target`: a snapshot per epoch without allocating a new model each time.
 */
export function copyModelInto(target: ModelState, model: ModelState): ModelState {
  if (
    target.userFactors.length !== model.userFactors.length ||
    target.itemFactors.length !== model.itemFactors.length ||
    target.userBias.length !== model.userBias.length ||
    target.itemBias.length !== model.itemBias.length ||
    target.genreFactors.length !== model.genreFactors.length
  ) {
    throw new RangeError('copyModelInto: the target model has other shapes');
  }
  target.hyper = { ...model.hyper };
  target.numUsers = model.numUsers;
  target.numItems = model.numItems;
  target.globalMean = model.globalMean;
  target.userBias.set(model.userBias);
  target.itemBias.set(model.itemBias);
  target.userFactors.set(model.userFactors);
  target.itemFactors.set(model.itemFactors);
  target.genreFactors.set(model.genreFactors);
  return target;
}

/** A deep copy of a model (arrays copied out of any shared arena). */
export function cloneModel(model: ModelState): ModelState {
  return {
    hyper: { ...model.hyper },
    numUsers: model.numUsers,
    numItems: model.numItems,
    globalMean: model.globalMean,
    userBias: model.userBias.slice(),
    itemBias: model.itemBias.slice(),
    userFactors: model.userFactors.slice(),
    itemFactors: model.itemFactors.slice(),
    genreFactors: model.genreFactors.slice(),
  };
}
