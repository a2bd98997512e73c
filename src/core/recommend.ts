/**
 * Scoring and top-N selection for recommendations: pure functions over typed arrays.
 *
 * A user with bias b and factor u scores movie i as
 *   r̂(i) = μ + b + c_i + u · v_i            (the model's prediction, see core/types.ts)
 * and the top N are kept with a fixed-size min-heap: O(numItems · log N) instead of a full sort.
 * Similar movies rank by cosine similarity of item factors:
 *   cos(i, j) = v_i · v_j / (‖v_i‖ ‖v_j‖),  0 when either vector is zero.
 */
import { TopK } from './topk.js';
import type { ModelState } from './types.js';

/** A ranked list: items best first, with their scores. */
export interface TopN {
  items: Int32Array;
  scores: Float64Array;
}

/** Which movies may be recommended. */
export interface ItemFilter {
  /** Training ratings per movie. */
  ratingCounts: Int32Array;
  /** Popularity floor: movies with fewer ratings are left out (0 keeps all). */
  minRatings: number;
  /** Keep movies with no rating at all even below the floor (the genre model's cold-start movies). */
  keepUnrated: boolean;
  /** Genre ids: a movie must carry at least one of them (empty: no constraint). */
  includeGenres: number[];
  /** Genre ids: a movie carrying any of them is left out. */
  excludeGenres: number[];
  /** Inclusive release-year range; null for open. Movies with no year fail a set bound. */
  yearFrom: number | null;
  yearTo: number | null;
}

/** The genre multi-hot and years of the catalog: what filtering reads. */
export interface GenreTable {
  years: Int32Array;
  genreOffsets: Int32Array;
  genreIds: Int32Array;
}

/** 1 for a movie that passes the filter, 0 otherwise. */
export function eligibleMask(table: GenreTable, filter: ItemFilter): Uint8Array {
  const numItems = filter.ratingCounts.length;
  const mask = new Uint8Array(numItems);
  const include = new Set(filter.includeGenres);
  const exclude = new Set(filter.excludeGenres);
  for (let item = 0; item < numItems; item++) {
    const count = filter.ratingCounts[item]!;
    if (count < filter.minRatings && !(count === 0 && filter.keepUnrated)) continue;
    const year = table.years[item] ?? 0;
    if (filter.yearFrom !== null && (year === 0 || year < filter.yearFrom)) continue;
    if (filter.yearTo !== null && (year === 0 || year > filter.yearTo)) continue;
    let hasIncluded = include.size === 0;
    let hasExcluded = false;
    for (let k = table.genreOffsets[item]!; k < table.genreOffsets[item + 1]!; k++) {
      const genre = table.genreIds[k]!;
      if (include.has(genre)) hasIncluded = true;
      if (exclude.has(genre)) hasExcluded = true;
    }
    if (hasIncluded && !hasExcluded) mask[item] = 1;
  }
  return mask;
}

/**
 * How a list is ranked.
 * - "rating": the predicted rating r̂(i) = μ + b + c_i + u·v_i.
 * - "taste": the match between the user's taste vector and the movie's, u·v_i / ‖v_i‖ = ‖u‖ cos(u, v_i)
 *   (0 for a movie with a zero vector). For a user known from a few titles the predicted rating is
 *   dominated by the item bias c_i, the same for everyone (their u is shrunk towards 0), so every
 *   such user would get the same all-time favourites; u·v_i alone favours movies with long factor
 *   vectors (blockbusters). Ranking by direction gives the movies whose profile matches the titles
 *   given: measured on ml-latest-small and ml-100k over 16 liked titles and 4 models, the top 10
 *   shares more genres with the liked movie (mean Jaccard 0.33–0.35) than u·v (0.26–0.29) or the
 *   predicted rating (0.18–0.24). With one liked movie u is parallel to its vector, so the list is
 *   close to `als similar`.
 */
export type RankBy = 'rating' | 'taste';

/**
 * Writes the ranking score of every movie into `out` (length numItems): the predicted rating
 * μ + b + c_i + u·v_i, or the taste match u·v_i / ‖v_i‖ (see RankBy; `norms` = rowNorms of the
 * item factors, required for "taste"). `userFactor` holds u (length dim; ignored for dim 0).
 */
export function scoreItems(
  model: ModelState,
  userBias: number,
  userFactor: Float64Array,
  out: Float64Array,
  rankBy: RankBy = 'rating',
  norms: Float64Array | null = null,
): void {
  const dim = model.hyper.dim;
  const base = model.globalMean + userBias;
  const itemFactors = model.itemFactors;
  const itemBias = model.itemBias;
  const taste = rankBy === 'taste';
  if (taste && norms === null) throw new Error('ranking by taste needs the item factor norms');
  for (let item = 0; item < model.numItems; item++) {
    let dot = 0;
    const offset = item * dim;
    for (let k = 0; k < dim; k++) dot += userFactor[k]! * itemFactors[offset + k]!;
    if (taste) {
      const norm = norms![item]!;
      out[item] = norm > 0 ? dot / norm : 0;
    } else {
      out[item] = base + itemBias[item]! + dot;
    }
  }
}

