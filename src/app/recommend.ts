/**
 * Recommendations from a checkpoint: for a training user (their stored factors), for a new user
 * described by titles or ratings (fold-in: their bias and factor solved in closed form against the
 * trained movies), and for every training user at once into a CSV. The ranking maths is the
 * core's (src/core/recommend.ts, src/core/recommend-all.ts).
 *
 * A liked title without a rating counts as the top of the scale (5 stars), a disliked one as the
 * bottom (0.5 or 1): "I like it" is the strongest statement a person makes about a movie, and on
 * MovieLens the top rating is also about the 90th percentile of all ratings (ml-latest-small:
 * 13 % of ratings are 5.0, 22 % are ≥ 4.5), so the like sits where enthusiastic ratings sit.
 */
import { availableParallelism } from 'node:os';
import { foldInUser } from '../core/als.js';
import {
  clipToScale,
  eligibleMask,
  recommendForUser,
  storedUser,
  type RankBy,
  type UserVector,
} from '../core/recommend.js';
import { recommendAllUsers } from '../core/recommend-all.js';
import { centralIntervalZ } from '../core/gibbs-predict.js';
import { checkWritableTarget, writeTextFileAtomic } from '../data/atomic.js';
import type { Checkpoint } from '../data/checkpoint.js';
import {
  buildTitleIndex,
  displayTitle,
  resolveMovieId,
  resolveTitle,
  type TitleMatch,
} from '../data/titles.js';
import { AlsError } from '../errors.js';
import {
  bayesianList,
  RANK_BOUND_LEVEL,
  type BayesListUser,
  type BayesRankBy,
} from './bayes-use.js';
import { RUN_DEFAULTS } from './defaults.js';
import { filterOf, rowsOf, type ListingRow, type RecommendOptions } from './listing.js';

/** A new user: titles liked or disliked, explicit ratings "Title=4.5", movies by id (liked, or id=rating). */
export interface NewUser {
  likes?: string[];
  dislikes?: string[];
  /** "Title=rating". */
  rates?: string[];
  /** MovieLens ids: "123" (liked) or "123=4" (rated). */
  movieIds?: string[];
}

/** One given title or id and the movie it became. */
export interface ResolvedRating {
  how: 'likes' | 'dislikes' | 'rates';
  query: string;
  match: TitleMatch;
  movieId: number;
  title: string;
  rating: number;
}

export interface RecommendResult {
  kind: Checkpoint['state']['hyper']['kind'];
  rankBy: RankBy | BayesRankBy;
  /** Set for a Bayesian checkpoint: scores are predictive means, each row has its sd; `lower`/`upper` rank by mean ∓ z·sd of this central interval. */
  bayes?: { storedSamples: number; boundLevel: number; boundZ: number };
  /** True for a bias-only model: ranked by predicted rating, the same order for everyone. */
  biasOnly: boolean;
  /** Training user id, or null for a new user. */
  user: number | null;
  /** Training ratings of the user left out of the list (training user). */
  excluded: number;
  /** What the new user's titles became, in the order given. */
  resolved: ResolvedRating[];
  /** The ratings folded in: one per movie, in catalogue order (empty for a training user). */
  ratings: { query: string; movieId: number; title: string; rating: number }[];
  minRatings: number;
  recommendations: ListingRow[];
}

function listFor(
  checkpoint: Checkpoint,
  user: UserVector,
  exclude: ArrayLike<number>,
  rankBy: RankBy,
  options: RecommendOptions,
): ListingRow[] {
  const eligible = eligibleMask(checkpoint.catalog, filterOf(checkpoint, options));
  const { scale } = checkpoint.dataset;
  const list = recommendForUser(
    checkpoint.state,
    user,
    options.top ?? RUN_DEFAULTS.top,
    eligible,
    exclude,
    rankBy,
  );
  return rowsOf(checkpoint, list, (score) => clipToScale(score, scale.min, scale.max));
}

/** A bias-only model has no taste vectors: its only ranking is the predicted rating. */
function rankingOf(
  checkpoint: Checkpoint,
  asked: RecommendOptions['rankBy'],
  fallback: RankBy,
): RankBy {
  if (asked === 'mean' || asked === 'lower' || asked === 'upper') {
    throw new AlsError(
      `--rank-by ${asked}: needs a Bayesian checkpoint (als train --method gibbs); this one ranks by rating or taste`,
    );
  }
  return checkpoint.state.hyper.dim === 0 ? 'rating' : (asked ?? fallback);
}

/**
 * The ranking of a Bayesian list ('rating' is the mean): as asked, else `fallback` (taste for a
 * new user described by titles, the mean for a training user, as for ALS). A bias-only model has
 * no taste: taste falls back to the mean.
 */
function bayesRankingOf(
  checkpoint: Checkpoint,
  asked: RecommendOptions['rankBy'],
  fallback: BayesRankBy,
): BayesRankBy {
  const rankBy = asked === 'rating' ? 'mean' : (asked ?? fallback);
  return rankBy === 'taste' && checkpoint.state.hyper.dim === 0 ? 'mean' : rankBy;
}

