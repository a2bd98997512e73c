/**
 * A minimal worker-thread harness around one half-epoch kernel, for the kernel benchmark and the
 * thread test (the trainer has its own persistent worker pool). The worker rebuilds the arrays from
 * their arena descriptors over the shared memory, creates a solver, then answers every
 * `{ rowStart, rowEnd }` message by solving those rows and posting `{ elapsedMs }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadKernel } from '../core/kernels.js';
import {
  halfEpochArgsFrom,
  type SideDescriptors,
  type WorkerScalars,
} from '../core/trainer-protocol.js';

/** Everything a worker needs, posted as workerData (the trainer's own descriptors and scalars). */
export interface KernelWorkerData {
  kernel: 'wasm' | 'ts';
  buffer: SharedArrayBuffer;
  memory: WebAssembly.Memory | null;
  arrays: SideDescriptors;
  scalars: WorkerScalars;
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
  const args = halfEpochArgsFrom(buffer, data.arrays, data.scalars);
  const solve = await provider.createSolver(buffer, data.memory);
  port.on('message', (request: KernelWorkerRequest) => {
    const startMs = performance.now();
    solve(args, request.rowStart, request.rowEnd);
    port.postMessage({ elapsedMs: performance.now() - startMs } satisfies KernelWorkerReply);
  });
  port.postMessage('ready');
}

await main();
