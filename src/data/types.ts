/**
 * The in-memory shapes of the data layer. Everything per rating lives in flat typed arrays;
 * there is never an object per rating. Users and movies are dense 0-based indexes; `userIds` and
 * `itemIds` map an index back to the id used in the source files.
 */

/** MovieLens file layouts the readers understand (detected from the folder's files). */
export type Layout = 'ml-100k' | 'ml-1m' | 'ml-10m' | 'ml-csv' | 'plain';

/**
 * A compressed sparse index over one side of the rating matrix (CSR by user, or CSC by item):
 * the entries of row r are `indices[offsets[r] .. offsets[r+1])` with `values` alongside.
 * Within a row, indices are sorted ascending.
 */
export interface SparseIndex {
  /** Length rows + 1; offsets[0] = 0, offsets[rows] = number of entries. */
  offsets: Int32Array;
  /** Column index of each entry (item index in a by-user index, user index in a by-item index). */
  indices: Int32Array;
  /** Rating of each entry (half stars are exact in float32). */
  values: Float32Array;
}

/** A rating matrix indexed both ways: what training reads. */
export interface RatingMatrix {
  numUsers: number;
  numItems: number;
  numRatings: number;
  /** CSR: for user u, the movies they rated and the ratings. */
  ratingsByUser: SparseIndex;
  /** CSC: for movie i, the users who rated it and the ratings. */
  ratingsByItem: SparseIndex;
}

/** Ratings as parallel arrays (coordinate form): a held-out test set, a file's contents. */
export interface RatingList {
  length: number;
  users: Int32Array;
  items: Int32Array;
  values: Float32Array;
  /** Unix seconds, or null when the source has no timestamps. */
  timestamps: Int32Array | null;
}

/** The movies: titles with the year split out, and genres as a multi-hot CSR (genre ids per movie). */
export interface Catalog {
  /** Title without the trailing "(year)"; index = item index. */
  titles: string[];
  /** Release year from the title, 0 when the title has none. */
  years: Int32Array;
  /** Genre names; a genre id indexes this array. "(no genres listed)" / "unknown" are not genres. */
  genreNames: string[];
  /** genreIds[genreOffsets[i] .. genreOffsets[i+1]) are movie i's genres. */
  genreOffsets: Int32Array;
  genreIds: Int32Array;
}

/** Scale of the ratings: MovieLens 100K/1M use whole stars 1..5, later sets half stars 0.5..5. */
export interface RatingScale {
  min: number;
  max: number;
  step: number;
}

/** Where a data set came from and how to tell whether a cache or checkpoint still matches it. */
export interface DatasetInfo {
  /** Folder name, e.g. "ml-latest-small". */
  name: string;
  /** Absolute path of the folder the set was read from. */
  dir: string;
  layout: Layout;
  /** Hash of the source files' names, sizes and contents' identity (see the cache): same data ⇔ same fingerprint. */
  fingerprint: string;
  scale: RatingScale;
}

/**
 * A loaded data set. Movies listed in the movies file but never rated are kept (they have an index,
 * a title and genres, and an empty column in the matrix): the genre model can still score them.
 */
export interface Dataset {
  info: DatasetInfo;
  /** Index → original user id. */
  userIds: Int32Array;
  /** Index → original movie id. */
  itemIds: Int32Array;
  /** All ratings, both ways. */
  matrix: RatingMatrix;
  /** Unix seconds, aligned with matrix.ratingsByUser (entry k of the CSR), or null. */
  timestampsByUser: Int32Array | null;
  catalog: Catalog;
}

/** How a split's held-out ratings relate to its training part. */
export interface SplitReport {
  /** The split as given, e.g. "random:0.1", "ml100k:u1", "file:test.csv". */
  spec: string;
  seed: number;
  trainRatings: number;
  testRatings: number;
  /** Test ratings whose user has no training rating. */
  testRatingsWithUnseenUser: number;
  /** Test ratings whose movie has no training rating. */
  testRatingsWithUnseenItem: number;
  /** Users with ratings in the data but none in training. */
  usersWithoutTrainingRatings: number;
}

/** A train/test partition of a data set, in the data set's own index space. */
export interface Split {
  train: RatingMatrix;
  /** Timestamps aligned with train.ratingsByUser, or null (none in the data, or not asked for: see makeSplit). */
  trainTimestamps: Int32Array | null;
  /** The held-out ratings (empty for spec "none"). */
  test: RatingList;
  report: SplitReport;
}

/** Order statistics of a count distribution (ratings per user, ratings per movie). */
export interface Quantiles {
  min: number;
  p10: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** A fitted discrete power law P(x) ∝ x^(−alpha) for x ≥ xMin (maximum likelihood, Clauset et al.). */
export interface PowerLawFit {
  alpha: number;
  xMin: number;
}

/** What `als stats` reports (and `--json` prints); plots read the distributions from here. */
export interface DatasetStats {
  name: string;
  layout: Layout;
  numRatings: number;
  numUsers: number;
  /** Movies listed in the movies file (or seen in ratings when there is none). */
  numItemsListed: number;
  /** Movies with at least one rating. */
  numItemsRated: number;
  /** numRatings / (numUsers × numItemsRated). */
  density: number;
  meanRating: number;
  ratingHistogram: { value: number; count: number }[];
  userActivity: Quantiles;
  itemPopularity: Quantiles;
  /** Share of all ratings held by the most-rated 1 % and 10 % of rated movies. */
  topItemShare: { top1Percent: number; top10Percent: number };
  gini: { users: number; items: number };
  powerLaw: { users: PowerLawFit; items: PowerLawFit };
  /** For each distinct count c: how many users have exactly c ratings (ascending c). */
  userActivityDistribution: { count: number; frequency: number }[];
  /** For each distinct count c: how many rated movies have exactly c ratings (ascending c). */
  itemPopularityDistribution: { count: number; frequency: number }[];
}
