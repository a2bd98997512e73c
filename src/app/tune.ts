/**
 * Hyperparameter tuning: configurations from a search space (grid or seeded random), each scored
 * by cross-validation inside the training part of an outer split (nested selection: the outer
 * held-out ratings are never trained on or scored while choosing), with successive halving over
 * epoch milestones (./asha.ts) so that poor configurations stop early.
 *
 * A job is (trial, rung): train the trial's configuration on every inner fold to milestones[rung]
 * epochs and score it; the job's score is the mean over the inner folds of the chosen metric.
 * A promoted trial continues from its model at the previous milestone when that model is still in
 * memory, else it is retrained from the start (ALS is deterministic given the seed, so both give
 * the same model).
 *
 * Recording and resuming. With a registry, the tune is a row in `tunes` keyed by a hash of
 * everything that determines its trials and scores; each (trial, fold, rung) is a run of kind
 * "tune-trial". Running the same tune again after a kill reopens the unfinished tune and reuses
 * every finished (trial, fold, rung) instead of training it again; the schedule is a
 * deterministic function of the scores, so the resumed tune makes the same decisions.
 */
import { createHash } from 'node:crypto';
import type { Hyperparameters, ModelState } from '../core/types.js';
import { UsageError } from '../errors.js';
import { foldSplit, makeFolds, type Folds } from '../data/folds.js';
import { splitMask } from '../data/splits.js';
import type { Dataset, Split } from '../data/types.js';
import { lowerIsBetter } from '../registry/registry.js';
import { HalvingScheduler, type HalvingOptions, type RungResult } from './asha.js';
import { meanStd, type MeanStd, type RecordContext } from './cv.js';
import {
  itemGenresOf,
  metricNames,
  scoreModel,
  type RankingOptions,
  type TrainFold,
} from './fold-training.js';
import {
  applyConfiguration,
  configurationFlags,
  gridConfigurations,
  randomConfigurations,
  type Configuration,
  type SearchSpace,
} from './tune-space.js';

export type TuneStrategy =
  | { type: 'grid'; gridPoints?: number }
  | { type: 'random'; trials: number };

export interface TuneOptions {
  dataset: Dataset;
  /** The outer split whose held-out part is never used to choose (null: tune on all ratings). */
  outer: { spec: string; seed: number } | null;
  /** Inner folds over the outer training part, e.g. "random:5". */
  innerFolds: string;
  /** Seed of the inner folds, of the random strategy and of the initial factors. */
  seed: number;
  space: SearchSpace;
  strategy: TuneStrategy;
  /** Hyperparameters of every trial before the configuration's values are set (the defaults). */
  base: Hyperparameters;
  halving: Omit<HalvingOptions, 'direction'>;
  /** Objective: rmse, mae, precision@K, recall@K, ndcg@K or map@K. */
  metric: string;
  threads: number;
  trainFold: TrainFold;
  /** Inner folds of a job trained at once (with a TrainFold that trains off the main thread). */
  parallel?: number;
  /** Ranking options other than K (K comes from the metric, else 10). */
  ranking?: Omit<RankingOptions, 'k'>;
  record?: RecordContext | null;
  onProgress?: (event: TuneProgress) => void;
  /**
   * Memory for models kept to continue promoted trials (default 512 MB). Past it, a promoted
   * trial is retrained from the start: same model, more epochs.
   */
  keptModelBytes?: number;
}

export type TuneProgress =
  | { type: 'start'; trials: number; folds: number; resumed: boolean; tuneId: number | null }
  | { type: 'job-start'; trial: number; rung: number; epochs: number; configuration: Configuration }
  | { type: 'fold-done'; trial: number; rung: number; fold: number; score: number; reused: boolean }
  | {
      type: 'job-done';
      trial: number;
      rung: number;
      epochs: number;
      score: number;
      reusedFolds: number;
    };

export interface TuneRung {
  rung: number;
  epochs: number;
  /** Mean over the inner folds of the objective. */
  score: number;
  /** Every metric's mean ± std over the inner folds. */
  metrics: Record<string, MeanStd>;
}

