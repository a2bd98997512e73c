/**
 * `als train`: load a data set, split it, run ALS epochs with live progress, and write a checkpoint
 * plus its metrics history (<out>.metrics.csv / .metrics.json).
 *
 * Decisions (documented in the README section too):
 * - `--out` defaults to <data home>/models/<data set>-<model>.als (the data home is git-ignored
 *   and is where the data lives; the folder is created if needed).
 * - `--epochs` counts the epochs of this run: `--epochs 10` then `--resume --epochs 10` gives the
 *   model of 20 uninterrupted epochs.
 * - `--resume` reads the checkpoint at `--out`; it must be of the same data set (fingerprint).
 *   Everything not given explicitly (model, dim, λ, τ, γ, τ_g, ALS-WR, seed, split) is taken from
 *   the checkpoint. λ, τ, γ, τ_g and ALS-WR may be overridden (the run says so); the model kind,
 *   dim, seed and split may not (they define the parameters' shape and the held-out set).
 * - Early stopping (`--early-stop P`) stops after P epochs without a better validation RMSE and
 *   stores the best epoch's model (its epoch number is recorded; the history keeps every epoch).
 * - A snapshot of the last finished epoch is kept in memory, so Ctrl-C saves it at once and a
 *   diverging epoch never reaches the disk.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_HYPERPARAMETERS, DEFAULT_MODEL_KIND, defaultHyperparameters } from '../core/defaults.js';
import { loadKernel } from '../core/kernels.js';
import { biasRidgeWeighted, type KernelProvider } from '../core/kernel.js';
import { createTrainer, DivergenceError, type Trainer } from '../core/trainer.js';
import type { EpochMetrics, Hyperparameters, ModelKind, ModelState } from '../core/types.js';
import { readCheckpoint, writeCheckpoint, writeTextFileAtomic, type Checkpoint } from '../data/checkpoint.js';
import { dataHome } from '../data/home.js';
import { makeSplit } from '../data/splits.js';
import type { Dataset, Split } from '../data/types.js';
import { AlsError, UsageError } from '../errors.js';
import { sparkline } from '../report/sparkline.js';
import { addDataOptions, dataOptionsSchema, openDataset, parseOptions } from './common.js';
import { reportPathFor, writeReport } from './report.js';

/** Epochs of a run when --epochs is not given (the write-up's 100). */
export const DEFAULT_EPOCHS = 100;
export const DEFAULT_SPLIT = 'random:0.1';
export const DEFAULT_SEED = 1;

const positiveInt = (what: string) =>
  z.preprocess(
    (v) => (v === undefined ? undefined : Number(v)),
    z
      .number({ error: `${what} must be a number` })
      .int({ error: `${what} must be an integer` })
      .positive({ error: `${what} must be positive` }),
  );
const nonNegativeInt = (what: string) =>
  z.preprocess(
    (v) => (v === undefined ? undefined : Number(v)),
    z
      .number({ error: `${what} must be a number` })
      .int({ error: `${what} must be an integer` })
      .nonnegative({ error: `${what} must not be negative` }),
  );
const positiveNumber = (what: string) =>
  z.preprocess(
    (v) => (v === undefined ? undefined : Number(v)),
    z
      .number({ error: `${what} must be a number` })
      .refine(Number.isFinite, { error: `${what} must be a finite number` })
      .refine((x) => x > 0, { error: `${what} must be positive` }),
  );

