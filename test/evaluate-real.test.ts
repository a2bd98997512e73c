import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRanking, evaluateRatings, type TrainingIndex } from '../src/core/evaluate.js';
import { Random } from '../src/core/random.js';
import type { ModelState } from '../src/core/types.js';
import { loadDataset } from '../src/data/load.js';
import { makeSplit } from '../src/data/splits.js';
import type { Split } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';

let split: Split;
let train: TrainingIndex;
let numUsers: number;
let numItems: number;

beforeAll(async () => {
  const dataset = await loadDataset(movielensDir('ml-100k'));
  split = makeSplit(dataset, 'ml100k:u1', 1);
  numUsers = dataset.matrix.numUsers;
  numItems = dataset.matrix.numItems;
  const byItem = split.train.ratingsByItem.offsets;
  const itemCounts = new Int32Array(numItems);
  for (let i = 0; i < numItems; i++) itemCounts[i] = byItem[i + 1]! - byItem[i]!;
  train = {
    offsets: split.train.ratingsByUser.offsets,
    items: split.train.ratingsByUser.indices,
    itemCounts,
  };
});

/** A model with the given item scores as biases and, optionally, random factors (dim 3). */
function model(itemBias: Float64Array, seed: number | null): ModelState {
  const dim = seed === null ? 0 : 3;
  const random = new Random(seed ?? 0);
  return {
    hyper: {
      kind: dim === 0 ? 'bias' : 'latent',
      dim,
      lambda: 1,
      tau: 1,
      gamma: 1,
      genreTau: 1,
      weightedRegularization: false,
    },
    numUsers,
    numItems,
    globalMean: 3.5,
    userBias: new Float64Array(numUsers),
    itemBias,
    userFactors: Float64Array.from({ length: numUsers * dim }, () => random.nextGaussian()),
    itemFactors: Float64Array.from({ length: numItems * dim }, () => random.nextGaussian()),
    genreFactors: new Float64Array(0),
  };
}

/** Per-movie mean deviation from μ on the training ratings (a reasonable baseline). */
function itemMeans(): Float64Array {
  const { offsets, values } = split.train.ratingsByItem;
  const out = new Float64Array(numItems);
  for (let i = 0; i < numItems; i++) {
    let s = 0;
    for (let p = offsets[i]!; p < offsets[i + 1]!; p++) s += values[p]! - 3.5;
    out[i] = s / (offsets[i + 1]! - offsets[i]! + 5); // shrunk towards 0
  }
  return out;
}

describe('evaluation on ML-100K u1 (properties)', () => {
  it('segments agree with the split report and partition the held-out ratings', () => {
    const m = evaluateRatings(model(itemMeans(), 5), train, split.test);
    expect(m.all.count).toBe(split.test.length);
    expect(m.unseenUser.count).toBe(split.report.testRatingsWithUnseenUser);
    expect(m.unseenItem.count).toBe(split.report.testRatingsWithUnseenItem);
    const buckets = m.userActivity.reduce((s, b) => s + b.count, 0);
    expect(buckets + m.unseenUser.count).toBe(m.all.count);
    // Squared errors add up over the partition: n·RMSE² = Σ n_b·RMSE_b².
    let sumSq = 0;
    for (const b of [...m.userActivity, m.unseenUser]) sumSq += b.count * (b.rmse ?? 0) ** 2;
    expect(sumSq).toBeCloseTo(m.all.count * m.all.rmse! ** 2, 6);
    expect(m.all.mae!).toBeLessThanOrEqual(m.all.rmse!);
    // A constant predictor μ has RMSE = √(mean (r − μ)²).
    const constant = evaluateRatings(model(new Float64Array(numItems), null), train, split.test);
    let direct = 0;
    for (let t = 0; t < split.test.length; t++) direct += (split.test.values[t]! - 3.5) ** 2;
    expect(constant.all.rmse).toBeCloseTo(Math.sqrt(direct / split.test.length), 12);
    // Per-movie means beat the constant.
    const means = evaluateRatings(model(itemMeans(), null), train, split.test);
    expect(means.all.rmse!).toBeLessThan(constant.all.rmse!);
  });

  it('heap-based ranking equals a full sort, and metrics behave as they must', () => {
    const state = model(itemMeans(), 9);
    const k = 10;
    const fast = evaluateRanking(state, train, split.test, { k });
    // Reference: score, fully sort and count, user by user.
    const relevant = new Map<number, Set<number>>();
    for (let t = 0; t < split.test.length; t++) {
      if (split.test.values[t]! < 4) continue;
      const u = split.test.users[t]!;
      if (!relevant.has(u)) relevant.set(u, new Set());
      relevant.get(u)!.add(split.test.items[t]!);
    }
    let precision = 0;
    let ndcg = 0;
    const covered = new Set<number>();
    for (const [u, rel] of relevant) {
      const seen = new Set(train.items.subarray(train.offsets[u]!, train.offsets[u + 1]!));
      const candidates: [number, number][] = [];
      for (let i = 0; i < numItems; i++) {
        if (seen.has(i)) continue;
        let s = state.itemBias[i]!;
        for (let d = 0; d < 3; d++)
          s += state.userFactors[u * 3 + d]! * state.itemFactors[i * 3 + d]!;
        candidates.push([s, i]);
      }
      candidates.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      let hits = 0;
      let dcg = 0;
      let idcg = 0;
      candidates.slice(0, k).forEach(([, i], j) => {
        covered.add(i);
        if (rel.has(i)) {
          hits++;
          dcg += 1 / Math.log2(j + 2);
        }
      });
      for (let j = 0; j < Math.min(k, rel.size); j++) idcg += 1 / Math.log2(j + 2);
      precision += hits / k;
      ndcg += dcg / idcg;
    }
    expect(fast.users).toBe(relevant.size);
    expect(fast.precision).toBeCloseTo(precision / relevant.size, 12);
    expect(fast.ndcg).toBeCloseTo(ndcg / relevant.size, 12);
    expect(fast.coverage).toBeCloseTo(covered.size / numItems, 12);
    // Recall can only grow with k; precision·k·users is a hit count.
    const r20 = evaluateRanking(state, train, split.test, { k: 20 });
    const r50 = evaluateRanking(state, train, split.test, { k: 50 });
    expect(r20.recall).toBeGreaterThanOrEqual(fast.recall);
    expect(r50.recall).toBeGreaterThanOrEqual(r20.recall);
    expect(
      Math.abs(fast.precision * k * fast.users - Math.round(fast.precision * k * fast.users)),
    ).toBeLessThan(1e-6);
  });

  it('a popularity ranking beats a random one', () => {
    const popularity = Float64Array.from(train.itemCounts, (c) => Math.log1p(c));
    const pop = evaluateRanking(model(popularity, null), train, split.test);
    // Random factors, no biases: a different random order for every user.
    const rnd = evaluateRanking(model(new Float64Array(numItems), 4), train, split.test);
    expect(pop.precision).toBeGreaterThan(3 * rnd.precision);
    expect(pop.ndcg).toBeGreaterThan(rnd.ndcg);
    // Popularity recommends few distinct movies; random ones cover much more of the catalogue.
    expect(pop.coverage).toBeLessThan(rnd.coverage);
  });
});
