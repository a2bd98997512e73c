/**
 * Bayesian matrix factorisation by Gibbs sampling: BPMF (Salakhutdinov & Mnih, ICML 2008) with
 * libFM's per-coordinate Normal–Gamma hyperpriors (Rendle, "Factorization Machines with libFM",
 * 2012), biases drawn jointly with the factors, and the genre prior of the genre model.
 *
 * Model (μ₀ = the training mean, fixed; the bias means absorb any offset):
 *
 *   r_mn | ·        ~ N(μ₀ + b_m + c_n + u_m·v_n, α⁻¹)
 *   [u_m; b_m]      ~ N(μ_U, diag(π_U)⁻¹)                       K + 1 coordinates
 *   [v_n; c_n]      ~ N([μ_V + p_n; μ_c], diag(π_V)⁻¹),   p_n = (1/√|G_n|) Σ_(g∈G_n) f_g
 *                     (genre model; p_n = 0 for the latent model; K = 0 for the bias model)
 *   f_gk            ~ N(0, π_F,k⁻¹)
 *   (μ_k, π_k)      ~ Normal–Gamma: π_k ~ Gamma(a₀, b₀), μ_k | π_k ~ N(m₀, (κ₀ π_k)⁻¹), per side
 *   π_F,k, α        ~ Gamma(a₀, b₀)                               a₀ = κ₀ = 1, b₀ = 0.1, m₀ = 0 (libFM: b₀ = 1; DEFAULT_HYPERPRIOR says why)
 *
 * One sweep (= one sample s) draws, in order, each block from its conditional given the rest:
 *   1. (μ_U, π_U) | U          Normal–Gamma posterior per coordinate (./gibbs-conditionals.ts)
 *   2. every user row [u_m; b_m] | V, c, α, μ_U, π_U   Gaussian: precision α Σ ṽṽᵀ + diag(π_U),
 *      drawn by the half-epoch kernel (SamplingArgs in ./kernel.ts): the ALS Gram, the prior on
 *      the diagonal, and the triangular solve with a standard normal vector
 *   3. (μ_V, π_V) | V − P, c
 *   4. every movie row | U, b, α, μ_V, π_V, p_n      the same kernel on the other side
 *   5. genre model: π_F | F, then every column F_{·k} | V, μ_V, π_V, π_F, then P = W F
 *   6. α | everything       Gamma(a₀ + |R|/2, b₀ + ½ Σ (r − r̂)²)
 *
 * Why per-coordinate Normal–Gamma and not BPMF's Normal–Wishart: with a diagonal prior precision
 * the row system is exactly the ALS system with a per-coordinate ridge, so the kernels (TS and
 * wasm SIMD) are reused as they are; a Wishart prior makes the prior precision a full K×K matrix
 * that every row has to add (and the genre columns no longer decouple per dimension). libFM's
 * published MCMC figures, the targets here, are with the per-coordinate prior; the Wishart's
 * extra freedom is a rotation-invariant coupling that matters little once the data dominate.
 *
 * Random numbers are counter-based: the K + 1 normals of row r of side `s` in sample t come from
 * the stream keyed on (seed, t, side, r) (./random.ts streamGaussians), and the hyperparameter
 * and α draws of sample t from a generator seeded by the key (seed, t, HYPER, 0). So the chain is
 * the same for any thread count and chunking, and resuming after t samples from the stored state
 * continues it exactly.
 *
 * Initial state: the ALS initialisation (biases 0, factors N(0, 0.1²) from the seed), prior means
 * 0 and precisions 1, α = 1; the first sweep's hyperparameter draw replaces them. (Drawing the
 * rows before the hyperparameters, so that the first sweep sees the weak initial prior, fits the
 * training set sooner but measured no better held out: ML-100K u1 genre, 300 samples, burn-in
 * 60: 0.8993 against 0.8989.)
 */