/** The predicted rating r̂(i) = μ + b + c_i + u·v_i of one movie. */
export function predictForUser(model: ModelState, user: UserVector, item: number): number {
  const dim = model.hyper.dim;
  let dot = 0;
  for (let k = 0; k < dim; k++) dot += user.factors[k]! * model.itemFactors[item * dim + k]!;
  return model.globalMean + user.bias + model.itemBias[item]! + dot;
}

/** The n best entries of `scores` among items with eligible[item] = 1 (all when null); NaN never ranks. */
export function topN(scores: Float64Array, n: number, eligible: Uint8Array | null): TopN {
  const heap = new TopK(n);
  for (let item = 0; item < scores.length; item++) {
    if (eligible !== null && eligible[item] === 0) continue;
    const score = scores[item]!;
    if (score >= heap.threshold()) heap.offer(score, item);
  }
  return heap.sorted();
}

/** ‖v_i‖ for every item row of a row-major numItems × dim matrix. */
export function rowNorms(factors: Float64Array, dim: number, numRows: number): Float64Array {
  const norms = new Float64Array(numRows);
  for (let row = 0; row < numRows; row++) {
    let sum = 0;
    const offset = row * dim;
    for (let k = 0; k < dim; k++) sum += factors[offset + k]! * factors[offset + k]!;
    norms[row] = Math.sqrt(sum);
  }
  return norms;
}

/**
 * cos(v_item, v_j) for every j into `out`. A zero vector on either side gives 0 (no direction,
 * no similarity); the result is clamped to [−1, 1] so identical vectors give exactly 1.
 */
export function cosineSimilarities(
  itemFactors: Float64Array,
  dim: number,
  numItems: number,
  item: number,
  norms: Float64Array,
  out: Float64Array,
): void {
  const queryOffset = item * dim;
  const queryNorm = norms[item]!;
  for (let j = 0; j < numItems; j++) {
    const norm = norms[j]!;
    if (queryNorm === 0 || norm === 0) {
      out[j] = 0;
      continue;
    }
    let dot = 0;
    const offset = j * dim;
    for (let k = 0; k < dim; k++) dot += itemFactors[queryOffset + k]! * itemFactors[offset + k]!;
    const cos = dot / (queryNorm * norm);
    out[j] = cos > 1 ? 1 : Math.max(cos, -1);
  }
}

/** The n movies most similar to `item` (itself excluded) among eligible ones. */
export function similarItems(
  model: ModelState,
  item: number,
  n: number,
  eligible: Uint8Array | null,
): TopN {
  const dim = model.hyper.dim;
  const norms = rowNorms(model.itemFactors, dim, model.numItems);
  const sims = new Float64Array(model.numItems);
  cosineSimilarities(model.itemFactors, dim, model.numItems, item, norms, sims);
  const mask = eligible ? eligible.slice() : new Uint8Array(model.numItems).fill(1);
  mask[item] = 0;
  return topN(sims, n, mask);
}

/** Clamps a predicted score to the rating scale. */
export function clipToScale(score: number, min: number, max: number): number {
  return score < min ? min : Math.min(score, max);
}

/** A user for scoring: bias b and factor u (length dim). */
export interface UserVector {
  bias: number;
  factors: Float64Array;
}

/** The stored bias and factor of training user `user`. */
export function storedUser(model: ModelState, user: number): UserVector {
  const dim = model.hyper.dim;
  return {
    bias: model.userBias[user]!,
    factors: model.userFactors.slice(user * dim, (user + 1) * dim),
  };
}

/**
 * The top n movies for a user: every movie scored (see RankBy), the given movies (already rated)
 * left out, the eligible ones kept by the heap. The returned scores are the predicted ratings r̂
 * (not clipped), whatever the ranking.
 */
export function recommendForUser(
  model: ModelState,
  user: UserVector,
  n: number,
  eligible: Uint8Array,
  exclude: ArrayLike<number>,
  rankBy: RankBy = 'rating',
): TopN {
  const scores = new Float64Array(model.numItems);
  const norms =
    rankBy === 'taste' ? rowNorms(model.itemFactors, model.hyper.dim, model.numItems) : null;
  scoreItems(model, user.bias, user.factors, scores, rankBy, norms);
  const mask = eligible.slice();
  for (let k = 0; k < exclude.length; k++) mask[exclude[k]!] = 0;
  const ranked = topN(scores, n, mask);
  for (let k = 0; k < ranked.items.length; k++)
    ranked.scores[k] = predictForUser(model, user, ranked.items[k]!);
  return ranked;
}
