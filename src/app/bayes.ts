/**
 * Bayesian training as plain data: runs the Gibbs sampler (../core/gibbs.ts) on a split, keeps the
 * running posterior predictive on the held-out ratings, stores thinned samples for later
 * prediction, and reports every sample through a callback. Never prints.
 *
 * Chain bookkeeping. Sample numbers are 1-based over the whole chain (a resumed run continues the
 * numbering). Samples 1…burnIn are discarded; every later one enters the prediction average, and
 * every `thin`-th of them (sample − burnIn ≡ 0 mod thin) is kept in float32 for the checkpoint.
 * Resuming from the returned `resume` with `samples` more sweeps gives exactly the chain, curve
 * and stored samples of one run with the sum of the sample counts (same seed, any thread count).
 */
import type { RatingList, RatingMatrix } from '../data/types.js';
import { UsageError } from '../errors.js';
import type { ItemGenres } from '../core/als.js';
import type { HyperpriorConstants } from '../core/gibbs-conditionals.js';
import { createGibbsSampler, type GibbsResumePoint, type SampleMetrics } from '../core/gibbs.js';
import {
  PredictiveAccumulator,
  storeSample,
  type CalibrationRow,
  type StoredSample,
} from '../core/gibbs-predict.js';
import type { KernelProvider } from '../core/kernel.js';
import { loadKernel, type KernelName } from '../core/kernels.js';
import type { ModelKind } from '../core/types.js';

/** Options of a Bayesian run (the CLI's --samples, --burn-in, --thin, --dim, --seed, --threads, --kernel). */
export interface BayesianOptions {
  kind: ModelKind;
  /** K (ignored for the bias model). */
  dim: number;
  /** Sweeps to run in this call (a resumed chain continues from where it stopped). */
  samples: number;
  /** Sweeps of the whole chain discarded before averaging; must be below the chain's total. */
  burnIn: number;
  /** Keep every thin-th post-burn-in sample for storage (prediction averages all of them). */
  thin: number;
  seed: number;
  threads: number;
  kernel: KernelName | KernelProvider;
  /** The Normal–Gamma / Gamma hyperprior constants (default DEFAULT_HYPERPRIOR in ../core/gibbs-conditionals.ts: a₀ = κ₀ = 1, b₀ = 0.1, m₀ = 0). */
  hyperprior?: HyperpriorConstants;
  /** The Gamma prior of the genre precisions alone (default: `hyperprior`). */
  genreHyperprior?: HyperpriorConstants;
}

/**
 * Defaults measured on ML-100K u1 (genre model, seed 1, `node dist/bench/gibbs.js`, with the
 * earlier hyperprior b0 = 1; with today's b0 = 0.1 the same settings give 0.8971): K = 32
 * (held-out 0.8994 at 300 samples; K = 16: 0.9002, K = 64: 0.9031, as libFM found 32 best);
 * 300 sweeps of which 60 burn-in (the training RMSE settles by about sample 60; the held-out
 * average still improves slowly after 300: 0.8996 at 500); thin 4 keeps 60 float32 samples,
 * whose prediction is 0.0015 from the full chain's (thin 2: 0.0007 with 120; thin 10: 0.0059
 * with 24: the count of stored samples, not their precision, sets the error).
 */
export const DEFAULT_BAYESIAN_OPTIONS: Readonly<
  Omit<BayesianOptions, 'kind' | 'seed' | 'threads' | 'kernel'>
> = Object.freeze({
  dim: 32,
  samples: 300,
  burnIn: 60,
  thin: 4,
});

/** One line of the sample history (defined in the core, where checkpoints read it too). */
export type { SampleMetrics } from '../core/gibbs.js';

/** What a resumed run needs beyond the options: the chain, the predictive sums, the stored samples and the history. */
export type BayesianResume = GibbsResumePoint;

export interface BayesianInput {
  train: RatingMatrix;
  /** Held-out ratings (may be empty). */
  test: RatingList;
  /** Movie genres; required by the genre model. */
  itemGenres: ItemGenres | null;
  /** The rating scale: each sample's prediction is clamped to it before averaging (null: no clamp). */
  scale: { min: number; max: number } | null;
}

export interface BayesianCallbacks {
  /** After every sample, with its metrics (and the sample count asked for in this call). */
  onSample?: (metrics: SampleMetrics, done: number, total: number) => void;
  /** Stop early (e.g. Ctrl-C): checked after every sample; the result is then a valid resume point. */
  shouldStop?: () => boolean;
}

