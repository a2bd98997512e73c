/**
 * Using a Bayesian checkpoint: held-out predictions with their uncertainty (for `als eval`), and
 * recommendation lists scored by the posterior predictive mean ± sd (for `als recommend`). The
 * maths is the core's (src/core/gibbs-predict.ts): per stored sample s the prediction r̂_s, then
 *
 *   mean = (1/S) Σ_s clamp(r̂_s),  sd² = sample variance of r̂_s + (1/S) Σ_s 1/α_s (+ prior spread of a cold row)
 *
 * and the central q-interval mean ± z_q·sd. Ranking by a bound: `lower` = mean − z₀.₈·sd (the
 * lower end of the central 80 % interval: a cautious list, movies the model is sure are good),
 * `upper` = mean + z₀.₈·sd (exploratory: movies that may well be excellent). Ranking by `taste`:
 * the taste match u_s·v_s/‖v_s‖ averaged over the samples (the default for a new user described
 * by titles: a shrunk folded-in taste ranked by mean gives everyone the all-time favourites).
 */
import {
  CALIBRATION_LEVELS,
  centralIntervalZ,
  foldInUserPredictive,
  predictFromSamples,
  storedUserTaste,
  type CalibrationRow,
} from '../core/gibbs-predict.js';
import { eligibleMask } from '../core/recommend.js';
import type { BayesCheckpoint } from '../data/bayes-checkpoint.js';
import type { Checkpoint } from '../data/checkpoint.js';
import type { RatingList } from '../data/types.js';
import { AlsError } from '../errors.js';
import { RUN_DEFAULTS } from './defaults.js';
import { filterOf, type ListingRow, type ListOptions } from './listing.js';

/** The interval level of `--rank-by lower|upper`. */
export const RANK_BOUND_LEVEL = 0.8;

/** How a Bayesian list is ranked: the predictive mean, the lower / upper end of its central 80 % interval, or the sample-averaged taste match. */
export type BayesRankBy = 'mean' | 'lower' | 'upper' | 'taste';

/** What `als eval` adds for a Bayesian checkpoint. */
export interface BayesEvaluation {
  method: 'gibbs';
  samplesDone: number;
  burnIn: number;
  thin: number;
  /** Samples the prediction averages (the stored, thinned ones). */
  storedSamples: number;
  /** Held-out RMSE of the stored samples' averaged prediction (the table's "all" row). */
  rmse: number;
  /** The chain's own running average over every post-burn-in sample at its last sample (null unless this is the training split). */
  chainRmse: number | null;
  /** Share of held-out ratings inside each central predictive interval, against the nominal level. */
  calibration: CalibrationRow[];
  /** Mean predictive sd over the held-out ratings. */
  meanSd: number;
  /** Held-out RMSE of the running average against the number of samples (from the stored metrics). */
  curve: { sample: number; validationRmse: number }[];
}

function coldFlags(
  checkpoint: Checkpoint,
  user: number,
  item: number,
): { user: boolean; item: boolean } {
  const { offsets } = checkpoint.trainItemsByUser;
  return {
    user: user >= 0 && user < offsets.length - 1 && offsets[user + 1] === offsets[user],
    item:
      item >= 0 &&
      item < checkpoint.itemTrainCounts.length &&
      checkpoint.itemTrainCounts[item] === 0,
  };
}

/** Predictions (for the error table) and the Bayesian summary of a held-out list. */
export function evaluateBayesian(
  checkpoint: Checkpoint & { bayes: BayesCheckpoint },
  test: RatingList,
  sameSplit: boolean,
): { predictions: Float64Array; summary: BayesEvaluation } {
  const b = checkpoint.bayes;
  const samples = b.run.storedSamples;
  const m = b.run.chain.model;
  const K = b.kind === 'bias' ? 0 : b.dim;
  const scale = b.scale;
  const predictions = new Float64Array(test.length);
  const levels = CALIBRATION_LEVELS.map((level) => ({
    level,
    z: centralIntervalZ(level),
    inside: 0,
  }));
  let sdSum = 0;
  let squares = 0;
  for (let t = 0; t < test.length; t++) {
    const u = test.users[t]!;
    const i = test.items[t]!;
    const p = predictFromSamples(
      samples,
      m.globalMean,
      K,
      m.numUsers,
      m.numItems,
      u,
      i,
      scale,
      coldFlags(checkpoint, u, i),
    );
    predictions[t] = p.mean;
    const error = test.values[t]! - p.mean;
    squares += error * error;
    sdSum += p.sd;
    // Intervals on the unclamped moments, as the chain's own calibration (PredictiveAccumulator).
    for (const l of levels) if (Math.abs(test.values[t]! - p.rawMean) <= l.z * p.sd) l.inside++;
  }
  const metrics = b.run.metrics;
  const last = metrics[metrics.length - 1];
  return {
    predictions,
    summary: {
      method: 'gibbs',
      samplesDone: b.run.chain.samplesDone,
      burnIn: b.burnIn,
      thin: b.thin,
      storedSamples: samples.length,
      rmse: test.length > 0 ? Math.sqrt(squares / test.length) : Number.NaN,
      chainRmse: sameSplit ? (last?.validationRmse ?? null) : null,
      calibration: levels.map((l) => ({
        level: l.level,
        share: test.length > 0 ? l.inside / test.length : Number.NaN,
      })),
      meanSd: test.length > 0 ? sdSum / test.length : Number.NaN,
      curve: metrics
        .filter((x) => x.validationRmse !== null)
        .map((x) => ({ sample: x.sample, validationRmse: x.validationRmse! })),
    },
  };
}

