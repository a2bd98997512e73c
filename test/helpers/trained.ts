/**
 * Trains a small model on a real data set (no split) and packs it as a checkpoint, the way
 * `als train` does, for the recommendation tests. Uses the TypeScript kernel on one thread.
 */
import { createTrainer } from '../../src/core/trainer.js';
import { loadKernel } from '../../src/core/kernels.js';
import { DEFAULT_HYPERPARAMETERS } from '../../src/core/defaults.js';
import type { Hyperparameters } from '../../src/core/types.js';
import type { Checkpoint } from '../../src/data/checkpoint.js';
import type { Dataset } from '../../src/data/types.js';

export async function trainCheckpoint(
  dataset: Dataset,
  epochs: number,
  hyper: Partial<Hyperparameters> = {},
): Promise<Checkpoint> {
  // The recommendation tests were written for the latent model; the default kind is genre.
  const fullHyper: Hyperparameters = { ...DEFAULT_HYPERPARAMETERS, kind: 'latent', ...hyper };
  const { matrix, catalog } = dataset;
  const trainer = await createTrainer({
    train: matrix,
    validation: null,
    itemGenres: {
      offsets: catalog.genreOffsets,
      ids: catalog.genreIds,
      numGenres: catalog.genreNames.length,
    },
    hyper: fullHyper,
    seed: 1,
    threads: 1,
    kernel: await loadKernel('ts'),
  });
  const metrics = [];
  try {
    for (let e = 0; e < epochs; e++) metrics.push(await trainer.epoch());
  } finally {
    await trainer.close();
  }
  const state = trainer.state();
  const itemTrainCounts = new Int32Array(matrix.numItems);
  for (let i = 0; i < matrix.numItems; i++) {
    itemTrainCounts[i] = matrix.ratingsByItem.offsets[i + 1]! - matrix.ratingsByItem.offsets[i]!;
  }
  return {
    seed: 1,
    dataset: {
      name: dataset.info.name,
      dir: dataset.info.dir,
      fingerprint: dataset.info.fingerprint,
      numUsers: matrix.numUsers,
      numItems: matrix.numItems,
      scale: dataset.info.scale,
    },
    split: {
      spec: 'none',
      seed: 1,
      trainRatings: matrix.numRatings,
      testRatings: 0,
      testRatingsWithUnseenUser: 0,
      testRatingsWithUnseenItem: 0,
      usersWithoutTrainingRatings: 0,
    },
    epochsDone: epochs,
    bestEpoch: null,
    metrics,
    kernel: 'ts',
    threads: 1,
    createdAt: new Date(0).toISOString(),
    state,
    userIds: dataset.userIds,
    itemIds: dataset.itemIds,
    catalog,
    itemTrainCounts,
    trainItemsByUser: {
      offsets: matrix.ratingsByUser.offsets,
      items: matrix.ratingsByUser.indices,
    },
  };
}
