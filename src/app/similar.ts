/**
 * Similar movies: the movies whose item factors point the same way as one movie's, by cosine
 * similarity cos(i, j) = v_i·v_j / (‖v_i‖‖v_j‖) (the movie itself left out), with the filters of
 * the recommendation lists.
 */
import { eligibleMask, similarItems } from '../core/recommend.js';
import type { Checkpoint } from '../data/checkpoint.js';
import {
  buildTitleIndex,
  displayTitle,
  resolveMovieId,
  resolveTitle,
  type TitleMatch,
} from '../data/titles.js';
import { AlsError } from '../errors.js';
import { RUN_DEFAULTS } from './defaults.js';
import { filterOf, rowsOf, type ListingRow, type ListOptions } from './listing.js';

/** The movie: a title ("Toy Story", "Toy Story (1995)") or a MovieLens id. */
export type MovieQuery = { title: string } | { movieId: number };

export interface SimilarResult {
  kind: Checkpoint['state']['hyper']['kind'];
  movie: { query: string; movieId: number; title: string; match: TitleMatch };
  /** The movie has no training rating: its factor is its genre prior. */
  neverRated: boolean;
  minRatings: number;
  similar: ListingRow[];
}

export function similarMovies(
  checkpoint: Checkpoint,
  query: MovieQuery,
  options: ListOptions = {},
  checkpointFile = 'the checkpoint',
): SimilarResult {
  const state = checkpoint.state;
  if (state.hyper.kind === 'bias' || state.hyper.dim === 0) {
    throw new AlsError(
      `${checkpointFile} holds a bias-only model, which has no movie factors to compare; train with --kind latent or genre`,
    );
  }
  const index = buildTitleIndex(checkpoint.catalog, checkpoint.itemTrainCounts);
  const match =
    'title' in query
      ? resolveTitle(index, query.title)
      : resolveMovieId(index, checkpoint.itemIds, query.movieId);
  const eligible = eligibleMask(checkpoint.catalog, filterOf(checkpoint, options));
  const list = similarItems(state, match.item, options.top ?? RUN_DEFAULTS.top, eligible);
  return {
    kind: state.hyper.kind,
    movie: {
      query: match.query,
      movieId: checkpoint.itemIds[match.item]!,
      title: displayTitle(checkpoint.catalog, match.item),
      match,
    },
    neverRated: checkpoint.itemTrainCounts[match.item] === 0,
    minRatings: options.minRatings ?? RUN_DEFAULTS.minRatings,
    similar: rowsOf(checkpoint, list, (s) => s),
  };
}
