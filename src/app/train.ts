/**
 * A training run: split a data set, train epoch by epoch, and write the checkpoint plus its
 * metrics history (<out>.metrics.csv / .metrics.json). It never prints: progress arrives through
 * callbacks (`onEpoch`, `onCheckpoint`, like lenskit's fit_iters or implicit's fit_callback) and
 * the result is plain data.
 *
 * Policies (the README's train section says the same):
 * - `epochs` counts the epochs of this run: 10, then resume with 10, gives the model of 20
 *   uninterrupted epochs.
 * - `resume` reads the checkpoint at `out`; it must be of the same data set (fingerprint).
 *   Everything not given explicitly (kind, dim, λ, τ, γ, τ_g, ALS-WR, seed, split) is taken from
 *   the checkpoint. λ, τ, γ, τ_g and ALS-WR may be overridden (the run says so); the kind, dim,
 *   seed and split may not (they define the parameters' shape and the held-out set).
 * - Early stopping (`earlyStopPatience` P) stops after P epochs without a better validation RMSE
 *   and stores the best epoch's model (its epoch number is recorded; the history keeps every epoch).
 * - A snapshot of the last finished epoch is kept in memory: a stop request (`signal`) ends the run
 *   after the epoch in progress and saves it, `saveLastGood()` saves it at once from anywhere, and
 *   a diverging epoch never reaches the disk (the last good model of this run is saved, then an
 *   AlsError saying so is thrown).
 */
import { chooseKernel } from '../core/kernels.js';
import { availableParallelism, totalmem } from 'node:os';
import path from 'node:path';
import {
  DEFAULT_HYPERPARAMETERS,
  DEFAULT_MODEL_KIND,
  defaultHyperparameters,
} from '../core/defaults.js';
import { biasRidgeWeighted } from '../core/kernel.js';
import { createTrainer, DivergenceError, type Trainer } from '../core/trainer.js';
import { cloneModel, copyModelInto } from '../core/als.js';
import type { EpochMetrics, Hyperparameters, ModelKind, ModelState } from '../core/types.js';
import { validateTrainingSize } from '../core/limits.js';
import { acquireLock, checkWritableTarget, writeTextFileAtomic } from '../data/atomic.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../data/checkpoint.js';
import { makeSplit } from '../data/splits.js';
import type { Dataset, Split, SplitReport } from '../data/types.js';
import { AlsError, UsageError } from '../errors.js';
import { RUN_DEFAULTS } from './defaults.js';
import { defaultCheckpointFile } from './data.js';
import { reportPathFor, writeReport, type WriteReportResult } from './report.js';

/** The hyperparameters a caller may set; the rest come from the defaults or the resumed checkpoint. */
export type HyperparameterOverrides = Partial<Omit<Hyperparameters, 'kind'>> & { kind?: ModelKind };

/** What to train. Only `dataset` is required. */
export interface TrainRequest {
  dataset: Dataset;
  /** The fitting method: 'als'. The Gibbs sampler (`als train --method gibbs`) is trainBayesianModel in ./bayes-run.ts. */
  method?: 'als';
  hyper?: HyperparameterOverrides;
  /** Epochs of this run (default RUN_DEFAULTS.epochs). */
  epochs?: number;
  /** Seed of the split and the initial factors (default RUN_DEFAULTS.seed). */
  seed?: number;
  /** Split spec (default RUN_DEFAULTS.split); `file:` paths are made absolute. */
  split?: string;
  /** Worker threads (default: all cores). */
  threads?: number;
  /** Kernel; unset: wasm if it loads, else ts. */
  kernel?: 'ts' | 'wasm';
  /** Checkpoint file (default <data home>/models/<data set>-<kind>.als). */
  out?: string;
  /** For the default `out`. */
  dataHome?: string;
  /** Continue the checkpoint at `out`. */
  resume?: boolean;
  /** Also write the checkpoint every n epochs (0 or unset: only at the end). */
  checkpointEvery?: number;
  /** Stop after this many epochs without a better validation RMSE, keeping the best model. */
  earlyStopPatience?: number;
  /** A stop request: the run ends after the epoch in progress and saves it (stopReason 'interrupted'). */
  signal?: AbortSignal;
  /** Also write the HTML report beside the checkpoint. */
  report?: boolean;
  /**
   * Write the checkpoint and its metrics files (default true). False keeps the model in memory
   * only (the returned checkpoint; `out` is then only a name): no file is read or written, so
   * `resume`, `checkpointEvery` and `report` need it.
   */
  write?: boolean;
}