import type { RatingMatrix } from '../data/types.js';
import { AlsError } from '../errors.js';
import {
  computeGenrePriors,
  initModel,
  meanRating,
  squaredErrorSum,
  type ItemGenres,
} from './als.js';
import type { SharedArena } from './arena.js';
import {
  DEFAULT_HYPERPRIOR,
  genreGram,
  sampleGenreFactors,
  sampleGenrePrecision,
  sampleNoisePrecision,
  sampleSideHyperparameters,
  type HyperpriorConstants,
} from './gibbs-conditionals.js';
import {
  allocPackedRows,
  type HalfEpochArgs,
  type KernelProvider,
  packedRowWidth,
  type SamplingArgs,
  type SolveRows,
} from './kernel.js';
import { Random, streamGaussians, streamKey } from './random.js';
import { describeSide, type SideDescriptors, type WorkerScalars } from './trainer-protocol.js';
import { splitRowsByCost } from './trainer.js';
import type { ModelKind, ModelState } from './types.js';
import { coreWorkerScript, startWorkerPool } from './worker-pool.js';
import type { ArrayDescriptor } from './arena.js';
import type { PredictiveSums, StoredSample } from './gibbs-predict.js';

/** Stream ids of the counter-based random numbers (the third key word). */
export const STREAM_USER = 0;
export const STREAM_ITEM = 1;
export const STREAM_GENRE = 2;
export const STREAM_HYPER = 3;

/** The prior of one side's rows: mean and precision per coordinate (K factor coordinates, then the bias). */
export interface RowPrior {
  mean: Float64Array;
  precision: Float64Array;
}

/** Everything the chain needs to continue exactly (all float64). */
export interface GibbsChainState {
  /** Sweeps done. */
  samplesDone: number;
  /** The current draw of every row, bias and genre embedding (model.hyper records kind and dim only). */
  model: ModelState;
  alpha: number;
  userPrior: RowPrior;
  itemPrior: RowPrior;
  /** π_F (K; empty unless genre model). */
  genrePrecision: Float64Array;
}

export interface GibbsSamplerOptions {
  train: RatingMatrix;
  itemGenres: ItemGenres | null;
  kind: ModelKind;
  dim: number;
  seed: number;
  threads: number;
  kernel: KernelProvider;
  hyperprior?: HyperpriorConstants;
  /** The Gamma prior of the genre precisions π_F alone (default: `hyperprior`). */
  genreHyperprior?: HyperpriorConstants;
  /** Continue this chain instead of starting one (kind, dim and sizes must match). */
  initial?: GibbsChainState;
}

/** One line of a run's sample history (what checkpoints store and curves draw). */
export interface SampleMetrics {
  sample: number;
  /** RMSE of this sample's draw on the training ratings. */
  trainRmse: number;
  /** The noise precision drawn in this sample; the noise sd is 1/√α. */
  alpha: number;
  /** Held-out RMSE of the running average over post-burn-in samples so far (null in burn-in or with no held-out ratings). */
  validationRmse: number | null;
  elapsedMs: number;
}

/** Everything a run needs to continue exactly: the chain, the held-out predictive sums, the stored samples, the history. */
export interface GibbsResumePoint {
  chain: GibbsChainState;
  predictive: PredictiveSums;
  storedSamples: StoredSample[];
  metrics: SampleMetrics[];
}

/** What one sweep reports. */
export interface GibbsSweep {
  /** 1-based sample number. */
  sample: number;
  /** RMSE of the current draw on the training ratings (before α is redrawn). */
  trainRmse: number;
  /** The α drawn at the end of the sweep (1/√α is the noise sd). */
  alpha: number;
  /** Wall time of the sweep's draws. */
  elapsedMs: number;
}

export interface GibbsSampler {
  readonly samplesDone: number;
  /** Runs one sweep. The current draw is readable in `current` until the next call. */
  sweep(): Promise<GibbsSweep>;
  /** The current draw (views into the sampler's arena: copy what you keep). */
  readonly current: ModelState;
  readonly alpha: number;
  /** The current user prior (μ_U, π_U): views, copy what you keep. */
  readonly userPrior: RowPrior;
  /** The current movie prior (μ_V, π_V; the genre model adds p_n to μ_V): views. */
  readonly itemPrior: RowPrior;
  /**
   * The current draw for prediction: users and movies without training ratings take their
   * conditional mean (the prior mean: [μ_U; μ_b], [μ_V + p_n; μ_c]) instead of their draw. Their
   * draw is pure prior noise that nothing in the data constrains; averaging it out over samples
   * costs samples, taking its expectation costs nothing (Rao–Blackwellisation). Reused buffers
   * (the draw itself when every row has ratings): valid until the next sweep.
   */
  predictionModel(): ModelState;
  /** A deep copy of the chain state (to store, or to pass as `initial`). */
  state(): GibbsChainState;
  close(): Promise<void>;
}

