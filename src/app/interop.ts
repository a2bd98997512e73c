/**
 * Interop with Spark MLlib and numpy, as plain data for the CLI to render (nothing here prints):
 *
 * - exportSpark:          checkpoint → Spark ALSModel directory (biases folded in, rank K + 2)
 * - importSpark:          Spark ALSModel directory → als checkpoint tied to a data set and split
 * - exportRatingsParquet: a data set's ratings, or a split's train and test parts → Parquet
 * - exportNumpy:          factors, biases and id maps → .npz, or a folder of .npy files
 * - writeSparkJob:        the PySpark program that trains Spark's ALS on that Parquet
 *
 * The Parquet libraries are loaded only inside these functions (src/interop/parquet.ts).
 */
import { buildCheckpoint } from './train.js';
import path from 'node:path';
import { DEFAULT_HYPERPARAMETERS, defaultHyperparameters } from '../core/defaults.js';
import { meanRating } from '../core/als.js';
import type { Hyperparameters, ModelState } from '../core/types.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../data/checkpoint.js';
import { makeSplit } from '../data/splits.js';
import type { Dataset, RatingList, RatingMatrix } from '../data/types.js';
import { AlsError } from '../errors.js';
import {
  writeBytes,
  writeDirectoryAtomic,
  writeFileAtomic,
  checkNewOutput,
} from '../interop/files.js';
import { encodeNpy, encodeNpz, type NpyEntry } from '../interop/npy.js';
import {
  writeRatingsParquet,
  type FactorTable,
  type RatingColumns,
  type RatingsCompression,
} from '../interop/parquet.js';
import {
  foldBiases,
  hasFoldedBiases,
  readSparkModel,
  sparkModelMetadata,
  writeSparkModelInto,
} from '../interop/spark.js';
import { sparkJobSource, type SparkJobParams } from '../interop/spark-job.js';

// ---------------------------------------------------------------------------------------------
// als → Spark

export interface ExportSparkResult {
  out: string;
  /** Spark rank: our dim + 2 (the folded bias columns). */
  rank: number;
  users: number;
  items: number;
  /** Files written, relative to `out`. */
  files: string[];
  elapsedMs: number;
}

