/**
 * A Bayesian training run on a data set (`als train --method gibbs`): split, run the Gibbs
 * sampler (./bayes.ts trainBayesian), and write one Bayesian checkpoint that every reading
 * command understands (samples, chain state, per-sample metrics, plus the id maps, catalogue and
 * training rows: src/data/bayes-checkpoint.ts) and its metrics files. Never prints.
 *
 * Policies:
 * - The default file is <data home>/models/<data set>-<kind>-gibbs.als, beside the ALS model of
 *   the same kind (which it does not overwrite); `--out` names another.
 * - `samples` counts the sweeps of this run; `resume` continues the chain in the file, so 100 then
 *   100 more gives exactly the chain, curve and stored samples of 200. The kind, dim, seed, split,
 *   burn-in and thin define the chain and are taken from the checkpoint; giving another is an error.
 * - A stop request (`signal`: Ctrl-C, SIGTERM) ends the run after the sample in progress and saves
 *   the chain there (stopReason 'interrupted'): resuming continues from it exactly.
 */
import { chooseKernel } from '../core/kernels.js';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { DEFAULT_MODEL_KIND } from '../core/defaults.js';
import type { ModelKind } from '../core/types.js';
import {
  posteriorMeanCheckpoint,
  readBayesCheckpoint,
  sampleHistoryAsEpochs,
  writeBayesCheckpoint,
  type BayesCheckpoint,
} from '../data/bayes-checkpoint.js';
import { acquireLock, checkWritableTarget, writeTextFileAtomic } from '../data/atomic.js';
import { makeSplit } from '../data/splits.js';
import type { Dataset, SplitReport } from '../data/types.js';
import { AlsError, UsageError } from '../errors.js';
import {
  DEFAULT_BAYESIAN_OPTIONS,
  trainBayesian,
  type BayesianOptions,
  type BayesianRun,
  type SampleMetrics,
} from './bayes.js';
import { defaultBayesCheckpointFile } from './data.js';
import { RUN_DEFAULTS } from './defaults.js';
import { reportPathFor, writeReport, type WriteReportResult } from './report.js';
import { normaliseSplitSpec } from './train.js';

export { defaultBayesCheckpointFile } from './data.js';

export interface BayesianTrainRequest {
  dataset: Dataset;
  kind?: ModelKind;
  /** K (default DEFAULT_BAYESIAN_OPTIONS.dim; ignored by the bias model). */
  dim?: number;
  /** Sweeps of this run (default DEFAULT_BAYESIAN_OPTIONS.samples). */
  samples?: number;
  burnIn?: number;
  thin?: number;
  seed?: number;
  split?: string;
  threads?: number;
  kernel?: 'ts' | 'wasm';
  out?: string;
  dataHome?: string;
  resume?: boolean;
  signal?: AbortSignal;
  report?: boolean;
}

export interface BayesianTrainStart {
  dataset: { name: string; numRatings: number; numUsers: number; numItems: number };
  split: SplitReport;
  options: BayesianOptions;
  out: string;
  /** Samples already in the chain (0, or the resumed checkpoint's). */
  firstSample: number;
}

export interface BayesianTrainEvents {
  onStart?: (start: BayesianTrainStart) => void;
  /** After every sample: its metrics, and how many of this run's `total` are done. */
  onSample?: (metrics: SampleMetrics, done: number, total: number) => void;
  onCheckpoint?: (written: {
    file: string;
    sample: number;
    reason: 'final' | 'interrupted';
  }) => void;
  onNote?: (message: string) => void;
}

export interface BayesianTrainResult {
  stopReason: 'completed' | 'interrupted';
  out: string;
  run: BayesianRun;
  /** The file's content (null when interrupted before the first sample: nothing saved). */
  checkpoint: BayesCheckpoint | null;
  samplesRun: number;
  kernel: string;
  threads: number;
  elapsedMs: number;
  report: WriteReportResult | null;
}

