/**
 * A thread that trains one fold with the core trainer (single-threaded inside) and posts each
 * epoch's metrics and then the model back: what `workerTrainFold` runs to train several folds at
 * once. The typed arrays arrive as structured-clone copies (a fold's matrices are built for it
 * alone, so copying them once costs little next to the training).
 */
import { parentPort } from 'node:worker_threads';
import { loadKernel, type KernelName } from '../core/kernels.js';
import { coreTrainFold, type FoldTrainingJob } from './fold-training.js';

if (parentPort === null) throw new Error('fold-worker must run in a worker thread');
const port = parentPort;

export type FoldWorkerRequest = { kernel: KernelName; job: Omit<FoldTrainingJob, 'onEpoch'> };
export type FoldWorkerReply =
  | { type: 'epoch'; metrics: import('../core/types.js').EpochMetrics }
  | { type: 'done'; result: import('./fold-training.js').FoldTrainingResult }
  | { type: 'error'; message: string };

port.once('message', (request: FoldWorkerRequest) => {
  void (async () => {
    try {
      const kernel = await loadKernel(request.kernel);
      const result = await coreTrainFold(kernel)({
        ...request.job,
        threads: 1,
        onEpoch: (metrics) =>
          port.postMessage({ type: 'epoch', metrics } satisfies FoldWorkerReply),
      });
      port.postMessage({ type: 'done', result } satisfies FoldWorkerReply);
    } catch (error) {
      port.postMessage({
        type: 'error',
        message: (error as Error).message,
      } satisfies FoldWorkerReply);
    }
  })();
});