/** What the run is about to do, once the data is split and the trainer is ready. */
export interface TrainStart {
  dataset: { name: string; numRatings: number; numUsers: number; numItems: number };
  split: SplitReport;
  hyper: Hyperparameters;
  seed: number;
  kernel: string;
  threads: number;
  out: string;
  /** Epoch the run starts after (0, or the resumed checkpoint's). */
  firstEpoch: number;
  /** Epochs this run will do at most. */
  epochs: number;
  /** Set when resuming: the checkpoint's epochs and the hyperparameters this run changes. */
  resumed: { epochsDone: number; changed: { key: string; from: unknown; to: unknown }[] } | null;
}

export interface TrainEvents {
  onStart?: (start: TrainStart) => void;
  /** After every epoch of this run. */
  onEpoch?: (metrics: EpochMetrics) => void;
  /** After every checkpoint write (`reason` says why it was written). */
  onCheckpoint?: (written: {
    file: string;
    epoch: number;
    reason: 'every' | 'final' | 'interrupted' | 'diverged';
  }) => void;
  /** Things worth a line that do not stop the run (a kernel fallback, an ignored option). */
  onNote?: (message: string) => void;
}

export type StopReason = 'completed' | 'early-stop' | 'interrupted';

export interface TrainResult {
  stopReason: StopReason;
  /** "all epochs done", "early stop: …", "interrupted". */
  stopMessage: string;
  /** The checkpoint written (null only when interrupted before the first epoch: nothing saved). */
  checkpoint: Checkpoint | null;
  out: string;
  /** Every epoch the stored model has been through (the resumed ones too). */
  history: EpochMetrics[];
  epochsRun: number;
  kernel: string;
  threads: number;
  /** Whole run, data split to last write. */
  elapsedMs: number;
  /** Sum of this run's epoch times. */
  trainMs: number;
  /** The epoch with the best validation RMSE in the history, if any has one. */
  best: EpochMetrics | null;
  report: WriteReportResult | null;
}

/** The resolved settings of a run. */
interface RunSettings {
  hyper: Hyperparameters;
  seed: number;
  splitSpec: string;
  epochs: number;
  threads: number;
  out: string;
}

/** `file:` split paths are made absolute so that an evaluation can re-create the split from anywhere. */
export function normaliseSplitSpec(spec: string): string {
  return spec.startsWith('file:') ? `file:${path.resolve(spec.slice(5))}` : spec;
}

