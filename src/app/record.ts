/**
 * Recording runs in the registry (<data home>/runs.sqlite): the adapter between the app layer's
 * runs (training events, evaluation reports, cv and tune) and src/registry. The CLI opens a
 * `Recorder` with the command line it was given and hands it to the run; it never prints, it
 * warns through a callback.
 *
 * Recording never stops a run: a registry that cannot be opened (not SQLite, from a newer als,
 * locked past the busy timeout, driver missing) is one warning and the run goes on unrecorded, and
 * so is a write that fails later (the recorder then stops writing). better-sqlite3 is loaded only
 * when a recorder is opened, so `--no-record` never loads it.
 */
import { createRequire } from 'node:module';
import type { EpochMetrics } from '../core/types.js';
import type { Dataset } from '../data/types.js';
import { dataHome as resolveDataHome } from '../data/home.js';
import { AlsError } from '../errors.js';
import {
  openRegistryOrWarn,
  registryPath,
  type Registry,
  type RunHandle,
} from '../registry/registry.js';
import type { BayesianTrainEvents, BayesianTrainResult, BayesianTrainStart } from './bayes-run.js';
import type { RecordContext } from './cv.js';
import type { EvalReport } from './evaluate.js';
import type { TrainEvents, TrainResult, TrainStart } from './train.js';

/** The version of als, from package.json (two folders up from both src/app and dist/app). */
export const TOOL_VERSION: string = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;

export interface RecorderOptions {
  /** False: record nothing (`--no-record`); the registry is not even opened. */
  record?: boolean;
  /** The data home whose runs.sqlite is used (default ./data). */
  dataHome?: string;
  /** The registry file itself (default <data home>/runs.sqlite). */
  file?: string;
  /** The command line as argv without the node executable, e.g. ["als", "train", "--dim", "50"]. */
  commandLine: string[];
  onWarning?: (message: string) => void;
  /** How long a write waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number;
}

/** Opens the registry for one command; null when recording is off or the registry is unusable (warned). */
export async function openRecorder(options: RecorderOptions): Promise<Recorder | null> {
  if (options.record === false) return null;
  const warn = options.onWarning ?? (() => {});
  const file = options.file ?? registryPath(resolveDataHome(options.dataHome));
  const registry = await openRegistryOrWarn(file, warn, { busyTimeoutMs: options.busyTimeoutMs });
  return registry === null ? null : new Recorder(registry, options.commandLine, warn);
}

/** The final metrics of a training: the saved model's validation RMSE, and the last epoch's loss and train RMSE. */
export function trainingMetrics(result: TrainResult): Record<string, number> {
  const metrics: Record<string, number> = {};
  const last = result.history[result.history.length - 1];
  const savedEpoch = result.checkpoint?.bestEpoch ?? last?.epoch;
  const saved = result.history.find((m) => m.epoch === savedEpoch) ?? last;
  if (saved?.validationRmse != null) metrics.rmse = saved.validationRmse;
  if (last) {
    metrics.train_rmse = last.trainRmse;
    metrics.loss = last.loss;
  }
  return metrics;
}

/**
 * The final metrics of a Gibbs run: the held-out RMSE of the sample average, the last draw's train
 * RMSE, and the share of held-out ratings inside each central predictive interval (calibration_80:
 * the 80 % interval's share, ideally 0.8).
 */
export function bayesianTrainingMetrics(result: BayesianTrainResult): Record<string, number> {
  const { run } = result;
  const metrics: Record<string, number> = {};
  if (run.rmse !== null) metrics.rmse = run.rmse;
  const last = run.metrics[run.metrics.length - 1];
  if (last) metrics.train_rmse = last.trainRmse;
  for (const c of run.calibration ?? [])
    metrics[`calibration_${Math.round(c.level * 100)}`] = c.share;
  return metrics;
}

/** How a settled training is written: its final metrics, last epoch (or sample) and wall time. */
interface TrainingOutcome {
  interrupted: boolean;
  metrics: Record<string, number>;
  epochs: number | undefined;
  checkpoint: string;
  wallMs: number;
}

export class Recorder {
  private broken = false;

  constructor(
    readonly registry: Registry,
    readonly commandLine: string[],
    private readonly warn: (message: string) => void,
  ) {}

