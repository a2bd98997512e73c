import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import { AlsError, DataError } from '../src/errors.js';
import { loadDataset } from '../src/data/load.js';
import { buildRatingMatrix, matrixToRatingList } from '../src/data/matrix.js';
import { filterMatrix, makeSplit, parseSplitSpec } from '../src/data/splits.js';
import { generateSynth } from '../src/data/synth.js';
import type { Dataset, Layout, RatingList, Split } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-splits-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A data set from (userId, itemId, rating, timestamp) rows with original ids mapped densely in order of appearance. */
function datasetFrom(
  rows: ArrayLike<number>[],
  options: { name?: string; dir?: string; layout?: Layout } = {},
): Dataset {
  const userIndex = new Map<number, number>();
  const itemIndex = new Map<number, number>();
  const n = rows.length;
  const list: RatingList = {
    length: n,
    users: new Int32Array(n),
    items: new Int32Array(n),
    values: new Float32Array(n),
    timestamps: new Int32Array(n),
  };
  rows.forEach((row, k) => {
    if (!userIndex.has(row[0]!)) userIndex.set(row[0]!, userIndex.size);
    if (!itemIndex.has(row[1]!)) itemIndex.set(row[1]!, itemIndex.size);
    list.users[k] = userIndex.get(row[0]!)!;
    list.items[k] = itemIndex.get(row[1]!)!;
    list.values[k] = row[2]!;
    list.timestamps![k] = row[3]!;
  });
  const { matrix, timestampsByUser } = buildRatingMatrix(userIndex.size, itemIndex.size, list);
  return {
    info: {
      name: options.name ?? 'synthetic',
      dir: options.dir ?? scratch,
      layout: options.layout ?? 'plain',
      fingerprint: 'test',
      scale: { min: 0.5, max: 5, step: 0.5 },
    },
    userIds: Int32Array.from(userIndex.keys()),
    itemIds: Int32Array.from(itemIndex.keys()),
    matrix,
    timestampsByUser,
    catalog: {
      titles: [],
      years: new Int32Array(0),
      genreNames: [],
      genreOffsets: new Int32Array(1),
      genreIds: new Int32Array(0),
    },
  };
}

/** 200 users × up to 60 movies, random subset per user, distinct timestamps with some deliberate ties. */
function randomDataset(seed = 1): Dataset {
  const rng = new Random(seed);
  const rows: number[][] = [];
  for (let u = 0; u < 200; u++) {
    const count = 1 + rng.nextInt(40);
    const items = new Int32Array(60);
    for (let i = 0; i < 60; i++) items[i] = i;
    rng.shuffle(items);
    for (let j = 0; j < count; j++)
      rows.push([
        1000 + u,
        5000 + items[j]!,
        0.5 + 0.5 * rng.nextInt(10),
        1_000_000 + rng.nextInt(2000),
      ]);
  }
  return datasetFrom(rows);
}

/** Key of every rating as "user,item" in index space. */
function keysOfSplit(split: Split): { train: string[]; test: string[] } {
  const train: string[] = [];
  const { offsets, indices } = split.train.ratingsByUser;
  for (let u = 0; u < split.train.numUsers; u++)
    for (let e = offsets[u]!; e < offsets[u + 1]!; e++) train.push(`${u},${indices[e]}`);
  const test: string[] = [];
  for (let t = 0; t < split.test.length; t++)
    test.push(`${split.test.users[t]},${split.test.items[t]}`);
  return { train, test };
}

function allKeys(dataset: Dataset): string[] {
  return keysOfSplit(makeSplit(dataset, 'none', 0)).train;
}

function expectPartition(dataset: Dataset, split: Split): void {
  const { train, test } = keysOfSplit(split);
  const trainSet = new Set(train);
  for (const key of test) expect(trainSet.has(key)).toBe(false);
  expect(new Set(test).size).toBe(test.length);
  expect([...train, ...test].sort()).toEqual(allKeys(dataset).sort());
  expect(split.report.trainRatings + split.report.testRatings).toBe(dataset.matrix.numRatings);
  expect(split.train.ratingsByItem.offsets[split.train.numItems]).toBe(split.report.trainRatings);
}

