/** Worker thread of batch-pool.ts (started by ./worker-pool.ts): fills user ranges of the shared output. */
import { viewOf } from './arena.js';
import type { BatchArgs } from './batch.js';
import { runBatchRange, type BatchTask, type BatchWorkerData } from './batch-pool.js';
import { serveWorkerTasks } from './worker-pool.js';

serveWorkerTasks<BatchWorkerData, BatchTask>((data) => {
  const view = <T>(key: keyof BatchWorkerData['arrays']): T =>
    viewOf(data.buffer, data.arrays[key]) as T;
  const args: BatchArgs = {
    dim: data.dim,
    numEligible: data.numEligible,
    topN: data.topN,
    eligibleFactors: view('eligibleFactors'),
    eligibleBias: view('eligibleBias'),
    eligibleItems: view('eligibleItems'),
    userFactors: view('userFactors'),
    userBase: view('userBase'),
    excludeOffsets: view('excludeOffsets'),
    excludeIndices: view('excludeIndices'),
    outItems: view('outItems'),
    outScores: view('outScores'),
  };
  return (task) => {
    runBatchRange(args, task.userStart, task.userEnd, data.kernel);
    return 0;
  };
});
