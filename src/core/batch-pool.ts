/**
 * Runs batchTopNRange on worker threads. Every array is copied once into one SharedArrayBuffer;
 * each worker rebuilds the views and fills its own range of users (the cost per user is the same,
 * E · dim multiply-adds, so equal user ranges balance). Small jobs run on the calling thread.
 */
import { Worker } from 'node:worker_threads';
import { SharedArena, type ArrayDescriptor } from './arena.js';
import { batchTopNRange, type BatchArgs } from './batch.js';

/** Below this many user × movie scores, threads cost more than they save. */
const MIN_SCORES_FOR_THREADS = 20_000_000;

type ArrayKey = 'eligibleFactors' | 'eligibleBias' | 'eligibleItems' | 'userFactors' | 'userBase' | 'excludeOffsets' | 'excludeIndices' | 'outItems' | 'outScores';
const ARRAY_KEYS: ArrayKey[] = ['eligibleFactors', 'eligibleBias', 'eligibleItems', 'userFactors', 'userBase', 'excludeOffsets', 'excludeIndices', 'outItems', 'outScores'];

/** What a worker receives: the buffer, where each array lives, the scalars and its user range. */
export interface BatchWorkerData {
  buffer: SharedArrayBuffer;
  arrays: Record<ArrayKey, ArrayDescriptor>;
  dim: number;
  numEligible: number;
  topN: number;
  userStart: number;
  userEnd: number;
}

/** Fills args.outItems/outScores for every user; `threads` ≤ 1 runs inline. */
export async function batchTopN(args: BatchArgs, threads: number): Promise<void> {
  const numUsers = args.userBase.length;
  const work = numUsers * args.numEligible;
  if (threads <= 1 || work < MIN_SCORES_FOR_THREADS || numUsers < threads) {
    batchTopNRange(args, 0, numUsers);
    return;
  }
  let bytes = 64;
  for (const key of ARRAY_KEYS) bytes += args[key].byteLength + 16;
  const arena = new SharedArena(bytes);
  const shared = {} as Record<ArrayKey, Float64Array | Int32Array>;
  const arrays = {} as Record<ArrayKey, ArrayDescriptor>;
  for (const key of ARRAY_KEYS) {
    const source = args[key];
    const view = source instanceof Float64Array ? arena.allocFloat64(source.length) : arena.allocInt32(source.length);
    view.set(source as never);
    shared[key] = view;
    arrays[key] = arena.describe(view);
  }
  const workerUrl = new URL('./batch-worker.js', import.meta.url);
  const jobs: Promise<void>[] = [];
  for (let t = 0; t < threads; t++) {
    const userStart = Math.floor((numUsers * t) / threads);
    const userEnd = Math.floor((numUsers * (t + 1)) / threads);
    const workerData: BatchWorkerData = {
      buffer: arena.buffer, arrays, dim: args.dim, numEligible: args.numEligible, topN: args.topN, userStart, userEnd,
    };
    jobs.push(
      new Promise<void>((resolve, reject) => {
        const worker = new Worker(workerUrl, { workerData });
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (code !== 0) reject(new Error(`batch worker exited with code ${code}`));
        });
      }),
    );
  }
  await Promise.all(jobs);
  args.outItems.set(shared.outItems as Int32Array);
  args.outScores.set(shared.outScores as Float64Array);
}
