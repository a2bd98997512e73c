/**
 * What `als recommend` and `als similar` share: the checkpoint option, the filters (popularity
 * floor, genres, years), title resolution and the printed / JSON listing.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { dataHome, DEFAULT_DATASET } from '../data/home.js';
import { AlsError } from '../errors.js';
import type { Checkpoint } from '../data/checkpoint.js';
import type { TitleMatch } from '../data/titles.js';
import type { ItemFilter, TopN } from '../core/recommend.js';
import { DEFAULT_MODEL_KIND } from '../core/defaults.js';

/**
 * Where `als train` writes its checkpoint when --out is not given (see cli/train.ts):
 * <data home>/models/<data set>-<model>.als, here with the default model kind.
 */
export function defaultModelFile(dataName: string | undefined, home: string | undefined): string {
  return path.join(dataHome(home), 'models', `${dataName ?? DEFAULT_DATASET}-${DEFAULT_MODEL_KIND}.als`);
}
const DEFAULT_MODEL_HELP = `<data home>/models/<data set>-${DEFAULT_MODEL_KIND}.als, where als train writes by default`;

/**
 * Default popularity floor (training ratings per movie). Measured with `--all-users` top-10 lists
 * of the default model (ALS-WR, `als train` defaults): with no floor, 87 % of all top-10 slots on
 * ml-latest-small (52 % on ml-100k) go to movies with fewer than 5 ratings, whose biases rest on a
 * rating or two (median movie in the lists: 1 rating; ml-100k: 4). A floor of 10 still leaves 57 %
 * of ml-latest-small slots to movies with 10–19 ratings; 20 gives lists whose median movie has 39
 * (ml-100k: 122) ratings, keeping 1,173 of 9,742 movies (ml-100k: 909 of 1,682) recommendable.
 */
export const DEFAULT_MIN_RATINGS = 20;

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const nonNegativeInt = (what: string) =>
  z.coerce.number({ message: `${what} must be a number` }).int(`${what} must be a whole number`).nonnegative(`${what} must be ≥ 0`);

export const listingSchema = z.object({
  model: z.string().min(1).optional(),
  data: z.string().min(1).optional(),
  dataHome: z.string().min(1).optional(),
  top: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').positive('must be a positive whole number').default(10),
  minRatings: nonNegativeInt('the popularity floor').default(DEFAULT_MIN_RATINGS),
  genre: z.array(z.string().min(1)).default([]),
  excludeGenre: z.array(z.string().min(1)).default([]),
  yearFrom: z.coerce.number({ message: 'must be a year' }).int('must be a year').optional(),
  yearTo: z.coerce.number({ message: 'must be a year' }).int('must be a year').optional(),
  includeUnrated: z.boolean().default(false),
  json: z.boolean().default(false),
});
export type ListingOptions = z.infer<typeof listingSchema>;

/** Adds the options both listing commands accept. */
export function addListingOptions(command: Command): Command {
  return command
    .option('--model <checkpoint>', `checkpoint written by 'als train' (default: ${DEFAULT_MODEL_HELP})`)
    .option('--data <name>', 'data set name for the default --model path (default: ml-latest-small)')
    .option('--data-home <folder>', 'data home for the default --model path (default: $ALS_DATA_HOME or ./data)')
    .option('--top <n>', 'how many movies to list (default: 10)')
    .option('--min-ratings <n>', `leave out movies with fewer training ratings (default: ${DEFAULT_MIN_RATINGS}; 0 keeps all)`)
    .option('--genre <name>', 'only movies of this genre (repeatable: any of them)', collect)
    .option('--exclude-genre <name>', 'leave out movies of this genre (repeatable)', collect)
    .option('--year-from <year>', 'only movies released in or after this year')
    .option('--year-to <year>', 'only movies released in or before this year')
    .option('--include-unrated', 'genre model: also list movies nobody rated (scored from their genres), despite --min-ratings')
    .option('--json', 'print JSON instead of a table');
}

/**
 * Reads the checkpoint --model names (or the default path), turning every failure into one line
 * that says how to train one.
 */
