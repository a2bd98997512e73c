/**
 * Cross-validation of one or more model configurations on the same folds (paired): per-fold
 * scores, their mean and sample standard deviation s = √(Σ (x_f − x̄)² / (k − 1)), and for each
 * configuration after the first the paired difference d_f = x_f − x_f(first), with its mean and
 * standard deviation (folds are shared, so the fold-to-fold spread cancels out of d).
 *
 * Returns plain data and reports progress through a callback; records each fold (kind "cv",
 * fold number set) and each configuration's summary (kind "cv", fold null, mean metrics plus
 * `<metric>_std`) when given a registry. `parallel` folds run at once (see chooseFoldParallelism
 * for how many, and with how many threads each).
 */
import type { Hyperparameters } from '../core/types.js';
import { foldSplit, type Folds } from '../data/folds.js';
import type { Dataset } from '../data/types.js';
import type { Registry } from '../registry/registry.js';
import {
  itemGenresOf,
  metricNames,
  scoreModel,
  type RankingOptions,
  type TrainFold,
} from './fold-training.js';

export interface CvConfiguration {
  /** Name shown in tables, e.g. "genre dim 30". */
  label: string;
  hyper: Hyperparameters;
  epochs: number;
}

/** Recording context for the registry rows. */
export interface RecordContext {
  registry: Registry;
  commandLine: string[];
  toolVersion: string;
  kernel: string;
}

export interface CrossValidateOptions {
  dataset: Dataset;
  folds: Folds;
  configurations: CvConfiguration[];
  /** Seed of the initial factors (the same for every fold and configuration). */
  seed: number;
  threads: number;
  trainFold: TrainFold;
  /**
   * Jobs (fold × configuration) in flight at once (default 1). More than one only helps with a
   * TrainFold that trains off the main thread (workerTrainFold).
   */
  parallel?: number;
  ranking?: RankingOptions;
  record?: RecordContext | null;
  onProgress?: (event: CvProgress) => void;
}

export type CvProgress =
  | { type: 'fold-start'; configuration: number; fold: number; folds: number }
  | {
      type: 'epoch';
      configuration: number;
      fold: number;
      epoch: number;
      validationRmse: number | null;
    }
  | {
      type: 'fold-done';
      configuration: number;
      fold: number;
      metrics: Record<string, number>;
      elapsedMs: number;
    };

export interface FoldScore {
  fold: number;
  metrics: Record<string, number>;
  /** Wall time of the fold's training and scoring. */
  elapsedMs: number;
  /** Validation RMSE after each epoch. */
  curve: Array<number | null>;
  diverged: boolean;
}

export interface MeanStd {
  mean: number;
  std: number;
}

export interface CvConfigurationResult {
  label: string;
  hyper: Hyperparameters;
  epochs: number;
  folds: FoldScore[];
  summary: Record<string, MeanStd>;
  /** Paired difference to the first configuration, per metric (absent for the first). */
  versusFirst: Record<string, MeanStd> | null;
  /** Registry id of the summary run, when recorded. */
  runId: number | null;
}

export interface CvResult {
  folds: { spec: string; seed: number; k: number };
  configurations: CvConfigurationResult[];
  elapsedMs: number;
}

