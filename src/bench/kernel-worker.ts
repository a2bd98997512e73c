/**
 * A minimal worker-thread harness around one half-epoch kernel, for the kernel benchmark and the
 * thread test (the trainer has its own persistent worker pool). The worker rebuilds the arrays from
 * their arena descriptors over the shared memory, creates a solver, then answers every
 * `{ rowStart, rowEnd }` message by solving those rows and posting `{ elapsedMs }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type ArrayDescriptor, viewOf } from '../core/arena.js';
import type { HalfEpochArgs } from '../core/kernel.js';
import { loadKernel } from '../core/kernels.js';

/** Everything a worker needs, posted as workerData. */
export interface KernelWorkerData {
  kernel: 'wasm' | 'ts';
  buffer: SharedArrayBuffer;
  memory: WebAssembly.Memory | null;
  dim: number;
  arrays: {
    offsets: ArrayDescriptor;
    indices: ArrayDescriptor;
    values: ArrayDescriptor;
    otherFactors: ArrayDescriptor;
    otherBias: ArrayDescriptor;
    rowFactors: ArrayDescriptor;
    rowBias: ArrayDescriptor;
    priorMeans: ArrayDescriptor | null;
  };
  globalMean: number;
  lambda: number;
  tau: number;
  gamma: number;
  weightedRegularization: boolean;
  weightedBiasRegularization: boolean;
}

export interface KernelWorkerRequest {
  rowStart: number;
  rowEnd: number;
}

export interface KernelWorkerReply {
  elapsedMs: number;
}

async function main(): Promise<void> {
  const data = workerData as KernelWorkerData;
  const port = parentPort!;
  const provider = await loadKernel(data.kernel);
  // The posted buffer and the posted memory's buffer are distinct objects over the same bytes;
  // build the views on the buffer handed to createSolver.
  const buffer = data.buffer;
  const { arrays } = data;
  const args: HalfEpochArgs = {
    dim: data.dim,
    offsets: viewOf(buffer, arrays.offsets) as Int32Array,
    indices: viewOf(buffer, arrays.indices) as Int32Array,
    values: viewOf(buffer, arrays.values) as Float32Array,
    otherFactors: viewOf(buffer, arrays.otherFactors) as Float64Array,
    otherBias: viewOf(buffer, arrays.otherBias) as Float64Array,
    rowFactors: viewOf(buffer, arrays.rowFactors) as Float64Array,
    rowBias: viewOf(buffer, arrays.rowBias) as Float64Array,
    priorMeans: arrays.priorMeans ? (viewOf(buffer, arrays.priorMeans) as Float64Array) : null,
    globalMean: data.globalMean,
    lambda: data.lambda,
    tau: data.tau,
    gamma: data.gamma,
    weightedRegularization: data.weightedRegularization,
    weightedBiasRegularization: data.weightedBiasRegularization,
  };
  const solve = await provider.createSolver(buffer, data.memory);
  port.on('message', (request: KernelWorkerRequest) => {
    const startMs = performance.now();
    solve(args, request.rowStart, request.rowEnd);
    port.postMessage({ elapsedMs: performance.now() - startMs } satisfies KernelWorkerReply);
  });
  port.postMessage('ready');
}

await main();