/** The hyperparameters a ModelState of the sampler carries (only kind and dim mean anything). */
export function bayesModelHyper(kind: ModelKind, dim: number): ModelState['hyper'] {
  return {
    kind,
    dim,
    lambda: 1,
    tau: 0,
    gamma: 0,
    genreTau: 0,
    weightedRegularization: false,
    weightedBiasRegularization: false,
  };
}

/** Arena descriptors of one side's sampling arrays. */
export interface SamplingDescriptors {
  priorPrecision: ArrayDescriptor;
  priorMean: ArrayDescriptor;
  normals: ArrayDescriptor;
}

/** A sampling thread's workerData (./gibbs-worker.ts). */
export interface GibbsWorkerInit {
  kernel: KernelProvider['name'];
  buffer: SharedArrayBuffer;
  memory: WebAssembly.Memory | null;
  user: SideDescriptors;
  item: SideDescriptors;
  userSampling: SamplingDescriptors;
  itemSampling: SamplingDescriptors;
  scalars: WorkerScalars;
  seed: number;
}

/** 'sample': fill the rows' normals from their streams and draw them; 'squared-errors': Σ (r − r̂)². */
export interface GibbsWorkerTask {
  type: 'sample' | 'squared-errors';
  side: 'user' | 'item';
  rowStart: number;
  rowEnd: number;
  sample: number;
  alpha: number;
}

/**
 * Fills the standard normals of rows [rowStart, rowEnd) of one side for sample `sample`, then
 * draws those rows with `solve` (the kernel). Used by the calling thread and by every worker, so
 * a row's draw is the same whoever runs it.
 */
export function sampleRowRange(
  solve: SolveRows,
  args: HalfEpochArgs,
  sampling: SamplingArgs,
  seed: number,
  sample: number,
  stream: number,
  rowStart: number,
  rowEnd: number,
): void {
  const n = args.dim + 1;
  for (let r = rowStart; r < rowEnd; r++)
    streamGaussians(streamKey(seed, sample, stream, r), sampling.normals, r * n, n);
  solve(args, rowStart, rowEnd);
}

/** Chunks of the squared-error sum: fixed, so α is the same for any thread count. */
const OBJECTIVE_CHUNKS = 16;

