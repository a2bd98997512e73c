/**
 * Model selection as the CLI asks for it: `als cv` (runCrossValidation) and `als tune` (runTune)
 * from plain options — hyperparameter overrides, fold and space specs as typed — over the runners
 * of ./cv.ts and ./tune.ts, recorded through a Recorder (./record.ts).
 *
 * Training goes through the TrainFold seam with the core trainer (`coreTrainFold`), not through
 * `trainModel`: a fold is a train/test pair of matrices built from fold numbers (not a split spec),
 * a promoted trial continues from a model kept in memory, and nothing is written to disk; the
 * application layer's run (split by spec, checkpoint files, resume from a file, report) would add
 * only work to throw away. `--refit` is a real training and uses `trainModel`.
 */
import { chooseKernel } from '../core/kernels.js';
import { availableParallelism } from 'node:os';
import { defaultHyperparameters, DEFAULT_MODEL_KIND } from '../core/defaults.js';
import type { Hyperparameters, ModelKind } from '../core/types.js';
import { makeFolds } from '../data/folds.js';
import type { Dataset } from '../data/types.js';
import { UsageError } from '../errors.js';
import { checkHalvingOptions } from './asha.js';
import { crossValidate, type CvProgress, type CvResult } from './cv.js';
import { RUN_DEFAULTS } from './defaults.js';
import { coreTrainFold, type RankingOptions } from './fold-training.js';
import type { Recorder } from './record.js';
import {
  trainModel,
  type HyperparameterOverrides,
  type TrainEvents,
  type TrainResult,
} from './train.js';
import {
  parseMetric,
  tune,
  tuneConfigurations,
  type TuneProgress,
  type TuneResult,
} from './tune.js';
import {
  applyConfiguration,
  buildSpace,
  parseDimension,
  readSpaceFile,
  type Configuration,
  type Dimension,
  type SearchSpace,
} from './tune-space.js';

/** The hyperparameters of a model: the kind's defaults with the given values set (as `als train` without --resume). */
export function resolveHyperparameters(given: HyperparameterOverrides = {}): Hyperparameters {
  const kind: ModelKind = given.kind ?? DEFAULT_MODEL_KIND;
  const base = defaultHyperparameters(kind);
  if (given.dim === 0 && kind !== 'bias') {
    throw new UsageError(
      `--dim: 0 is only for the bias model (--kind bias); the ${kind} model needs a positive dimension`,
    );
  }
  const hyper: Hyperparameters = {
    kind,
    dim: kind === 'bias' ? 0 : (given.dim ?? base.dim),
    lambda: given.lambda ?? base.lambda,
    tau: given.tau ?? base.tau,
    gamma: given.gamma ?? base.gamma,
    genreTau: given.genreTau ?? base.genreTau,
    weightedRegularization: given.weightedRegularization ?? base.weightedRegularization,
  };
  hyper.weightedBiasRegularization =
    given.weightedBiasRegularization ??
    base.weightedBiasRegularization ??
    hyper.weightedRegularization;
  hyper.weightExponent = given.weightExponent ?? base.weightExponent ?? 1;
  return hyper;
}

/** "dim=50 tau=0.1" → a configuration (each setting one value, names as in --space). */
export function parseConfiguration(text: string, where = '--config'): Configuration {
  const here = `${where} '${text}'`;
  const parts = text.split(/\s+/).filter((p) => p !== '');
  if (parts.length === 0) throw new UsageError(`${here}: no settings (give e.g. 'dim=50 tau=0.1')`);
  const config: Configuration = {};
  for (const part of parts) {
    const d = parseDimension(part, where);
    if (d.type !== 'list' || d.values.length !== 1)
      throw new UsageError(`${here}: ${d.name} must have one value here, not a list or range`);
    if (d.name in config) throw new UsageError(`${here}: ${d.name} is given twice`);
    config[d.name] = d.values[0]!;
  }
  return config;
}

/** A short label of a model: "genre dim 30", "bias". */
export function describeModel(h: Hyperparameters): string {
  return h.kind === 'bias' ? 'bias' : `${h.kind} dim ${h.dim}`;
}

const quote = (s: string): string =>
  /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The `als train` command that trains `hyper` as a tune or cv scored it: --kind, every
 * hyperparameter that differs from that kind's default, the epochs, split and seed.
 */
