/**
 * Runs batchTopNRange on worker threads. Every array is copied once into one SharedArrayBuffer;
 * each worker rebuilds the views and fills its own range of users (the cost per user is the same,
 * E · dim multiply-adds, so equal user ranges balance). Small jobs run on the calling thread.
 */
import { Worker } from 'node:worker_threads';
import { SharedArena, type ArrayDescriptor } from './arena.js';
import { batchTopNRange, type BatchArgs } from './batch.js';
import { batchTopNRangeWasm } from './batch-wasm.js';

/** Which implementation scores: the WebAssembly SIMD kernel when it loads (auto), or TypeScript. */
export type BatchKernel = 'auto' | 'ts';

/** Runs one range with the chosen kernel (auto: wasm when available, else TypeScript). */
export function runBatchRange(args: BatchArgs, userStart: number, userEnd: number, kernel: BatchKernel): void {
  if (kernel === 'auto' && batchTopNRangeWasm(args, userStart, userEnd)) return;
  batchTopNRange(args, userStart, userEnd);
}

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
  kernel: BatchKernel;
}

/** The compiled worker script: next to this file in dist/, or in dist/ when running from src/ (vitest). */
function batchWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('../../dist/core/batch-worker.js', here);
  return new URL('./batch-worker.js', here);
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
  if (threads <= 1 || work < (options.minScoresForThreads ?? MIN_SCORES_FOR_THREADS) || numUsers < threads) {
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
    const view = source instanceof Float64Array ? arena.allocFloat64(source.length) : arena.allocInt32(source.length);
    view.set(source as never);
    shared[key] = view;
    arrays[key] = arena.describe(view);
  }
  const workerUrl = batchWorkerUrl();
  const jobs: Promise<void>[] = [];
  for (let t = 0; t < threads; t++) {
    const userStart = Math.floor((numUsers * t) / threads);
    const userEnd = Math.floor((numUsers * (t + 1)) / threads);
    const workerData: BatchWorkerData = {
      buffer: arena.buffer, arrays, dim: args.dim, numEligible: args.numEligible, topN: args.topN, userStart, userEnd, kernel,
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
