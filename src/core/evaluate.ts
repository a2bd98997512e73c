/**
 * Evaluation of a trained model on held-out ratings: rating-prediction error (RMSE, MAE, broken
 * down by segment) and top-N ranking quality. Pure functions over typed arrays: no I/O.
 *
 * Prediction (as in ./types.ts): r̂(u,i) = μ + b_u + c_i + x_u · y_i.
 * Nothing special is done for users or movies unseen in training: the trainer leaves such a user
 * at x_u = 0, b_u = 0 and such a movie at y_i = p_i (its genre prior mean for the genre model,
 * else 0), c_i = 0, so the prediction falls back to μ + c_i (unseen user), μ + b_u (+ x_u·p_i
 * with the genre model) (unseen movie), or μ (both). It is never NaN; the report counts them.
 */
import { TopK } from './topk.js';
import { predict } from './als.js';
import type { ModelState } from './types.js';

/** What evaluation needs to know about the training part of the split. */
export interface TrainingIndex {
  /** CSR of each user's training movies: items[offsets[u] .. offsets[u+1]) (values not needed). */
  offsets: Int32Array;
  items: Int32Array;
  /** Training ratings per movie. */
  itemCounts: Int32Array;
}

/** Held-out ratings in coordinate form (a RatingList without timestamps is enough). */
export interface HeldOutRatings {
  length: number;
  users: Int32Array;
  items: Int32Array;
  values: Float32Array;
}

/** Error of the predictions on one group of held-out ratings. */
export interface SegmentMetrics {
  /** Held-out ratings in the group. */
  count: number;
  /** √(Σ (r − r̂)² / n); null when the group is empty. */
  rmse: number | null;
  /** Σ |r − r̂| / n; null when the group is empty. */
  mae: number | null;
}

/** A user-activity bucket: users with minCount ≤ training ratings ≤ maxCount (null: no upper bound). */
export interface ActivityBucket extends SegmentMetrics {
  label: string;
  minCount: number;
  maxCount: number | null;
}

export interface RatingMetrics {
  all: SegmentMetrics;
  /** Ratings whose user has no training rating. */
  unseenUser: SegmentMetrics;
  /** Ratings whose movie has no training rating. */
  unseenItem: SegmentMetrics;
  /** Ratings of users seen in training, by their number of training ratings. */
  userActivity: ActivityBucket[];
  /** How many predictions could not use a learned user or movie (see the module comment). */
  fallbacks: {
    /** User unseen: predicted from μ + c_i (+ nothing personal). */
    unseenUser: number;
    /** Movie unseen: predicted from μ + b_u, plus x_u·p_i for the genre model. */
    unseenItem: number;
    /** Of the unseen movies, those scored through the genre prior (genre model, movie has genres). */
    genrePrior: number;
    /** Both unseen: predicted as μ. */
    both: number;
  };
}

/** Lower bounds of the default user-activity buckets: 1–19, 20–49, 50–199, 200+. */
export const DEFAULT_ACTIVITY_BOUNDS: readonly number[] = [1, 20, 50, 200];

/**
 * RMSE and MAE over the held-out ratings, overall and by segment, with fallback counts.
 * `genreOffsets` (the catalogue's genre CSR) tells which unseen movies the genre model scores
 * through their genre prior; omit it for other models.
 */
