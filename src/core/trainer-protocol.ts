/** What the trainer tells its worker threads (./trainer-worker.ts, run by ./worker-pool.ts). */
import { type ArrayDescriptor, type SharedArena, viewOf } from './arena.js';
import { squaredErrorSum } from './als.js';
import type { HalfEpochArgs, SolveRows } from './kernel.js';
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

export interface WorkerInit {
  kernel: KernelName;
  buffer: SharedArrayBuffer;
  memory: WebAssembly.Memory | null;
  user: SideDescriptors;
  item: SideDescriptors;
  scalars: WorkerScalars;
}

/** 'solve': run the kernel on the rows; 'squared-errors': return Σ (r − r̂)² over the rows' ratings. */
export interface WorkerSolve {
  type: 'solve' | 'squared-errors';
  side: 'user' | 'item';
  rowStart: number;
  rowEnd: number;
}

/**
 * What a training thread does with a task: the same in the workers and in the main thread, which
 * takes tasks too (see ./trainer.ts).
 */
export function trainerTaskHandler(
  solveRows: SolveRows,
  sides: Record<'user' | 'item', HalfEpochArgs>,
): TaskHandler<WorkerSolve> {
  return (task) => {
    const args = sides[task.side];
    if (task.type === 'squared-errors') return squaredErrorSum(args, task.rowStart, task.rowEnd);
    solveRows(args, task.rowStart, task.rowEnd);
    return 0;
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
