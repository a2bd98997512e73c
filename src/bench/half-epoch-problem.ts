/**
 * Synthetic half-epoch problems for the kernel benchmark and the kernel tests: a random sparse
 * index with given per-row rating counts and random "other side" factors and biases, every array
 * allocated in a kernel's arena so worker threads and the wasm kernel can see it.
 */
import type { SharedArena } from '../core/arena.js';
import {
  allocPackedRows,
  biasRidgeWeighted,
  type HalfEpochArgs,
  packedRowWidth,
} from '../core/kernel.js';
import type { Random } from '../core/random.js';
import type { KernelWorkerData } from './kernel-worker.js';
import { describeSide } from '../core/trainer-protocol.js';

/** MovieLens-32M's shape: users, movies, ratings, and its minimum of 20 ratings per user. */
export const ML32M_USERS = 200_948;
export const ML32M_MOVIES = 87_585;
export const ML32M_RATINGS = 32_000_204;
export const MIN_RATINGS_PER_USER = 20;

/**
 * Pareto(α) rating counts with minimum 20 and mean ratings/users: α = mean / (mean − 20).
 * Capped at the number of movies, then the largest rows are trimmed or grown to hit the total.
 */
export function powerLawCounts(
  numRows: number,
  totalRatings: number,
  maxCount: number,
  rng: Random,
): Int32Array {
  const mean = totalRatings / numRows;
  const alpha = mean / (mean - MIN_RATINGS_PER_USER);
  const counts = new Int32Array(numRows);
  let total = 0;
  for (let r = 0; r < numRows; r++) {
    const u = 1 - rng.nextFloat(); // (0, 1]
    counts[r] = Math.min(maxCount, Math.floor(MIN_RATINGS_PER_USER * u ** (-1 / alpha)));
    total += counts[r]!;
  }
  // Rescale the part above the minimum to hit the total; rows at the cap stay there, so repeat
  // with the remaining rows until the total is met (or every row is capped).
  for (let pass = 0; pass < 4 && total !== totalRatings; pass++) {
    let free = 0;
    for (let r = 0; r < numRows; r++)
      if (counts[r]! < maxCount) free += counts[r]! - MIN_RATINGS_PER_USER;
    const factor = (free + totalRatings - total) / free;
    total = 0;
    for (let r = 0; r < numRows; r++) {
      if (counts[r]! < maxCount)
        counts[r] = Math.min(
          maxCount,
          MIN_RATINGS_PER_USER + Math.round((counts[r]! - MIN_RATINGS_PER_USER) * factor),
        );
      total += counts[r]!;
    }
  }
  return counts;
}

export interface HalfEpochProblemSpec {
  dim: number;
  /** Ratings per row (its length is the number of rows); zeros make empty rows. */
  counts: Int32Array;
  numOther: number;
  /** Other-side popularity skew: column j = ⌊numOther · u^skew⌋ for uniform u (1 = uniform). */
  skew?: number;
  withPrior: boolean;
  weightedRegularization: boolean;
  /** Scale γ by the row's count too (unset: same as weightedRegularization). */
  weightedBiasRegularization?: boolean;
  /** a in the count weight n^a (unset: 1, ALS-WR). */
  weightExponent?: number;
  lambda: number;
  tau: number;
  gamma: number;
}

/** Bytes of arena a problem needs (plus alignment slack). */
export function halfEpochProblemBytes(spec: HalfEpochProblemSpec): number {
  const numRows = spec.counts.length;
  let numRatings = 0;
  for (const count of spec.counts) numRatings += count;
  const f64 =
    (spec.numOther * (spec.dim + 1) +
      numRows * (spec.dim + 1) +
      (spec.withPrior ? numRows * spec.dim : 0)) *
    8;
  const i32f32 = (numRows + 1 + 2 * numRatings) * 4;
  const packed = (spec.numOther + numRows + 32) * packedRowWidth(spec.dim) * 4;
  return f64 + i32f32 + packed + 16 * 16;
}

