/**
 * Training and scoring one train/test pair, the unit that cross-validation and tuning repeat.
 *
 * `TrainFold` is the seam: cv and tune call it and nothing else to train, so the application
 * layer's training run can replace `coreTrainFold` (which drives src/core/trainer.ts directly)
 * without touching them. A fold is scored with src/core/evaluate.ts: RMSE and MAE over all
 * held-out ratings, and top-K precision, recall, nDCG and MAP (relevant: rating ≥ 4).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ItemGenres } from '../core/als.js';
import { evaluateRanking, evaluateRatings, type TrainingIndex } from '../core/evaluate.js';
import type { KernelProvider } from '../core/kernel.js';
import { loadKernel, type KernelName } from '../core/kernels.js';
import { validateTrainingSize } from '../core/limits.js';
import { createTrainer, DivergenceError } from '../core/trainer.js';
import type { EpochMetrics, Hyperparameters, ModelState } from '../core/types.js';
import type { Dataset, RatingList, RatingMatrix } from '../data/types.js';
import type { FoldWorkerReply, FoldWorkerRequest } from './fold-worker.js';

export interface FoldTrainingJob {
  train: RatingMatrix;
  /** Held-out ratings: each epoch's validation RMSE is computed on them. */
  validation: RatingList;
  itemGenres: ItemGenres | null;
  hyper: Hyperparameters;
  /** Seed of the initial factors. */
  seed: number;
  /** Train until this many epochs are done in all (including `initial`'s). */
  epochs: number;
  threads: number;
  /** Continue from this model (deterministic: same as training all epochs at once). */
  initial?: { state: ModelState; epochsDone: number };
  onEpoch?: (metrics: EpochMetrics) => void;
}

export interface FoldTrainingResult {
  state: ModelState;
  /** This call's epochs. */
  history: EpochMetrics[];
  /** Set when training diverged (the loss became NaN or infinite); `state` is then not usable and scores are NaN. */
  diverged: { epoch: number; message: string } | null;
}

export type TrainFold = (job: FoldTrainingJob) => Promise<FoldTrainingResult>;

/**
 * Trains with the core trainer and the given kernel. The sizes are checked first
 * (validateTrainingSize: a dim above the maximum refused, above the wasm kernel's maximum trained
 * with the TS kernel, threads capped at 4 × cores), so a tuning space reaching dim 300 trains
 * instead of failing inside the wasm kernel.
 */
export function coreTrainFold(kernel: KernelProvider): TrainFold {
  return async (job) => {
    const size = validateTrainingSize({
      kind: job.hyper.kind,
      dim: job.hyper.dim,
      numUsers: job.train.numUsers,
      numItems: job.train.numItems,
      numRatings: job.train.numRatings,
      numGenres: job.itemGenres?.numGenres ?? 0,
      threads: job.threads,
      kernel: kernel.name,
      cores: availableParallelism(),
      // Folds may train side by side: the caller's thread budget, not one fold, meets the memory.
      memoryBytes: null,
    });
    const trainer = await createTrainer({
      train: job.train,
      validation: job.validation,
      itemGenres: job.itemGenres,
      hyper: job.hyper,
      seed: job.seed,
      threads: size.threads,
      kernel: size.kernel === kernel.name ? kernel : await loadKernel(size.kernel),
      initial: job.initial?.state,
      initialEpoch: job.initial?.epochsDone ?? 0,
    });
    const history: EpochMetrics[] = [];
    let diverged: FoldTrainingResult['diverged'] = null;
    try {
      while (trainer.epochsDone < job.epochs) {
        let metrics: EpochMetrics;
        try {
          metrics = await trainer.epoch();
        } catch (error) {
          if (!(error instanceof DivergenceError)) throw error;
          diverged = { epoch: error.epoch, message: error.message };
          break;
        }
        history.push(metrics);
        job.onEpoch?.(metrics);
      }
      return { state: trainer.state(), history, diverged };
    } finally {
      await trainer.close();
    }
  };
}

/** The movie genres of a data set in the trainer's form. */
export function itemGenresOf(dataset: Dataset): ItemGenres {
  const c = dataset.catalog;
  return { offsets: c.genreOffsets, ids: c.genreIds, numGenres: c.genreNames.length };
}

export interface RankingOptions {
  /** List length K (default 10). */
  k?: number;
  /** Rank for at most this many users, evenly spaced (default 20000, as `als eval`). */
  maxUsers?: number;
  /** Candidates: movies with at least this many training ratings (default 0). */
  minItemRatings?: number;
}

/** Metric names a fold is scored with, e.g. rmse, mae, ndcg@10. */
export function metricNames(k = 10): string[] {
  return ['rmse', 'mae', `precision@${k}`, `recall@${k}`, `ndcg@${k}`, `map@${k}`];
}

/** Scores a model on held-out ratings; every value is a number (NaN when undefined). */
export function scoreModel(
  state: ModelState,
  train: RatingMatrix,
  test: RatingList,
  dataset: Dataset,
  ranking: RankingOptions = {},
): Record<string, number> {
  const k = ranking.k ?? 10;
  const itemCounts = new Int32Array(train.numItems);
  const cols = train.ratingsByItem.offsets;
  for (let i = 0; i < train.numItems; i++) itemCounts[i] = cols[i + 1]! - cols[i]!;
  const index: TrainingIndex = {
    offsets: train.ratingsByUser.offsets,
    items: train.ratingsByUser.indices,
    itemCounts,
  };
  const ratings = evaluateRatings(state, index, test, {
    genreOffsets: dataset.catalog.genreOffsets,
  });
  const top = evaluateRanking(state, index, test, {
    k,
    maxUsers: ranking.maxUsers ?? 20000,
    minItemRatings: ranking.minItemRatings ?? 0,
  });
  return {
    rmse: ratings.all.rmse ?? Number.NaN,
    mae: ratings.all.mae ?? Number.NaN,
    [`precision@${k}`]: top.precision,
    [`recall@${k}`]: top.recall,
    [`ndcg@${k}`]: top.ndcg,
    [`map@${k}`]: top.map,
  };
}

/** Path of the compiled fold worker: next to this file in dist/, or in dist/ when run from src/ (vitest). */
function foldWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('../../dist/app/fold-worker.js', here);
  return new URL('./fold-worker.js', here);
}

/**
 * Trains each fold in its own worker thread (one training thread inside), so that a caller
 * running several TrainFold calls at once trains folds in parallel.
 */
export function workerTrainFold(kernelName: KernelName): TrainFold {
  return (job) =>
    new Promise<FoldTrainingResult>((resolve, reject) => {
      const url = foldWorkerUrl();
      if (!existsSync(fileURLToPath(url))) {
        reject(
          new Error(`worker script ${fileURLToPath(url)} is missing: run 'npm run build' first`),
        );
        return;
      }
      const worker = new Worker(url);
      const { onEpoch, ...rest } = job;
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        fn();
      };
      worker.on('message', (reply: FoldWorkerReply) => {
        if (reply.type === 'epoch') onEpoch?.(reply.metrics);
        else if (reply.type === 'done') settle(() => resolve(reply.result));
        else settle(() => reject(new Error(`fold training thread: ${reply.message}`)));
      });
      worker.on('error', (error) => settle(() => reject(error)));
      worker.on('exit', (code) =>
        settle(() => reject(new Error(`fold training thread exited with code ${code}`))),
      );
      worker.postMessage({ kernel: kernelName, job: rest } satisfies FoldWorkerRequest);
    });
}
