/** Messages between the trainer and its worker threads (see ./trainer-worker.ts). */
import type { ArrayDescriptor } from './arena.js';
import type { KernelName } from './kernels.js';

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
}

export interface WorkerInit {
  type: 'init';
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

export type WorkerRequest = WorkerInit | WorkerSolve;

export type WorkerReply = { type: 'ready' } | { type: 'done'; value: number } | { type: 'error'; message: string };