/** The per-sample history as CSV (empty validation cell during burn-in or without held-out ratings). */
export function sampleMetricsCsv(metrics: readonly SampleMetrics[]): string {
  const lines = ['sample,train_rmse,alpha,validation_rmse,elapsed_ms'];
  for (const m of metrics)
    lines.push(
      `${m.sample},${m.trainRmse},${m.alpha},${m.validationRmse ?? ''},${m.elapsedMs.toFixed(3)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** Writes the Bayesian checkpoint and its metrics files (<file>.metrics.csv, <file>.metrics.json, the latter readable by `als plot curves`). */
export function writeBayesRunFiles(file: string, checkpoint: BayesCheckpoint): void {
  writeBayesCheckpoint(file, checkpoint);
  const metrics = checkpoint.run.metrics;
  writeTextFileAtomic(`${file}.metrics.csv`, sampleMetricsCsv(metrics));
  const summary = {
    method: 'gibbs',
    dataset: checkpoint.dataset,
    hyper: { kind: checkpoint.kind, dim: checkpoint.dim },
    seed: checkpoint.seed,
    split: checkpoint.split,
    burnIn: checkpoint.burnIn,
    thin: checkpoint.thin,
    samplesDone: checkpoint.run.chain.samplesDone,
    storedSamples: checkpoint.run.storedSamples.length,
    // The sample history in the epoch shape the curve charts read (epoch = sample, no loss).
    epochs: sampleHistoryAsEpochs(metrics).map((m) => ({ ...m, loss: null })),
    samples: metrics,
  };
  writeTextFileAtomic(`${file}.metrics.json`, `${JSON.stringify(summary, null, 2)}\n`);
}

/** Refuses a resume that would change what defines the chain. */
function checkResumable(
  request: BayesianTrainRequest,
  resumed: BayesCheckpoint,
  out: string,
): void {
  const fixed: [string, unknown, unknown][] = [
    ['--kind', request.kind, resumed.kind],
    ['--dim', resumed.kind === 'bias' ? undefined : request.dim, resumed.dim],
    ['--seed', request.seed, resumed.seed],
    [
      '--split',
      request.split === undefined ? undefined : normaliseSplitSpec(request.split),
      resumed.split?.spec,
    ],
    ['--burn-in', request.burnIn, resumed.burnIn],
    ['--thin', request.thin, resumed.thin],
  ];
  for (const [flag, given, stored] of fixed) {
    if (given !== undefined && given !== stored)
      throw new UsageError(
        `${flag}: ${out} holds a chain with ${flag.slice(2)} ${String(stored)}; --resume continues it and cannot change it`,
      );
  }
}

/**
 * One Bayesian training run (see the module comment for the policies). As an ALS run, the
 * destination is checked (writable, not a folder) and locked against a second `als train` on the
 * same file before any sampling, so a bad --out fails at once and two runs never interleave.
 */
export async function trainBayesianModel(
  request: BayesianTrainRequest,
  events: BayesianTrainEvents = {},
): Promise<BayesianTrainResult> {
  const out = path.resolve(
    request.out ??
      defaultBayesCheckpointFile(
        { data: request.dataset.info.dir, dataHome: request.dataHome },
        request.kind ?? DEFAULT_MODEL_KIND,
      ),
  );
  checkWritableTarget(out, { createFolder: true });
  if (request.report) checkWritableTarget(reportPathFor(out));
  const lock = acquireLock(out, 'another als train');
  try {
    return await runLocked(request, events, out);
  } finally {
    lock.release();
  }
}

async function runLocked(
  request: BayesianTrainRequest,
  events: BayesianTrainEvents,
  out: string,
): Promise<BayesianTrainResult> {
  const startedMs = performance.now();
  const note = events.onNote ?? (() => {});
  const { dataset } = request;
  const resumed = request.resume
    ? readBayesCheckpoint(out, { expectFingerprint: dataset.info.fingerprint })
    : null;
  if (resumed) checkResumable(request, resumed, out);
  const kind = resumed?.kind ?? request.kind ?? DEFAULT_MODEL_KIND;
  const seed = resumed?.seed ?? request.seed ?? RUN_DEFAULTS.seed;
  const splitSpec = resumed?.split?.spec ?? normaliseSplitSpec(request.split ?? RUN_DEFAULTS.split);
  const threads = request.threads ?? availableParallelism();
  const options: BayesianOptions = {
    kind,
    dim: kind === 'bias' ? 0 : (resumed?.dim ?? request.dim ?? DEFAULT_BAYESIAN_OPTIONS.dim),
    samples: request.samples ?? DEFAULT_BAYESIAN_OPTIONS.samples,
    burnIn: resumed?.burnIn ?? request.burnIn ?? DEFAULT_BAYESIAN_OPTIONS.burnIn,
    thin: resumed?.thin ?? request.thin ?? DEFAULT_BAYESIAN_OPTIONS.thin,
    seed,
    threads,
    kernel: 'ts',
  };
  const split = makeSplit(dataset, splitSpec, seed);
  if (split.report.trainRatings === 0)
    throw new AlsError(
      `split ${splitSpec} leaves no training ratings (${split.report.testRatings} held out): nothing to train on`,
    );
  const kernel = await chooseKernel(request.kernel, note);
  options.kernel = kernel;
  const catalog = dataset.catalog;
  const scale = dataset.info.scale;

  events.onStart?.({
    dataset: {
      name: dataset.info.name,
      numRatings: dataset.matrix.numRatings,
      numUsers: dataset.matrix.numUsers,
      numItems: dataset.matrix.numItems,
    },
    split: split.report,
    options,
    out,
    firstSample: resumed?.run.chain.samplesDone ?? 0,
  });
  let samplesRun = 0;
  const run = await trainBayesian(
    {
      train: split.train,
      test: split.test,
      itemGenres: {
        offsets: catalog.genreOffsets,
        ids: catalog.genreIds,
        numGenres: catalog.genreNames.length,
      },
      scale: { min: scale.min, max: scale.max },
    },
    options,
    {
      onSample: (m, done, total) => {
        samplesRun = done;
        events.onSample?.(m, done, total);
      },
      shouldStop: () => request.signal?.aborted === true,
    },
    resumed?.run,
  );
  const interrupted = request.signal?.aborted === true;
  let checkpoint: BayesCheckpoint | null = null;
  if (samplesRun > 0) {
    const { numItems } = dataset.matrix;
    const itemOffsets = split.train.ratingsByItem.offsets;
    const itemTrainCounts = new Int32Array(numItems);
    for (let i = 0; i < numItems; i++) itemTrainCounts[i] = itemOffsets[i + 1]! - itemOffsets[i]!;
    const byUser = split.train.ratingsByUser;
    checkpoint = {
      kind,
      dim: options.dim,
      burnIn: options.burnIn,
      thin: options.thin,
      seed,
      dataset: {
        name: dataset.info.name,
        dir: dataset.info.dir,
        fingerprint: dataset.info.fingerprint,
        numUsers: dataset.matrix.numUsers,
        numItems,
        scale: dataset.info.scale,
      },
      split: split.report,
      scale: { min: scale.min, max: scale.max },
      numGenres: catalog.genreNames.length,
      kernel: kernel.name,
      threads,
      createdAt: new Date().toISOString(),
      run: run.resume,
      listing: {
        userIds: dataset.userIds,
        itemIds: dataset.itemIds,
        catalog,
        itemTrainCounts,
        trainItemsByUser: {
          offsets: byUser.offsets,
          items: byUser.indices.subarray(0, split.train.numRatings),
        },
      },
    };
    writeBayesRunFiles(out, checkpoint);
    events.onCheckpoint?.({
      file: out,
      sample: run.resume.chain.samplesDone,
      reason: interrupted ? 'interrupted' : 'final',
    });
  }
  const report =
    request.report && checkpoint !== null && !interrupted && checkpoint.run.storedSamples.length > 0
      ? await writeReport({
          checkpointFile: out,
          out: reportPathFor(out),
          checkpoint: posteriorMeanCheckpoint(out, checkpoint),
          dataset,
        })
      : null;
  return {
    stopReason: interrupted ? 'interrupted' : 'completed',
    out,
    run,
    checkpoint,
    samplesRun,
    kernel: kernel.name,
    threads,
    elapsedMs: performance.now() - startedMs,
    report,
  };
}