export const trainSchema = dataOptionsSchema.extend({
  model: z.enum(['bias', 'latent', 'genre'], { error: 'must be one of bias, latent, genre' }).optional(),
  dim: positiveInt('the dimension').optional(),
  epochs: positiveInt('the number of epochs').optional(),
  lambda: positiveNumber('λ').optional(),
  tau: positiveNumber('τ').optional(),
  gamma: positiveNumber('γ').optional(),
  genreTau: positiveNumber('τ_g').optional(),
  weighted: z.boolean().optional(),
  weightedBias: z.boolean().optional(),
  seed: nonNegativeInt('the seed').optional(),
  split: z.string().min(1, { error: 'must not be empty' }).optional(),
  threads: positiveInt('the thread count').optional(),
  kernel: z.enum(['ts', 'wasm'], { error: 'must be ts or wasm' }).optional(),
  out: z.string().min(1, { error: 'must not be empty' }).optional(),
  checkpointEvery: nonNegativeInt('the interval').optional(),
  resume: z.boolean().optional(),
  earlyStop: positiveInt('the patience').optional(),
  quiet: z.boolean().optional(),
  report: z.boolean().optional(),
});
type TrainOptions = z.infer<typeof trainSchema>;

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description('train a bias, latent or genre ALS model and write a checkpoint')
    .option('--model <kind>', `bias | latent | genre (default: ${DEFAULT_MODEL_KIND})`)
    .option('--dim <n>', `latent dimension K (default: ${DEFAULT_HYPERPARAMETERS.dim}; 0 for the bias model)`)
    .option('--epochs <n>', `epochs to run now (default: ${DEFAULT_EPOCHS}; with --resume, added to those done)`)
    .option('--lambda <x>', `λ, weight of the squared errors (default: ${DEFAULT_HYPERPARAMETERS.lambda})`)
    .option('--tau <x>', `τ, ridge on the factors (default: ${DEFAULT_HYPERPARAMETERS.tau})`)
    .option('--gamma <x>', `γ, ridge on the biases (default: ${DEFAULT_HYPERPARAMETERS.gamma}; bias model ${defaultHyperparameters('bias').gamma})`)
    .option('--genre-tau <x>', `τ_g, ridge on the genre embeddings (default: ${DEFAULT_HYPERPARAMETERS.genreTau})`)
    .option('--weighted', `ALS-WR: scale τ by each row's rating count (γ too with --weighted-bias) (default for latent and genre: ${DEFAULT_HYPERPARAMETERS.weightedRegularization ? 'on' : 'off'}; bias: ${defaultHyperparameters('bias').weightedRegularization ? 'on' : 'off'})`)
    .option('--no-weighted', 'plain ridge, the same τ for every row')
    .option('--weighted-bias', `scale the bias ridge γ by each row's rating count too, like τ under ALS-WR (the earlier default; now: ${biasRidgeWeighted(DEFAULT_HYPERPARAMETERS) ? 'on' : 'off'})`)
    .option('--no-weighted-bias', 'the same bias ridge γ for every row: a bias from few ratings is shrunk hard (n/(n + γ/λ))')
    .option('--seed <n>', `seed of the split and the initial factors (default: ${DEFAULT_SEED})`)
    .option('--split <spec>', `held-out part: random:F, user:F, temporal:F, cold-items:F, ml100k:u1, file:<path>, none (default: ${DEFAULT_SPLIT})`)
    .option('--threads <n>', 'worker threads (default: all cores)')
    .option('--kernel <name>', 'ts | wasm (default: wasm if it loads, else ts)')
    .option('--out <checkpoint>', 'checkpoint to write (default: <data home>/models/<data set>-<model>.als)')
    .option('--checkpoint-every <n>', 'also write the checkpoint every n epochs (default: 0, only at the end)')
    .option('--resume', 'continue training the checkpoint at --out')
    .option('--early-stop <patience>', 'stop after this many epochs without a better validation RMSE; keep the best model')
    .option('--quiet', 'print only the summary')
    .option('--report', 'also write an HTML report next to the checkpoint (<checkpoint>.report.html)');
  addDataOptions(command);
  command.action(async (_options: unknown, cmd: Command) => {
    const raw = cmd.opts();
    // --weighted/--no-weighted share one key (so do --weighted-bias/--no-weighted-bias);
    // commander reports its default as 'default'.
    const explicit = new Set(
      Object.keys(raw).filter((key) => cmd.getOptionValueSource(key) === 'cli' || cmd.getOptionValueSource(key) === 'env'),
    );
    const options = parseOptions(trainSchema, {
      ...raw,
      weighted: explicit.has('weighted') ? raw.weighted : undefined,
      weightedBias: explicit.has('weightedBias') ? raw.weightedBias : undefined,
    });
    process.exitCode = await runTrain(options);
  });
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