export function evaluateRatings(
  state: ModelState,
  train: TrainingIndex,
  test: HeldOutRatings,
  options: {
    activityBounds?: readonly number[];
    genreOffsets?: Int32Array;
    predictions?: Float64Array;
  } = {},
): RatingMetrics {
  const bounds = options.activityBounds ?? DEFAULT_ACTIVITY_BOUNDS;
  const numBuckets = bounds.length;
  // Accumulators: [squared error, absolute error, count] per group; group order:
  // 0 all, 1 unseen user, 2 unseen item, 3.. activity buckets.
  const groups = 3 + numBuckets;
  const sq = new Float64Array(groups);
  const abs = new Float64Array(groups);
  const n = new Float64Array(groups);
  let fallbackUser = 0;
  let fallbackItem = 0;
  let fallbackGenre = 0;
  let fallbackBoth = 0;
  const genreModel = state.hyper.kind === 'genre' && options.genreOffsets !== undefined;
  const add = (g: number, e: number): void => {
    sq[g]! += e * e;
    abs[g]! += Math.abs(e);
    n[g]! += 1;
  };
  for (let t = 0; t < test.length; t++) {
    const u = test.users[t]!;
    const i = test.items[t]!;
    // r̂ = μ + b_u + c_i + x_u·y_i, or the caller's prediction of rating t (a Bayesian average).
    const error =
      test.values[t]! -
      (options.predictions !== undefined ? options.predictions[t]! : predict(state, u, i));
    const userCount = train.offsets[u + 1]! - train.offsets[u]!;
    const itemCount = train.itemCounts[i]!;
    add(0, error);
    if (userCount === 0) {
      add(1, error);
      fallbackUser++;
    } else {
      // Bucket b holds bounds[b] ≤ count < bounds[b+1].
      let b = numBuckets - 1;
      while (b > 0 && userCount < bounds[b]!) b--;
      if (userCount >= bounds[0]!) add(3 + b, error);
    }
    if (itemCount === 0) {
      add(2, error);
      fallbackItem++;
      if (genreModel && options.genreOffsets![i + 1]! > options.genreOffsets![i]!) fallbackGenre++;
      if (userCount === 0) fallbackBoth++;
    }
  }
  const segment = (g: number): SegmentMetrics => ({
    count: n[g]!,
    rmse: n[g]! > 0 ? Math.sqrt(sq[g]! / n[g]!) : null,
    mae: n[g]! > 0 ? abs[g]! / n[g]! : null,
  });
  const userActivity: ActivityBucket[] = [];
  for (let b = 0; b < numBuckets; b++) {
    const minCount = bounds[b]!;
    const maxCount = b + 1 < numBuckets ? bounds[b + 1]! - 1 : null;
    const label = maxCount === null ? `${minCount}+` : `${minCount}–${maxCount}`;
    userActivity.push({ label, minCount, maxCount, ...segment(3 + b) });
  }
  return {
    all: segment(0),
    unseenUser: segment(1),
    unseenItem: segment(2),
    userActivity,
    fallbacks: {
      unseenUser: fallbackUser,
      unseenItem: fallbackItem,
      genrePrior: fallbackGenre,
      both: fallbackBoth,
    },
  };
}

/**
 * Top-N ranking quality. For every user with at least one held-out rating ≥ `relevantFrom`
 * (default 4), the relevant set Rel_u is those held-out movies; every movie the user did not rate
 * in training is scored and the k best form the list L_u (ties broken by lower movie index).
 * With rel_j = 1 when the j-th movie of L_u is in Rel_u, else 0, and averaging over those users:
 *
 *   precision@k = |L_u ∩ Rel_u| / k
 *   recall@k    = |L_u ∩ Rel_u| / |Rel_u|
 *   nDCG@k      = DCG / IDCG,  DCG = Σ_(j=1..k) rel_j / log2(j + 1),
 *                 IDCG = Σ_(j=1..min(k, |Rel_u|)) 1 / log2(j + 1)      (binary gains)
 *   AP@k        = (1 / min(k, |Rel_u|)) Σ_(j=1..k) rel_j · precision@j;  MAP@k = mean of AP@k
 *   coverage    = |∪_u L_u| / numItems   (share of the catalogue recommended to anyone)
 *
 * Held-out movies rated below the threshold stay candidates (they are just not relevant).
 * `minItemRatings` (default 0) keeps only movies with at least that many training ratings as
 * candidates, the usual popularity floor of a recommender (ranking by predicted rating otherwise
 * favours movies with one or two enthusiastic ratings); relevant movies below the floor still
 * count in |Rel_u|, so recall is not flattered. Coverage is then relative to the whole catalogue.
 * Cost: O(users × items × dim); `maxUsers` evaluates an evenly spaced subset of the eligible
 * users when there are more (deterministic), for very large sets.
 */
export interface RankingMetrics {
  k: number;
  relevantFrom: number;
  /** Candidates were movies with at least this many training ratings. */
  minItemRatings: number;
  /** Users evaluated (those with at least one relevant held-out movie, up to maxUsers). */
  users: number;
  /** Eligible users left out by maxUsers. */
  usersSkipped: number;
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  coverage: number;
}

