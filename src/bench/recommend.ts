/**
 * Recommendation speed: `als recommend` wall time including process start and checkpoint load,
 * and the batch top-N for every user (`--all-users`), on a checkpoint written by `als train`.
 *
 *   node dist/bench/recommend.js --model data/models/ml-latest-small-genre.als [--movie-id 1]
 *     [--runs 5] [--threads 2] [--top 10] [--min-ratings 20] [--skip-batch]
 *
 * Prints the median and min of the wall times and the load average (other processes on the
 * machine inflate wall times; the numbers are only comparable on a quiet machine).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpoint } from '../data/checkpoint.js';
import { compactEligible } from '../core/batch.js';
import { batchTopN } from '../core/batch-pool.js';
import { eligibleMask } from '../core/recommend.js';
import { benchCommand, nonNegativeInteger, positiveInteger } from './options.js';

const options = benchCommand(
  'recommend',
  'als recommend latency (process start to list) and the batch top-N for every user',
)
  .requiredOption('--model <checkpoint>', 'checkpoint written by als train')
  .option(
    '--movie-id <id>',
    'the liked movie of the timed als recommend (default: the first movie of the checkpoint)',
    positiveInteger,
  )
  .option('--runs <n>', 'timed als recommend processes', positiveInteger, 5)
  .option('--threads <n>', 'threads of the batch top-N', positiveInteger, availableParallelism())
  .option('--top <n>', 'list length', positiveInteger, 10)
  .option('--min-ratings <n>', 'popularity floor of the batch top-N', nonNegativeInteger, 20)
  .option('--skip-batch', 'skip the batch top-N', false)
  .parse()
  .opts<{
    model: string;
    movieId?: number;
    runs: number;
    threads: number;
    top: number;
    minRatings: number;
    skipBatch: boolean;
  }>();
const { model, runs, threads, top, minRatings } = options;
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/als.js');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
process.stdout.write(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);

const checkpoint = readCheckpoint(model);
const movieId = String(options.movieId ?? checkpoint.itemIds[0]);
const wallMs: number[] = [];
for (let r = 0; r < runs; r++) {
  const start = performance.now();
  const result = spawnSync(
    process.execPath,
    [bin, 'recommend', '--model', model, '--movie-id', movieId, '--top', String(top)],
    { encoding: 'utf8' },
  );
  wallMs.push(performance.now() - start);
  if (result.status !== 0) throw new Error(`als recommend failed: ${result.stderr}`);
}
process.stdout.write(
  `als recommend --movie-id ${movieId} (${checkpoint.dataset.name}, ${checkpoint.state.numUsers} users × ${checkpoint.state.numItems} movies, dim ${checkpoint.state.hyper.dim}): ` +
    `median ${(median(wallMs) / 1000).toFixed(3)} s, min ${(Math.min(...wallMs) / 1000).toFixed(3)} s wall over ${runs} runs\n`,
);

if (!options.skipBatch) {
  const state = checkpoint.state;
  const eligible = eligibleMask(checkpoint.catalog, {
    ratingCounts: checkpoint.itemTrainCounts,
    minRatings,
    keepUnrated: false,
    includeGenres: [],
    excludeGenres: [],
    yearFrom: null,
    yearTo: null,
  });
  const compact = compactEligible(state, eligible);
  const userBase = Float64Array.from(state.userBias, (b) => state.globalMean + b);
  const start = performance.now();
  await batchTopN(
    {
      dim: state.hyper.dim,
      ...compact,
      userFactors: state.userFactors,
      userBase,
      excludeOffsets: checkpoint.trainItemsByUser.offsets,
      excludeIndices: checkpoint.trainItemsByUser.items,
      topN: top,
      outItems: new Int32Array(state.numUsers * top),
      outScores: new Float64Array(state.numUsers * top),
    },
    threads,
  );
  const elapsed = (performance.now() - start) / 1000;
  process.stdout.write(
    `batch top-${top} for ${state.numUsers} users over ${compact.numEligible} movies (floor ${minRatings}), ${threads} threads: ${elapsed.toFixed(2)} s ` +
      `(${((elapsed * 1e9) / (state.numUsers * compact.numEligible)).toFixed(2)} ns per user × movie)\n`,
  );
}
process.stdout.write(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);