export async function openCheckpoint(options: ListingOptions): Promise<{ file: string; checkpoint: Checkpoint }> {
  const { readCheckpoint } = await import('../data/checkpoint.js');
  const file = options.model ?? defaultModelFile(options.data, options.dataHome);
  const how = options.model === undefined ? `'als train${options.data ? ` --data ${options.data}` : ''}'` : `'als train --out ${file}'`;
  if (!existsSync(file)) throw new AlsError(`no checkpoint at ${file}: train one with ${how}`);
  try {
    return { file, checkpoint: readCheckpoint(file) };
  } catch (error) {
    if (error instanceof AlsError && !/train/.test(error.message)) {
      throw new AlsError(`${error.message}; train a model with ${how}`);
    }
    throw error;
  }
}

/** Genre names → ids, case-insensitively; an unknown genre lists the known ones. */
export function genreIdsOf(names: string[], genreNames: string[], option: string): number[] {
  return names.map((name) => {
    const id = genreNames.findIndex((g) => g.toLowerCase() === name.trim().toLowerCase());
    if (id < 0) throw new AlsError(`${option}: unknown genre ${JSON.stringify(name)}; genres: ${genreNames.join(', ')}`);
    return id;
  });
}

/**
 * The filter the options describe. Movies nobody rated pass the popularity floor only when asked
 * (--include-unrated) and only for the genre model, the one that can score them (cold start): by
 * default they would swamp a list, since every one of them sits exactly at its genre mean.
 */
export function filterOf(checkpoint: Checkpoint, options: ListingOptions): ItemFilter {
  if (options.yearFrom !== undefined && options.yearTo !== undefined && options.yearFrom > options.yearTo) {
    throw new AlsError(`--year-from ${options.yearFrom} is after --year-to ${options.yearTo}`);
  }
  return {
    ratingCounts: checkpoint.itemTrainCounts,
    minRatings: options.minRatings,
    keepUnrated: checkpoint.state.hyper.kind === 'genre' && options.includeUnrated,
    includeGenres: genreIdsOf(options.genre, checkpoint.catalog.genreNames, '--genre'),
    excludeGenres: genreIdsOf(options.excludeGenre, checkpoint.catalog.genreNames, '--exclude-genre'),
    yearFrom: options.yearFrom ?? null,
    yearTo: options.yearTo ?? null,
  };
}

/** One line per resolved title: what the person typed and what it became. */
export function describeMatch(match: TitleMatch, display: (item: number) => string): string {
  const chosen = display(match.item);
  const how = match.how === 'partial' ? ' (partial match)' : '';
  const also =
    match.alsoMatched.length > 0
      ? ` (most rated of ${match.alsoMatched.length + 1}; also ${match.alsoMatched.slice(0, 3).map(display).join('; ')})`
      : '';
  return match.how === 'id' ? `${match.query} → ${chosen}` : `${JSON.stringify(match.query)} → ${chosen}${how}${also}`;
}

/** One row of a listing, as printed and as JSON. */
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

export function rowsOf(checkpoint: Checkpoint, list: TopN, transform: (score: number) => number): ListingRow[] {
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

/** A fixed-width table: rank, score, title (year), genres, ratings. */
export function formatTable(rows: ListingRow[], scoreHeader: string, scoreDigits: number): string {
  if (rows.length === 0) return 'no movie passes the filters (try a lower --min-ratings or fewer genre/year filters)\n';
  const titleOf = (r: ListingRow): string =>
    `${r.year !== null ? `${r.title} (${r.year})` : r.title}${r.neverRated ? ' [never rated: scored from its genres]' : ''}`;
  const titles = rows.map(titleOf);
  const genres = rows.map((r) => (r.genres.length > 0 ? r.genres.join('|') : '-'));
  const titleWidth = Math.max(5, ...titles.map((t) => t.length));
  const genreWidth = Math.max(6, ...genres.map((g) => g.length));
  const rankWidth = Math.max(1, String(rows.length).length);
  const scoreWidth = Math.max(scoreHeader.length, scoreDigits + 2);
  const lines = [
    `${'#'.padStart(rankWidth)}  ${scoreHeader.padStart(scoreWidth)}  ${'title'.padEnd(titleWidth)}  ${'genres'.padEnd(genreWidth)}  ratings`,
  ];
  rows.forEach((r, k) => {
    lines.push(
      `${String(r.rank).padStart(rankWidth)}  ${r.score.toFixed(scoreDigits).padStart(scoreWidth)}  ${titles[k]!.padEnd(titleWidth)}  ${genres[k]!.padEnd(genreWidth)}  ${String(r.ratings).padStart(7)}`,
    );
  });
  return `${lines.join('\n')}\n`;
}
