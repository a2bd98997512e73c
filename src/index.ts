/**
 * The library: `import { … } from 'als'`. A deliberate surface, in three tiers:
 *
 * 1. The application layer (src/app): the `Recommender` class (fit / recommend /
 *    recommendForRatings / similarItems / predict / save / load) and the functions the CLI calls —
 *    training runs with progress callbacks, evaluation, lists, reports, cross-validation, tuning,
 *    the run registry, Spark interop. Plain data in and out; nothing prints.
 * 2. Building blocks for those who drive the maths themselves: data sets, splits and folds,
 *    checkpoints, the epoch-by-epoch trainer, prediction, evaluation and ranking functions.
 * 3. Types of everything above.
 *
 * Internals (the shared-memory arena, the normal-equation accumulator, kernel entry points, the
 * worker protocols, heaps, random streams) are not exported: they change without notice.
 * Nothing here comes from src/cli.
 */

// Errors: one-line messages for bad input (exit 1), usage (exit 2).
export { AlsError, DataError, UsageError } from './errors.js';

// 1. The application layer.
export * from './app/index.js';
export * from './app/selection.js';
export * from './app/cv.js';
export * from './app/tune.js';
export * from './app/tune-space.js';
export * from './app/record.js';
export * from './app/runs.js';

// 2. Building blocks. Data: files → dataset → splits, folds, checkpoints.
export { loadDataset, type LoadOptions } from './data/load.js';
export { dataHome, ensureDataDir, DEFAULT_DATASET } from './data/home.js';
export {
  downloadDataset,
  KNOWN_DATASETS,
  type DownloadOptions,
  type DownloadProgress,
} from './data/download.js';
export { generateSynth, SYNTH_DEFAULTS, type SynthOptions, type SynthTruth } from './data/synth.js';
export { computeStats } from './data/stats.js';
export { makeSplit, parseSplitSpec, SPLIT_FORMS, type SplitSpec } from './data/splits.js';
export {
  makeFolds,
  foldSplit,
  parseFoldSpec,
  FOLD_FORMS,
  type Folds,
  type FoldSpec,
} from './data/folds.js';
export {
  readCheckpoint,
  writeCheckpoint,
  type Checkpoint,
  type CheckpointMeta,
} from './data/checkpoint.js';
export {
  buildTitleIndex,
  resolveTitle,
  displayTitle,
  type TitleIndex,
  type TitleMatch,
} from './data/titles.js';
export type * from './data/types.js';

// Core: the model and its maths over typed arrays.
export {
  MODEL_KINDS,
  type ModelKind,
  type Hyperparameters,
  type ModelState,
  type EpochMetrics,
} from './core/types.js';
export {
  DEFAULT_HYPERPARAMETERS,
  DEFAULT_MODEL_KIND,
  defaultHyperparameters,
} from './core/defaults.js';
export {
  createTrainer,
  DivergenceError,
  type Trainer,
  type TrainerOptions,
} from './core/trainer.js';
export { loadKernel, type KernelName } from './core/kernels.js';
export {
  initModel,
  meanRating,
  predict,
  rmse,
  foldInUser,
  foldInItem,
  type ItemGenres,
} from './core/als.js';
export { validateTrainingSize, MAX_DIM } from './core/limits.js';
export {
  evaluateRatings,
  evaluateRanking,
  type RatingMetrics,
  type RankingMetrics,
} from './core/evaluate.js';
export {
  recommendForUser,
  similarItems,
  topN,
  scoreItems,
  type TopN,
  type ItemFilter,
  type RankBy,
} from './core/recommend.js';
export { recommendAllUsers } from './core/recommend-all.js';

// The run registry (SQLite in the data home; the driver is loaded on first use).
export {
  openRegistry,
  openRegistryOrWarn,
  registryPath,
  type Registry,
  type RunSummary,
  type RunDetail,
  type RunFilter,
} from './registry/registry.js';

// Pictures: Vega-Lite charts rendered to SVG, and the report page.
export { curvesSvg, activitySvg, ratingsSvg, type CurveRun } from './report/charts.js';
export { renderReportHtml, type ReportContent } from './report/html.js';