  /** Runs a registry write; a failure is one warning, after which nothing more is written. */
  private safely<T>(write: () => T): T | null {
    if (this.broken) return null;
    try {
      return write();
    } catch (error) {
      if (!(error instanceof AlsError)) throw error;
      this.broken = true;
      this.warn(`${error.message}; the rest of this run is not recorded`);
      return null;
    }
  }

  /** What cv and tune record their folds and trials with. */
  context(kernel: string): RecordContext {
    return {
      registry: this.registry,
      commandLine: this.commandLine,
      toolVersion: TOOL_VERSION,
      kernel,
    };
  }

  /** The training recorded by `training` (one per recorder), finished by `trackTraining`. */
  private trainingTrack: ((run: Promise<TrainResult>) => Promise<TrainResult>) | null = null;

  /** Finishes the record of the training whose events `training` returned, when its promise settles. */
  trackTraining(run: Promise<TrainResult>): Promise<TrainResult> {
    return this.trainingTrack ? this.trainingTrack(run) : run;
  }

  /**
   * A training run recorded: `events` with the recording added (the run starts at onStart, each
   * epoch is kept), and `track`, which finishes the record when the run's promise settles.
   */
  training(
    dataset: Dataset,
    events: TrainEvents,
  ): TrainEvents & { track: (run: Promise<TrainResult>) => Promise<TrainResult> } {
    let handle: RunHandle | null = null;
    const recorded: TrainEvents & { track: (run: Promise<TrainResult>) => Promise<TrainResult> } = {
      ...events,
      onStart: (start: TrainStart) => {
        handle = this.safely(() =>
          this.registry.startRun({
            kind: 'train',
            commandLine: this.commandLine,
            toolVersion: TOOL_VERSION,
            modelKind: start.hyper.kind,
            hyperparameters: { ...start.hyper },
            data: { name: dataset.info.name, fingerprint: dataset.info.fingerprint },
            split: start.split.spec,
            seed: start.seed,
            threads: start.threads,
            kernel: start.kernel,
            checkpoint: start.out,
          }),
        );
        events.onStart?.(start);
      },
      onEpoch: (metrics: EpochMetrics) => {
        handle?.addEpoch(metrics);
        events.onEpoch?.(metrics);
      },
      track: (run) =>
        this.settle(
          () => handle,
          run,
          (result) => ({
            interrupted: result.stopReason === 'interrupted',
            metrics: trainingMetrics(result),
            epochs: result.history[result.history.length - 1]?.epoch,
            checkpoint: result.out,
            wallMs: result.elapsedMs,
          }),
        ),
    };
    this.trainingTrack = recorded.track;
    return recorded;
  }

  /** Finishes a training's record when its promise settles: finished, failed 'interrupted', or failed with the error's message. */
  private async settle<R>(
    handle: () => RunHandle | null,
    run: Promise<R>,
    outcome: (result: R) => TrainingOutcome,
  ): Promise<R> {
    try {
      const result = await run;
      const h = handle();
      if (h !== null) {
        const { interrupted, metrics, epochs, checkpoint, wallMs } = outcome(result);
        if (interrupted) this.safely(() => h.fail('interrupted', { metrics, epochs }));
        else this.safely(() => h.finish({ metrics, epochs, checkpoint, wallMs }));
      }
      return result;
    } catch (error) {
      const h = handle();
      if (h !== null) this.safely(() => h.fail((error as Error).message));
      throw error;
    }
  }

  /** The Gibbs run recorded by `bayesianTraining` (one per recorder), finished by `trackBayesianTraining`. */
  private bayesianTrack:
    | ((run: Promise<BayesianTrainResult>) => Promise<BayesianTrainResult>)
    | null = null;

  trackBayesianTraining(run: Promise<BayesianTrainResult>): Promise<BayesianTrainResult> {
    return this.bayesianTrack ? this.bayesianTrack(run) : run;
  }

