/**
 * A trained model as one object, in the spirit of implicit's model classes:
 *
 *   const model = await Recommender.fit(dataset, { kind: 'genre', dim: 30, epochs: 40 });
 *   model.recommend(userId, { n: 10, filterSeen: true });
 *   model.recommendForRatings([{ movieId: 1, rating: 5 }]);   // fold-in of a new user
 *   model.similarItems(1);
 *   model.predict(userId, movieId);
 *   model.save('model.als');  const again = Recommender.load('model.als');
 *
 * Users and movies are named by their MovieLens ids. Everything delegates to the app layer and
 * the core, so the lists are exactly those of `als recommend` / `als similar`.
 */
import {
  clipToScale,
  eligibleMask,
  predictForUser,
  recommendForUser,
  storedUser,
  type RankBy,
} from '../core/recommend.js';
import type { EpochMetrics, Hyperparameters } from '../core/types.js';
import type { Checkpoint } from '../data/checkpoint.js';
import { readAnyCheckpoint } from '../data/bayes-checkpoint.js';
import type { Dataset } from '../data/types.js';
import { AlsError } from '../errors.js';
import { RUN_DEFAULTS } from './defaults.js';
import { filterOf, rowsOf, type ListingRow, type ListOptions } from './listing.js';
import { recommendForNewUser, recommendForTrainingUser } from './recommend.js';
import { similarMovies } from './similar.js';
import {
  trainModel,
  writeRunFiles,
  type HyperparameterOverrides,
  type TrainEvents,
  type TrainResult,
} from './train.js';

/** How to fit: hyperparameters (defaults: src/core/defaults.ts) and run settings. */
export interface FitOptions extends HyperparameterOverrides {
  /** Epochs (default RUN_DEFAULTS.epochs). */
  epochs?: number;
  /** Held-out part for validation RMSE (default 'none': train on everything). */
  split?: string;
  seed?: number;
  threads?: number;
  kernel?: 'ts' | 'wasm';
  earlyStopPatience?: number;
  signal?: AbortSignal;
}

export interface RecommendCallOptions extends ListOptions {
  /** List length (default 10). */
  n?: number;
  /** Leave out the movies the user rated in training (default true). */
  filterSeen?: boolean;
  /** Default: rating for a training user, taste for ratings folded in. */
  rankBy?: RankBy;
}

export class Recommender {
  private constructor(
    /** Everything the model knows: parameters, ids, titles, training movies per user. */
    readonly checkpoint: Checkpoint,
    /** The fit's history and timings (null for a loaded model). */
    readonly fitResult: TrainResult | null = null,
  ) {}

  /** Trains on a data set (in memory; nothing is written until save). */
  static async fit(
    dataset: Dataset,
    options: FitOptions = {},
    events: TrainEvents = {},
  ): Promise<Recommender> {
    const { epochs, split, seed, threads, kernel, earlyStopPatience, signal, ...hyper } = options;
    const result = await trainModel(
      {
        dataset,
        hyper,
        epochs,
        split: split ?? 'none',
        seed,
        threads,
        kernel,
        earlyStopPatience,
        signal,
        write: false,
      },
      events,
    );
    if (result.checkpoint === null)
      throw new AlsError('the fit was stopped before its first epoch finished');
    return new Recommender(result.checkpoint, result);
  }

  /** Reads a checkpoint written by save or by `als train`. */
  static load(file: string): Recommender {
    return new Recommender(readAnyCheckpoint(file));
  }

  /** Writes the checkpoint and its metrics files (what `als train` writes). */
  save(file: string): void {
    writeRunFiles(file, this.checkpoint);
  }

  get hyperparameters(): Hyperparameters {
    return this.checkpoint.state.hyper;
  }

  get history(): EpochMetrics[] {
    return this.checkpoint.metrics;
  }

  private userIndex(userId: number): number {
    const index = this.checkpoint.userIds.indexOf(userId);
    if (index < 0)
      throw new AlsError(
        `user ${userId} is not in the training data of ${this.checkpoint.dataset.name}`,
      );
    return index;
  }

  private itemIndex(movieId: number): number {
    const index = this.checkpoint.itemIds.indexOf(movieId);
    if (index < 0) throw new AlsError(`movie ${movieId} is not in ${this.checkpoint.dataset.name}`);
    return index;
  }

  /** The top movies for a training user. */
  recommend(userId: number, options: RecommendCallOptions = {}): ListingRow[] {
    const listOptions = { ...options, top: options.n ?? options.top ?? RUN_DEFAULTS.top };
    if (options.filterSeen !== false)
      return recommendForTrainingUser(this.checkpoint, userId, listOptions).recommendations;
    const c = this.checkpoint;
    const rankBy = c.state.hyper.dim === 0 ? 'rating' : (options.rankBy ?? 'rating');
    const eligible = eligibleMask(c.catalog, filterOf(c, listOptions));
    const list = recommendForUser(
      c.state,
      storedUser(c.state, this.userIndex(userId)),
      listOptions.top,
      eligible,
      [],
      rankBy,
    );
    return rowsOf(c, list, (score) => clipToScale(score, c.dataset.scale.min, c.dataset.scale.max));
  }

  /** The top movies for a new user who gave these ratings (folded in; the rated movies left out). */
  recommendForRatings(
    ratings: readonly { movieId: number; rating: number }[],
    options: RecommendCallOptions = {},
  ): ListingRow[] {
    const movieIds = ratings.map((r) => `${r.movieId}=${r.rating}`);
    return recommendForNewUser(
      this.checkpoint,
      { movieIds },
      { ...options, top: options.n ?? options.top ?? RUN_DEFAULTS.top },
    ).recommendations;
  }

  /** The movies closest to one (cosine of the factors), by MovieLens id or title. */
  similarItems(movie: number | string, options: ListOptions & { n?: number } = {}): ListingRow[] {
    const query = typeof movie === 'number' ? { movieId: movie } : { title: movie };
    return similarMovies(this.checkpoint, query, {
      ...options,
      top: options.n ?? options.top ?? RUN_DEFAULTS.top,
    }).similar;
  }

  /** The predicted rating r̂ = μ + b_u + c_i + u·v_i of a training user for a movie (not clipped). */
  predict(userId: number, movieId: number): number {
    const state = this.checkpoint.state;
    return predictForUser(
      state,
      storedUser(state, this.userIndex(userId)),
      this.itemIndex(movieId),
    );
  }
}
