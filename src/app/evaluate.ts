/**
 * Evaluation of a checkpoint: rating-prediction error by segment and top-k ranking metrics on
 * held-out ratings. By default the split recorded in the checkpoint is re-created (same spec and
 * seed, so exactly the ratings the model never saw); another `split` or a `test` file evaluates
 * on another one, and the result then counts held-out ratings the model was trained on.
 *
 * "Unseen" and the activity buckets refer to the model's own training ratings (stored in the
 * checkpoint), and ranking never recommends a movie the user rated in the model's training set.
 */
import path from 'node:path';
import {
  evaluateRanking,
  evaluateRatings,
  type RankingMetrics,
  type RatingMetrics,
  type TrainingIndex,
} from '../core/evaluate.js';
import type { Checkpoint } from '../data/checkpoint.js';
import { readAnyCheckpoint } from '../data/bayes-checkpoint.js';
import { makeSplit } from '../data/splits.js';
import type { RatingList, SplitReport } from '../data/types.js';
import { AlsError } from '../errors.js';
import { checkSameDataset, openDataset, type DataEvents, type DataSource } from './data.js';
import { evaluateBayesian, type BayesEvaluation } from './bayes-use.js';
import { RUN_DEFAULTS } from './defaults.js';
import { normaliseSplitSpec } from './train.js';

export interface EvaluateRequest {
  /** The checkpoint file. */
  checkpointFile: string;
  /** The checkpoint already in memory, else it is read from checkpointFile. */
  checkpoint?: Checkpoint;
  /** The data set; without `data` the folder recorded in the checkpoint. Its fingerprint must match. */
  source?: DataSource;
  /** Evaluate on this split instead of the checkpoint's. */
  split?: string;
  /** Evaluate on exactly the ratings of this file (as split file:<test>). */
  test?: string;
  /** Seed of `split` (default the checkpoint's). */
  seed?: number;
  /** Length of the ranked lists (default RUN_DEFAULTS.k). */
  k?: number;
  /** Rank for at most this many users, evenly spaced (default RUN_DEFAULTS.maxRankingUsers). */
  maxUsers?: number;
  /** Rank only movies with at least this many training ratings (default 0). */
  minRatings?: number;
}

/** The result of an evaluation (what `als eval --json` prints). */
export interface EvalReport {
  checkpoint: string;
  model: Checkpoint['state']['hyper'];
  epochsDone: number;
  dataset: { name: string; fingerprint: string };
  split: SplitReport;
  /** True when the split is the one the model was trained on. */
  sameSplitAsTraining: boolean;
  /** Held-out ratings that were in the model's training set (0 for the training split). */
  heldOutRatingsSeenInTraining: number;
  ratings: RatingMetrics;
  ranking: RankingMetrics;
  /**
   * A Bayesian checkpoint (als train --method gibbs): the error table is of the sample-averaged
   * prediction; this adds its calibration and the held-out curve against the number of samples.
   * Ranking metrics rank by the posterior-mean parameters.
   */
  bayes?: BayesEvaluation;
}

/** Counts test ratings whose (user, movie) is in the model's training rows (sorted: binary search). */
function countSeen(train: TrainingIndex, test: RatingList): number {
  let seen = 0;
  for (let t = 0; t < test.length; t++) {
    const u = test.users[t]!;
    const item = test.items[t]!;
    let lo = train.offsets[u]!;
    let hi = train.offsets[u + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = train.items[mid]!;
      if (v === item) {
        seen++;
        break;
      }
      if (v < item) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return seen;
}

export async function evaluateCheckpoint(
  request: EvaluateRequest,
  events: DataEvents = {},
): Promise<EvalReport> {
  if (request.split !== undefined && request.test !== undefined)
    throw new AlsError('--test: give either --split or --test, not both', 2);
  const file = path.resolve(request.checkpointFile);
  const checkpoint = request.checkpoint ?? readAnyCheckpoint(file);
  const source = request.source ?? {};
  // A plain file is read on the scale the model was trained on unless another is given.
  const dataset = await openDataset(
    {
      ...source,
      data: source.data ?? checkpoint.dataset.dir,
      ratingScale: source.ratingScale ?? checkpoint.dataset.scale,
    },
    events,
  );
  checkSameDataset(request.checkpointFile, checkpoint, dataset);
  const spec =
    request.test !== undefined
      ? `file:${path.resolve(request.test)}`
      : request.split !== undefined
        ? normaliseSplitSpec(request.split)
        : checkpoint.split.spec;
  const seed = request.seed ?? checkpoint.split.seed;
  const split = makeSplit(dataset, spec, seed, { trainTimestamps: false });
  const sameSplit = spec === checkpoint.split.spec && seed === checkpoint.split.seed;
  const train: TrainingIndex = {
    offsets: checkpoint.trainItemsByUser.offsets,
    items: checkpoint.trainItemsByUser.items,
    itemCounts: checkpoint.itemTrainCounts,
  };
  const seenInTraining = sameSplit ? 0 : countSeen(train, split.test);
  if (split.test.length === 0)
    throw new AlsError(`split ${spec} holds out no ratings: nothing to evaluate`);

  const bayes = checkpoint.bayes
    ? evaluateBayesian({ ...checkpoint, bayes: checkpoint.bayes }, split.test, sameSplit)
    : null;
  const ratings = evaluateRatings(checkpoint.state, train, split.test, {
    genreOffsets: checkpoint.catalog.genreOffsets,
    ...(bayes ? { predictions: bayes.predictions } : {}),
  });
  const ranking = evaluateRanking(checkpoint.state, train, split.test, {
    k: request.k ?? RUN_DEFAULTS.k,
    maxUsers: request.maxUsers ?? RUN_DEFAULTS.maxRankingUsers,
    minItemRatings: request.minRatings ?? 0,
  });
  return {
    checkpoint: file,
    model: checkpoint.state.hyper,
    epochsDone: checkpoint.epochsDone,
    dataset: { name: dataset.info.name, fingerprint: dataset.info.fingerprint },
    split: split.report,
    sameSplitAsTraining: sameSplit,
    heldOutRatingsSeenInTraining: seenInTraining,
    ratings,
    ranking,
    ...(bayes ? { bayes: bayes.summary } : {}),
  };
}
