/** What the trainer tells its worker threads (./trainer-worker.ts, run by ./worker-pool.ts). */
import { type ArrayDescriptor, type SharedArena, viewOf } from './arena.js';
import { type PredictingModel, predictionErrorSum, squaredErrorSum } from './als.js';
import type { RatingList } from '../data/types.js';
import type { HalfEpochArgs, KernelProvider, SolveRows, SquaredErrors } from './kernel.js';
import type { KernelName } from './kernels.js';
import type { TaskHandler } from './worker-pool.js';

/** Where one half-epoch's arrays live in the arena. */
export interface SideDescriptors {
  offsets: ArrayDescriptor;
  indices: ArrayDescriptor;
  values: ArrayDescriptor;
  otherFactors: ArrayDescriptor;
  otherBias: ArrayDescriptor;
  rowFactors: ArrayDescriptor;
  rowBias: ArrayDescriptor;
  priorMeans: ArrayDescriptor | null;
  otherPacked: ArrayDescriptor | null;
  rowPacked: ArrayDescriptor | null;
}

export interface WorkerScalars {
  dim: number;
  globalMean: number;
  lambda: number;
  tau: number;
  gamma: number;
  weightedRegularization: boolean;
  /** Resolved (never unset): whether γ is count-scaled too. */
  weightedBiasRegularization: boolean;
  /** a in s_r = max(1, n_r)^a; absent: 1 (ALS-WR; the Gibbs sampler ignores it). */
  weightExponent?: number;
}

/** Where the held-out ratings live in the arena, and the flag that says the model is final. */
export interface ValidationDescriptors {
  length: number;
  users: ArrayDescriptor;
  items: ArrayDescriptor;
  values: ArrayDescriptor;
  /** Int32 word: 0 while the genre step is running, 1 once the epoch's model is complete. */
  ready: ArrayDescriptor;
}

export interface WorkerInit {
  kernel: KernelName;
  buffer: SharedArrayBuffer;
  memory: WebAssembly.Memory | null;
  user: SideDescriptors;
  item: SideDescriptors;
  scalars: WorkerScalars;
  validation: ValidationDescriptors | null;
}

/**
 * 'solve': run the kernel on the rows; 'squared-errors': return Σ (r − r̂)² over the rows' ratings;
 * 'validation-errors': once the model is complete (see TaskContext.ready), return Σ (r − r̂)² over
 * the held-out ratings in list order (the rows are ignored).
 */
export interface WorkerSolve {
  type: 'solve' | 'squared-errors' | 'validation-errors';
  side: 'user' | 'item';
  rowStart: number;
  rowEnd: number;
}

/** The held-out ratings, the model they are scored on and the flag that says it is complete. */
export interface ValidationContext {
  ratings: RatingList;
  model: PredictingModel;
  ready: Int32Array;
}

/** The kernel's own error sum when it has one (the wasm kernel's reads the packed rows), else ./als.ts's. */
export async function squaredErrorsOf(
  provider: KernelProvider,
  buffer: SharedArrayBuffer,
  memory: WebAssembly.Memory | null,
): Promise<SquaredErrors> {
  return (await provider.createSquaredErrors?.(buffer, memory)) ?? squaredErrorSum;
}

/**
 * What a training thread does with a task: the same in the workers and in the main thread, which
 * takes tasks too (see ./trainer.ts). A 'validation-errors' task claimed while the main thread is
 * still in the genre step waits for it (the main thread sets `ready` before it takes any task,
 * so this never waits for itself).
 */
export function trainerTaskHandler(
  solveRows: SolveRows,
  squaredErrors: SquaredErrors,
  sides: Record<'user' | 'item', HalfEpochArgs>,
  validation: ValidationContext | null,
): TaskHandler<WorkerSolve> {
  return (task) => {
    const args = sides[task.side];
    if (task.type === 'squared-errors') return squaredErrors(args, task.rowStart, task.rowEnd);
    if (task.type === 'validation-errors') {
      if (validation === null) throw new Error('no held-out ratings to score');
      while (Atomics.load(validation.ready, 0) === 0) Atomics.wait(validation.ready, 0, 0, 1000);
      return predictionErrorSum(validation.model, validation.ratings);
    }
    solveRows(args, task.rowStart, task.rowEnd);
    return 0;
  };
}

/** The model of a trainer's arena as `predict` reads it, from the two half-epochs' arguments. */
export function arenaModel(
  sides: Record<'user' | 'item', HalfEpochArgs>,
  numUsers: number,
  numItems: number,
): PredictingModel {
  return {
    hyper: { dim: sides.user.dim },
    numUsers,
    numItems,
    globalMean: sides.user.globalMean,
    userFactors: sides.user.rowFactors,
    userBias: sides.user.rowBias,
    itemFactors: sides.item.rowFactors,
    itemBias: sides.item.rowBias,
  };
}

/** The held-out ratings and the ready flag as views over the shared buffer. */
export function validationFrom(
  buffer: ArrayBufferLike,
  d: ValidationDescriptors,
): { ratings: RatingList; ready: Int32Array } {
  return {
    ratings: {
      length: d.length,
      users: viewOf(buffer, d.users) as Int32Array,
      items: viewOf(buffer, d.items) as Int32Array,
      values: viewOf(buffer, d.values) as Float32Array,
      timestamps: null,
    },
    ready: viewOf(buffer, d.ready) as Int32Array,
  };
}

/** Where each array of a half-epoch lives in the arena (to post to another thread). */
export function describeSide(arena: SharedArena, args: HalfEpochArgs): SideDescriptors {
  return {
    offsets: arena.describe(args.offsets),
    indices: arena.describe(args.indices),
    values: arena.describe(args.values),
    otherFactors: arena.describe(args.otherFactors),
    otherBias: arena.describe(args.otherBias),
    rowFactors: arena.describe(args.rowFactors),
    rowBias: arena.describe(args.rowBias),
    priorMeans: args.priorMeans === null ? null : arena.describe(args.priorMeans),
    otherPacked: args.otherPacked == null ? null : arena.describe(args.otherPacked),
    rowPacked: args.rowPacked == null ? null : arena.describe(args.rowPacked),
  };
}

/** The inverse, in the receiving thread: a half-epoch's arguments as views over the shared buffer. */
export function halfEpochArgsFrom(
  buffer: ArrayBufferLike,
  d: SideDescriptors,
  scalars: WorkerScalars,
): HalfEpochArgs {
  return {
    ...scalars,
    offsets: viewOf(buffer, d.offsets) as Int32Array,
    indices: viewOf(buffer, d.indices) as Int32Array,
    values: viewOf(buffer, d.values) as Float32Array,
    otherFactors: viewOf(buffer, d.otherFactors) as Float64Array,
    otherBias: viewOf(buffer, d.otherBias) as Float64Array,
    rowFactors: viewOf(buffer, d.rowFactors) as Float64Array,
    rowBias: viewOf(buffer, d.rowBias) as Float64Array,
    priorMeans: d.priorMeans === null ? null : (viewOf(buffer, d.priorMeans) as Float64Array),
    otherPacked: d.otherPacked === null ? null : (viewOf(buffer, d.otherPacked) as Float32Array),
    rowPacked: d.rowPacked === null ? null : (viewOf(buffer, d.rowPacked) as Float32Array),
  };
}