/** Resolves hyperparameters and run settings: defaults, the checkpoint being resumed, explicit values. */
function resolveSettings(
  request: TrainRequest,
  resumed: Checkpoint | null,
  out: string,
): RunSettings {
  const given = request.hyper ?? {};
  // Defaults depend on the model kind (the bias model uses a plain ridge γ = 3, see core/defaults).
  const kind: ModelKind = given.kind ?? resumed?.state.hyper.kind ?? DEFAULT_MODEL_KIND;
  const base: Hyperparameters = resumed ? { ...resumed.state.hyper } : defaultHyperparameters(kind);
  if (resumed) {
    if (given.kind !== undefined && given.kind !== resumed.state.hyper.kind) {
      throw new UsageError(
        `--kind: the checkpoint holds a ${resumed.state.hyper.kind} model; --resume cannot change it`,
      );
    }
    if (given.dim !== undefined && kind !== 'bias' && given.dim !== resumed.state.hyper.dim) {
      throw new UsageError(
        `--dim: the checkpoint has dim ${resumed.state.hyper.dim}; --resume cannot change it`,
      );
    }
    if (request.seed !== undefined && request.seed !== resumed.seed) {
      throw new UsageError(
        `--seed: the checkpoint was trained with seed ${resumed.seed}; --resume keeps it (it fixes the split)`,
      );
    }
    if (request.split !== undefined && normaliseSplitSpec(request.split) !== resumed.split.spec) {
      throw new UsageError(
        `--split: the checkpoint was trained on split ${resumed.split.spec}; --resume keeps it`,
      );
    }
  }
  if (given.dim === 0 && kind !== 'bias') {
    throw new UsageError(
      `--dim: 0 is only for the bias model (--kind bias); the ${kind} model needs a positive dimension`,
    );
  }
  const dim =
    kind === 'bias' ? 0 : (given.dim ?? (base.dim > 0 ? base.dim : DEFAULT_HYPERPARAMETERS.dim));
  const hyper: Hyperparameters = {
    kind,
    dim,
    lambda: given.lambda ?? base.lambda,
    tau: given.tau ?? base.tau,
    gamma: given.gamma ?? base.gamma,
    genreTau: given.genreTau ?? base.genreTau,
    weightedRegularization: given.weightedRegularization ?? base.weightedRegularization,
  };
  // Recorded explicitly in the checkpoint. Unset in the base (an old checkpoint), γ followed τ's
  // weighting, and still does: `--no-weighted` on such a resume makes both plain.
  hyper.weightedBiasRegularization =
    given.weightedBiasRegularization ??
    base.weightedBiasRegularization ??
    hyper.weightedRegularization;
  // Unset in an old checkpoint's base: 1, the ALS-WR it was trained with.
  hyper.weightExponent = given.weightExponent ?? base.weightExponent ?? 1;
  return {
    hyper,
    seed: request.seed ?? resumed?.seed ?? RUN_DEFAULTS.seed,
    splitSpec: resumed
      ? resumed.split.spec
      : normaliseSplitSpec(request.split ?? RUN_DEFAULTS.split),
    epochs: request.epochs ?? RUN_DEFAULTS.epochs,
    threads: request.threads ?? availableParallelism(),
    out,
  };
}