/** The list of a Bayesian checkpoint (scores mean ± sd from the stored samples). */
function bayesResult(
  checkpoint: Checkpoint,
  user: BayesListUser,
  exclude: ArrayLike<number>,
  options: RecommendOptions,
  base: Omit<RecommendResult, 'rankBy' | 'recommendations' | 'bayes'>,
): RecommendResult {
  const bayes = checkpoint.bayes!;
  const rankBy = bayesRankingOf(checkpoint, options.rankBy, base.user === null ? 'taste' : 'mean');
  return {
    ...base,
    rankBy,
    bayes: {
      storedSamples: bayes.run.storedSamples.length,
      boundLevel: RANK_BOUND_LEVEL,
      boundZ: centralIntervalZ(RANK_BOUND_LEVEL),
    },
    recommendations: bayesianList({ ...checkpoint, bayes }, user, exclude, rankBy, options),
  };
}

/** The list of a user of the training data (their stored factors; their training movies left out). */
export function recommendForTrainingUser(
  checkpoint: Checkpoint,
  userId: number,
  options: RecommendOptions = {},
): RecommendResult {
  const index = checkpoint.userIds.indexOf(userId);
  if (index < 0) {
    throw new AlsError(
      `user ${userId} is not in the training data of ${checkpoint.dataset.name}; describe a new user with --user-likes "Title"`,
    );
  }
  const { offsets, items } = checkpoint.trainItemsByUser;
  if (offsets[index + 1] === offsets[index]) {
    throw new AlsError(
      `user ${userId} has no training ratings in this checkpoint (split ${checkpoint.split.spec}); describe them with --user-likes "Title"`,
    );
  }
  const exclude = items.subarray(offsets[index]!, offsets[index + 1]!);
  if (checkpoint.bayes) {
    return bayesResult(checkpoint, { index }, exclude, options, {
      kind: checkpoint.state.hyper.kind,
      biasOnly: checkpoint.state.hyper.dim === 0,
      user: userId,
      excluded: exclude.length,
      resolved: [],
      ratings: [],
      minRatings: options.minRatings ?? RUN_DEFAULTS.minRatings,
    });
  }
  const rankBy = rankingOf(checkpoint, options.rankBy, 'rating');
  return {
    kind: checkpoint.state.hyper.kind,
    rankBy,
    biasOnly: checkpoint.state.hyper.dim === 0,
    user: userId,
    excluded: exclude.length,
    resolved: [],
    ratings: [],
    minRatings: options.minRatings ?? RUN_DEFAULTS.minRatings,
    recommendations: listFor(
      checkpoint,
      storedUser(checkpoint.state, index),
      exclude,
      rankBy,
      options,
    ),
  };
}

/** Turns a new user's titles and ids into (movie, rating) pairs, in the order given. */
export function resolveNewUser(
  checkpoint: Checkpoint,
  user: NewUser,
): {
  items: Int32Array;
  values: Float32Array;
  resolved: ResolvedRating[];
  ratings: RecommendResult['ratings'];
} {
  const { scale } = checkpoint.dataset;
  const index = buildTitleIndex(checkpoint.catalog, checkpoint.itemTrainCounts);
  const display = (item: number): string => displayTitle(checkpoint.catalog, item);
  const ratingOf = (text: string, what: string): number => {
    const value = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(value))
      throw new AlsError(`${what}: ${JSON.stringify(text)} is not a rating`);
    if (value < scale.min || value > scale.max) {
      throw new AlsError(
        `${what}: rating ${value} is outside the scale of ${checkpoint.dataset.name} (${scale.min}–${scale.max})`,
      );
    }
    return value;
  };
  const byItem = new Map<number, { rating: number; query: string }>();
  const resolved: ResolvedRating[] = [];
  const add = (how: ResolvedRating['how'], match: TitleMatch, rating: number): void => {
    const previous = byItem.get(match.item);
    if (previous !== undefined && previous.rating !== rating) {
      throw new AlsError(
        `${display(match.item)} is given twice with different ratings (${previous.rating} and ${rating})`,
      );
    }
    byItem.set(match.item, { rating, query: match.query });
    resolved.push({
      how,
      query: match.query,
      match,
      movieId: checkpoint.itemIds[match.item]!,
      title: display(match.item),
      rating,
    });
  };
  for (const title of user.likes ?? []) add('likes', resolveTitle(index, title), scale.max);
  for (const title of user.dislikes ?? []) add('dislikes', resolveTitle(index, title), scale.min);
  for (const spec of user.rates ?? []) {
    const cut = spec.lastIndexOf('=');
    if (cut <= 0)
      throw new AlsError(
        `--rate ${JSON.stringify(spec)}: write "Title=rating", e.g. "Toy Story=4.5"`,
      );
    const rating = ratingOf(spec.slice(cut + 1), `--rate ${JSON.stringify(spec)}`);
    add('rates', resolveTitle(index, spec.slice(0, cut)), rating);
  }
  for (const spec of user.movieIds ?? []) {
    const [idText, ratingText] = spec.split('=', 2) as [string, string | undefined];
    const id = Number(idText);
    if (idText.trim() === '' || !Number.isInteger(id))
      throw new AlsError(`--movie-id ${JSON.stringify(spec)}: not a movie id`);
    const rating =
      ratingText === undefined
        ? scale.max
        : ratingOf(ratingText, `--movie-id ${JSON.stringify(spec)}`);
    add(
      ratingText === undefined ? 'likes' : 'rates',
      resolveMovieId(index, checkpoint.itemIds, id),
      rating,
    );
  }
  const entries = [...byItem.entries()].sort((a, b) => a[0] - b[0]);
  return {
    items: Int32Array.from(entries, ([item]) => item),
    values: Float32Array.from(entries, ([, v]) => v.rating),
    resolved,
    ratings: entries.map(([item, v]) => ({
      query: v.query,
      movieId: checkpoint.itemIds[item]!,
      title: display(item),
      rating: v.rating,
    })),
  };
}

