import { describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import { AlsError } from '../src/errors.js';
import { foldMasks, foldSplit, makeFolds, parseFoldSpec, type Folds } from '../src/data/folds.js';
import { loadDataset } from '../src/data/load.js';
import { buildRatingMatrix } from '../src/data/matrix.js';
import { splitMask } from '../src/data/splits.js';
import type { Dataset, RatingList } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';

/** 300 users with 1–50 ratings each over 80 movies, random timestamps (with ties). */
function syntheticDataset(seed = 1): Dataset {
  const rng = new Random(seed);
  const users: number[] = [];
  const items: number[] = [];
  const values: number[] = [];
  const times: number[] = [];
  for (let u = 0; u < 300; u++) {
    const count = 1 + rng.nextInt(50);
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(rng.nextInt(80));
    for (const i of chosen) {
      users.push(u);
      items.push(i);
      values.push(1 + rng.nextInt(5));
      times.push(1_000_000 + rng.nextInt(5000));
    }
  }
  const list: RatingList = {
    length: users.length,
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    values: Float32Array.from(values),
    timestamps: Int32Array.from(times),
  };
  const { matrix, timestampsByUser } = buildRatingMatrix(300, 80, list);
  return {
    info: {
      name: 'synthetic',
      dir: '.',
      layout: 'plain',
      fingerprint: 'test',
      scale: { min: 1, max: 5, step: 1 },
    },
    userIds: Int32Array.from({ length: 300 }, (_, u) => u + 1),
    itemIds: Int32Array.from({ length: 80 }, (_, i) => i + 1),
    matrix,
    timestampsByUser,
    catalog: {
      titles: [],
      years: new Int32Array(0),
      genreNames: [],
      genreOffsets: new Int32Array(81),
      genreIds: new Int32Array(0),
    },
  };
}

/** For each rating, in how many folds' test parts it is (and never in a fold's train and test at once). */
function testCounts(folds: Folds): Int32Array {
  const counts = new Int32Array(folds.foldOf.length);
  for (let f = 0; f < folds.k; f++) {
    const { train, test } = foldMasks(folds, f);
    for (let p = 0; p < counts.length; p++) {
      if (test[p] === 0) {
        counts[p]!++;
        expect(train[p]).toBe(0);
      }
    }
  }
  return counts;
}

describe('parseFoldSpec', () => {
  it('accepts the four schemes and refuses bad ones with one line naming the forms', () => {
    expect(parseFoldSpec('ml100k')).toEqual({ scheme: 'ml100k', k: 5 });
    expect(parseFoldSpec('random:5')).toEqual({ scheme: 'random', k: 5 });
    expect(parseFoldSpec('user:3')).toEqual({ scheme: 'user', k: 3 });
    expect(parseFoldSpec('temporal:4')).toEqual({ scheme: 'temporal', k: 4 });
    for (const bad of ['random:1', 'random:x', 'random:2.5', 'kfold:5', 'random', 'user:101']) {
      expect(() => parseFoldSpec(bad)).toThrow(AlsError);
      expect(() => parseFoldSpec(bad)).toThrow(/^bad folds ".*": .*; valid forms: ml100k/);
    }
  });
});

describe('random and per-user k-fold', () => {
  const dataset = syntheticDataset();
  const n = dataset.matrix.numRatings;

  for (const spec of ['random:5', 'user:4']) {
    it(`${spec}: test parts are disjoint, cover every rating once, and train = the rest`, () => {
      const folds = makeFolds(dataset, spec, 7);
      const counts = testCounts(folds);
      expect(Array.from(counts).every((c) => c === 1)).toBe(true);
      for (let f = 0; f < folds.k; f++) {
        const split = foldSplit(dataset, folds, f);
        expect(split.train.numRatings + split.test.length).toBe(n);
      }
    });

    it(`${spec}: deterministic by seed (pairing), different with another seed`, () => {
      const a = makeFolds(dataset, spec, 7);
      const b = makeFolds(dataset, spec, 7);
      const c = makeFolds(dataset, spec, 8);
      expect(Buffer.from(a.foldOf.buffer).equals(Buffer.from(b.foldOf.buffer))).toBe(true);
      expect(Buffer.from(a.foldOf.buffer).equals(Buffer.from(c.foldOf.buffer))).toBe(false);
      const sa = foldSplit(dataset, a, 2);
      const sb = foldSplit(dataset, b, 2);
      expect(Array.from(sa.test.values)).toEqual(Array.from(sb.test.values));
      expect(Array.from(sa.test.users)).toEqual(Array.from(sb.test.users));
    });
  }

  it('random:5 folds differ in size by at most one', () => {
    const folds = makeFolds(dataset, 'random:5', 3);
    const sizes = new Array<number>(5).fill(0);
    for (const f of folds.foldOf) sizes[f]!++;
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('user:4: a user with n ratings has floor(n/4) or ceil(n/4) of them in each fold', () => {
    const folds = makeFolds(dataset, 'user:4', 3);
    const offsets = dataset.matrix.ratingsByUser.offsets;
    for (let u = 0; u < dataset.matrix.numUsers; u++) {
      const size = offsets[u + 1]! - offsets[u]!;
      const perFold = [0, 0, 0, 0];
      for (let p = offsets[u]!; p < offsets[u + 1]!; p++) perFold[folds.foldOf[p]!]!++;
      for (const c of perFold)
        expect(c === Math.floor(size / 4) || c === Math.ceil(size / 4)).toBe(true);
    }
  });

  it('a pool restricts the folds: ratings outside it are never trained on or tested', () => {
    const outer = splitMask(dataset, 'random:0.2', 5);
    const folds = makeFolds(dataset, 'random:5', 7, outer);
    const counts = testCounts(folds);
    for (let f = 0; f < folds.k; f++) {
      const { train } = foldMasks(folds, f);
      for (let p = 0; p < n; p++) if (outer[p] === 0) expect(train[p]).toBe(0);
    }
    for (let p = 0; p < n; p++) expect(counts[p]).toBe(outer[p] === 1 ? 1 : 0);
  });
});

describe('temporal folds', () => {
  it('each fold trains only on ratings no later than every rating it tests; blocks 1…K are each tested once', () => {
    const dataset = syntheticDataset(2);
    const times = dataset.timestampsByUser!;
    const folds = makeFolds(dataset, 'temporal:4', 1);
    const counts = testCounts(folds);
    for (let p = 0; p < counts.length; p++) expect(counts[p]).toBe(folds.foldOf[p] === 0 ? 0 : 1);
    for (let f = 0; f < 4; f++) {
      const { train, test } = foldMasks(folds, f);
      let latestTrain = -Infinity;
      let earliestTest = Infinity;
      for (let p = 0; p < counts.length; p++) {
        if (train[p] === 1) latestTrain = Math.max(latestTrain, times[p]!);
        if (test[p] === 0) earliestTest = Math.min(earliestTest, times[p]!);
      }
      expect(latestTrain).toBeLessThanOrEqual(earliestTest);
    }
  });
});

describe('official ML-100K folds', () => {
  it('u1…u5 are disjoint, cover all 100,000 ratings, and fold f holds out exactly u{f+1}.test', async () => {
    const dataset = await loadDataset(movielensDir('ml-100k'));
    const folds = makeFolds(dataset, 'ml100k', 1);
    const counts = testCounts(folds);
    expect(Array.from(counts).every((c) => c === 1)).toBe(true);
    for (let f = 0; f < 5; f++) {
      const official = splitMask(dataset, `ml100k:u${f + 1}`, 1);
      const { test } = foldMasks(folds, f);
      expect(Buffer.from(test).equals(Buffer.from(official))).toBe(true);
    }
    expect(() =>
      makeFolds(dataset, 'ml100k', 1, new Uint8Array(dataset.matrix.numRatings).fill(1)),
    ).toThrow(/official folds cover the whole/);
  });
});
