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

function option(name: string, fallback?: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const model = option('model');
if (!model) {
  process.stderr.write('usage: node dist/bench/recommend.js --model <checkpoint> [--movie-id id] [--runs n] [--threads n]\n');
  process.exit(2);
}
const runs = Number(option('runs', '5'));
const threads = Number(option('threads', String(availableParallelism())));
const top = Number(option('top', '10'));
const minRatings = Number(option('min-ratings', '20'));
const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/als.js');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
process.stdout.write(`load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);

const checkpoint = readCheckpoint(model);
const movieId = option('movie-id', String(checkpoint.itemIds[0]));
const wallMs: number[] = [];
for (let r = 0; r < runs; r++) {
  const start = performance.now();
  const result = spawnSync(process.execPath, [bin, 'recommend', '--model', model, '--movie-id', movieId!, '--top', String(top)], { encoding: 'utf8' });
  wallMs.push(performance.now() - start);
  if (result.status !== 0) throw new Error(`als recommend failed: ${result.stderr}`);
}
process.stdout.write(
  `als recommend --movie-id ${movieId} (${checkpoint.dataset.name}, ${checkpoint.state.numUsers} users × ${checkpoint.state.numItems} movies, dim ${checkpoint.state.hyper.dim}): ` +
    `median ${(median(wallMs) / 1000).toFixed(3)} s, min ${(Math.min(...wallMs) / 1000).toFixed(3)} s wall over ${runs} runs\n`,
);

if (!process.argv.includes('--skip-batch')) {
  const state = checkpoint.state;
  const eligible = eligibleMask(checkpoint.catalog, {
    ratingCounts: checkpoint.itemTrainCounts, minRatings, keepUnrated: false,
    includeGenres: [], excludeGenres: [], yearFrom: null, yearTo: null,
  });
  const compact = compactEligible(state, eligible);
  const userBase = Float64Array.from(state.userBias, (b) => state.globalMean + b);
  const start = performance.now();
  await batchTopN(
    {
      dim: state.hyper.dim, ...compact, userFactors: state.userFactors, userBase,
      excludeOffsets: checkpoint.trainItemsByUser.offsets, excludeIndices: checkpoint.trainItemsByUser.items,
      topN: top, outItems: new Int32Array(state.numUsers * top), outScores: new Float64Array(state.numUsers * top),
    },
    threads,
  );
  const elapsed = (performance.now() - start) / 1000;
  process.stdout.write(
    `batch top-${top} for ${state.numUsers} users over ${compact.numEligible} movies (floor ${minRatings}), ${threads} threads: ${elapsed.toFixed(2)} s ` +
      `(${((elapsed * 1e9) / (state.numUsers * compact.numEligible)).toFixed(2)} ns per user × movie)\n`,
  );
}
process.stdout.write(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
