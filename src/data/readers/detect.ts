import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError, quoteForMessage } from '../../errors.js';
import type { Layout, RatingScale } from '../types.js';
import { readMl100kMovies } from './ml100k.js';
import { readCsvMovies } from './mlCsv.js';
import { readDatMovies } from './mlDat.js';
import type { ColumnMap, RatingsFormat, RawMovies } from './types.js';

/** Whole stars (MovieLens 100K and 1M). */
export const WHOLE_STARS: RatingScale = { min: 1, max: 5, step: 1 };
/** Half stars (MovieLens 10M and later). */
export const HALF_STARS: RatingScale = { min: 0.5, max: 5, step: 0.5 };

/** What to read in a folder, decided from the files present. */
export interface LayoutPlan {
  layout: Layout;
  ratingsFile: string;
  ratingsFormat: RatingsFormat;
  /** Reads the movies file, or null when the layout has none. */
  readMovies: (() => RawMovies) | null;
  /** Every file the data set is read from (the cache is invalidated when one changes). */
  sourceFiles: string[];
}

/**
 * Detects the layout of a data folder from its files:
 * - `u.data` → ml-100k (`u.item`, `u.genre`)
 * - `ratings.dat` → ml-1m when `users.dat` is present (Latin-1), else ml-10m (UTF-8, half stars)
 * - `ratings.csv` with MovieLens' header names `userId`, `movieId`, `rating`, `timestamp` (in any
 *   order: columns are read by name) → ml-csv (needs `movies.csv`)
 * - any other `ratings.csv`, `ratings.tsv` or `ratings.txt` → plain `user,item,rating[,timestamp]`
 *   (comma or tab, optional header; a header naming its columns is read by name, one naming none
 *   by position; a `movies.csv` beside it is used when present)
 */
export function detectLayout(dir: string): LayoutPlan {
  if (!existsSync(dir)) throw new DataError(dir, undefined, 'data folder not found');
  if (!statSync(dir).isDirectory()) throw new DataError(dir, undefined, 'not a folder');
  const has = (name: string): boolean => existsSync(path.join(dir, name));
  const at = (name: string): string => path.join(dir, name);
  const need = (layout: string, ...names: string[]): void => {
    for (const name of names) {
      if (!has(name))
        throw new DataError(at(name), undefined, `file not found (a ${layout} folder needs it)`);
    }
  };

  if (has('u.data')) {
    need('ml-100k', 'u.item', 'u.genre');
    return {
      layout: 'ml-100k',
      ratingsFile: at('u.data'),
      ratingsFormat: { separator: '\t', header: false, fields: 4, scale: WHOLE_STARS },
      readMovies: () => readMl100kMovies(dir),
      sourceFiles: [at('u.data'), at('u.item'), at('u.genre')],
    };
  }
  if (has('ratings.dat')) {
    const isMl1m = has('users.dat');
    const layout = isMl1m ? 'ml-1m' : 'ml-10m';
    need(layout, 'movies.dat');
    return {
      layout,
      ratingsFile: at('ratings.dat'),
      ratingsFormat: {
        separator: '::',
        header: false,
        fields: 4,
        scale: isMl1m ? WHOLE_STARS : HALF_STARS,
      },
      readMovies: () => readDatMovies(dir, isMl1m ? 'latin1' : 'utf-8'),
      sourceFiles: [at('ratings.dat'), at('movies.dat')],
    };
  }
  for (const name of ['ratings.csv', 'ratings.tsv', 'ratings.txt']) {
    if (!has(name)) continue;
    const file = at(name);
    const firstLine = readFirstLine(file);
    const separator =
      name === 'ratings.csv' && !firstLine.includes('\t')
        ? ','
        : firstLine.includes('\t')
          ? '\t'
          : ',';
    const columns = headerColumns(file, firstLine, separator);
    // MovieLens' own header names (in any order, e.g. userId,movieId,timestamp,rating).
    const movieLensNames =
      /^userId,movieId,rating\b/.test(firstLine) ||
      (columns !== undefined && /\bmovieId\b/.test(firstLine) && /\buserId\b/.test(firstLine));
    if (
      name === 'ratings.csv' &&
      movieLensNames &&
      columns !== undefined &&
      columns.timestamp >= 0
    ) {
      need('MovieLens ratings.csv', 'movies.csv');
      return {
        layout: 'ml-csv',
        ratingsFile: file,
        ratingsFormat: {
          separator: ',',
          header: true,
          fields: 4,
          scale: HALF_STARS,
          ...(isPositional(columns) ? {} : { columns }),
        },
        readMovies: () => readCsvMovies(dir),
        sourceFiles: [file, at('movies.csv')],
      };
    }
    const withMovies = has('movies.csv');
    return {
      layout: 'plain',
      ratingsFile: file,
      ratingsFormat: {
        separator,
        header: true,
        fields: 'auto',
        scale: null,
        ...(columns === undefined || isPositional(columns) ? {} : { columns }),
      },
      readMovies: withMovies ? () => readCsvMovies(dir) : null,
      sourceFiles: withMovies ? [file, at('movies.csv')] : [file],
    };
  }
  throw new DataError(
    dir,
    undefined,
    'unknown layout: expected u.data (ml-100k), ratings.dat (ml-1m/ml-10m) or ratings.csv',
  );
}