/** `file:` split paths are made absolute so that `als eval` can re-create the split from anywhere. */
function normaliseSplitSpec(spec: string): string {
  return spec.startsWith('file:') ? `file:${path.resolve(spec.slice(5))}` : spec;
}

function describeHyper(h: Hyperparameters): string {
  const shape = h.kind === 'bias' ? 'bias' : `${h.kind}, dim ${h.dim}`;
  const genre = h.kind === 'genre' ? `, τ_g ${h.genreTau}` : '';
  return `${shape}, λ ${h.lambda}, τ ${h.tau}, γ ${h.gamma}${genre}, ALS-WR ${h.weightedRegularization ? 'on' : 'off'}, γ ${biasRidgeWeighted(h) ? 'count-scaled' : 'constant'}`;
}

/** Resolves hyperparameters and run settings: defaults, the checkpoint being resumed, explicit options. */
function resolveSettings(options: TrainOptions, dataset: Dataset, resumed: Checkpoint | null): RunSettings {
  // Defaults depend on the model kind (the bias model uses a plain ridge γ = 3, see core/defaults).
  const kind: ModelKind = options.model ?? resumed?.state.hyper.kind ?? DEFAULT_MODEL_KIND;
  const base: Hyperparameters = resumed ? { ...resumed.state.hyper } : defaultHyperparameters(kind);
  if (resumed) {
    if (options.model !== undefined && options.model !== resumed.state.hyper.kind) {
      throw new UsageError(`--model: the checkpoint holds a ${resumed.state.hyper.kind} model; --resume cannot change it`);
    }
    if (options.dim !== undefined && kind !== 'bias' && options.dim !== resumed.state.hyper.dim) {
      throw new UsageError(`--dim: the checkpoint has dim ${resumed.state.hyper.dim}; --resume cannot change it`);
    }
    if (options.seed !== undefined && options.seed !== resumed.seed) {
      throw new UsageError(`--seed: the checkpoint was trained with seed ${resumed.seed}; --resume keeps it (it fixes the split)`);
    }
    if (options.split !== undefined && normaliseSplitSpec(options.split) !== resumed.split.spec) {
      throw new UsageError(`--split: the checkpoint was trained on split ${resumed.split.spec}; --resume keeps it`);
    }
  }
  const dim = kind === 'bias' ? 0 : (options.dim ?? (base.dim > 0 ? base.dim : DEFAULT_HYPERPARAMETERS.dim));
  const hyper: Hyperparameters = {
    kind,
    dim,
    lambda: options.lambda ?? base.lambda,
    tau: options.tau ?? base.tau,
    gamma: options.gamma ?? base.gamma,
    genreTau: options.genreTau ?? base.genreTau,
    weightedRegularization: options.weighted ?? base.weightedRegularization,
  };
  // Recorded explicitly in the checkpoint. Unset in the base (an old checkpoint), γ followed τ's
  // weighting, and still does: `--no-weighted` on such a resume makes both plain.
  hyper.weightedBiasRegularization = options.weightedBias ?? base.weightedBiasRegularization ?? hyper.weightedRegularization;
  const out = path.resolve(
    options.out ?? path.join(dataHome(options.dataHome), 'models', `${dataset.info.name}-${kind}.als`),
  );
  return {
    hyper,
    seed: options.seed ?? resumed?.seed ?? DEFAULT_SEED,
    splitSpec: resumed ? resumed.split.spec : normaliseSplitSpec(options.split ?? DEFAULT_SPLIT),
    epochs: options.epochs ?? DEFAULT_EPOCHS,
    threads: options.threads ?? availableParallelism(),
    out,
  };
}