export function trainCommand(options: {
  data?: string;
  hyper: Hyperparameters;
  epochs: number;
  split: string;
  seed: number;
}): string {
  const h = options.hyper;
  const d = defaultHyperparameters(h.kind);
  const args = ['als', 'train'];
  if (options.data !== undefined) args.push('--data', quote(options.data));
  args.push('--kind', h.kind);
  if (h.kind !== 'bias' && h.dim !== d.dim) args.push('--dim', String(h.dim));
  if (h.lambda !== d.lambda) args.push('--lambda', String(h.lambda));
  if (h.kind !== 'bias' && h.tau !== d.tau) args.push('--tau', String(h.tau));
  if (h.gamma !== d.gamma) args.push('--gamma', String(h.gamma));
  if (h.kind === 'genre' && h.genreTau !== d.genreTau) args.push('--genre-tau', String(h.genreTau));
  if (h.weightedRegularization !== d.weightedRegularization)
    args.push(h.weightedRegularization ? '--weighted' : '--no-weighted');
  const wb = h.weightedBiasRegularization ?? h.weightedRegularization;
  const dwb = d.weightedBiasRegularization ?? d.weightedRegularization;
  if (wb !== dwb) args.push(wb ? '--weighted-bias' : '--no-weighted-bias');
  if ((h.weightExponent ?? 1) !== (d.weightExponent ?? 1))
    args.push('--weight-exponent', String(h.weightExponent ?? 1));
  args.push(
    '--epochs',
    String(options.epochs),
    '--split',
    quote(options.split),
    '--seed',
    String(options.seed),
  );
  return args.join(' ');
}

export interface CvRequest {
  dataset: Dataset;
  /** Fold spec: ml100k, random:K, user:K, temporal:K. */
  folds: string;
  /** Seed of the folds and of the initial factors (default RUN_DEFAULTS.seed). */
  seed?: number;
  /** The first configuration (the kind's defaults with these set). */
  hyper?: HyperparameterOverrides;
  /** More configurations, each as settings over the first: "dim=50 tau=0.1". */
  configs?: string[];
  epochs?: number;
  threads?: number;
  kernel?: 'ts' | 'wasm';
  ranking?: RankingOptions;
  recorder?: Recorder | null;
  onProgress?: (event: CvProgress) => void;
  onNote?: (message: string) => void;
}

export interface CvRunResult extends CvResult {
  kernel: string;
  threads: number;
}

/** `als cv`: the configurations cross-validated on the same folds (paired). */
export async function runCrossValidation(request: CvRequest): Promise<CvRunResult> {
  const first = resolveHyperparameters(request.hyper);
  const epochs = request.epochs ?? RUN_DEFAULTS.epochs;
  const configurations = [{ label: describeModel(first), hyper: first, epochs }];
  for (const text of request.configs ?? []) {
    const hyper = applyConfiguration(first, parseConfiguration(text));
    if (hyper.kind !== 'bias' && hyper.dim === 0)
      hyper.dim = defaultHyperparameters(hyper.kind).dim;
    configurations.push({ label: text.trim(), hyper, epochs });
  }
  const seed = request.seed ?? RUN_DEFAULTS.seed;
  const folds = makeFolds(request.dataset, request.folds, seed);
  const threads = request.threads ?? availableParallelism();
  const kernel = await chooseKernel(request.kernel, request.onNote ?? (() => {}));
  const result = await crossValidate({
    dataset: request.dataset,
    folds,
    configurations,
    seed,
    threads,
    trainFold: coreTrainFold(kernel),
    ranking: request.ranking,
    record: request.recorder?.context(kernel.name) ?? null,
    onProgress: request.onProgress,
  });
  return { ...result, kernel: kernel.name, threads };
}

export interface TuneRequest {
  dataset: Dataset;
  /** What `--data` said, for the printed `als train` command (absent: the default set). */
  dataArg?: string;
  /** Outer split, never used to choose ("none": tune on every rating). */
  split?: string;
  /** Inner folds over the outer training part (default random:5). */
  folds?: string;
  seed?: number;
  /** `--space` values, e.g. "dim=10,30,50". */
  space?: string[];
  spaceFile?: string;
  strategy?: 'grid' | 'random';
  trials?: number;
  gridPoints?: number;
  /** Epoch milestones of the successive halving (one: no halving). */
  halving?: number[];
  reduction?: number;
  metric?: string;
  /** Hyperparameters of every trial before the configuration's values are set. */
  hyper?: HyperparameterOverrides;
  threads?: number;
  kernel?: 'ts' | 'wasm';
  recorder?: Recorder | null;
  /** Then train the best configuration (trainModel) into `out` (default the data home's file for its kind). */
  refit?: { dataHome?: string; out?: string; events?: TrainEvents } | null;
  onProgress?: (event: TuneProgress) => void;
  onNote?: (message: string) => void;
}

