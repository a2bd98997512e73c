/**
 * Whole-epoch benchmark through the trainer: `node dist/bench/epoch.js [--scale 1] [--epochs 2]
 * [--threads 1,2] [--kernels wasm,ts] [--dim 30]`.
 *
 * Synthetic ratings in MovieLens-32M's shape (200,948 users with power-law activity, at least 20
 * each; 87,585 movies with power-law popularity; ≈ 32M ratings; half-star values), the latent
 * model at dim 30 with weighted regularisation. Reports the trainer's own epoch time (both
 * half-epochs, without the metrics) for every kernel × thread count; the first epoch is reported
 * apart from the best later one (it includes warming up caches and JIT).
 */
import { Option } from 'commander';
import { createTrainer } from '../core/trainer.js';
import { loadKernel, type KernelName } from '../core/kernels.js';
import { Random } from '../core/random.js';
import { buildRatingMatrix } from '../data/matrix.js';
import type { RatingList } from '../data/types.js';
import { benchCommand, listOf, oneOf, positiveInteger, positiveNumber } from './options.js';
import { ML32M_MOVIES, ML32M_RATINGS, ML32M_USERS, powerLawCounts } from './half-epoch-problem.js';

interface EpochBenchOptions {
  scale: number;
  epochs: number;
  dim: number;
  threads: number[];
  kernels: KernelName[];
}

function parseOptions(): EpochBenchOptions {
  return benchCommand(
    'epoch',
    'whole ALS epochs on a MovieLens-32M-shaped synthetic set, per kernel and thread count',
  )
    .option(
      '--scale <s>',
      "fraction of MovieLens-32M's users and ratings (the movies stay)",
      positiveNumber,
      1,
    )
    .option('--epochs <n>', 'epochs per kernel × thread count', positiveInteger, 2)
    .option('--dim <k>', 'latent dimension', positiveInteger, 30)
    .addOption(
      new Option('--threads <list>', 'comma-separated thread counts')
        .argParser(listOf(positiveInteger))
        .default([1, 2], '1,2'),
    )
    .addOption(
      new Option('--kernels <list>', 'comma-separated kernels (ts, wasm)')
        .argParser(listOf(oneOf(['ts', 'wasm'])))
        .default(['wasm', 'ts'], 'wasm,ts'),
    )
    .parse()
    .opts<EpochBenchOptions>();
}

async function main(): Promise<void> {
  const options = parseOptions();
  const rng = new Random(2024);
  const numUsers = Math.round(ML32M_USERS * options.scale);
  const numItems = ML32M_MOVIES;
  const counts = powerLawCounts(numUsers, Math.round(ML32M_RATINGS * options.scale), 30_000, rng);
  let length = 0;
  for (const c of counts) length += c;
  const list: RatingList = {
    length,
    users: new Int32Array(length),
    items: new Int32Array(length),
    values: new Float32Array(length),
    timestamps: null,
  };
  // Distinct movies per user (drawn with popularity ∝ 1/√rank, repeats redrawn) so that the
  // matrix has no duplicate pairs, as a deduplicated MovieLens set has none.
  const seen = new Int32Array(numItems).fill(-1);
  let e = 0;
  for (let u = 0; u < numUsers; u++) {
    for (let k = 0; k < counts[u]!; k++) {
      let item: number;
      do item = Math.min(numItems - 1, Math.floor(numItems * rng.nextFloat() ** 2));
      while (seen[item] === u && counts[u]! < numItems / 2);
      seen[item] = u;
      list.users[e] = u;
      list.items[e] = item;
      list.values[e] = 0.5 + 0.5 * rng.nextInt(10);
      e++;
    }
  }
  const { matrix } = buildRatingMatrix(numUsers, numItems, list);
  console.log(
    `data: ${numUsers.toLocaleString('en-US')} users × ${numItems.toLocaleString('en-US')} movies, ` +
      `${matrix.numRatings.toLocaleString('en-US')} ratings; latent model, dim ${options.dim}; node ${process.version}`,
  );
  console.log('other processes share this 2-core machine: numbers are noisy');
  console.log(
    `${'kernel'.padEnd(8)}${'threads'.padStart(8)}${'epoch 1 s'.padStart(12)}${'best later s'.padStart(14)}${'loss'.padStart(16)}`,
  );
  for (const kernelName of options.kernels) {
    const kernel = await loadKernel(kernelName);
    for (const threads of options.threads) {
      const trainer = await createTrainer({
        train: matrix,
        validation: null,
        itemGenres: null,
        hyper: {
          kind: 'latent',
          dim: options.dim,
          lambda: 1,
          tau: 0.05,
          gamma: 0.05,
          genreTau: 1,
          weightedRegularization: true,
        },
        seed: 1,
        threads,
        kernel,
      });
      const seconds: number[] = [];
      let loss = NaN;
      try {
        for (let epoch = 0; epoch < options.epochs; epoch++) {
          const metrics = await trainer.epoch();
          seconds.push(metrics.elapsedMs / 1000);
          loss = metrics.loss;
        }
      } finally {
        await trainer.close();
      }
      const later = seconds.length > 1 ? Math.min(...seconds.slice(1)).toFixed(2) : '-';
      console.log(
        `${kernelName.padEnd(8)}${String(threads).padStart(8)}${seconds[0]!.toFixed(2).padStart(12)}${later.padStart(14)}${loss.toExponential(6).padStart(16)}`,
      );
    }
  }
}

await main();