export function createHalfEpochProblem(
  arena: SharedArena,
  spec: HalfEpochProblemSpec,
  rng: Random,
): HalfEpochArgs {
  const { dim, counts, numOther } = spec;
  const numRows = counts.length;
  const skew = spec.skew ?? 1;
  const offsets = arena.allocInt32(numRows + 1);
  for (let r = 0; r < numRows; r++) offsets[r + 1] = offsets[r]! + counts[r]!;
  const numRatings = offsets[numRows]!;
  const indices = arena.allocInt32(numRatings);
  const values = arena.allocFloat32(numRatings);
  for (let e = 0; e < numRatings; e++) {
    indices[e] = Math.min(numOther - 1, Math.floor(numOther * rng.nextFloat() ** skew));
    values[e] = 0.5 + 0.5 * rng.nextInt(10); // MovieLens half stars
  }
  const otherFactors = arena.allocFloat64(numOther * dim);
  for (let i = 0; i < otherFactors.length; i++) otherFactors[i] = 0.3 * rng.nextGaussian();
  const otherBias = arena.allocFloat64(numOther);
  for (let i = 0; i < numOther; i++) otherBias[i] = 0.5 * rng.nextGaussian();
  const rowFactors = arena.allocFloat64(numRows * dim);
  rowFactors.fill(Number.NaN); // every row in range must be overwritten
  const rowBias = arena.allocFloat64(numRows);
  rowBias.fill(Number.NaN);
  let priorMeans: Float64Array | null = null;
  if (spec.withPrior) {
    priorMeans = arena.allocFloat64(numRows * dim);
    for (let i = 0; i < priorMeans.length; i++) priorMeans[i] = 0.2 * rng.nextGaussian();
  }
  // The packed float32 rows the trainer keeps for the wasm kernel (../core/kernel.ts).
  const otherPacked = dim > 0 ? allocPackedRows(arena, otherFactors, dim, numOther) : null;
  const rowPacked = dim > 0 ? allocPackedRows(arena, rowFactors, dim, numRows) : null;
  return {
    dim,
    offsets,
    indices,
    values,
    otherFactors,
    otherBias,
    rowFactors,
    rowBias,
    priorMeans,
    otherPacked,
    rowPacked,
    globalMean: 3.5,
    lambda: spec.lambda,
    tau: spec.tau,
    gamma: spec.gamma,
    weightedRegularization: spec.weightedRegularization,
    weightedBiasRegularization: biasRidgeWeighted(spec),
    ...(spec.weightExponent === undefined ? {} : { weightExponent: spec.weightExponent }),
  };
}

/** What a kernel-worker needs to rebuild `args` over the arena's shared memory. */
export function kernelWorkerData(
  kernel: 'wasm' | 'ts',
  arena: SharedArena,
  args: HalfEpochArgs,
): KernelWorkerData {
  return {
    kernel,
    buffer: arena.buffer,
    memory: arena.memory,
    arrays: describeSide(arena, args),
    scalars: {
      dim: args.dim,
      globalMean: args.globalMean,
      lambda: args.lambda,
      tau: args.tau,
      gamma: args.gamma,
      weightedRegularization: args.weightedRegularization,
      weightedBiasRegularization: biasRidgeWeighted(args),
      weightExponent: args.weightExponent ?? 1,
    },
  };
}

/**
 * Row boundaries splitting [0, numRows) into `parts` ranges of about equal rating counts (activity
 * is power-law, so equal row counts would leave one thread with most of the work).
 */
export function splitRowsByRatings(offsets: Int32Array, parts: number): number[] {
  const numRows = offsets.length - 1;
  const total = offsets[numRows]!;
  const bounds = [0];
  let row = 0;
  for (let p = 1; p < parts; p++) {
    const target = (total * p) / parts;
    while (row < numRows && offsets[row]! < target) row++;
    bounds.push(Math.max(row, bounds[bounds.length - 1]!));
  }
  bounds.push(numRows);
  return bounds;
}