/** Mean and sample standard deviation (0 for a single value; NaN when any value is). */
export function meanStd(values: number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = values.reduce((s, x) => s + x, 0) / n;
  if (n === 1) return { mean, std: 0 };
  const ss = values.reduce((s, x) => s + (x - mean) * (x - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

function summarise(folds: FoldScore[]): Record<string, MeanStd> {
  const names = Object.keys(folds[0]?.metrics ?? {});
  return Object.fromEntries(
    names.map((name) => [name, meanStd(folds.map((f) => f.metrics[name]!))]),
  );
}

export async function crossValidate(options: CrossValidateOptions): Promise<CvResult> {
  const { dataset, folds, configurations, record } = options;
  if (configurations.length === 0) throw new RangeError('no configuration to cross-validate');
  const t0 = performance.now();
  const genres = itemGenresOf(dataset);
  const perConfiguration: FoldScore[][] = configurations.map(() => []);

  // Jobs: folds outer, configurations inner, so that a fold's matrices (built on first use) serve
  // all its configurations and are dropped once they are done. Up to `parallel` jobs run at once.
  const jobs: Array<{ fold: number; configuration: number }> = [];
  for (let f = 0; f < folds.k; f++)
    for (let c = 0; c < configurations.length; c++) jobs.push({ fold: f, configuration: c });
  const splits = new Map<number, { split: ReturnType<typeof foldSplit>; left: number }>();
  const splitOf = (f: number): ReturnType<typeof foldSplit> => {
    let entry = splits.get(f);
    if (entry === undefined) {
      entry = { split: foldSplit(dataset, folds, f), left: configurations.length };
      splits.set(f, entry);
    }
    return entry.split;
  };
  const release = (f: number): void => {
    const entry = splits.get(f)!;
    if (--entry.left === 0) splits.delete(f);
  };

  const runJob = async (f: number, c: number): Promise<void> => {
    const config = configurations[c]!;
    const split = splitOf(f);
    options.onProgress?.({ type: 'fold-start', configuration: c, fold: f, folds: folds.k });
    const started = performance.now();
    const handle =
      record?.registry.startRun({
        kind: 'cv',
        commandLine: record.commandLine,
        toolVersion: record.toolVersion,
        modelKind: config.hyper.kind,
        hyperparameters: { ...config.hyper, epochs: config.epochs },
        data: { name: dataset.info.name, fingerprint: dataset.info.fingerprint },
        split: split.report.spec,
        seed: options.seed,
        threads: options.threads,
        kernel: record.kernel,
        fold: f,
      }) ?? null;
    try {
      const trained = await options.trainFold({
        train: split.train,
        validation: split.test,
        itemGenres: genres,
        hyper: config.hyper,
        seed: options.seed,
        epochs: config.epochs,
        threads: options.threads,
        onEpoch: (m) => {
          handle?.addEpoch(m);
          options.onProgress?.({
            type: 'epoch',
            configuration: c,
            fold: f,
            epoch: m.epoch,
            validationRmse: m.validationRmse,
          });
        },
      });
      const metrics =
        trained.diverged === null
          ? scoreModel(trained.state, split.train, split.test, dataset, options.ranking)
          : Object.fromEntries(metricNames(options.ranking?.k).map((n) => [n, Number.NaN]));
      const elapsedMs = performance.now() - started;
      if (trained.diverged)
        handle?.fail(trained.diverged.message, { epochs: trained.history.length });
      else handle?.finish({ metrics, epochs: config.epochs, wallMs: elapsedMs });
      perConfiguration[c]![f] = {
        fold: f,
        metrics,
        elapsedMs,
        curve: trained.history.map((m) => m.validationRmse),
        diverged: trained.diverged !== null,
      };
      options.onProgress?.({ type: 'fold-done', configuration: c, fold: f, metrics, elapsedMs });
    } catch (error) {
      handle?.fail((error as Error).message);
      throw error;
    } finally {
      release(f);
    }
  };

  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await runJob(job.fold, job.configuration);
    }
  };
  const parallel = Math.max(1, Math.min(options.parallel ?? 1, jobs.length));
  await Promise.all(Array.from({ length: parallel }, lane));

  const results: CvConfigurationResult[] = configurations.map((config, c) => {
    const scores = perConfiguration[c]!;
    const summary = summarise(scores);
    let versusFirst: Record<string, MeanStd> | null = null;
    if (c > 0) {
      const first = perConfiguration[0]!;
      versusFirst = Object.fromEntries(
        Object.keys(summary).map((name) => [
          name,
          meanStd(scores.map((s, f) => s.metrics[name]! - first[f]!.metrics[name]!)),
        ]),
      );
    }
    let runId: number | null = null;
    if (record) {
      const handle = record.registry.startRun({
        kind: 'cv',
        commandLine: record.commandLine,
        toolVersion: record.toolVersion,
        modelKind: config.hyper.kind,
        hyperparameters: { ...config.hyper, epochs: config.epochs },
        data: { name: dataset.info.name, fingerprint: dataset.info.fingerprint },
        split: folds.spec,
        seed: options.seed,
        threads: options.threads,
        kernel: record.kernel,
      });
      const metrics: Record<string, number> = {};
      for (const [name, v] of Object.entries(summary)) {
        metrics[name] = v.mean;
        metrics[`${name}_std`] = v.std;
      }
      handle.finish({
        metrics,
        epochs: config.epochs,
        wallMs: scores.reduce((s, f) => s + f.elapsedMs, 0),
      });
      runId = handle.id;
    }
    return {
      label: config.label,
      hyper: config.hyper,
      epochs: config.epochs,
      folds: scores,
      summary,
      versusFirst,
      runId,
    };
  });
  return {
    folds: { spec: folds.spec, seed: folds.seed, k: folds.k },
    configurations: results,
    elapsedMs: performance.now() - t0,
  };
}

/**
 * How to spend `threads` on k folds: one fold at a time training with every thread (chosen), or
 * several folds at once, each in a worker training with one thread (`workerTrainFold` with
 * `parallel` > 1, kept as an option).
 *
 * Measured on the 2-core machine (shared, load average 7–13, so wall times are noisy), ML-100K
 * u1–u5, genre defaults, `node dist/bench/cv.js data/ml-100k [--threads 2 | --parallel 2]`, runs
 * interleaved: 100 epochs, threads inside 20.4 / 25.9 / 31.1 / 29.3 s wall against folds in
 * parallel 35.3 / 54.4 / 43.9 / 48.2 s; 30 epochs, 11.9 / 8.6 s against 12.3 / 12.8 s. Threads
 * inside one training won every pair. CPU time was about equal (15.4–15.9 s against 14.9–15.0 s
 * for 100 epochs; one thread alone 14.0–14.2 s), so the hand-off between training threads costs
 * ~5–10 % CPU while each fold worker pays its start-up (module load, kernel compile). Folds in
 * parallel would also hold one copy of the training matrices per fold in flight (~16 bytes per
 * rating). Scores are identical either way. Re-measure on a quiet machine before changing this.
 */
export function chooseFoldParallelism(threads: number): {
  parallel: number;
  threadsPerFold: number;
} {
  return { parallel: 1, threadsPerFold: Math.max(1, Math.floor(threads)) };
}
