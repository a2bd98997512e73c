import type { Checkpoint } from '../../src/data/checkpoint.js';

/** A tiny genre-model checkpoint: 3 users, 4 movies, 2 genres, dim 2; values chosen by hand. */
export function sampleCheckpoint(): Checkpoint {
  const dim = 2;
  return {
    seed: 7,
    dataset: {
      name: 'tiny',
      dir: '/nowhere/tiny',
      fingerprint: 'abc123',
      numUsers: 3,
      numItems: 4,
      scale: { min: 1, max: 5, step: 1 },
    },
    split: {
      spec: 'random:0.1',
      seed: 7,
      trainRatings: 5,
      testRatings: 1,
      testRatingsWithUnseenUser: 0,
      testRatingsWithUnseenItem: 1,
      usersWithoutTrainingRatings: 0,
    },
    epochsDone: 2,
    bestEpoch: null,
    metrics: [
      { epoch: 1, loss: 10.5, trainRmse: 1.1, validationRmse: 1.2, elapsedMs: 3 },
      { epoch: 2, loss: 9.25, trainRmse: 0.9, validationRmse: null, elapsedMs: 2.5 },
    ],
    kernel: 'ts',
    threads: 2,
    createdAt: '2026-11-27T09:00:00.000Z',
    state: {
      hyper: {
        kind: 'genre',
        dim,
        lambda: 1,
        tau: 10,
        gamma: 5,
        genreTau: 2,
        weightedRegularization: true,
      },
      numUsers: 3,
      numItems: 4,
      globalMean: 3.5,
      userBias: new Float64Array([0.1, -0.2, 0.3]),
      itemBias: new Float64Array([1, 2, 3, 4]),
      userFactors: Float64Array.from({ length: 3 * dim }, (_, k) => k / 7),
      itemFactors: Float64Array.from({ length: 4 * dim }, (_, k) => -k / 3),
      genreFactors: new Float64Array([0.5, 0.25, -0.5, Math.PI]),
    },
    userIds: new Int32Array([10, 20, 30]),
    itemIds: new Int32Array([1, 2, 5, 99]),
    catalog: {
      titles: ['Toy Story', 'Amélie', 'Saw, The', ''],
      years: new Int32Array([1995, 2001, 2004, 0]),
      genreNames: ['Animation', 'Horror'],
      genreOffsets: new Int32Array([0, 1, 1, 2, 3]),
      genreIds: new Int32Array([0, 1, 1]),
    },
    itemTrainCounts: new Int32Array([2, 1, 2, 0]),
    trainItemsByUser: {
      offsets: new Int32Array([0, 2, 4, 5]),
      items: new Int32Array([0, 2, 1, 2, 0]),
    },
  };
}