describe('parseSplitSpec', () => {
  it('accepts every documented form', () => {
    expect(parseSplitSpec('none')).toEqual({ kind: 'none' });
    expect(parseSplitSpec('random:0.2')).toEqual({ kind: 'random', fraction: 0.2 });
    expect(parseSplitSpec('user:0.1')).toEqual({ kind: 'user', fraction: 0.1 });
    expect(parseSplitSpec('temporal:0.25')).toEqual({ kind: 'temporal', fraction: 0.25 });
    expect(parseSplitSpec('cold-items:0.05')).toEqual({ kind: 'cold-items', fraction: 0.05 });
    expect(parseSplitSpec('ml100k:ub')).toEqual({ kind: 'ml100k', fold: 'ub' });
    expect(parseSplitSpec('file:a/b.csv')).toEqual({ kind: 'file', path: 'a/b.csv' });
  });

  it('refuses bad specs with one line listing the valid forms', () => {
    for (const bad of [
      '',
      'random',
      'random:',
      'random:1',
      'random:0',
      'random:-0.1',
      'random:x',
      'user:1.5',
      'ml100k:u6',
      'file:',
      'holdout:0.1',
    ]) {
      let error: unknown;
      try {
        parseSplitSpec(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AlsError);
      const message = (error as Error).message;
      expect(message).not.toContain('\n');
      expect(message).toContain('valid forms: none, random:F');
    }
  });
});

describe('filterMatrix', () => {
  it('gives exactly what re-indexing the kept ratings with buildRatingMatrix gives', () => {
    const dataset = randomDataset(21);
    const rng = new Random(4);
    const n = dataset.matrix.numRatings;
    const keep = new Uint8Array(n);
    for (let k = 0; k < n; k++) keep[k] = rng.nextFloat() < 0.7 ? 1 : 0;
    const { train, trainTimestamps } = filterMatrix(dataset.matrix, dataset.timestampsByUser, keep);
    const expected = buildRatingMatrix(
      dataset.matrix.numUsers,
      dataset.matrix.numItems,
      matrixToRatingList(dataset.matrix, dataset.timestampsByUser),
      keep,
    );
    expect(train).toEqual(expected.matrix);
    expect(trainTimestamps).toEqual(expected.timestampsByUser);
    expect(train.numRatings).toBeGreaterThan(0.6 * n);
    expect(train.numRatings).toBeLessThan(0.8 * n);
  });
});

describe('makeSplit', () => {
  const dataset = randomDataset();
  const n = dataset.matrix.numRatings;

  it('none: everything trains, nothing is held out', () => {
    const split = makeSplit(dataset, 'none', 1);
    expect(split.test.length).toBe(0);
    expect(split.train.numRatings).toBe(n);
    expect(split.report.testRatingsWithUnseenUser).toBe(0);
  });

  it('random:F holds out round(F·n) ratings, a partition, deterministic by seed', () => {
    const split = makeSplit(dataset, 'random:0.2', 7);
    expect(split.test.length).toBe(Math.round(0.2 * n));
    expectPartition(dataset, split);
    const again = makeSplit(dataset, 'random:0.2', 7);
    expect(keysOfSplit(again).test).toEqual(keysOfSplit(split).test);
    const other = makeSplit(dataset, 'random:0.2', 8);
    expect(keysOfSplit(other).test).not.toEqual(keysOfSplit(split).test);
    // Test values and timestamps travel with their ratings.
    const { offsets, indices, values } = dataset.matrix.ratingsByUser;
    for (let t = 0; t < split.test.length; t++) {
      const u = split.test.users[t]!;
      const row = Array.from(indices.subarray(offsets[u]!, offsets[u + 1]!));
      const e = offsets[u]! + row.indexOf(split.test.items[t]!);
      expect(split.test.values[t]).toBe(values[e]);
      expect(split.test.timestamps![t]).toBe(dataset.timestampsByUser![e]);
    }
  });

  it('user:F holds out round(F·n_u) per user and keeps at least one training rating each', () => {
    const split = makeSplit(dataset, 'user:0.3', 3);
    expectPartition(dataset, split);
    const full = dataset.matrix.ratingsByUser.offsets;
    const train = split.train.ratingsByUser.offsets;
    let singles = 0;
    for (let u = 0; u < dataset.matrix.numUsers; u++) {
      const size = full[u + 1]! - full[u]!;
      const kept = train[u + 1]! - train[u]!;
      expect(kept).toBeGreaterThanOrEqual(1);
      expect(size - kept).toBe(Math.min(Math.round(0.3 * size), size - 1));
      if (size === 1) singles++;
    }
    expect(singles).toBeGreaterThan(0); // the data set exercises the keep-one rule
    expect(split.report.testRatingsWithUnseenUser).toBe(0);
    expect(split.report.usersWithoutTrainingRatings).toBe(0);
    expect(keysOfSplit(makeSplit(dataset, 'user:0.3', 3)).test).toEqual(keysOfSplit(split).test);
  });

  it('temporal:F holds out the latest ratings; ties at the cut-off are broken the same way every time', () => {
    const split = makeSplit(dataset, 'temporal:0.25', 1);
    expectPartition(dataset, split);
    expect(split.test.length).toBe(Math.round(0.25 * n));
    const trainTimes = split.trainTimestamps!;
    const latestTrain = Math.max(...trainTimes);
    const earliestTest = Math.min(...split.test.timestamps!);
    expect(earliestTest).toBeGreaterThanOrEqual(latestTrain);
    // The seed does not matter: it is a function of the timestamps only.
    expect(keysOfSplit(makeSplit(dataset, 'temporal:0.25', 99)).test).toEqual(
      keysOfSplit(split).test,
    );
  });

  it('temporal:F with all-equal timestamps still holds out exactly round(F·n)', () => {
    const rows = Array.from({ length: 50 }, (_, k) => [1 + (k % 7), 100 + k, 3, 42]);
    const tied = datasetFrom(rows);
    const split = makeSplit(tied, 'temporal:0.3', 1);
    expect(split.test.length).toBe(15);
    expectPartition(tied, split);
  });

  it('temporal:F needs timestamps', () => {
    const noTimes = { ...dataset, timestampsByUser: null };
    expect(() => makeSplit(noTimes, 'temporal:0.1', 1)).toThrow(/needs timestamps/);
  });

  it('cold-items:F moves whole movies to test: none of them appears in training', () => {
    const split = makeSplit(dataset, 'cold-items:0.1', 5);
    expectPartition(dataset, split);
    const heldItems = new Set(split.test.items);
    expect(heldItems.size).toBe(Math.round(0.1 * 60));
    const cols = split.train.ratingsByItem.offsets;
    for (const item of heldItems) expect(cols[item + 1]! - cols[item]!).toBe(0);
    expect(split.report.testRatingsWithUnseenItem).toBe(split.test.length);
    // Every rating of those movies went.
    const fullCols = dataset.matrix.ratingsByItem.offsets;
    let expected = 0;
    for (const item of heldItems) expected += fullCols[item + 1]! - fullCols[item]!;
    expect(split.test.length).toBe(expected);
  });

  it('reports test ratings whose user or movie is unseen in training', () => {
    // User 1 has one rating (movie 10); movie 30 has one rating (user 2); hold out exactly those.
    const tiny = datasetFrom([
      [1, 10, 4, 1],
      [2, 20, 3, 2],
      [2, 30, 5, 3],
      [3, 20, 2, 4],
      [3, 10, 1, 5],
    ]);
    const file = path.join(scratch, 'tiny-test.csv');
    writeFileSync(file, 'userId,movieId\n1,10\n2,30\n');
    const split = makeSplit(tiny, `file:${file}`, 0);
    expect(split.report).toMatchObject({
      trainRatings: 3,
      testRatings: 2,
      testRatingsWithUnseenUser: 1,
      testRatingsWithUnseenItem: 1,
      usersWithoutTrainingRatings: 1,
    });
  });

  it('file:<path> holds out exactly the listed ratings (original ids; TSV works too)', () => {
    const picked = makeSplit(dataset, 'random:0.1', 11);
    const lines = Array.from(
      { length: picked.test.length },
      (_, t) =>
        `${dataset.userIds[picked.test.users[t]!]}\t${dataset.itemIds[picked.test.items[t]!]}\t${picked.test.values[t]}`,
    );
    const file = path.join(scratch, 'listed.tsv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const split = makeSplit(dataset, `file:${file}`, 0);
    expect(keysOfSplit(split).test).toEqual(keysOfSplit(picked).test);
    expectPartition(dataset, split);
  });

  it('file:<path> errors name the file and line', () => {
    const { offsets, indices } = dataset.matrix.ratingsByUser;
    const u0 = dataset.userIds[0]!;
    const firstItem = dataset.itemIds[indices[offsets[0]!]!]!;
    const cases: [string, RegExp][] = [
      [`${u0},${firstItem}\n9999,5000\n`, /:2: user 9999 is not in synthetic$/],
      ['1000,77777\n', /:1: movie 77777 is not in synthetic$/],
      ['userId,movieId\n1000,x\n', /:2: user and movie ids must be integers/],
      ['1000\n', /:1: expected user,item/],
    ];
    // A pair the data set does not rate, and a repeated pair.
    const ratedIds = new Set(
      Array.from(indices.subarray(offsets[0]!, offsets[1]!), (i) => dataset.itemIds[i]!),
    );
    const unrated = Array.from(dataset.itemIds).find((id) => !ratedIds.has(id));
    expect(unrated).toBeDefined();
    cases.push([
      `${u0},${unrated}\n`,
      new RegExp(`:1: user ${u0} has not rated movie ${unrated} in synthetic$`),
    ]);
    cases.push([
      `${u0},${firstItem}\n${u0},${firstItem}\n`,
      /:2: user \d+, movie \d+ is listed twice/,
    ]);
    for (const [text, pattern] of cases) {
      const file = path.join(scratch, 'bad.csv');
      writeFileSync(file, text);
      let error: unknown;
      try {
        makeSplit(dataset, `file:${file}`, 0);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DataError);
      expect((error as Error).message).toMatch(pattern);
      expect((error as Error).message.startsWith(file)).toBe(true);
    }
    expect(() => makeSplit(dataset, `file:${path.join(scratch, 'missing.csv')}`, 0)).toThrow(
      /split test file not found/,
    );
  });

  it('ml100k:uN refuses other data sets and missing fold files', () => {
    expect(() => makeSplit(dataset, 'ml100k:u1', 0)).toThrow(/needs the ml-100k data set/);
    const fake = {
      ...dataset,
      info: { ...dataset.info, layout: 'ml-100k' as Layout, name: 'ml-100k' },
    };
    expect(() => makeSplit(fake, 'ml100k:u2', 0)).toThrow(/u2\.base not found/);
  });
});

describe('makeSplit on real ML-100K', () => {
  let ml100k: Dataset;
  beforeAll(async () => {
    ml100k = await loadDataset(movielensDir('ml-100k'), { cache: false });
  });

  it('ml100k:u1 holds out exactly u1.test: 80,000 train / 20,000 test', () => {
    const split = makeSplit(ml100k, 'ml100k:u1', 0);
    expect(split.report.trainRatings).toBe(80_000);
    expect(split.report.testRatings).toBe(20_000);
    expectPartition(ml100k, split);
    // Spot-check against the file: the first line of u1.test is held out with its rating.
    const first = readFileSync(path.join(ml100k.info.dir, 'u1.test'), 'latin1')
      .split('\n')[0]!
      .split('\t')
      .map(Number);
    const u = ml100k.userIds.indexOf(first[0]!);
    const i = ml100k.itemIds.indexOf(first[1]!);
    const t = split.test.users.findIndex((user, k) => user === u && split.test.items[k] === i);
    expect(t).toBeGreaterThanOrEqual(0);
    expect(split.test.values[t]).toBe(first[2]);
  });

  it('ml100k:ua holds out ten ratings per user (the published fold)', () => {
    const split = makeSplit(ml100k, 'ml100k:ua', 0);
    expect(split.report.testRatings).toBe(9_430);
    expect(split.report.testRatingsWithUnseenUser).toBe(0);
  });

  it('every split of the real set is a partition; per-user keeps one rating per user', () => {
    for (const spec of ['random:0.1', 'user:0.2', 'temporal:0.1', 'cold-items:0.05', 'ml100k:u3']) {
      const split = makeSplit(ml100k, spec, 42);
      expect(split.report.trainRatings + split.report.testRatings).toBe(100_000);
      expect(split.train.numRatings).toBe(split.report.trainRatings);
    }
    expect(makeSplit(ml100k, 'user:0.2', 42).report.usersWithoutTrainingRatings).toBe(0);
    const cold = makeSplit(ml100k, 'cold-items:0.05', 42);
    expect(cold.report.testRatingsWithUnseenItem).toBe(cold.report.testRatings);
    expect(new Set(cold.test.items).size).toBe(Math.round(0.05 * 1682));
  });
});

describe('makeSplit on a synthetic set loaded through the readers', () => {
  it('a file:<path> split written in original ids reproduces exactly', async () => {
    const out = path.join(scratch, 'synth');
    generateSynth({ out, users: 60, movies: 200, ratings: 3000, rank: 3, noise: 0.5, seed: 4 });
    const dataset = await loadDataset(out, { cache: false });
    expect(dataset.matrix.numRatings).toBe(3000);
    const temporal = makeSplit(dataset, 'temporal:0.2', 0);
    const lines = ['userId,movieId,rating'];
    for (let t = 0; t < temporal.test.length; t++) {
      lines.push(
        `${dataset.userIds[temporal.test.users[t]!]},${dataset.itemIds[temporal.test.items[t]!]},${temporal.test.values[t]}`,
      );
    }
    const file = path.join(scratch, 'temporal-test.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const replay = makeSplit(dataset, `file:${file}`, 0);
    expect(keysOfSplit(replay).test).toEqual(keysOfSplit(temporal).test);
    expect(replay.report.testRatings).toBe(600);
  });
});
