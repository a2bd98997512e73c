/**
 * Runs batchTopNRange on worker threads (./worker-pool.ts). Every array is copied once into one
 * SharedArrayBuffer; each worker rebuilds the views and fills one range of users (the cost per
 * user is the same, E · dim multiply-adds, so equal user ranges balance). Small jobs run on the
 * calling thread.
 */
import { SharedArena, type ArrayDescriptor } from './arena.js';
import { batchTopNRange, type BatchArgs } from './batch.js';
import { batchTopNRangeWasm } from './batch-wasm.js';
import { coreWorkerScript, startWorkerPool } from './worker-pool.js';

/** Which implementation scores: the WebAssembly SIMD kernel when it loads (auto), or TypeScript. */
export type BatchKernel = 'auto' | 'ts';

/** Runs one range with the chosen kernel (auto: wasm when available, else TypeScript). */
export function runBatchRange(
  args: BatchArgs,
  userStart: number,
  userEnd: number,
  kernel: BatchKernel,
): void {
  if (kernel === 'auto' && batchTopNRangeWasm(args, userStart, userEnd)) return;
  batchTopNRange(args, userStart, userEnd);
}

/** Below this many user × movie scores, threads cost more than they save. */
const MIN_SCORES_FOR_THREADS = 20_000_000;

type ArrayKey =
  | 'eligibleFactors'
  | 'eligibleBias'
  | 'eligibleItems'
  | 'userFactors'
  | 'userBase'
  | 'excludeOffsets'
  | 'excludeIndices'
  | 'outItems'
  | 'outScores';
const ARRAY_KEYS: ArrayKey[] = [
  'eligibleFactors',
  'eligibleBias',
  'eligibleItems',
  'userFactors',
  'userBase',
  'excludeOffsets',
  'excludeIndices',
  'outItems',
  'outScores',
];

/** What every worker receives: the buffer, where each array lives, the scalars. */
export interface BatchWorkerData {
  buffer: SharedArrayBuffer;
  arrays: Record<ArrayKey, ArrayDescriptor>;
  dim: number;
  numEligible: number;
  topN: number;
  kernel: BatchKernel;
}

/** One task: the users [userStart, userEnd) to fill. */
export interface BatchTask {
  userStart: number;
  userEnd: number;
}

/**
 * Fills args.outItems/outScores for every user; `threads` ≤ 1, or fewer than
 * `minScoresForThreads` user × movie scores, runs on the calling thread.
 */
export async function batchTopN(
  args: BatchArgs,
  threads: number,
  options: { minScoresForThreads?: number; kernel?: BatchKernel } = {},
): Promise<void> {
  const numUsers = args.userBase.length;
  const work = numUsers * args.numEligible;
  const kernel = options.kernel ?? 'auto';
  if (
    threads <= 1 ||
    work < (options.minScoresForThreads ?? MIN_SCORES_FOR_THREADS) ||
    numUsers < threads
  ) {
    runBatchRange(args, 0, numUsers, kernel);
    return;
  }
  let bytes = 64;
  for (const key of ARRAY_KEYS) bytes += args[key].byteLength + 16;
  const arena = new SharedArena(bytes);
  const shared = {} as Record<ArrayKey, Float64Array | Int32Array>;
  const arrays = {} as Record<ArrayKey, ArrayDescriptor>;
  for (const key of ARRAY_KEYS) {
    const source = args[key];
    const view =
      source instanceof Float64Array
        ? arena.allocFloat64(source.length)
        : arena.allocInt32(source.length);
    view.set(source as never);
    shared[key] = view;
    arrays[key] = arena.describe(view);
  }
  const workerData: BatchWorkerData = {
    buffer: arena.buffer,
    arrays,
    dim: args.dim,
    numEligible: args.numEligible,
    topN: args.topN,
    kernel,
  };
  const tasks: BatchTask[] = [];
  for (let t = 0; t < threads; t++) {
    tasks.push({
      userStart: Math.floor((numUsers * t) / threads),
      userEnd: Math.floor((numUsers * (t + 1)) / threads),
    });
  }
  const pool = await startWorkerPool<BatchTask>({
    script: coreWorkerScript('batch-worker.js'),
    size: threads,
    workerData,
    label: 'batch thread',
  });
  try {
    await pool.run(tasks);
  } finally {
    await pool.close();
  }
  args.outItems.set(shared.outItems as Int32Array);
  args.outScores.set(shared.outScores as Float64Array);
}
