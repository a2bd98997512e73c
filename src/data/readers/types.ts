import type { RatingScale } from '../types.js';

/**
 * Ratings as read from a file, before indexing: original user and movie ids, in file order.
 * Flat typed arrays (length `length`; the arrays may be longer), never an object per rating.
 */
export interface RawRatings {
  /** Path of the file the ratings came from (used in error messages). */
  file: string;
  length: number;
  users: Int32Array;
  items: Int32Array;
  values: Float32Array;
  /** Unix seconds, or null when the file has no timestamp column. */
  timestamps: Int32Array | null;
  /** 1-based line of the first rating (2 when the file has a header line). */
  firstLine: number;
  /** Rating indexes before which a blank line was skipped (ascending; usually empty). */
  blankLinesBefore: number[];
}

/** The 1-based line of rating k in its file. */
export function lineOfRating(
  raw: Pick<RawRatings, 'firstLine' | 'blankLinesBefore'>,
  k: number,
): number {
  // Count skipped blank lines before rating k (binary search over a short sorted list).
  let lo = 0;
  let hi = raw.blankLinesBefore.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (raw.blankLinesBefore[mid]! <= k) lo = mid + 1;
    else hi = mid;
  }
  return raw.firstLine + k + lo;
}

/** Movies as read from a movies file, in file order, with original ids. */
export interface RawMovies {
  file: string;
  ids: Int32Array;
  /** Titles without the trailing "(year)". */
  titles: string[];
  years: Int32Array;
  /** Genre names (genre id = index). */
  genreNames: string[];
  /** genreIds[genreOffsets[m] .. genreOffsets[m+1]) are the genres of movie m (file order). */
  genreOffsets: Int32Array;
  genreIds: Int32Array;
  /** 1-based line of movie m, for error messages. */
  lines: Int32Array;
}

/** How a ratings file is laid out. */
export interface RatingsFormat {
  /** Field separator: "\t", ",", "::". */
  separator: string;
  /** Whether line 1 may be a header (skipped when its first byte is not a digit). */
  header: boolean;
  /** Fields per line: 4 (user, movie, rating, timestamp), or 'auto' = 3 or 4 decided by the first line. */
  fields: 4 | 'auto';
  /** Allowed ratings, or null to accept any finite number. */
  scale: RatingScale | null;
  /**
   * Where each field is, read from the header's column names (0-based positions; timestamp -1
   * when there is none). Absent: the fixed order user, movie, rating[, timestamp].
   */
  columns?: ColumnMap;
}

/** Positions of the needed fields in a line. */
export interface ColumnMap {
  user: number;
  item: number;
  rating: number;
  /** -1: no timestamp column. */
  timestamp: number;
}