export interface BayesianRun {
  options: BayesianOptions;
  /** Every sample of the chain so far (including resumed ones). */
  metrics: SampleMetrics[];
  /** Held-out RMSE of the point prediction over all post-burn-in samples (per-sample clamped to the scale when given; null if none or no held-out set). */
  rmse: number | null;
  /** The same for the plain average of the draws (no clamp, unrated rows drawn): for comparison. */
  unclampedRmse: number | null;
  /** Share of held-out ratings inside the central 50/80/95 % predictive intervals (null as above). */
  calibration: CalibrationRow[] | null;
  /** Thinned float32 samples: what prediction from a checkpoint uses. */
  storedSamples: StoredSample[];
  /** μ₀ of the model (the training mean). */
  globalMean: number;
  /** The rating scale predictions were clamped to (null: none). */
  scale: { min: number; max: number } | null;
  /** The state to resume from. */
  resume: BayesianResume;
  /** Wall time of the sweeps in this call. */
  elapsedMs: number;
}

/** One-line usage errors for impossible chain settings. */
export function validateBayesianOptions(options: BayesianOptions, samplesBefore = 0): void {
  const positive = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v <= 0)
      throw new UsageError(`${name} must be a positive integer, got ${v}`);
  };
  positive('--samples', options.samples);
  positive('--thin', options.thin);
  if (!Number.isInteger(options.burnIn) || options.burnIn < 0)
    throw new UsageError(`--burn-in must be a non-negative integer, got ${options.burnIn}`);
  const total = samplesBefore + options.samples;
  if (options.burnIn >= total) {
    throw new UsageError(
      samplesBefore > 0
        ? `--burn-in (${options.burnIn}) must be less than the chain's ${total} samples (${samplesBefore} done + --samples ${options.samples})`
        : `--burn-in (${options.burnIn}) must be less than --samples (${options.samples}): no sample would be averaged`,
    );
  }
  if (options.kind !== 'bias') positive('--dim', options.dim);
}

export async function trainBayesian(
  input: BayesianInput,
  options: BayesianOptions,
  callbacks: BayesianCallbacks = {},
  resume?: BayesianResume,
): Promise<BayesianRun> {
  const before = resume?.chain.samplesDone ?? 0;
  validateBayesianOptions(options, before);
  const kernel =
    typeof options.kernel === 'string' ? await loadKernel(options.kernel) : options.kernel;
  const sampler = await createGibbsSampler({
    train: input.train,
    itemGenres: input.itemGenres,
    kind: options.kind,
    dim: options.dim,
    seed: options.seed,
    threads: options.threads,
    kernel,
    ...(options.hyperprior ? { hyperprior: options.hyperprior } : {}),
    ...(options.genreHyperprior ? { genreHyperprior: options.genreHyperprior } : {}),
    ...(resume ? { initial: resume.chain } : {}),
  });
  const predictive = new PredictiveAccumulator(input.test, input.scale, resume?.predictive);
  const stored = resume ? [...resume.storedSamples] : [];
  const metrics = resume ? [...resume.metrics] : [];
  let elapsedMs = 0;
  try {
    for (let i = 0; i < options.samples; i++) {
      const sweep = await sampler.sweep();
      elapsedMs += sweep.elapsedMs;
      const s = sweep.sample;
      let validationRmse: number | null = null;
      if (s > options.burnIn) {
        const point = sampler.predictionModel();
        predictive.add(sampler.current, sweep.alpha, point);
        if ((s - options.burnIn) % options.thin === 0)
          stored.push(storeSample(point, sweep.alpha, s, sampler.userPrior, sampler.itemPrior));
        if (input.test.length > 0) validationRmse = predictive.rmse();
      }
      const m: SampleMetrics = {
        sample: s,
        trainRmse: sweep.trainRmse,
        alpha: sweep.alpha,
        validationRmse,
        elapsedMs: sweep.elapsedMs,
      };
      metrics.push(m);
      callbacks.onSample?.(m, i + 1, options.samples);
      if (callbacks.shouldStop) {
        // Let a pending signal handler run (a one-thread sweep may never yield to the event loop).
        await new Promise((resolve) => setImmediate(resolve));
        if (callbacks.shouldStop()) break;
      }
    }
    const chain = sampler.state();
    const averaged = predictive.count > 0 && input.test.length > 0;
    return {
      options,
      metrics,
      rmse: averaged ? predictive.rmse() : null,
      unclampedRmse: averaged ? predictive.rmse(false) : null,
      calibration: averaged ? predictive.calibration() : null,
      storedSamples: stored,
      globalMean: chain.model.globalMean,
      scale: input.scale,
      resume: {
        chain,
        predictive: predictive.sums(),
        storedSamples: stored,
        metrics,
      },
      elapsedMs,
    };
  } finally {
    await sampler.close();
  }
}