/** Memory training may use: the machine's, or the cgroup limit when there is a lower one. */
function availableMemoryBytes(): number {
  const total = totalmem();
  const limit =
    (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  return limit > 0 && limit < total ? limit : total;
}

/**
 * The checkpoint of a model fitted on `split` of `dataset`: its data set, split, id maps, catalogue
 * and training index, as every reading command needs them. Also used for models imported from
 * Spark (src/app/interop.ts), with no history.
 */
export function buildCheckpoint(
  dataset: Dataset,
  split: Split,
  state: ModelState,
  settings: { seed: number; threads: number },
  run: { epochsDone: number; metrics: EpochMetrics[]; bestEpoch: number | null; kernel: string },
): Checkpoint {
  const { numUsers, numItems } = dataset.matrix;
  const itemOffsets = split.train.ratingsByItem.offsets;
  const itemTrainCounts = new Int32Array(numItems);
  for (let i = 0; i < numItems; i++) itemTrainCounts[i] = itemOffsets[i + 1]! - itemOffsets[i]!;
  const byUser = split.train.ratingsByUser;
  return {
    seed: settings.seed,
    dataset: {
      name: dataset.info.name,
      dir: dataset.info.dir,
      fingerprint: dataset.info.fingerprint,
      numUsers,
      numItems,
      scale: dataset.info.scale,
    },
    split: split.report,
    epochsDone: run.epochsDone,
    metrics: run.metrics,
    bestEpoch: run.bestEpoch,
    kernel: run.kernel,
    threads: settings.threads,
    createdAt: new Date().toISOString(),
    state,
    userIds: dataset.userIds,
    itemIds: dataset.itemIds,
    catalog: dataset.catalog,
    itemTrainCounts,
    trainItemsByUser: {
      offsets: byUser.offsets,
      items: byUser.indices.subarray(0, split.train.numRatings),
    },
  };
}

/** The metrics history as CSV (one row per epoch; empty validation cell when there is none). */
export function metricsCsv(metrics: EpochMetrics[]): string {
  const lines = ['epoch,loss,train_rmse,validation_rmse,elapsed_ms'];
  for (const m of metrics) {
    lines.push(
      `${m.epoch},${m.loss},${m.trainRmse},${m.validationRmse ?? ''},${m.elapsedMs.toFixed(3)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes the checkpoint and its metrics files (<file>.metrics.csv, <file>.metrics.json), each
 * atomically. When a metrics file cannot be written (a disk that filled up after the checkpoint),
 * the error says that the checkpoint was saved and which file was not.
 */
export function writeRunFiles(file: string, checkpoint: Checkpoint): void {
  writeCheckpoint(file, checkpoint);
  const saved = [`the checkpoint of epoch ${checkpoint.epochsDone} to ${file}`];
  const writeMetrics = (suffix: string, text: string): void => {
    try {
      writeTextFileAtomic(`${file}${suffix}`, text);
    } catch (error) {
      const cause = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new AlsError(
        `saved ${saved.join(' and ')}, but not ${path.basename(file)}${suffix}: ${cause}`,
      );
    }
    saved.push(path.basename(`${file}${suffix}`));
  };
  writeMetrics('.metrics.csv', metricsCsv(checkpoint.metrics));
  const summary = {
    dataset: checkpoint.dataset,
    hyper: checkpoint.state.hyper,
    seed: checkpoint.seed,
    split: checkpoint.split,
    kernel: checkpoint.kernel,
    threads: checkpoint.threads,
    epochsDone: checkpoint.epochsDone,
    bestEpoch: checkpoint.bestEpoch,
    epochs: checkpoint.metrics,
  };
  writeMetrics('.metrics.json', `${JSON.stringify(summary, null, 2)}\n`);
}

/** Lets pending events (a stop request, a signal handler) run between epochs. */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One training run. `run()` does the work; `saveLastGood()` may be called meanwhile (e.g. on a
 * second Ctrl-C) to write the last finished epoch's model at once.
 */
export class TrainingRun {
  private lastGood: { state: ModelState; epoch: number } | null = null;
  private best: { state: ModelState; epoch: number; rmse: number } | null = null;
  private useEarlyStop = false;
  private snapshotOf: ((which: 'last' | 'best') => Checkpoint | null) | null = null;
  private out: string | null = null;

  constructor(
    readonly request: TrainRequest,
    readonly events: TrainEvents = {},
  ) {}

  /** Writes the model of the last finished epoch (the best one under early stopping) now; null if none yet. */
  saveLastGood(): { file: string; epoch: number } | null {
    const now = this.snapshotOf?.(this.useEarlyStop ? 'best' : 'last') ?? null;
    if (now === null || this.out === null) return null;
    writeRunFiles(this.out, now);
    this.events.onCheckpoint?.({ file: this.out, epoch: now.epochsDone, reason: 'interrupted' });
    return { file: this.out, epoch: now.epochsDone };
  }

  /**
   * Runs the training. When it writes (the default), the destination is checked first (its folder
   * created; a folder in the way, a read-only or full place refused in one line) and locked for
   * the whole run: a second run with the same `out` is refused instead of silently overwriting.
   */
  async run(): Promise<TrainResult> {
    const { request } = this;
    const kindForPath = request.hyper?.kind ?? DEFAULT_MODEL_KIND;
    const out = path.resolve(
      request.out ??
        defaultCheckpointFile(
          { data: request.dataset.info.dir, dataHome: request.dataHome },
          kindForPath,
        ),
    );
    if (request.write === false) {
      if (request.resume || request.checkpointEvery || request.report) {
        throw new UsageError(
          'resume, checkpointEvery and report need a checkpoint file (write: true)',
        );
      }
      return this.train(out, false);
    }
    checkWritableTarget(out, { createFolder: true });
    if (request.report) checkWritableTarget(reportPathFor(out));
    const lock = acquireLock(out, 'another als train');
    try {
      return await this.train(out, true);
    } finally {
      lock.release();
    }
  }

  private async train(out: string, persist: boolean): Promise<TrainResult> {
    const { request, events } = this;
    const note = events.onNote ?? (() => {});
    const startedMs = performance.now();
    const dataset = request.dataset;
    const resumed = request.resume
      ? readCheckpoint(out, { expectFingerprint: dataset.info.fingerprint })
      : null;
    // Without an explicit `out` the file is named after the kind; a resumed model keeps its own.
    const settings = resolveSettings(request, resumed, out);
    const { hyper } = settings;
    // Sizes the kernels and the machine support, checked before anything large is allocated.
    const wanted = request.kernel ?? 'wasm';
    const size = validateTrainingSize({
      kind: hyper.kind,
      dim: hyper.dim,
      numUsers: dataset.matrix.numUsers,
      numItems: dataset.matrix.numItems,
      numRatings: dataset.matrix.numRatings,
      numGenres: dataset.catalog.genreNames.length,
      threads: settings.threads,
      kernel: wanted,
      cores: availableParallelism(),
      memoryBytes: availableMemoryBytes(),
    });
    for (const line of size.notes) note(line);
    settings.threads = size.threads;
    const kernelName = size.kernel !== wanted ? size.kernel : request.kernel;
    let changed: { key: string; from: unknown; to: unknown }[] = [];
    if (resumed) {
      const before: Hyperparameters = {
        ...resumed.state.hyper,
        weightedBiasRegularization: biasRidgeWeighted(resumed.state.hyper),
        weightExponent: resumed.state.hyper.weightExponent ?? 1,
      };
      changed = (
        [
          'lambda',
          'tau',
          'gamma',
          'genreTau',
          'weightedRegularization',
          'weightedBiasRegularization',
          'weightExponent',
        ] as const
      )
        .filter((key) => hyper[key] !== before[key])
        .map((key) => ({ key, from: before[key], to: hyper[key] }));
    }

    const split = makeSplit(dataset, settings.splitSpec, settings.seed, { trainTimestamps: false });
    const report = split.report;
    if (report.trainRatings === 0) {
      throw new AlsError(
        `split ${settings.splitSpec} leaves no training ratings (${report.testRatings} held out): nothing to train on`,
      );
    }
    const kernel = await chooseKernel(kernelName, note);

    const validation = report.testRatings > 0 ? split.test : null;
    const catalog = dataset.catalog;
    let trainer: Trainer;
    try {
      trainer = await createTrainer({
        train: split.train,
        validation,
        itemGenres: {
          offsets: catalog.genreOffsets,
          ids: catalog.genreIds,
          numGenres: catalog.genreNames.length,
        },
        hyper,
        seed: settings.seed,
        threads: settings.threads,
        kernel,
        initial: resumed ? resumed.state : undefined,
        initialEpoch: resumed ? resumed.epochsDone : 0,
      });
    } catch (error) {
      if (error instanceof AlsError) throw error;
      throw new AlsError(`cannot start training: ${(error as Error).message.split('\n')[0]}`);
    }

    // History: what the resumed checkpoint's model had been through, then this run's epochs.
    const history: EpochMetrics[] = resumed
      ? resumed.metrics.filter((m) => m.epoch <= resumed.epochsDone)
      : [];
    this.out = persist ? out : null;
    this.lastGood = resumed ? { state: resumed.state, epoch: resumed.epochsDone } : null;
    this.best = null;
    const patience = request.earlyStopPatience;
    if (resumed && patience !== undefined) {
      const last = history[history.length - 1];
      if (last?.validationRmse != null)
        this.best = { state: resumed.state, epoch: resumed.epochsDone, rmse: last.validationRmse };
    }
    this.useEarlyStop = patience !== undefined && validation !== null;
    if (patience !== undefined && validation === null)
      note('--early-stop ignored: the split holds nothing out');
    this.snapshotOf = (which) => {
      const chosen = which === 'best' && this.best !== null ? this.best : this.lastGood;
      if (chosen === null) return null;
      return buildCheckpoint(dataset, split, chosen.state, settings, {
        epochsDone: chosen.epoch,
        metrics: history,
        bestEpoch: which === 'best' && this.best !== null ? this.best.epoch : null,
        kernel: kernel.name,
      });
    };
    const keep = (): Checkpoint | null => this.snapshotOf!(this.useEarlyStop ? 'best' : 'last');
    const write = (
      checkpoint: Checkpoint,
      reason: 'every' | 'final' | 'interrupted' | 'diverged',
    ): void => {
      if (!persist) return;
      writeRunFiles(out, checkpoint);
      events.onCheckpoint?.({ file: out, epoch: checkpoint.epochsDone, reason });
    };

    events.onStart?.({
      dataset: {
        name: dataset.info.name,
        numRatings: dataset.matrix.numRatings,
        numUsers: dataset.matrix.numUsers,
        numItems: dataset.matrix.numItems,
      },
      split: report,
      hyper,
      seed: settings.seed,
      kernel: kernel.name,
      threads: settings.threads,
      out,
      firstEpoch: trainer.epochsDone,
      epochs: settings.epochs,
      resumed: resumed ? { epochsDone: resumed.epochsDone, changed } : null,
    });

    const stopRequested = (): boolean => request.signal?.aborted === true;
    let stopReason: StopReason = 'completed';
    let stopMessage = 'all epochs done';
    let epochsRun = 0;
    try {
      for (let e = 0; e < settings.epochs; e++) {
        // Let a pending stop request be seen between epochs (a single-thread epoch never yields).
        await yieldToEvents();
        if (stopRequested()) break;
        let metrics: EpochMetrics;
        try {
          metrics = await trainer.epoch();
        } catch (error) {
          if (!(error instanceof DivergenceError)) throw error;
          // The diverged model is never written: save the last good epoch of this run, or leave the
          // resumed checkpoint as it was.
          let kept = '; nothing was saved';
          if (!persist) {
            kept = epochsRun > 0 ? `; the last good model is epoch ${this.lastGood!.epoch}` : '';
          } else if (epochsRun > 0) {
            const last = keep()!;
            write(last, 'diverged');
            kept = `; saved the last good model (epoch ${last.epochsDone}) to ${out}`;
          } else if (resumed) {
            kept = `; ${out} (epoch ${resumed.epochsDone}) is unchanged`;
          }
          throw new AlsError(`${error.message}${kept}`);
        }
        epochsRun++;
        history.push(metrics);
        // One snapshot overwritten each epoch (a fresh copy per epoch stacks ~70 MB of garbage per
        // epoch at 32M ratings); the best epoch under early stopping keeps a buffer of its own.
        const reusable =
          this.lastGood !== null && this.lastGood.state !== this.best?.state
            ? this.lastGood.state
            : undefined;
        this.lastGood = { state: trainer.state(reusable), epoch: metrics.epoch };
        if (
          this.useEarlyStop &&
          metrics.validationRmse !== null &&
          (this.best === null || metrics.validationRmse < this.best.rmse)
        ) {
          const own =
            this.best !== null && this.best.state !== this.lastGood.state
              ? this.best.state
              : undefined;
          this.best = {
            state: own ? copyModelInto(own, this.lastGood.state) : cloneModel(this.lastGood.state),
            epoch: metrics.epoch,
            rmse: metrics.validationRmse,
          };
        }
        events.onEpoch?.(metrics);
        if (
          request.checkpointEvery &&
          epochsRun % request.checkpointEvery === 0 &&
          e + 1 < settings.epochs
        ) {
          write(keep()!, 'every');
        }
        if (
          this.useEarlyStop &&
          this.best !== null &&
          metrics.epoch - this.best.epoch >= patience!
        ) {
          stopReason = 'early-stop';
          stopMessage = `early stop: no better validation RMSE for ${patience} epochs`;
          break;
        }
      }
      // A stop requested during the last epoch is honoured too.
      if (!stopRequested()) await yieldToEvents();
    } finally {
      await trainer.close();
    }

    const final = keep();
    if (stopRequested()) {
      stopReason = 'interrupted';
      stopMessage = 'interrupted';
      if (final !== null) write(final, 'interrupted');
    } else {
      if (final === null) throw new AlsError('no epoch was run (--epochs must be at least 1)');
      write(final, 'final');
    }
    const trainMs = history.slice(history.length - epochsRun).reduce((s, m) => s + m.elapsedMs, 0);
    let best: EpochMetrics | null = null;
    for (const m of history)
      if (m.validationRmse !== null && (best === null || m.validationRmse < best.validationRmse!))
        best = m;
    const reportResult =
      request.report && final !== null && stopReason !== 'interrupted'
        ? await writeReport({
            checkpointFile: out,
            out: reportPathFor(out),
            checkpoint: final,
            dataset,
          })
        : null;
    return {
      stopReason,
      stopMessage,
      checkpoint: final,
      out,
      history,
      epochsRun,
      kernel: kernel.name,
      threads: settings.threads,
      elapsedMs: performance.now() - startedMs,
      trainMs,
      best,
      report: reportResult,
    };
  }
}

/** Runs a training to the end (see TrainingRun for saving the last good epoch mid-run). */
export function trainModel(request: TrainRequest, events: TrainEvents = {}): Promise<TrainResult> {
  return new TrainingRun(request, events).run();
}