export async function createGibbsSampler(options: GibbsSamplerOptions): Promise<GibbsSampler> {
  const { train, kind, kernel, seed } = options;
  const prior = options.hyperprior ?? DEFAULT_HYPERPRIOR;
  const genrePrior = options.genreHyperprior ?? prior;
  const K = kind === 'bias' ? 0 : options.dim;
  if (kind !== 'bias' && !(Number.isInteger(K) && K >= 1))
    throw new RangeError(`dim must be a positive integer, got ${options.dim}`);
  const threads = Math.max(1, Math.floor(options.threads));
  const itemGenres =
    kind === 'genre' && options.itemGenres !== null && options.itemGenres.numGenres > 0
      ? options.itemGenres
      : null;
  if (kind === 'genre' && options.itemGenres === null)
    throw new Error("the genre model needs the movies' genres");
  if (itemGenres !== null && itemGenres.offsets.length !== train.numItems + 1) {
    throw new RangeError(
      `genre index covers ${itemGenres.offsets.length - 1} movies, the ratings ${train.numItems}`,
    );
  }
  const G = itemGenres?.numGenres ?? 0;
  const U = train.numUsers;
  const N = train.numItems;
  const nnz = train.numRatings;
  const n = K + 1;

  const start: GibbsChainState = options.initial ?? {
    samplesDone: 0,
    model: {
      ...initModel(bayesModelHyper(kind, K), U, N, G, seed, meanRating(train)),
      hyper: bayesModelHyper(kind, K),
    },
    alpha: 1,
    userPrior: { mean: new Float64Array(n), precision: new Float64Array(n).fill(1) },
    itemPrior: { mean: new Float64Array(n), precision: new Float64Array(n).fill(1) },
    genrePrecision: new Float64Array(itemGenres !== null ? K : 0).fill(1),
  };
  const m0 = start.model;
  if (
    m0.numUsers !== U ||
    m0.numItems !== N ||
    m0.hyper.dim !== K ||
    m0.hyper.kind !== kind ||
    start.userPrior.mean.length !== n
  ) {
    throw new RangeError('the chain state does not match the training data or the model');
  }

  // Both sides' factors packed in float32 too, for a kernel that reads them (./kernel.ts).
  const packing = kernel.readsPackedRows && K > 0;
  const bytes =
    2 * (U + 1 + N + 1) * 4 +
    2 * nnz * 8 +
    (U * K + U + N * K + N + N * K) * 8 +
    (U + N) * n * 8 +
    4 * n * 8 +
    (packing ? (U + N + 32) * packedRowWidth(K) * 4 : 0) +
    32 * 16;
  const arena: SharedArena = kernel.createArena(bytes);
  const copyI32 = (a: Int32Array): Int32Array => {
    const v = arena.allocInt32(a.length);
    v.set(a);
    return v;
  };
  const copyF32 = (a: Float32Array): Float32Array => {
    const v = arena.allocFloat32(a.length);
    v.set(a);
    return v;
  };
  const copyF64 = (a: Float64Array): Float64Array => {
    const v = arena.allocFloat64(a.length);
    v.set(a);
    return v;
  };
  const byUser = train.ratingsByUser;
  const byItem = train.ratingsByItem;
  const userOffsets = copyI32(byUser.offsets);
  const userIndices = copyI32(byUser.indices.subarray(0, nnz));
  const userValues = copyF32(byUser.values.subarray(0, nnz));
  const itemOffsets = copyI32(byItem.offsets);
  const itemIndices = copyI32(byItem.indices.subarray(0, nnz));
  const itemValues = copyF32(byItem.values.subarray(0, nnz));

  const model: ModelState = {
    hyper: bayesModelHyper(kind, K),
    numUsers: U,
    numItems: N,
    globalMean: m0.globalMean,
    userFactors: copyF64(m0.userFactors),
    userBias: copyF64(m0.userBias),
    itemFactors: copyF64(m0.itemFactors),
    itemBias: copyF64(m0.itemBias),
    genreFactors: m0.genreFactors.slice(),
  };
  const priors = itemGenres !== null ? arena.allocFloat64(N * K) : null;
  if (priors !== null && itemGenres !== null)
    computeGenrePriors(model.genreFactors, K, itemGenres, N, priors);
  const userPacked = packing ? allocPackedRows(arena, model.userFactors, K, U) : null;
  const itemPacked = packing ? allocPackedRows(arena, model.itemFactors, K, N) : null;
  const userSampling: SamplingArgs = {
    priorPrecision: copyF64(start.userPrior.precision),
    priorMean: copyF64(start.userPrior.mean),
    normals: arena.allocFloat64(U * n),
  };
  const itemSampling: SamplingArgs = {
    priorPrecision: copyF64(start.itemPrior.precision),
    priorMean: copyF64(start.itemPrior.mean),
    normals: arena.allocFloat64(N * n),
  };
  const genrePrecision = start.genrePrecision.slice();
  const gram = itemGenres !== null ? genreGram(itemGenres) : null;
  let alpha = start.alpha;
  let samplesDone = start.samplesDone;

  const scalars: WorkerScalars = {
    dim: K,
    globalMean: model.globalMean,
    lambda: alpha,
    tau: 0,
    gamma: 0,
    weightedRegularization: false,
    weightedBiasRegularization: false,
  };
  const userArgs: HalfEpochArgs = {
    ...scalars,
    offsets: userOffsets,
    indices: userIndices,
    values: userValues,
    otherFactors: model.itemFactors,
    otherBias: model.itemBias,
    rowFactors: model.userFactors,
    rowBias: model.userBias,
    priorMeans: null,
    otherPacked: itemPacked,
    rowPacked: userPacked,
    sampling: userSampling,
  };
  const itemArgs: HalfEpochArgs = {
    ...scalars,
    offsets: itemOffsets,
    indices: itemIndices,
    values: itemValues,
    otherFactors: model.userFactors,
    otherBias: model.userBias,
    rowFactors: model.itemFactors,
    rowBias: model.itemBias,
    priorMeans: priors,
    otherPacked: userPacked,
    rowPacked: itemPacked,
    sampling: itemSampling,
  };

  const rowCost = K / 3 + 1;
  const chunksPerThread = threads === 1 ? 1 : 8;
  const chunks = {
    user: splitRowsByCost(userOffsets, U, threads * chunksPerThread, rowCost),
    item: splitRowsByCost(itemOffsets, N, threads * chunksPerThread, rowCost),
  };
  const objectiveChunks = splitRowsByCost(userOffsets, U, OBJECTIVE_CHUNKS, rowCost);

  let drawSide: (side: 'user' | 'item', sample: number) => Promise<void>;
  let squaredErrors: () => Promise<number>;
  let closeWorkers: () => Promise<void> = async () => {};

  if (threads === 1) {
    const solve = await kernel.createSolver(arena.buffer, arena.memory);
    drawSide = async (side, sample) => {
      const args = side === 'user' ? userArgs : itemArgs;
      args.lambda = alpha;
      sampleRowRange(
        solve,
        args,
        side === 'user' ? userSampling : itemSampling,
        seed,
        sample,
        side === 'user' ? STREAM_USER : STREAM_ITEM,
        0,
        side === 'user' ? U : N,
      );
    };
    squaredErrors = async () => {
      let sum = 0;
      for (const [a, b] of objectiveChunks) sum += squaredErrorSum(userArgs, a, b);
      return sum;
    };
  } else {
    const describeSampling = (s: SamplingArgs): SamplingDescriptors => ({
      priorPrecision: arena.describe(s.priorPrecision),
      priorMean: arena.describe(s.priorMean),
      normals: arena.describe(s.normals),
    });
    const init: GibbsWorkerInit = {
      kernel: kernel.name,
      buffer: arena.buffer,
      memory: arena.memory,
      user: describeSide(arena, userArgs),
      item: describeSide(arena, itemArgs),
      userSampling: describeSampling(userSampling),
      itemSampling: describeSampling(itemSampling),
      scalars,
      seed,
    };
    const pool = await startWorkerPool<GibbsWorkerTask>({
      script: coreWorkerScript('gibbs-worker.js'),
      size: threads,
      workerData: init,
      label: 'sampling thread',
    });
    drawSide = async (side, sample) => {
      await pool.run(
        chunks[side].map(([a, b]) => ({
          type: 'sample',
          side,
          rowStart: a,
          rowEnd: b,
          sample,
          alpha,
        })),
      );
    };
    squaredErrors = async () => {
      const parts = await pool.run(
        objectiveChunks.map(([a, b]) => ({
          type: 'squared-errors',
          side: 'user',
          rowStart: a,
          rowEnd: b,
          sample: 0,
          alpha,
        })),
      );
      let sum = 0;
      for (const part of parts) sum += part;
      return sum;
    };
    closeWorkers = () => pool.close();
  }

  const sums = new Float64Array(n);
  const sumSquares = new Float64Array(n);
  let closed = false;
  const emptyRows = (offsets: Int32Array, rows: number): number[] => {
    const out: number[] = [];
    for (let r = 0; r < rows; r++) if (offsets[r + 1] === offsets[r]) out.push(r);
    return out;
  };
  const emptyUsers = emptyRows(userOffsets, U);
  const emptyItems = emptyRows(itemOffsets, N);
  const hasEmpty = emptyUsers.length > 0 || emptyItems.length > 0;
  const prediction: ModelState = {
    ...model,
    userFactors: new Float64Array(hasEmpty ? U * K : 0),
    userBias: new Float64Array(hasEmpty ? U : 0),
    itemFactors: new Float64Array(hasEmpty ? N * K : 0),
    itemBias: new Float64Array(hasEmpty ? N : 0),
  };

  return {
    get samplesDone() {
      return samplesDone;
    },
    get current() {
      return model;
    },
    get alpha() {
      return alpha;
    },
    get userPrior() {
      return { mean: userSampling.priorMean, precision: userSampling.priorPrecision };
    },
    get itemPrior() {
      return { mean: itemSampling.priorMean, precision: itemSampling.priorPrecision };
    },
    predictionModel(): ModelState {
      if (emptyUsers.length === 0 && emptyItems.length === 0) return model;
      prediction.userFactors.set(model.userFactors);
      prediction.userBias.set(model.userBias);
      prediction.itemFactors.set(model.itemFactors);
      prediction.itemBias.set(model.itemBias);
      prediction.genreFactors = model.genreFactors;
      for (const r of emptyUsers) {
        for (let k = 0; k < K; k++) prediction.userFactors[r * K + k] = userSampling.priorMean[k]!;
        prediction.userBias[r] = userSampling.priorMean[K]!;
      }
      for (const r of emptyItems) {
        for (let k = 0; k < K; k++)
          prediction.itemFactors[r * K + k] =
            itemSampling.priorMean[k]! + (priors === null ? 0 : priors[r * K + k]!);
        prediction.itemBias[r] = itemSampling.priorMean[K]!;
      }
      return prediction;
    },
    async sweep(): Promise<GibbsSweep> {
      if (closed) throw new Error('sampler is closed');
      const t0 = performance.now();
      const sample = samplesDone + 1;
      const rng = new Random(streamKey(seed, sample, STREAM_HYPER, 0));
      sampleSideHyperparameters(
        model.userFactors,
        model.userBias,
        null,
        U,
        K,
        prior,
        rng,
        userSampling.priorMean,
        userSampling.priorPrecision,
        sums,
        sumSquares,
      );
      await drawSide('user', sample);
      sampleSideHyperparameters(
        model.itemFactors,
        model.itemBias,
        priors,
        N,
        K,
        prior,
        rng,
        itemSampling.priorMean,
        itemSampling.priorPrecision,
        sums,
        sumSquares,
      );
      await drawSide('item', sample);
      if (itemGenres !== null && priors !== null && gram !== null) {
        sampleGenrePrecision(model.genreFactors, G, K, genrePrior, rng, genrePrecision);
        sampleGenreFactors(
          model.itemFactors,
          K,
          itemGenres,
          gram,
          itemSampling.priorMean,
          itemSampling.priorPrecision,
          genrePrecision,
          (k, out) => streamGaussians(streamKey(seed, sample, STREAM_GENRE, k), out, 0, out.length),
          model.genreFactors,
        );
        computeGenrePriors(model.genreFactors, K, itemGenres, N, priors);
      }
      const sse = await squaredErrors();
      if (!Number.isFinite(sse))
        throw new AlsError(`the Gibbs chain diverged at sample ${sample} (squared error ${sse})`);
      alpha = sampleNoisePrecision(sse, nnz, prior, rng);
      samplesDone = sample;
      return {
        sample,
        trainRmse: nnz > 0 ? Math.sqrt(sse / nnz) : 0,
        alpha,
        elapsedMs: performance.now() - t0,
      };
    },
    state(): GibbsChainState {
      return {
        samplesDone,
        model: {
          hyper: { ...model.hyper },
          numUsers: U,
          numItems: N,
          globalMean: model.globalMean,
          userBias: model.userBias.slice(),
          itemBias: model.itemBias.slice(),
          userFactors: model.userFactors.slice(),
          itemFactors: model.itemFactors.slice(),
          genreFactors: model.genreFactors.slice(),
        },
        alpha,
        userPrior: {
          mean: userSampling.priorMean.slice(),
          precision: userSampling.priorPrecision.slice(),
        },
        itemPrior: {
          mean: itemSampling.priorMean.slice(),
          precision: itemSampling.priorPrecision.slice(),
        },
        genrePrecision: genrePrecision.slice(),
      };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await closeWorkers();
    },
  };
}