export function evaluateRanking(
  state: ModelState,
  train: TrainingIndex,
  test: HeldOutRatings,
  options: { k?: number; relevantFrom?: number; maxUsers?: number; minItemRatings?: number } = {},
): RankingMetrics {
  const k = options.k ?? 10;
  const minItemRatings = options.minItemRatings ?? 0;
  const relevantFrom = options.relevantFrom ?? 4;
  const { numUsers, numItems, userFactors, itemFactors, itemBias } = state;
  const itemCounts = train.itemCounts;
  const dim = state.hyper.kind === 'bias' ? 0 : state.hyper.dim;

  // Relevant held-out movies per user, as a CSR built with a counting sort.
  const relOffsets = new Int32Array(numUsers + 1);
  for (let t = 0; t < test.length; t++)
    if (test.values[t]! >= relevantFrom) relOffsets[test.users[t]! + 1]!++;
  for (let u = 0; u < numUsers; u++) relOffsets[u + 1]! += relOffsets[u]!;
  const relItems = new Int32Array(relOffsets[numUsers]!);
  const cursor = relOffsets.slice(0, numUsers);
  for (let t = 0; t < test.length; t++)
    if (test.values[t]! >= relevantFrom) relItems[cursor[test.users[t]!]!++] = test.items[t]!;

  const eligible: number[] = [];
  for (let u = 0; u < numUsers; u++) if (relOffsets[u + 1]! > relOffsets[u]!) eligible.push(u);
  let chosen = eligible;
  if (options.maxUsers !== undefined && eligible.length > options.maxUsers) {
    chosen = [];
    const step = eligible.length / options.maxUsers;
    for (let j = 0; j < options.maxUsers; j++) chosen.push(eligible[Math.floor(j * step)]!);
  }

  // Per-item stamps (user + 1) mark "rated in training" and "relevant" without clearing arrays.
  const seenStamp = new Int32Array(numItems);
  const relevantStamp = new Int32Array(numItems);
  const recommended = new Uint8Array(numItems);
  const heap = new TopK(k);
  const listItems = new Int32Array(k);
  const listScores = new Float64Array(k);
  // 1/log2(j+1) for j = 1..k, and its prefix sums (IDCG by |Rel|).
  const discount = new Float64Array(k);
  const idcg = new Float64Array(k + 1);
  for (let j = 0; j < k; j++) {
    discount[j] = 1 / Math.log2(j + 2);
    idcg[j + 1] = idcg[j]! + discount[j]!;
  }

  let sumPrecision = 0;
  let sumRecall = 0;
  let sumNdcg = 0;
  let sumAp = 0;
  for (const u of chosen) {
    const stamp = u + 1;
    for (let p = train.offsets[u]!; p < train.offsets[u + 1]!; p++)
      seenStamp[train.items[p]!] = stamp;
    const relStart = relOffsets[u]!;
    const relCount = relOffsets[u + 1]! - relStart;
    for (let p = relStart; p < relStart + relCount; p++) relevantStamp[relItems[p]!] = stamp;

    // Score every unseen movie; μ and b_u are the same for all of a user's movies and are left out.
    heap.clear();
    const xu = u * dim;
    for (let i = 0; i < numItems; i++) {
      if (seenStamp[i] === stamp || itemCounts[i]! < minItemRatings) continue;
      let score = itemBias[i]!;
      const yi = i * dim;
      for (let d = 0; d < dim; d++) score += userFactors[xu + d]! * itemFactors[yi + d]!;
      heap.offer(score, i);
    }
    const length = heap.drainDescending(listScores, listItems);

    let hits = 0;
    let dcg = 0;
    let apSum = 0;
    for (let j = 0; j < length; j++) {
      const item = listItems[j]!;
      recommended[item] = 1;
      if (relevantStamp[item] === stamp) {
        hits++;
        dcg += discount[j]!;
        apSum += hits / (j + 1);
      }
    }
    sumPrecision += hits / k;
    sumRecall += hits / relCount;
    sumNdcg += dcg / idcg[Math.min(k, relCount)]!;
    sumAp += apSum / Math.min(k, relCount);
  }
  let covered = 0;
  for (let i = 0; i < numItems; i++) covered += recommended[i]!;
  const users = chosen.length;
  return {
    k,
    relevantFrom,
    minItemRatings,
    users,
    usersSkipped: eligible.length - users,
    precision: users > 0 ? sumPrecision / users : 0,
    recall: users > 0 ? sumRecall / users : 0,
    ndcg: users > 0 ? sumNdcg / users : 0,
    map: users > 0 ? sumAp / users : 0,
    coverage: numItems > 0 ? covered / numItems : 0,
  };
}