/** Picks the kernel: the one asked for, or wasm when it loads and ts otherwise. */
async function chooseKernel(name: 'ts' | 'wasm' | undefined, note: (line: string) => void): Promise<KernelProvider> {
  if (name !== undefined) {
    try {
      return await loadKernel(name);
    } catch (error) {
      throw new AlsError(`--kernel ${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return await loadKernel('wasm');
  } catch (error) {
    note(`wasm kernel unavailable (${(error as Error).message.split('\n')[0]}); using the TypeScript kernel`);
    return loadKernel('ts');
  }
}

/** The checkpoint of a model trained on `split` of `dataset`. */
function buildCheckpoint(
  dataset: Dataset,
  split: Split,
  state: ModelState,
  settings: RunSettings,
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
    trainItemsByUser: { offsets: byUser.offsets, items: byUser.indices.subarray(0, split.train.numRatings) },
  };
}

/** The metrics history as CSV (one row per epoch; empty validation cell when there is none). */
export function metricsCsv(metrics: EpochMetrics[]): string {
  const lines = ['epoch,loss,train_rmse,validation_rmse,elapsed_ms'];
  for (const m of metrics) {
    lines.push(`${m.epoch},${m.loss},${m.trainRmse},${m.validationRmse ?? ''},${m.elapsedMs.toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

function writeRunFiles(file: string, checkpoint: Checkpoint): void {
  writeCheckpoint(file, checkpoint);
  writeTextFileAtomic(`${file}.metrics.csv`, metricsCsv(checkpoint.metrics));
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
  writeTextFileAtomic(`${file}.metrics.json`, `${JSON.stringify(summary, null, 2)}\n`);
}

const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));

/** Runs `als train` and returns the exit code. */
export async function runTrain(options: TrainOptions): Promise<number> {
  const quiet = options.quiet === true;
  const note = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const startedMs = performance.now();
  const dataset = await openDataset(options, (w) => process.stderr.write(`als: warning: ${w}\n`));

  let resumed: Checkpoint | null = null;
  if (options.resume) {
    const file = path.resolve(
      options.out ?? path.join(dataHome(options.dataHome), 'models', `${dataset.info.name}-${options.model ?? DEFAULT_MODEL_KIND}.als`),
    );
    resumed = readCheckpoint(file, { expectFingerprint: dataset.info.fingerprint });
  }
  const settings = resolveSettings(options, dataset, resumed);
  const { hyper, out } = settings;
  if (resumed) {
    const before: Hyperparameters = { ...resumed.state.hyper, weightedBiasRegularization: biasRidgeWeighted(resumed.state.hyper) };
    const changed = (['lambda', 'tau', 'gamma', 'genreTau', 'weightedRegularization', 'weightedBiasRegularization'] as const).filter(
      (key) => hyper[key] !== before[key],
    );
    note(
      `resuming ${out} after epoch ${resumed.epochsDone}` +
        (changed.length > 0 ? ` with changed ${changed.map((k) => `${k} ${before[k]} → ${hyper[k]}`).join(', ')}` : ''),
    );
  }

  const split = makeSplit(dataset, settings.splitSpec, settings.seed);
  const report = split.report;
  if (report.trainRatings === 0) {
    throw new AlsError(`split ${settings.splitSpec} leaves no training ratings (${report.testRatings} held out): nothing to train on`);
  }
  const kernel = await chooseKernel(options.kernel, note);
  mkdirSync(path.dirname(out), { recursive: true });

  note(`data     ${dataset.info.name}: ${dataset.matrix.numRatings} ratings, ${dataset.matrix.numUsers} users, ${dataset.matrix.numItems} movies`);
  note(`split    ${settings.splitSpec} (seed ${settings.seed}): ${report.trainRatings} train, ${report.testRatings} held out`);
  if (report.usersWithoutTrainingRatings > 0) {
    note(
      `         ${report.usersWithoutTrainingRatings} user${report.usersWithoutTrainingRatings === 1 ? ' has' : 's have'} no training rating: zero factors and bias (predicted from μ + movie bias)`,
    );
  }
  if (report.testRatingsWithUnseenItem > 0) {
    note(`         ${report.testRatingsWithUnseenItem} held-out ratings are of movies without a training rating`);
  }
  note(`model    ${describeHyper(hyper)}`);
  note(`kernel   ${kernel.name}, ${settings.threads} thread${settings.threads === 1 ? '' : 's'}`);

  const validation = report.testRatings > 0 ? split.test : null;
  const catalog = dataset.catalog;
  let trainer: Trainer;
  try {
    trainer = await createTrainer({
      train: split.train,
      validation,
      itemGenres: { offsets: catalog.genreOffsets, ids: catalog.genreIds, numGenres: catalog.genreNames.length },
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
  const history: EpochMetrics[] = resumed ? resumed.metrics.filter((m) => m.epoch <= resumed.epochsDone) : [];
  let lastGood: { state: ModelState; epoch: number } | null = resumed ? { state: resumed.state, epoch: resumed.epochsDone } : null;
  let best: { state: ModelState; epoch: number; rmse: number } | null = null;
  if (resumed && options.earlyStop !== undefined) {
    const last = history[history.length - 1];
    if (last?.validationRmse != null) best = { state: resumed.state, epoch: resumed.epochsDone, rmse: last.validationRmse };
  }
  const useEarlyStop = options.earlyStop !== undefined && validation !== null;
  if (options.earlyStop !== undefined && validation === null) note('--early-stop ignored: the split holds nothing out');

  const checkpointOf = (which: 'last' | 'best'): Checkpoint | null => {
    const chosen = which === 'best' && best !== null ? best : lastGood;
    if (chosen === null) return null;
    return buildCheckpoint(dataset, split, chosen.state, settings, {
      epochsDone: chosen.epoch,
      metrics: history,
      bestEpoch: which === 'best' && best !== null ? best.epoch : null,
      kernel: kernel.name,
    });
  };

  const tty = process.stdout.isTTY === true && !quiet;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: 'epoch {value}/{total} [{bar}] loss {loss} | train {train} | valid {valid} | {spe} s/epoch',
          hideCursor: true,
          stream: process.stdout,
          barsize: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const firstEpoch = trainer.epochsDone;
  bar?.start(firstEpoch + settings.epochs, firstEpoch, { loss: '-', train: '-', valid: '-', spe: '-' });

  // First Ctrl-C: finish the epoch in progress, save, exit 130. Second Ctrl-C: save the last
  // finished epoch at once (the epoch in progress is lost) and exit 130.
  let interrupted = false;
  const onSigint = (): void => {
    if (!interrupted) {
      interrupted = true;
      if (!quiet) process.stderr.write('\ninterrupt: finishing the current epoch (Ctrl-C again to stop now)\n');
      return;
    }
    bar?.stop();
    const now = checkpointOf(useEarlyStop ? 'best' : 'last');
    if (now !== null) {
      writeRunFiles(out, now);
      process.stderr.write(`als: interrupted: saved the checkpoint of epoch ${now.epochsDone} to ${out}\n`);
    } else {
      process.stderr.write('als: interrupted before the first epoch finished: nothing saved\n');
    }
    process.exit(130);
  };
  process.on('SIGINT', onSigint);
  let stopReason = 'all epochs done';
  let epochsRun = 0;
  try {
    for (let e = 0; e < settings.epochs; e++) {
      // Let a pending Ctrl-C be seen between epochs (a single-thread epoch never yields to the event loop).
      await new Promise((resolve) => setImmediate(resolve));
      if (interrupted) break;
      let metrics: EpochMetrics;
      try {
        metrics = await trainer.epoch();
      } catch (error) {
        if (!(error instanceof DivergenceError)) throw error;
        bar?.stop();
        // The diverged model is never written: save the last good epoch of this run, or leave the
        // resumed checkpoint as it was.
        let kept = '; nothing was saved';
        if (epochsRun > 0) {
          const keep = checkpointOf(useEarlyStop ? 'best' : 'last')!;
          writeRunFiles(out, keep);
          kept = `; saved the last good model (epoch ${keep.epochsDone}) to ${out}`;
        } else if (resumed) {
          kept = `; ${out} (epoch ${resumed.epochsDone}) is unchanged`;
        }
        throw new AlsError(`${error.message}${kept}`);
      }
      epochsRun++;
      history.push(metrics);
      lastGood = { state: trainer.state(), epoch: metrics.epoch };
      if (useEarlyStop && metrics.validationRmse !== null && (best === null || metrics.validationRmse < best.rmse)) {
        best = { state: lastGood.state, epoch: metrics.epoch, rmse: metrics.validationRmse };
      }
      const secondsPerEpoch = metrics.elapsedMs / 1000;
      if (bar) {
        bar.update(metrics.epoch, {
          loss: metrics.loss.toPrecision(6),
          train: fmt(metrics.trainRmse),
          valid: fmt(metrics.validationRmse),
          spe: secondsPerEpoch.toFixed(2),
        });
      } else if (!quiet) {
        process.stdout.write(
          `epoch ${metrics.epoch}  loss ${metrics.loss.toPrecision(6)}  train RMSE ${fmt(metrics.trainRmse)}  validation RMSE ${fmt(metrics.validationRmse)}  ${secondsPerEpoch.toFixed(3)} s\n`,
        );
      }
      if (options.checkpointEvery && epochsRun % options.checkpointEvery === 0 && e + 1 < settings.epochs) {
        writeRunFiles(out, checkpointOf(useEarlyStop ? 'best' : 'last')!);
      }
      if (useEarlyStop && best !== null && metrics.epoch - best.epoch >= options.earlyStop!) {
        stopReason = `early stop: no better validation RMSE for ${options.earlyStop} epochs`;
        break;
      }
    }
    if (!interrupted) {
      // A Ctrl-C during the last epoch is honoured too.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    process.off('SIGINT', onSigint);
    bar?.stop();
    await trainer.close();
  }

  const final = checkpointOf(useEarlyStop ? 'best' : 'last');
  if (interrupted) {
    if (final === null) throw new AlsError('interrupted before the first epoch finished: nothing saved', 130);
    writeRunFiles(out, final);
    process.stderr.write(`als: interrupted: saved the checkpoint of epoch ${final.epochsDone} to ${out}\n`);
    return 130;
  }
  if (final === null) throw new AlsError('no epoch was run (--epochs must be at least 1)');
  writeRunFiles(out, final);

  const totalSeconds = (performance.now() - startedMs) / 1000;
  const trainSeconds = history.slice(history.length - epochsRun).reduce((s, m) => s + m.elapsedMs, 0) / 1000;
  let bestRow: EpochMetrics | null = null;
  for (const m of history) if (m.validationRmse !== null && (bestRow === null || m.validationRmse < bestRow.validationRmse!)) bestRow = m;
  const lastRow = history[history.length - 1]!;
  const lines = [
    `done     ${stopReason}: ${epochsRun} epoch${epochsRun === 1 ? '' : 's'} this run, ${lastRow.epoch} in all (${kernel.name} kernel, ${settings.threads} thread${settings.threads === 1 ? '' : 's'})`,
    `train    RMSE ${fmt(lastRow.trainRmse)} at epoch ${lastRow.epoch}`,
    bestRow
      ? `valid    best RMSE ${fmt(bestRow.validationRmse)} at epoch ${bestRow.epoch}; last ${fmt(lastRow.validationRmse)}`
      : 'valid    no held-out ratings',
    ...(bestRow ? [`curve    ${sparkline(history.map((m) => m.validationRmse ?? Number.NaN))}  validation RMSE, epochs 1–${lastRow.epoch}`] : []),
    `time     ${totalSeconds.toFixed(1)} s total, ${epochsRun > 0 ? (trainSeconds / epochsRun).toFixed(3) : '-'} s/epoch`,
    `saved    ${out}${final.bestEpoch !== null ? ` (model of epoch ${final.bestEpoch})` : ''}`,
    `         ${out}.metrics.csv, ${out}.metrics.json`,
  ];
  if (options.report) {
    const report = await writeReport({ checkpointFile: out, out: reportPathFor(out), checkpoint: final, dataset });
    lines.push(`report   ${report.out} (${(report.elapsedMs / 1000).toFixed(1)} s)`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