/** A listing row of a Bayesian list: the score is the predictive mean, with its sd and the ranked key. */
export interface BayesListingRow extends ListingRow {
  sd: number;
  /** The value the list is ranked by (mean, mean ∓ z₀.₈·sd, or the taste match). */
  rankedBy: number;
}

/** Who the list is for: a training user's index, or a new user's ratings (folded in per stored sample). */
export type BayesListUser = { index: number } | { items: Int32Array; values: Float32Array };

/**
 * The top movies by predictive mean or by a bound. A training user's scores come from their
 * stored draws; a new user is folded in per stored sample with the conditional posterior
 * integrated out exactly (foldInUserPredictive: no extra Monte Carlo noise, and the uncertainty
 * of the folded-in taste enters the sd).
 */
export function bayesianList(
  checkpoint: Checkpoint & { bayes: BayesCheckpoint },
  user: BayesListUser,
  exclude: ArrayLike<number>,
  rankBy: BayesRankBy,
  options: ListOptions,
): BayesListingRow[] {
  const b = checkpoint.bayes;
  const samples = b.run.storedSamples;
  const m = b.run.chain.model;
  const N = m.numItems;
  const K = b.kind === 'bias' ? 0 : b.dim;
  let mean: Float64Array;
  let sd: Float64Array;
  let taste: Float64Array | null = null;
  if ('index' in user) {
    if (rankBy === 'taste') taste = storedUserTaste(samples, K, N, user.index);
    mean = new Float64Array(N);
    sd = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const p = predictFromSamples(
        samples,
        m.globalMean,
        K,
        m.numUsers,
        N,
        user.index,
        i,
        b.scale,
        coldFlags(checkpoint, user.index, i),
      );
      mean[i] = p.mean;
      sd[i] = p.sd;
    }
  } else {
    try {
      ({ mean, sd, taste } = foldInUserPredictive(
        samples,
        m.globalMean,
        K,
        N,
        user.items,
        user.values,
        b.scale,
      ));
    } catch (error) {
      throw new AlsError(`fold-in failed: ${(error as Error).message}`);
    }
  }
  const z = centralIntervalZ(RANK_BOUND_LEVEL);
  const sign = rankBy === 'lower' ? -1 : rankBy === 'upper' ? 1 : 0;
  const eligible = eligibleMask(checkpoint.catalog, filterOf(checkpoint, options));
  const excluded = new Set<number>(Array.from(exclude));
  const candidates: number[] = [];
  for (let i = 0; i < N; i++) if (eligible[i] && !excluded.has(i)) candidates.push(i);
  const key =
    rankBy === 'taste' && taste !== null
      ? (i: number): number => taste![i]!
      : (i: number): number => mean[i]! + sign * z * sd[i]!;
  candidates.sort((x, y) => key(y) - key(x) || x - y);
  const top = candidates.slice(0, options.top ?? RUN_DEFAULTS.top);
  const { catalog, itemIds, itemTrainCounts } = checkpoint;
  return top.map((item, k) => {
    const genres: string[] = [];
    for (let g = catalog.genreOffsets[item]!; g < catalog.genreOffsets[item + 1]!; g++)
      genres.push(catalog.genreNames[catalog.genreIds[g]!]!);
    return {
      rank: k + 1,
      movieId: itemIds[item]!,
      title: catalog.titles[item]!,
      year: catalog.years[item]! > 0 ? catalog.years[item]! : null,
      genres,
      ratings: itemTrainCounts[item]!,
      score: mean[item]!,
      sd: sd[item]!,
      rankedBy: key(item),
      neverRated: itemTrainCounts[item] === 0,
    };
  });
}