/** Header names that mean each needed column (compared lower-cased, without spaces, quotes, _ or -). */
const COLUMN_NAMES: Record<keyof ColumnMap, string[]> = {
  user: ['userid', 'user', 'uid'],
  item: ['movieid', 'itemid', 'movie', 'item', 'iid'],
  rating: ['rating', 'score', 'stars'],
  timestamp: ['timestamp', 'time', 'ts', 'unixtime'],
};

function isPositional(c: ColumnMap): boolean {
  return (
    c.user === 0 && c.item === 1 && c.rating === 2 && (c.timestamp === 3 || c.timestamp === -1)
  );
}

/**
 * The columns a header line names, or undefined when line 1 is not a header (it starts with a
 * digit) or names none of the known columns (an unnamed header, read by position as before).
 * A header that names some columns must name user, movie and rating, and nothing unknown.
 */
function headerColumns(file: string, firstLine: string, separator: string): ColumnMap | undefined {
  if (firstLine === '' || /^\d/.test(firstLine)) return undefined;
  const names = firstLine.split(separator).map((n) => n.trim().replace(/^"(.*)"$/, '$1'));
  const keys = names.map((n) => n.toLowerCase().replace(/[\s_-]/g, ''));
  const roleOf = (key: string): keyof ColumnMap | undefined =>
    (Object.keys(COLUMN_NAMES) as (keyof ColumnMap)[]).find((role) =>
      COLUMN_NAMES[role].includes(key),
    );
  if (!keys.some((k) => roleOf(k) !== undefined)) return undefined;
  const found: Partial<Record<keyof ColumnMap, number>> = {};
  keys.forEach((key, position) => {
    const role = roleOf(key);
    if (role === undefined) {
      throw new DataError(
        file,
        1,
        `unknown column ${quoteForMessage(names[position]!, 40)} in the header (expected user, movie, rating and optionally timestamp columns)`,
      );
    }
    if (found[role] !== undefined)
      throw new DataError(file, 1, `the header names the ${role} column twice`);
    found[role] = position;
  });
  const listed = names.map((n) => quoteForMessage(n, 40)).join(', ');
  for (const role of ['user', 'item', 'rating'] as const) {
    if (found[role] === undefined) {
      const what = role === 'item' ? 'movie' : role;
      throw new DataError(file, 1, `the header has no ${what} column (columns: ${listed})`);
    }
  }
  return {
    user: found.user!,
    item: found.item!,
    rating: found.rating!,
    timestamp: found.timestamp ?? -1,
  };
}

function readFirstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.toString('latin1', 0, n);
    const nl = text.indexOf('\n');
    return (nl === -1 ? text : text.slice(0, nl)).replace(/\r$/, '');
  } finally {
    closeSync(fd);
  }
}
