/**
 * A persistent training thread. It receives the shared arena once (buffer, wasm memory, the
 * descriptors of every array of both half-epochs and the scalar hyperparameters), builds its
 * views and its solver once, then solves row ranges on request. Nothing is copied: the rows it
 * writes are the main thread's arrays. Rows are independent within a half-epoch, so which thread
 * solves which row never changes the result.
 */
import { parentPort } from 'node:worker_threads';
import { squaredErrorSum } from './als.js';
import type { HalfEpochArgs, SolveRows } from './kernel.js';
import { loadKernel } from './kernels.js';
import { halfEpochArgsFrom, type WorkerReply, type WorkerRequest } from './trainer-protocol.js';

if (parentPort === null) throw new Error('trainer-worker must run in a worker thread');
const port = parentPort;

let solveRows: SolveRows | null = null;
const sides: { user: HalfEpochArgs | null; item: HalfEpochArgs | null } = { user: null, item: null };

port.on('message', (message: WorkerRequest) => {
  void handle(message);
});

async function handle(message: WorkerRequest): Promise<void> {
  try {
    if (message.type === 'init') {
      const provider = await loadKernel(message.kernel);
      solveRows = await provider.createSolver(message.buffer, message.memory);
      sides.user = halfEpochArgsFrom(message.buffer, message.user, message.scalars);
      sides.item = halfEpochArgsFrom(message.buffer, message.item, message.scalars);
      port.postMessage({ type: 'ready' } satisfies WorkerReply);
      return;
    }
    const args = sides[message.side];
    if (solveRows === null || args === null) throw new Error('worker used before init');
    if (message.type === 'solve') {
      solveRows(args, message.rowStart, message.rowEnd);
      port.postMessage({ type: 'done', value: 0 } satisfies WorkerReply);
    } else {
      port.postMessage({ type: 'done', value: squaredErrorSum(args, message.rowStart, message.rowEnd) } satisfies WorkerReply);
    }
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error).message } satisfies WorkerReply);
  }
}