/** Writes the checkpoint's model as a Spark ALSModel directory keyed by MovieLens ids. */
export async function exportSpark(options: {
  model: string;
  out: string;
}): Promise<ExportSparkResult> {
  const checkpoint = readCheckpoint(options.model);
  checkNewOutput(path.resolve(options.out));
  const startMs = performance.now();
  const folded = foldBiases(checkpoint.state);
  const users: FactorTable = {
    ids: checkpoint.userIds,
    factors: folded.userFactors,
    rank: folded.rank,
  };
  const items: FactorTable = {
    ids: checkpoint.itemIds,
    factors: folded.itemFactors,
    rank: folded.rank,
  };
  const metadata = sparkModelMetadata(folded.rank);
  const files = await writeDirectoryAtomic(options.out, (dir) =>
    writeSparkModelInto(dir, { metadata, users, items }),
  );
  return {
    out: path.resolve(options.out),
    rank: folded.rank,
    users: users.ids.length,
    items: items.ids.length,
    files,
    elapsedMs: performance.now() - startMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Spark → als

export interface ImportSparkResult {
  out: string;
  /** Rank of the Spark model. */
  rank: number;
  /** Latent dimension of the written checkpoint (rank, or rank − 2 when the biases were unfolded). */
  dim: number;
  /** True when the model was written by `als export` and its bias columns were turned back into biases. */
  unfoldedBiases: boolean;
  users: { inModel: number; inDataset: number; withTrainingRatingsButNoFactors: number };
  items: { inModel: number; inDataset: number; withTrainingRatingsButNoFactors: number };
  split: { spec: string; seed: number; trainRatings: number; testRatings: number };
  elapsedMs: number;
}

/** Index of each id in a sorted id array, or -1 (binary search: the data set's ids are sorted). */
function indexOfSorted(sortedIds: Int32Array, id: number): number {
  let lo = 0;
  let hi = sortedIds.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sortedIds[mid]!;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Maps a factor table's ids to data set indexes; refuses ids the data set does not have. */
function mapIds(
  table: FactorTable,
  sortedIds: Int32Array,
  what: string,
  dir: string,
  dataName: string,
): Int32Array {
  const index = new Int32Array(table.ids.length);
  let missing = 0;
  let example = 0;
  for (let r = 0; r < table.ids.length; r++) {
    const i = indexOfSorted(sortedIds, table.ids[r]!);
    if (i < 0 && missing++ === 0) example = table.ids[r]!;
    index[r] = i;
  }
  if (missing > 0) {
    throw new AlsError(
      `${dir}: ${missing} of ${table.ids.length} ${what} ids are not in the data set ${dataName} (e.g. ${example}); import with the data set the model was trained on`,
    );
  }
  return index;
}

function countWithoutFactors(has: Uint8Array, offsets: Int32Array): number {
  let n = 0;
  for (let r = 0; r < has.length; r++) if (has[r] === 0 && offsets[r + 1]! > offsets[r]!) n++;
  return n;
}

/**
 * Turns a Spark ALSModel directory into an als checkpoint of `dataset` trained on split
 * (`splitSpec`, `seed`): the split fixes the held-out ratings `als eval` measures and the
 * training ratings `als recommend --user` leaves out.
 *
 * A model Spark fitted has no biases: it becomes a latent model of dim = rank with μ = 0 and zero
 * biases, so r̂ = u·v exactly as Spark's transform. A model written by `als export` (recognised
 * by its two constant-1 columns, see hasFoldedBiases) is unfolded: u = u′[0..K), v = v′[0..K),
 * c = v′[K+1], b = u′[K] − μ with μ the split's mean training rating (what training uses), so
 * predictions, similarities and fold-ins are those of the original model to float32 round-off.
 * Users and movies absent from the model get zero factors (and biases).
 * Fold-in (`als recommend --user-likes`) uses als's default hyperparameters for the latent model.
 */
export async function importSpark(options: {
  dir: string;
  dataset: Dataset;
  splitSpec: string;
  seed: number;
  out: string;
}): Promise<ImportSparkResult> {
  const startMs = performance.now();
  const { dataset } = options;
  const out = path.resolve(options.out);
  const model = await readSparkModel(options.dir);
  const name = dataset.info.name;
  const userIndex = mapIds(model.users, dataset.userIds, 'user', options.dir, name);
  const itemIndex = mapIds(model.items, dataset.itemIds, 'movie', options.dir, name);
  const split = makeSplit(dataset, options.splitSpec, options.seed);
  const unfold = hasFoldedBiases(model.users, model.items);
  const R = model.metadata.rank;
  const dim = unfold ? R - 2 : R;
  const { numUsers, numItems } = dataset.matrix;
  const globalMean = unfold ? meanRating(split.train) : 0;
  const hyper: Hyperparameters = { ...defaultHyperparameters('latent'), dim };
  const state: ModelState = {
    hyper,
    numUsers,
    numItems,
    globalMean,
    userBias: new Float64Array(numUsers),
    itemBias: new Float64Array(numItems),
    userFactors: new Float64Array(numUsers * dim),
    itemFactors: new Float64Array(numItems * dim),
    genreFactors: new Float64Array(0),
  };
  const hasUser = new Uint8Array(numUsers);
  for (let r = 0; r < userIndex.length; r++) {
    const m = userIndex[r]!;
    hasUser[m] = 1;
    for (let k = 0; k < dim; k++) state.userFactors[m * dim + k] = model.users.factors[r * R + k]!;
    if (unfold) state.userBias[m] = model.users.factors[r * R + dim]! - globalMean;
  }
  const hasItem = new Uint8Array(numItems);
  for (let r = 0; r < itemIndex.length; r++) {
    const n = itemIndex[r]!;
    hasItem[n] = 1;
    for (let k = 0; k < dim; k++) state.itemFactors[n * dim + k] = model.items.factors[r * R + k]!;
    if (unfold) state.itemBias[n] = model.items.factors[r * R + dim + 1]!;
  }
  const checkpoint = checkpointOf(dataset, split, state);
  writeCheckpoint(out, checkpoint);
  return {
    out,
    rank: R,
    dim,
    unfoldedBiases: unfold,
    users: {
      inModel: userIndex.length,
      inDataset: numUsers,
      withTrainingRatingsButNoFactors: countWithoutFactors(
        hasUser,
        split.train.ratingsByUser.offsets,
      ),
    },
    items: {
      inModel: itemIndex.length,
      inDataset: numItems,
      withTrainingRatingsButNoFactors: countWithoutFactors(
        hasItem,
        split.train.ratingsByItem.offsets,
      ),
    },
    split: {
      spec: split.report.spec,
      seed: split.report.seed,
      trainRatings: split.report.trainRatings,
      testRatings: split.report.testRatings,
    },
    elapsedMs: performance.now() - startMs,
  };
}

/** A checkpoint of an imported model: as `als train` builds one, with no training history. */
function checkpointOf(
  dataset: Dataset,
  split: ReturnType<typeof makeSplit>,
  state: ModelState,
): Checkpoint {
  return buildCheckpoint(
    dataset,
    split,
    state,
    { seed: split.report.seed, threads: 1 },
    { epochsDone: 0, metrics: [], bestEpoch: null, kernel: 'spark-import' },
  );
}

// ---------------------------------------------------------------------------------------------
// Ratings → Parquet

export interface ExportParquetResult {
  out: string;
  files: { file: string; rows: number }[];
  /** The split written (train.parquet and test.parquet), or null for all ratings (ratings.parquet). */
  split: { spec: string; seed: number } | null;
  /** True when the data set has no timestamps (the column is then 0). */
  noTimestamps: boolean;
  elapsedMs: number;
}

/** CSR ratings (a matrix's by-user index) as columns of MovieLens ids. */
function columnsOfMatrix(
  matrix: RatingMatrix,
  timestamps: Int32Array | null,
  dataset: Dataset,
): RatingColumns {
  const n = matrix.numRatings;
  const { offsets, indices, values } = matrix.ratingsByUser;
  const userIds = new Int32Array(n);
  const movieIds = new Int32Array(n);
  for (let u = 0; u < matrix.numUsers; u++) {
    const id = dataset.userIds[u]!;
    for (let e = offsets[u]!; e < offsets[u + 1]!; e++) {
      userIds[e] = id;
      movieIds[e] = dataset.itemIds[indices[e]!]!;
    }
  }
  return {
    userIds,
    movieIds,
    ratings: values.length === n ? values : values.subarray(0, n),
    timestamps:
      timestamps === null
        ? new Int32Array(n)
        : timestamps.length === n
          ? timestamps
          : timestamps.subarray(0, n),
  };
}

function columnsOfList(list: RatingList, dataset: Dataset): RatingColumns {
  const userIds = new Int32Array(list.length);
  const movieIds = new Int32Array(list.length);
  for (let t = 0; t < list.length; t++) {
    userIds[t] = dataset.userIds[list.users[t]!]!;
    movieIds[t] = dataset.itemIds[list.items[t]!]!;
  }
  return {
    userIds,
    movieIds,
    ratings: list.values,
    timestamps: list.timestamps ?? new Int32Array(list.length),
  };
}

/**
 * Writes `out/ratings.parquet` (every rating), or with a split `out/train.parquet` and
 * `out/test.parquet`: the split `als train --split S --seed N` trains on, so a Spark job and an
 * als model can be compared on the same held-out ratings.
 */
export async function exportRatingsParquet(options: {
  dataset: Dataset;
  out: string;
  split?: { spec: string; seed: number };
  compression?: RatingsCompression;
}): Promise<ExportParquetResult> {
  const startMs = performance.now();
  const { dataset } = options;
  const files = await writeDirectoryAtomic(options.out, async (dir) => {
    if (options.split === undefined) {
      const columns = columnsOfMatrix(dataset.matrix, dataset.timestampsByUser, dataset);
      await writeRatingsParquet(path.join(dir, 'ratings.parquet'), columns, options.compression);
      return [{ file: 'ratings.parquet', rows: columns.userIds.length }];
    }
    const split = makeSplit(dataset, options.split.spec, options.split.seed);
    const train = columnsOfMatrix(split.train, split.trainTimestamps, dataset);
    await writeRatingsParquet(path.join(dir, 'train.parquet'), train, options.compression);
    const test = columnsOfList(split.test, dataset);
    await writeRatingsParquet(path.join(dir, 'test.parquet'), test, options.compression);
    return [
      { file: 'train.parquet', rows: train.userIds.length },
      { file: 'test.parquet', rows: test.userIds.length },
    ];
  });
  return {
    out: path.resolve(options.out),
    files,
    split: options.split ?? null,
    noTimestamps: dataset.timestampsByUser === null,
    elapsedMs: performance.now() - startMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Factors → numpy

export interface ExportNumpyResult {
  out: string;
  format: 'npz' | 'npy';
  arrays: { name: string; shape: number[]; dtype: string }[];
  elapsedMs: number;
}

/**
 * The model as named numpy arrays: user_factors (users × dim), item_factors (movies × dim),
 * user_bias, item_bias, global_mean (shape (1,)), user_ids and item_ids (row → MovieLens id),
 * float64 as stored (ids int32). r̂ = global_mean + user_bias[:, None] + item_bias + U @ V.T.
 */
export async function exportNumpy(options: {
  model: string;
  out: string;
  format: 'npz' | 'npy';
}): Promise<ExportNumpyResult> {
  const checkpoint = readCheckpoint(options.model);
  checkNewOutput(path.resolve(options.out));
  const startMs = performance.now();
  const s = checkpoint.state;
  const dim = s.hyper.kind === 'bias' ? 0 : s.hyper.dim;
  const entries: NpyEntry[] = [
    { name: 'user_factors', data: s.userFactors, shape: [s.numUsers, dim] },
    { name: 'item_factors', data: s.itemFactors, shape: [s.numItems, dim] },
    { name: 'user_bias', data: s.userBias, shape: [s.numUsers] },
    { name: 'item_bias', data: s.itemBias, shape: [s.numItems] },
    { name: 'global_mean', data: Float64Array.of(s.globalMean), shape: [1] },
    { name: 'user_ids', data: checkpoint.userIds, shape: [checkpoint.userIds.length] },
    { name: 'item_ids', data: checkpoint.itemIds, shape: [checkpoint.itemIds.length] },
  ];
  if (options.format === 'npz') {
    await writeFileAtomic(options.out, (file) => writeBytes(file, encodeNpz(entries)));
  } else {
    await writeDirectoryAtomic(options.out, (dir) => {
      for (const e of entries) writeBytes(path.join(dir, `${e.name}.npy`), encodeNpy(e));
    });
  }
  return {
    out: path.resolve(options.out),
    format: options.format,
    arrays: entries.map((e) => ({
      name: e.name,
      shape: e.shape,
      dtype: e.data instanceof Int32Array ? 'int32' : 'float64',
    })),
    elapsedMs: performance.now() - startMs,
  };
}

// ---------------------------------------------------------------------------------------------
// The PySpark job

export interface SparkJobResult {
  out: string;
  params: SparkJobParams;
  /** What the Spark model will not have that the als one has. */
  differences: string[];
}

/**
 * Writes the PySpark program (see interop/spark-job.ts for the mapping). Hyperparameters come
 * from `hyper` (a checkpoint's or the defaults): rank = dim, regParam = τ/λ; maxIter = epochs.
 */
export async function writeSparkJob(options: {
  out: string;
  hyper?: Hyperparameters;
  epochs: number;
  seed: number;
  splitSpec: string;
  parquetDir: string;
  modelPath: string;
}): Promise<SparkJobResult> {
  const hyper = options.hyper ?? { ...DEFAULT_HYPERPARAMETERS };
  if (hyper.kind === 'bias' || hyper.dim === 0)
    throw new AlsError(
      'a bias-only model has no factors for Spark to learn; use a latent or genre model',
    );
  const params: SparkJobParams = {
    rank: hyper.dim,
    maxIter: options.epochs,
    regParam: hyper.tau / hyper.lambda,
    seed: options.seed,
    trainPath: path.join(options.parquetDir, 'train.parquet'),
    testPath: path.join(options.parquetDir, 'test.parquet'),
    modelPath: options.modelPath,
    splitSpec: options.splitSpec,
  };
  const differences = ['no biases (global mean, user and movie biases): Spark fits r ≈ u·v'];
  if (hyper.kind === 'genre')
    differences.push(
      'no genre prior: movie factors are not pulled towards their genres, unrated movies get no factors',
    );
  if (!hyper.weightedRegularization)
    differences.push(
      'Spark always count-scales regParam (ALS-WR); this model used a plain ridge τ',
    );
  else if ((hyper.weightExponent ?? 1) !== 1) {
    differences.push(
      `Spark scales regParam by each row's count n (ALS-WR); this model scaled τ by n^${hyper.weightExponent}`,
    );
  }
  await writeFileAtomic(options.out, (file) => writeBytes(file, sparkJobSource(params)));
  return { out: path.resolve(options.out), params, differences };
}