export interface TuneTrial {
  trial: number;
  configuration: Configuration;
  hyper: Hyperparameters;
  rungs: TuneRung[];
}

export interface TuneResult {
  tuneId: number | null;
  resumed: boolean;
  metric: string;
  direction: 'min' | 'max';
  folds: { spec: string; seed: number; k: number; outer: { spec: string; seed: number } | null };
  trials: TuneTrial[];
  /** Per rung, the trials scored there, best first. */
  rungs: RungResult[][];
  best: {
    trial: number;
    configuration: Configuration;
    hyper: Hyperparameters;
    epochs: number;
    score: number;
  };
  /** The `als train` options that set the best configuration (the rest are the defaults). */
  bestFlags: string;
  /** (trial, fold, rung) trainings done now, and those taken from the registry. */
  trainedFolds: number;
  reusedFolds: number;
  /** Epochs trained now, summed over folds (the budget actually spent). */
  epochsTrained: number;
  elapsedMs: number;
}

/** Checks an objective name against the metrics a fold is scored with; returns its K. */
export function parseMetric(metric: string): { name: string; k: number } {
  const at = /^(precision|recall|ndcg|map)@(\d+)$/.exec(metric);
  if (at !== null) {
    const k = Number(at[2]);
    if (k < 1 || k > 1000) throw new UsageError(`--metric ${metric}: K must be from 1 to 1000`);
    return { name: metric, k };
  }
  if (metric === 'rmse' || metric === 'mae') return { name: metric, k: 10 };
  throw new UsageError(
    `--metric ${metric}: not a metric als computes (rmse, mae, precision@K, recall@K, ndcg@K, map@K)`,
  );
}

/**
 * The folds of a nested selection: the outer split's training ratings dealt into inner folds;
 * the outer held-out ratings are in no fold (foldOf −1), so no inner train or test part has one.
 */
export function nestedFolds(
  dataset: Dataset,
  outer: { spec: string; seed: number } | null,
  innerFolds: string,
  seed: number,
): { folds: Folds; outerTrain: Uint8Array | null } {
  const outerTrain = outer === null ? null : splitMask(dataset, outer.spec, outer.seed);
  return { folds: makeFolds(dataset, innerFolds, seed, outerTrain ?? undefined), outerTrain };
}

/** The trials' configurations: what the strategy draws from the space. */
export function tuneConfigurations(
  space: SearchSpace,
  strategy: TuneStrategy,
  seed: number,
): Configuration[] {
  return strategy.type === 'grid'
    ? gridConfigurations(space, strategy.gridPoints)
    : randomConfigurations(space, strategy.trials, seed);
}