  /**
   * A Gibbs run (`als train --method gibbs`) recorded as a training: kind "train", the method and
   * chain settings in the hyperparameters, each sample as an epoch of the history (epoch = sample
   * number, no loss, validation RMSE = that of the running post-burn-in average).
   */
  bayesianTraining(dataset: Dataset, events: BayesianTrainEvents): BayesianTrainEvents {
    let handle: RunHandle | null = null;
    this.bayesianTrack = (run) =>
      this.settle(
        () => handle,
        run,
        (result) => ({
          interrupted: result.stopReason === 'interrupted',
          metrics: bayesianTrainingMetrics(result),
          epochs: result.run.metrics[result.run.metrics.length - 1]?.sample,
          checkpoint: result.out,
          wallMs: result.elapsedMs,
        }),
      );
    return {
      ...events,
      onStart: (start: BayesianTrainStart) => {
        const o = start.options;
        handle = this.safely(() =>
          this.registry.startRun({
            kind: 'train',
            commandLine: this.commandLine,
            toolVersion: TOOL_VERSION,
            modelKind: o.kind,
            hyperparameters: {
              method: 'gibbs',
              kind: o.kind,
              dim: o.dim,
              samples: o.samples,
              burnIn: o.burnIn,
              thin: o.thin,
              ...(start.firstSample > 0 ? { resumedAfterSample: start.firstSample } : {}),
            },
            data: { name: dataset.info.name, fingerprint: dataset.info.fingerprint },
            split: start.split.spec,
            seed: o.seed,
            threads: o.threads,
            kernel: typeof o.kernel === 'string' ? o.kernel : o.kernel.name,
            checkpoint: start.out,
          }),
        );
        events.onStart?.(start);
      },
      onSample: (m, done, total) => {
        handle?.addEpoch({
          epoch: m.sample,
          loss: null,
          trainRmse: m.trainRmse,
          validationRmse: m.validationRmse,
          elapsedMs: m.elapsedMs,
        });
        events.onSample?.(m, done, total);
      },
    };
  }

  /** An evaluation recorded (kind "eval") once its report is there; a failed one is not. */
  async evaluation(report: Promise<EvalReport>): Promise<EvalReport> {
    const startedAt = new Date();
    const t0 = performance.now();
    const r = await report;
    this.safely(() => {
      const handle = this.registry.startRun({
        kind: 'eval',
        commandLine: this.commandLine,
        toolVersion: TOOL_VERSION,
        modelKind: r.model.kind,
        hyperparameters: { ...r.model, epochs: r.epochsDone },
        data: { name: r.dataset.name, fingerprint: r.dataset.fingerprint },
        split: r.split.spec,
        seed: r.split.seed,
        threads: null,
        kernel: null,
        checkpoint: r.checkpoint,
        startedAt,
      });
      const k = r.ranking.k;
      const metrics: Record<string, number> = {
        [`precision@${k}`]: r.ranking.precision,
        [`recall@${k}`]: r.ranking.recall,
        [`ndcg@${k}`]: r.ranking.ndcg,
        [`map@${k}`]: r.ranking.map,
        coverage: r.ranking.coverage,
      };
      if (r.ratings.all.rmse !== null) metrics.rmse = r.ratings.all.rmse;
      if (r.ratings.all.mae !== null) metrics.mae = r.ratings.all.mae;
      handle.finish({ metrics, epochs: r.epochsDone, wallMs: performance.now() - t0 });
    });
    return r;
  }

  close(): void {
    this.registry.close();
  }
}

/** `events` recorded by `recorder` (unchanged without one): what `als train` wraps its events in. */
export function recordTraining(
  recorder: Recorder | null,
  dataset: Dataset,
  events: TrainEvents,
): TrainEvents {
  return recorder ? recorder.training(dataset, events) : events;
}

/** The run's result, recorded as finished or failed by `recorder` (as it is without one). */
export function recordResult(
  recorder: Recorder | null,
  run: Promise<TrainResult>,
): Promise<TrainResult> {
  return recorder ? recorder.trackTraining(run) : run;
}

/** A Gibbs run's `events` recorded by `recorder` (unchanged without one): what `als train --method gibbs` wraps its events in. */
export function recordBayesianTraining(
  recorder: Recorder | null,
  dataset: Dataset,
  events: BayesianTrainEvents,
): BayesianTrainEvents {
  return recorder ? recorder.bayesianTraining(dataset, events) : events;
}

/** A Gibbs run's result, recorded as finished or failed by `recorder` (as it is without one). */
export function recordBayesianResult(
  recorder: Recorder | null,
  run: Promise<BayesianTrainResult>,
): Promise<BayesianTrainResult> {
  return recorder ? recorder.trackBayesianTraining(run) : run;
}

/** An evaluation's report, recorded by `recorder` (as it is without one). */
export function recordEvaluation(
  recorder: Recorder | null,
  report: Promise<EvalReport>,
): Promise<EvalReport> {
  return recorder ? recorder.evaluation(report) : report;
}
