/**
 * What the lists (recommendations, similar movies) share: the filters (popularity floor, genres,
 * years) and the rows, as plain data.
 */
import type { ItemFilter, RankBy, TopN } from '../core/recommend.js';
import type { Checkpoint } from '../data/checkpoint.js';
import { AlsError } from '../errors.js';
import { RUN_DEFAULTS } from './defaults.js';

/** Which movies a list may show, and how long it is. Every field has a default. */
export interface ListOptions {
  /** List length (default RUN_DEFAULTS.top). */
  top?: number;
  /** Leave out movies with fewer training ratings (default RUN_DEFAULTS.minRatings; 0 keeps all). */
  minRatings?: number;
  /** Only movies of any of these genres (names, case-insensitive). */
  genres?: string[];
  /** Leave out movies of these genres. */
  excludeGenres?: string[];
  yearFrom?: number;
  yearTo?: number;
  /** Genre model: also list movies nobody rated (scored from their genres), despite minRatings. */
  includeUnrated?: boolean;
}

/** How a recommendation list is ranked; unset: rating for training users, taste for new users. */
export interface RecommendOptions extends ListOptions {
  /** rating | taste for an ALS checkpoint; mean | lower | upper for a Bayesian one (rating means mean there). */
  rankBy?: RankBy | 'mean' | 'lower' | 'upper';
}

/** One row of a listing. */
export interface ListingRow {
  rank: number;
  movieId: number;
  title: string;
  year: number | null;
  genres: string[];
  /** Training ratings of the movie. */
  ratings: number;
  /** Predicted rating clipped to the scale (recommend) or cosine similarity (similar). */
  score: number;
  /** True for a movie nobody rated in training (scored from its genres by the genre model). */
  neverRated: boolean;
}

/** Genre names → ids, case-insensitively; an unknown genre lists the known ones. */
export function genreIdsOf(names: string[], genreNames: string[], option: string): number[] {
  return names.map((name) => {
    const id = genreNames.findIndex((g) => g.toLowerCase() === name.trim().toLowerCase());
    if (id < 0)
      throw new AlsError(
        `${option}: unknown genre ${JSON.stringify(name)}; genres: ${genreNames.join(', ')}`,
      );
    return id;
  });
}

/**
 * The filter the options describe. Movies nobody rated pass the popularity floor only when asked
 * (includeUnrated) and only for the genre model, the one that can score them (cold start): by
 * default they would swamp a list, since every one of them sits exactly at its genre mean.
 */
export function filterOf(checkpoint: Checkpoint, options: ListOptions): ItemFilter {
  if (
    options.yearFrom !== undefined &&
    options.yearTo !== undefined &&
    options.yearFrom > options.yearTo
  ) {
    throw new AlsError(`--year-from ${options.yearFrom} is after --year-to ${options.yearTo}`);
  }
  return {
    ratingCounts: checkpoint.itemTrainCounts,
    minRatings: options.minRatings ?? RUN_DEFAULTS.minRatings,
    keepUnrated: checkpoint.state.hyper.kind === 'genre' && options.includeUnrated === true,
    includeGenres: genreIdsOf(options.genres ?? [], checkpoint.catalog.genreNames, '--genre'),
    excludeGenres: genreIdsOf(
      options.excludeGenres ?? [],
      checkpoint.catalog.genreNames,
      '--exclude-genre',
    ),
    yearFrom: options.yearFrom ?? null,
    yearTo: options.yearTo ?? null,
  };
}

export function rowsOf(
  checkpoint: Checkpoint,
  list: TopN,
  transform: (score: number) => number,
): ListingRow[] {
  const { catalog, itemIds, itemTrainCounts } = checkpoint;
  const rows: ListingRow[] = [];
  for (let k = 0; k < list.items.length; k++) {
    const item = list.items[k]!;
    const genres: string[] = [];
    for (let g = catalog.genreOffsets[item]!; g < catalog.genreOffsets[item + 1]!; g++) {
      genres.push(catalog.genreNames[catalog.genreIds[g]!]!);
    }
    rows.push({
      rank: k + 1,
      movieId: itemIds[item]!,
      title: catalog.titles[item]!,
      year: catalog.years[item]! > 0 ? catalog.years[item]! : null,
      genres,
      ratings: itemTrainCounts[item]!,
      score: transform(list.scores[k]!),
      neverRated: itemTrainCounts[item] === 0,
    });
  }
  return rows;
}