export async function tune(options: TuneOptions): Promise<TuneResult> {
  const t0 = performance.now();
  const { dataset, record } = options;
  const { k: rankingK } = parseMetric(options.metric);
  const ranking: RankingOptions = { ...options.ranking, k: rankingK };
  const direction = lowerIsBetter(options.metric) ? 'min' : 'max';
  const configurations = tuneConfigurations(options.space, options.strategy, options.seed);
  const trials: TuneTrial[] = configurations.map((configuration, trial) => ({
    trial,
    configuration,
    hyper: applyConfiguration(options.base, configuration),
    rungs: [],
  }));
  const scheduler = new HalvingScheduler(trials.length, { ...options.halving, direction });
  const { folds } = nestedFolds(dataset, options.outer, options.innerFolds, options.seed);
  const milestones = options.halving.milestones;

  // The tune's identity: everything its configurations and scores depend on.
  const spec = {
    data: dataset.info.fingerprint,
    outer: options.outer,
    innerFolds: options.innerFolds,
    seed: options.seed,
    space: options.space,
    strategy: options.strategy,
    base: options.base,
    halving: options.halving,
    metric: options.metric,
    ranking,
  };
  const key = createHash('sha256').update(JSON.stringify(spec)).digest('hex');
  const opened = record ? record.registry.openTune(key, spec) : null;
  const tuneId = opened?.tune.id ?? null;
  const done = new Map<string, Record<string, number>>();
  if (record && tuneId !== null) {
    for (const run of record.registry.listRuns({
      tuneId,
      kind: 'tune-trial',
      status: 'finished',
    })) {
      done.set(`${run.trial}:${run.rung}:${run.fold}`, run.metrics);
    }
  }
  options.onProgress?.({
    type: 'start',
    trials: trials.length,
    folds: folds.k,
    resumed: opened?.resumed ?? false,
    tuneId,
  });

  const genres = itemGenresOf(dataset);
  // Inner splits are built once (each is about the size of the data set's matrix).
  const splits: Split[] = Array.from({ length: folds.k }, (_, f) => foldSplit(dataset, folds, f));
  // Models at the last milestone each (trial, fold) reached, to continue on promotion.
  const models = new Map<string, { state: ModelState; epochsDone: number }>();
  const budget = options.keptModelBytes ?? 512 * 1024 * 1024;
  let keptBytes = 0;
  const modelBytes = (s: ModelState): number =>
    s.userFactors.byteLength +
    s.itemFactors.byteLength +
    s.userBias.byteLength +
    s.itemBias.byteLength +
    s.genreFactors.byteLength;
  const forget = (key: string): void => {
    const kept = models.get(key);
    if (kept === undefined) return;
    keptBytes -= modelBytes(kept.state);
    models.delete(key);
  };
  const keep = (key: string, state: ModelState, epochsDone: number): void => {
    forget(key);
    if (keptBytes + modelBytes(state) > budget) return;
    keptBytes += modelBytes(state);
    models.set(key, { state, epochsDone });
  };
  let trainedFolds = 0;
  let reusedFolds = 0;
  let epochsTrained = 0;

  const runFold = async (
    trial: TuneTrial,
    rung: number,
    epochs: number,
    f: number,
  ): Promise<{ metrics: Record<string, number>; reused: boolean }> => {
    const reusedMetrics = done.get(`${trial.trial}:${rung}:${f}`);
    if (reusedMetrics !== undefined) {
      reusedFolds++;
      return { metrics: reusedMetrics, reused: true };
    }
    const split = splits[f]!;
    const modelKey = `${trial.trial}:${f}`;
    const initial = rung > 0 ? models.get(modelKey) : undefined;
    const handle =
      record?.registry.startRun({
        kind: 'tune-trial',
        commandLine: record.commandLine,
        toolVersion: record.toolVersion,
        modelKind: trial.hyper.kind,
        hyperparameters: { ...trial.hyper, epochs },
        data: { name: dataset.info.name, fingerprint: dataset.info.fingerprint },
        split: split.report.spec,
        seed: options.seed,
        threads: options.threads,
        kernel: record.kernel,
        tuneId,
        trial: trial.trial,
        fold: f,
        rung,
      }) ?? null;
    try {
      const trained = await options.trainFold({
        train: split.train,
        validation: split.test,
        itemGenres: genres,
        hyper: trial.hyper,
        seed: options.seed,
        epochs,
        threads: options.threads,
        initial,
        onEpoch: (m) => handle?.addEpoch(m),
      });
      trainedFolds++;
      epochsTrained += trained.history.length;
      let metrics: Record<string, number>;
      if (trained.diverged === null) {
        metrics = scoreModel(trained.state, split.train, split.test, dataset, ranking);
        if (rung < milestones.length - 1) keep(modelKey, trained.state, epochs);
        else forget(modelKey);
        handle?.finish({ metrics, epochs });
      } else {
        metrics = Object.fromEntries(metricNames(rankingK).map((n) => [n, Number.NaN]));
        forget(modelKey);
        // A divergence is a result (the configuration is bad), not a failure to redo on resume.
        handle?.finish({ metrics: {}, epochs: trained.history.length });
        done.set(`${trial.trial}:${rung}:${f}`, {});
      }
      return { metrics, reused: false };
    } catch (error) {
      handle?.fail((error as Error).message);
      throw error;
    }
  };

  try {
    for (let job = scheduler.next(); job !== null; job = scheduler.next()) {
      const trial = trials[job.trial]!;
      options.onProgress?.({
        type: 'job-start',
        trial: job.trial,
        rung: job.rung,
        epochs: job.epochs,
        configuration: trial.configuration,
      });
      const perFold: Array<Record<string, number>> = new Array(folds.k);
      let reusedHere = 0;
      let next = 0;
      const { trial: trialIndex, rung, epochs } = job;
      const lane = async (): Promise<void> => {
        while (next < folds.k) {
          const f = next++;
          const { metrics, reused } = await runFold(trial, rung, epochs, f);
          perFold[f] = metrics;
          if (reused) reusedHere++;
          options.onProgress?.({
            type: 'fold-done',
            trial: trialIndex,
            rung,
            fold: f,
            score: metrics[options.metric] ?? Number.NaN,
            reused,
          });
        }
      };
      await Promise.all(
        Array.from({ length: Math.max(1, Math.min(options.parallel ?? 1, folds.k)) }, lane),
      );
      const names = metricNames(rankingK);
      const metrics = Object.fromEntries(
        names.map((n) => [n, meanStd(perFold.map((m) => m[n] ?? Number.NaN))]),
      );
      const score = metrics[options.metric]!.mean;
      trial.rungs.push({ rung, epochs, score, metrics });
      scheduler.report(trialIndex, rung, score);
      options.onProgress?.({
        type: 'job-done',
        trial: trialIndex,
        rung,
        epochs,
        score,
        reusedFolds: reusedHere,
      });
    }
  } catch (error) {
    if (record && tuneId !== null)
      record.registry.finishTune(tuneId, { error: (error as Error).message }, 'failed');
    throw error;
  }

  const top = scheduler.best();
  if (top === null || Number.isNaN(top.score))
    throw new UsageError(
      `--metric ${options.metric}: no trial produced a score (every configuration diverged?)`,
    );
  const bestTrial = trials[top.trial]!;
  const result: TuneResult = {
    tuneId,
    resumed: opened?.resumed ?? false,
    metric: options.metric,
    direction,
    folds: { spec: folds.spec, seed: folds.seed, k: folds.k, outer: options.outer },
    trials,
    rungs: scheduler.rungs(),
    best: {
      trial: top.trial,
      configuration: bestTrial.configuration,
      hyper: bestTrial.hyper,
      epochs: milestones[top.rung]!,
      score: top.score,
    },
    bestFlags: `${configurationFlags(bestTrial.configuration)} --epochs ${milestones[top.rung]!}`,
    trainedFolds,
    reusedFolds,
    epochsTrained,
    elapsedMs: performance.now() - t0,
  };
  if (record && tuneId !== null) {
    record.registry.finishTune(tuneId, {
      best: result.best,
      bestFlags: result.bestFlags,
      rungs: result.rungs,
    });
  }
  return result;
}

/**
 * Trains `hyper` on the outer training part for `epochs` and scores it on the outer held-out
 * ratings: how the chosen configuration (and the defaults, for comparison) does on data the
 * selection never saw.
 */
export async function scoreOnHeldOut(options: {
  dataset: Dataset;
  split: Split;
  hyper: Hyperparameters;
  epochs: number;
  seed: number;
  threads: number;
  trainFold: TrainFold;
  ranking?: RankingOptions;
}): Promise<Record<string, number>> {
  const trained = await options.trainFold({
    train: options.split.train,
    validation: options.split.test,
    itemGenres: itemGenresOf(options.dataset),
    hyper: options.hyper,
    seed: options.seed,
    epochs: options.epochs,
    threads: options.threads,
  });
  if (trained.diverged)
    return Object.fromEntries(metricNames(options.ranking?.k).map((n) => [n, Number.NaN]));
  return scoreModel(
    trained.state,
    options.split.train,
    options.split.test,
    options.dataset,
    options.ranking,
  );
}
