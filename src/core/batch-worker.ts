/** Worker thread of batch-pool.ts: fills one user range of the shared output, then says so. */
import { parentPort, workerData } from 'node:worker_threads';
import { viewOf } from './arena.js';
import type { BatchArgs } from './batch.js';
import { runBatchRange, type BatchWorkerData } from './batch-pool.js';

const data = workerData as BatchWorkerData;
const view = <T>(key: keyof BatchWorkerData['arrays']): T => viewOf(data.buffer, data.arrays[key]) as T;
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
runBatchRange(args, data.userStart, data.userEnd, data.kernel);
parentPort!.postMessage('done');