/** The list of a new user described by titles, ratings and ids (folded in; the given movies left out). */
export function recommendForNewUser(
  checkpoint: Checkpoint,
  user: NewUser,
  options: RecommendOptions = {},
): RecommendResult {
  const given = resolveNewUser(checkpoint, user);
  if (given.items.length === 0)
    throw new AlsError('say who to recommend for: at least one liked, disliked or rated movie');
  if (checkpoint.bayes) {
    return bayesResult(
      checkpoint,
      { items: given.items, values: given.values },
      given.items,
      options,
      {
        kind: checkpoint.state.hyper.kind,
        biasOnly: checkpoint.state.hyper.dim === 0,
        user: null,
        excluded: given.items.length,
        resolved: given.resolved,
        ratings: given.ratings,
        minRatings: options.minRatings ?? RUN_DEFAULTS.minRatings,
      },
    );
  }
  const folded = foldInUser(checkpoint.state, checkpoint.state.hyper, given.items, given.values);
  const rankBy = rankingOf(checkpoint, options.rankBy, 'taste');
  return {
    kind: checkpoint.state.hyper.kind,
    rankBy,
    biasOnly: checkpoint.state.hyper.dim === 0,
    user: null,
    excluded: given.items.length,
    resolved: given.resolved,
    ratings: given.ratings,
    minRatings: options.minRatings ?? RUN_DEFAULTS.minRatings,
    recommendations: listFor(
      checkpoint,
      { bias: folded.bias, factors: folded.factors },
      given.items,
      rankBy,
      options,
    ),
  };
}

export interface AllUsersResult {
  out: string;
  /** Users written (training users with at least one training rating). */
  users: number;
  top: number;
  rankBy: RankBy;
  numEligible: number;
  scoringMs: number;
  totalMs: number;
}

/**
 * Top-n of every training user (their training movies left out) as CSV `userId,rank,movieId,score`
 * (score: predicted rating clipped to the scale), written atomically to `out`.
 */
export async function recommendForAllUsers(
  checkpoint: Checkpoint,
  out: string,
  options: RecommendOptions & { threads?: number } = {},
): Promise<AllUsersResult> {
  // A folder in the way, a read-only or full place: refused before the scoring, not after it.
  checkWritableTarget(out);
  const state = checkpoint.state;
  const { scale } = checkpoint.dataset;
  const startMs = performance.now();
  const eligible = eligibleMask(checkpoint.catalog, filterOf(checkpoint, options));
  if (
    checkpoint.bayes &&
    (options.rankBy === 'lower' || options.rankBy === 'upper' || options.rankBy === 'taste')
  ) {
    throw new AlsError(
      `--rank-by ${options.rankBy}: --all-users ranks a Bayesian checkpoint by its posterior-mean parameters only (--rank-by mean)`,
    );
  }
  const rankBy = rankingOf(
    checkpoint,
    checkpoint.bayes && options.rankBy === 'mean' ? 'rating' : options.rankBy,
    'rating',
  );
  const n = options.top ?? RUN_DEFAULTS.top;
  const lists = await recommendAllUsers(
    state,
    eligible,
    checkpoint.trainItemsByUser,
    n,
    rankBy,
    options.threads ?? availableParallelism(),
  );
  const scoringMs = performance.now() - startMs;
  const chunks: string[] = ['userId,rank,movieId,score\n'];
  const { offsets } = checkpoint.trainItemsByUser;
  let users = 0;
  for (let u = 0; u < state.numUsers; u++) {
    if (offsets[u + 1] === offsets[u]) continue; // no training ratings: nothing learned about them
    users++;
    let block = '';
    for (let k = 0; k < n; k++) {
      const item = lists.items[u * n + k]!;
      if (item < 0) break;
      const score = clipToScale(lists.scores[u * n + k]!, scale.min, scale.max);
      block += `${checkpoint.userIds[u]},${k + 1},${checkpoint.itemIds[item]},${score.toFixed(4)}\n`;
    }
    chunks.push(block);
  }
  writeTextFileAtomic(out, chunks.join(''));
  return {
    out,
    users,
    top: n,
    rankBy,
    numEligible: lists.numEligible,
    scoringMs,
    totalMs: performance.now() - startMs,
  };
}
