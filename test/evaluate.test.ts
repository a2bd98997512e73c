import { describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import type { ModelKind, ModelState } from '../src/core/types.js';
import { predict } from '../src/core/als.js';
import { evaluateRanking, evaluateRatings, type TrainingIndex } from '../src/core/evaluate.js';
import { TopK } from '../src/core/topk.js';

function model(
  kind: ModelKind,
  dim: number,
  globalMean: number,
  userBias: number[],
  itemBias: number[],
  userFactors: number[],
  itemFactors: number[],
): ModelState {
  return {
    hyper: { kind, dim, lambda: 1, tau: 1, gamma: 1, genreTau: 1, weightedRegularization: false },
    numUsers: userBias.length,
    numItems: itemBias.length,
    globalMean,
    userBias: Float64Array.from(userBias),
    itemBias: Float64Array.from(itemBias),
    userFactors: Float64Array.from(userFactors),
    itemFactors: Float64Array.from(itemFactors),
    genreFactors: new Float64Array(0),
  };
}

function ratings(triples: [number, number, number][]) {
  return {
    length: triples.length,
    users: Int32Array.from(triples.map((t) => t[0])),
    items: Int32Array.from(triples.map((t) => t[1])),
    values: Float32Array.from(triples.map((t) => t[2])),
  };
}

function trainIndex(numUsers: number, numItems: number, pairs: [number, number][]): TrainingIndex {
  const offsets = new Int32Array(numUsers + 1);
  for (const [u] of pairs) offsets[u + 1]!++;
  for (let u = 0; u < numUsers; u++) offsets[u + 1]! += offsets[u]!;
  const items = new Int32Array(pairs.length);
  const cursor = offsets.slice(0, numUsers);
  const itemCounts = new Int32Array(numItems);
  for (const [u, i] of pairs) {
    items[cursor[u]!++] = i;
    itemCounts[i]!++;
  }
  return { offsets, items, itemCounts };
}

describe('evaluateRatings', () => {
  // μ = 3; user 0: b = 0.5, x = 1; user 1 unseen (zeros). Items: c = [0, 1, −1], y = [0.5, −0.5, 0].
  const state = model('latent', 1, 3, [0.5, 0], [0, 1, -1], [1, 0], [0.5, -0.5, 0]);
  const train = trainIndex(2, 3, [[0, 0]]);
  // Predictions: (0,1) 4.0, (1,0) 3.0, (1,2) 2.0, (0,2) 2.5 → errors 0, −1, 2, −0.5.
  const test = ratings([
    [0, 1, 4],
    [1, 0, 2],
    [1, 2, 4],
    [0, 2, 2],
  ]);

  it('predicts μ + b_u + c_i + x_u·y_i', () => {
    expect(predict(state, 0, 1)).toBeCloseTo(4.0, 12);
    expect(predict(state, 0, 2)).toBeCloseTo(2.5, 12);
  });

  it('computes RMSE and MAE overall and per segment (hand-computed)', () => {
    const m = evaluateRatings(state, train, test);
    expect(m.all.count).toBe(4);
    expect(m.all.rmse).toBeCloseTo(Math.sqrt(5.25 / 4), 12);
    expect(m.all.mae).toBeCloseTo(3.5 / 4, 12);
    expect(m.unseenUser).toMatchObject({ count: 2 });
    expect(m.unseenUser.rmse).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(m.unseenUser.mae).toBeCloseTo(1.5, 12);
    expect(m.unseenItem.count).toBe(3);
    expect(m.unseenItem.rmse).toBeCloseTo(Math.sqrt(4.25 / 3), 12);
    expect(m.unseenItem.mae).toBeCloseTo(2.5 / 3, 12);
    expect(m.fallbacks).toEqual({ unseenUser: 2, unseenItem: 3, genrePrior: 0, both: 1 });
    expect(m.userActivity.map((b) => b.label)).toEqual(['1–19', '20–49', '50–199', '200+']);
    expect(m.userActivity[0]!.count).toBe(2);
    expect(m.userActivity[0]!.rmse).toBeCloseTo(Math.sqrt(0.125), 12);
    expect(m.userActivity[0]!.mae).toBeCloseTo(0.25, 12);
    expect(m.userActivity[1]).toMatchObject({ count: 0, rmse: null, mae: null });
  });

  it('puts users into activity buckets by training count, bounds inclusive', () => {
    const counts = [1, 19, 20, 49, 50, 199, 200, 500];
    const pairs: [number, number][] = [];
    counts.forEach((c, u) => {
      for (let i = 0; i < c; i++) pairs.push([u, i]);
    });
    const s = model('bias', 0, 3, new Array(8).fill(0), new Array(600).fill(0), [], []);
    const m = evaluateRatings(
      s,
      trainIndex(8, 600, pairs),
      ratings(counts.map((_, u) => [u, 599, 4])),
    );
    expect(m.userActivity.map((b) => b.count)).toEqual([2, 2, 2, 2]);
  });

  it('counts genre-prior fallbacks for the genre model only for movies with genres', () => {
    const s = model('genre', 1, 3, [0], [0, 0, 0], [1], [0.2, 0.3, 0]);
    const genreOffsets = Int32Array.from([0, 1, 2, 2]); // movie 2 has no genre
    const m = evaluateRatings(
      s,
      trainIndex(1, 3, [[0, 0]]),
      ratings([
        [0, 1, 4],
        [0, 2, 4],
      ]),
      { genreOffsets },
    );
    expect(m.fallbacks).toEqual({ unseenUser: 0, unseenItem: 2, genrePrior: 1, both: 0 });
  });
});

describe('evaluateRanking', () => {
  it('matches hand-computed precision, recall, nDCG, MAP and coverage', () => {
    // Bias model: scores are the item biases, so the ranking is 0, 1, 2, 3, 4.
    const s = model('bias', 0, 3, [0, 0, 0], [5, 4, 3, 2, 1], [], []);
    const train = trainIndex(3, 5, [
      [0, 0],
      [1, 3],
    ]);
    const test = ratings([
      [0, 2, 5],
      [0, 4, 4],
      [0, 3, 2], // user 0: relevant {2, 4}; list [1, 2]
      [1, 1, 3], // user 1: nothing relevant → not evaluated
      [2, 0, 4], // user 2: relevant {0}; list [0, 1]
    ]);
    const r = evaluateRanking(s, train, test, { k: 2 });
    const l2of3 = 1 / Math.log2(3);
    expect(r.users).toBe(2);
    expect(r.precision).toBeCloseTo((0.5 + 0.5) / 2, 12);
    expect(r.recall).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(r.ndcg).toBeCloseTo((l2of3 / (1 + l2of3) + 1) / 2, 12);
    expect(r.map).toBeCloseTo((0.5 / 2 + 1) / 2, 12);
    expect(r.coverage).toBeCloseTo(3 / 5, 12);
    // Popularity floor of 1 training rating: candidates are movies 0 and 3 only.
    // User 0 (saw 0): list [3], no hit. User 2: list [0, 3], hit at rank 1.
    const floor = evaluateRanking(s, train, test, { k: 2, minItemRatings: 1 });
    expect(floor.users).toBe(2);
    expect(floor.precision).toBeCloseTo(0.25, 12);
    expect(floor.recall).toBeCloseTo(0.5, 12);
    expect(floor.ndcg).toBeCloseTo(0.5, 12);
    expect(floor.map).toBeCloseTo(0.5, 12);
    expect(floor.coverage).toBeCloseTo(2 / 5, 12);
  });

  it('gives perfect scores to an oracle and recall 1 when k covers the catalogue', () => {
    const random = new Random(11);
    const numUsers = 30;
    const numItems = 25;
    const pairs: [number, number][] = [];
    const triples: [number, number, number][] = [];
    for (let u = 0; u < numUsers; u++) {
      for (let i = 0; i < numItems; i++) {
        const x = random.nextFloat();
        if (x < 0.3) pairs.push([u, i]);
        else if (x < 0.5) triples.push([u, i, 1 + random.nextInt(5)]);
      }
    }
    const train = trainIndex(numUsers, numItems, pairs);
    const test = ratings(triples);
    // Oracle: dim = numItems, x_u = indicator of u's relevant held-out movies, y_i = e_i.
    const userFactors = new Array(numUsers * numItems).fill(0);
    for (const [u, i, r] of triples) if (r >= 4) userFactors[u * numItems + i] = 1;
    const itemFactors = new Array(numItems * numItems).fill(0);
    for (let i = 0; i < numItems; i++) itemFactors[i * numItems + i] = 1;
    const oracle = model(
      'latent',
      numItems,
      3,
      new Array(numUsers).fill(0),
      new Array(numItems).fill(0),
      userFactors,
      itemFactors,
    );
    const best = evaluateRanking(oracle, train, test, { k: 3 });
    expect(best.users).toBeGreaterThan(10);
    expect(best.ndcg).toBeCloseTo(1, 12);
    expect(best.map).toBeCloseTo(1, 12);
    const all = evaluateRanking(oracle, train, test, { k: numItems });
    expect(all.recall).toBeCloseTo(1, 12);
    // A random model is worse than the oracle.
    const noise = model(
      'latent',
      numItems,
      3,
      new Array(numUsers).fill(0),
      Array.from({ length: numItems }, () => random.nextGaussian()),
      userFactors.map(() => 0),
      itemFactors,
    );
    const worse = evaluateRanking(noise, train, test, { k: 3 });
    expect(worse.ndcg).toBeLessThan(best.ndcg);
    for (const v of [worse.precision, worse.recall, worse.ndcg, worse.map, worse.coverage]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // maxUsers evaluates a deterministic subset.
    const some = evaluateRanking(oracle, train, test, { k: 3, maxUsers: 5 });
    expect(some.users).toBe(5);
    expect(some.usersSkipped).toBe(best.users - 5);
  });
});

describe('TopK', () => {
  it('keeps the k best of a stream, equal to a full sort (ties by lower index)', () => {
    const random = new Random(3);
    for (const k of [0, 1, 5, 50, 200]) {
      const n = 150;
      const scores = Array.from({ length: n }, () => random.nextInt(20)); // many ties
      const heap = new TopK(k);
      const order = Array.from({ length: n }, (_, i) => i);
      random.shuffle(order);
      for (const i of order) heap.offer(scores[i]!, i);
      const outScores = new Float64Array(k);
      const outItems = new Int32Array(k);
      const m = heap.drainDescending(outScores, outItems);
      const expected = Array.from({ length: n }, (_, i) => i)
        .sort((a, b) => scores[b]! - scores[a]! || a - b)
        .slice(0, k);
      expect(m).toBe(Math.min(k, n));
      expect(Array.from(outItems.subarray(0, m))).toEqual(expected);
    }
  });
});