export interface TuneRunResult extends TuneResult {
  kernel: string;
  threads: number;
  /** The `als train` command that trains the best configuration. */
  trainCommand: string;
  refit: TrainResult | null;
}

/** The search space of `--space` values and a space file, checked against the base model. */
export function searchSpaceOf(
  space: string[],
  spaceFile: string | undefined,
  base: Hyperparameters,
): SearchSpace {
  const dimensions: Dimension[] = space.map((s) => parseDimension(s));
  if (spaceFile !== undefined) dimensions.push(...readSpaceFile(spaceFile));
  const where = space.length > 0 ? '--space' : spaceFile !== undefined ? '--space-file' : '--space';
  const result = buildSpace(dimensions, where);
  if (!dimensions.some((d) => d.name === 'model')) {
    const useless =
      base.kind === 'bias'
        ? dimensions.find((d) => d.name === 'dim' || d.name === 'tau' || d.name === 'genre-tau')
        : base.kind === 'latent'
          ? dimensions.find((d) => d.name === 'genre-tau')
          : undefined;
    if (useless)
      throw new UsageError(
        `${where}: ${useless.name} has no effect on the ${base.kind} model (--kind ${base.kind})`,
      );
  }
  return result;
}

/** `als tune`: the search, then optionally the refit of the best configuration. */
export async function runTune(request: TuneRequest): Promise<TuneRunResult> {
  const metric = request.metric ?? 'rmse';
  parseMetric(metric);
  const base = resolveHyperparameters(request.hyper);
  const space = searchSpaceOf(request.space ?? [], request.spaceFile, base);
  const strategy =
    (request.strategy ?? 'random') === 'grid'
      ? { type: 'grid' as const, gridPoints: request.gridPoints ?? 5 }
      : { type: 'random' as const, trials: request.trials ?? 20 };
  const milestones = request.halving ?? [5, 15, 40];
  const halving = { milestones, reduction: request.reduction ?? 3, mode: 'sync' as const };
  checkHalvingOptions({ ...halving, direction: 'min' });
  const seed = request.seed ?? RUN_DEFAULTS.seed;
  const splitSpec = request.split ?? RUN_DEFAULTS.split;
  const outer = splitSpec === 'none' ? null : { spec: splitSpec, seed };
  const configurations = tuneConfigurations(space, strategy, seed);
  if (configurations.length < 2)
    throw new UsageError(
      '--space: the space has a single configuration, so there is nothing to choose between',
    );
  const threads = request.threads ?? availableParallelism();
  const kernel = await chooseKernel(request.kernel, request.onNote ?? (() => {}));
  const result = await tune({
    dataset: request.dataset,
    outer,
    innerFolds: request.folds ?? 'random:5',
    seed,
    space,
    strategy,
    base,
    halving,
    metric,
    threads,
    trainFold: coreTrainFold(kernel),
    record: request.recorder?.context(kernel.name) ?? null,
    onProgress: request.onProgress,
  });
  const command = trainCommand({
    data: request.dataArg,
    hyper: result.best.hyper,
    epochs: result.best.epochs,
    split: splitSpec,
    seed,
  });
  let refit: TrainResult | null = null;
  if (request.refit) {
    const events = request.refit.events ?? {};
    const recorded = request.recorder?.training(request.dataset, events);
    const run = trainModel(
      {
        dataset: request.dataset,
        hyper: result.best.hyper,
        epochs: result.best.epochs,
        seed,
        split: splitSpec,
        threads,
        kernel: kernel.name === 'wasm' ? 'wasm' : 'ts',
        dataHome: request.refit.dataHome,
        out: request.refit.out,
      },
      recorded ?? events,
    );
    refit = recorded ? await recorded.track(run) : await run;
  }
  return { ...result, kernel: kernel.name, threads, trainCommand: command, refit };
}
