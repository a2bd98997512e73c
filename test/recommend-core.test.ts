import { TopK } from '../src/core/topk.js';
import { describe, expect, it } from 'vitest';
import {
  cosineSimilarities,
  eligibleMask,
  recommendForUser,
  rowNorms,
  scoreItems,
  similarItems,
  topN,
} from '../src/core/recommend.js';
import { batchTopNRange, compactEligible, type BatchArgs } from '../src/core/batch.js';
import { batchTopN } from '../src/core/batch-pool.js';
import { batchTopNRangeWasm } from '../src/core/batch-wasm.js';
import { Random } from '../src/core/random.js';
import type { ModelState } from '../src/core/types.js';

/** Indices of `scores` sorted by score descending, ties by index ascending, restricted to a mask. */
function fullSortTop(scores: Float64Array, n: number, mask: Uint8Array | null): number[] {
  const items = [...scores.keys()].filter((i) => mask === null || mask[i] === 1);
  items.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return items.slice(0, n);
}

function randomModel(numUsers: number, numItems: number, dim: number, seed: number): ModelState {
  const rng = new Random(seed);
  const normal = (): number => rng.nextFloat() - 0.5;
  return {
    hyper: {
      kind: 'latent',
      dim,
      lambda: 1,
      tau: 10,
      gamma: 10,
      genreTau: 10,
      weightedRegularization: false,
    },
    numUsers,
    numItems,
    globalMean: 3.5,
    userBias: Float64Array.from({ length: numUsers }, normal),
    itemBias: Float64Array.from({ length: numItems }, normal),
    userFactors: Float64Array.from({ length: numUsers * dim }, normal),
    itemFactors: Float64Array.from({ length: numItems * dim }, normal),
    genreFactors: new Float64Array(0),
  };
}

describe('top-N with a fixed-size heap', () => {
  it('equals a full sort, with masks, ties and n larger than the list', () => {
    const rng = new Random(3);
    for (let trial = 0; trial < 50; trial++) {
      const length = 1 + Math.floor(rng.nextFloat() * 300);
      // Few distinct values so that ties are common.
      const scores = Float64Array.from({ length }, () => Math.floor(rng.nextFloat() * 20) / 4);
      const mask =
        trial % 2 === 0 ? null : Uint8Array.from({ length }, () => (rng.nextFloat() < 0.7 ? 1 : 0));
      for (const n of [1, 5, 10, length + 3]) {
        const heap = topN(scores, n, mask);
        const expected = fullSortTop(scores, n, mask);
        expect(Array.from(heap.items)).toEqual(expected);
        expect(Array.from(heap.scores)).toEqual(expected.map((i) => scores[i]!));
      }
    }
  });

  it('never ranks NaN and keeps the lower index on ties', () => {
    const list = topN(new Float64Array([1, Number.NaN, 2, 2, Number.NaN, 1]), 3, null);
    expect(Array.from(list.items)).toEqual([2, 3, 0]);
    const heap = new TopK(2);
    heap.offer(5, 9);
    heap.offer(5, 1);
    heap.offer(5, 4);
    expect(Array.from(heap.sorted().items)).toEqual([1, 4]);
  });
});

describe('cosine similarity', () => {
  it('is 1 for identical and parallel vectors, −1 for opposite, 0 for zero vectors', () => {
    const dim = 3;
    const factors = new Float64Array([
      1,
      2,
      3, // 0
      1,
      2,
      3, // 1: identical
      2,
      4,
      6, // 2: parallel
      -1,
      -2,
      -3, // 3: opposite
      0,
      0,
      0, // 4: zero
      3,
      -1,
      0, // 5: orthogonal-ish: 3 - 2 + 0 = 1
    ]);
    const norms = rowNorms(factors, dim, 6);
    const out = new Float64Array(6);
    cosineSimilarities(factors, dim, 6, 0, norms, out);
    expect(out[0]).toBe(1);
    expect(out[1]).toBe(1);
    expect(out[2]).toBeCloseTo(1, 15);
    expect(out[2]!).toBeLessThanOrEqual(1);
    expect(out[3]).toBeCloseTo(-1, 15);
    expect(out[4]).toBe(0);
    expect(out[5]).toBeCloseTo(1 / (Math.sqrt(14) * Math.sqrt(10)), 12);
    cosineSimilarities(factors, dim, 6, 4, norms, out);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('similar items exclude the movie itself and respect the filter', () => {
    const model = randomModel(1, 40, 4, 11);
    model.itemFactors.set(model.itemFactors.subarray(0, 4), 7 * 4); // item 7 = item 0
    const list = similarItems(model, 0, 5, null);
    expect(list.items[0]).toBe(7);
    expect(list.scores[0]).toBe(1);
    expect(Array.from(list.items)).not.toContain(0);
    const mask = new Uint8Array(40).fill(1);
    mask[7] = 0;
    expect(Array.from(similarItems(model, 0, 5, mask).items)).not.toContain(7);
  });
});

describe('scoring and filters', () => {
  it('scores μ + b + c + u·v or u·v/‖v‖ and reports the predicted rating', () => {
    const model = randomModel(2, 30, 3, 5);
    const user = { bias: 0.25, factors: model.userFactors.slice(0, 3) };
    const scores = new Float64Array(30);
    scoreItems(model, user.bias, user.factors, scores);
    const expected = (i: number, w = 1): number =>
      3.5 +
      0.25 +
      w * model.itemBias[i]! +
      [0, 1, 2].reduce((s, k) => s + user.factors[k]! * model.itemFactors[i * 3 + k]!, 0);
    for (let i = 0; i < 30; i++) expect(scores[i]).toBeCloseTo(expected(i), 12);
    const all = new Uint8Array(30).fill(1);
    model.itemFactors.fill(0, 6, 9); // item 2: zero vector → taste 0
    const list = recommendForUser(model, user, 5, all, [3, 4], 'taste');
    const norms = rowNorms(model.itemFactors, 3, 30);
    const personal = Float64Array.from({ length: 30 }, (_, i) =>
      norms[i]! > 0 ? (expected(i, 0) - 3.75) / norms[i]! : 0,
    );
    const mask = all.slice();
    mask[3] = 0;
    mask[4] = 0;
    expect(Array.from(list.items)).toEqual(fullSortTop(personal, 5, mask));
    list.items.forEach((item, k) => expect(list.scores[k]).toBeCloseTo(expected(item), 12));
  });

  it('applies the popularity floor, genres and years', () => {
    const table = {
      years: new Int32Array([1990, 2000, 2010, 0, 2005]),
      genreOffsets: new Int32Array([0, 1, 3, 4, 4, 5]),
      genreIds: new Int32Array([0, 0, 1, 1, 2]),
    };
    const base = {
      ratingCounts: new Int32Array([50, 5, 100, 0, 20]),
      minRatings: 0,
      keepUnrated: false,
      includeGenres: [] as number[],
      excludeGenres: [] as number[],
      yearFrom: null,
      yearTo: null,
    };
    expect(Array.from(eligibleMask(table, base))).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(eligibleMask(table, { ...base, minRatings: 10 }))).toEqual([1, 0, 1, 0, 1]);
    expect(Array.from(eligibleMask(table, { ...base, minRatings: 10, keepUnrated: true }))).toEqual(
      [1, 0, 1, 1, 1],
    );
    expect(Array.from(eligibleMask(table, { ...base, includeGenres: [0, 2] }))).toEqual([
      1, 1, 0, 0, 1,
    ]);
    expect(Array.from(eligibleMask(table, { ...base, excludeGenres: [1] }))).toEqual([
      1, 0, 0, 1, 1,
    ]);
    expect(Array.from(eligibleMask(table, { ...base, yearFrom: 2000, yearTo: 2006 }))).toEqual([
      0, 1, 0, 0, 1,
    ]);
  });
});

describe('batch top-N for all users', () => {
  function batchCase(numUsers: number, numItems: number, dim: number, n: number) {
    const model = randomModel(numUsers, numItems, dim, 21);
    const rng = new Random(8);
    const eligible = Uint8Array.from({ length: numItems }, () => (rng.nextFloat() < 0.8 ? 1 : 0));
    // Each user rated a random sorted subset.
    const offsets = new Int32Array(numUsers + 1);
    const indices: number[] = [];
    for (let u = 0; u < numUsers; u++) {
      for (let i = 0; i < numItems; i++) if (rng.nextFloat() < 0.2) indices.push(i);
      offsets[u + 1] = indices.length;
    }
    const userBase = Float64Array.from(
      { length: numUsers },
      (_, u) => model.globalMean + model.userBias[u]!,
    );
    const args: BatchArgs = {
      dim,
      ...compactEligible(model, eligible),
      userFactors: model.userFactors,
      userBase,
      excludeOffsets: offsets,
      excludeIndices: Int32Array.from(indices),
      topN: n,
      outItems: new Int32Array(numUsers * n),
      outScores: new Float64Array(numUsers * n),
    };
    const expected = (u: number): number[] => {
      const user = {
        bias: model.userBias[u]!,
        factors: model.userFactors.slice(u * dim, (u + 1) * dim),
      };
      return Array.from(
        recommendForUser(model, user, n, eligible, indices.slice(offsets[u]!, offsets[u + 1]!))
          .items,
      );
    };
    return { args, expected };
  }

  it('equals per-user scoring (exclusions, filter, ties order) on one thread', () => {
    const { args, expected } = batchCase(70, 1300, 7, 10);
    batchTopNRange(args, 0, 70);
    for (let u = 0; u < 70; u++)
      expect(Array.from(args.outItems.subarray(u * 10, u * 10 + 10))).toEqual(expected(u));
  });

  it('gives the same result on worker threads', async () => {
    const { args, expected } = batchCase(90, 700, 5, 4);
    await batchTopN(args, 2, { minScoresForThreads: 0 });
    for (let u = 0; u < 90; u++)
      expect(Array.from(args.outItems.subarray(u * 4, u * 4 + 4))).toEqual(expected(u));
  });

  it('the WebAssembly kernel returns exactly the TypeScript lists (odd block sizes, dim not a multiple of 2)', () => {
    for (const [users, items, dim, n, drop] of [
      [37, 900, 7, 10, 0],
      [37, 900, 7, 10, 1],
      [8, 300, 1, 3, 0],
      [8, 300, 1, 3, 1],
      [3, 6, 2, 10, 0],
      [20, 500, 30, 25, 1],
    ] as const) {
      // `drop` makes the number of movies odd or even (the kernel takes them two at a time).
      const { args } = batchCase(users, items, dim, n);
      args.numEligible -= drop;
      const wasmArgs = {
        ...args,
        outItems: new Int32Array(args.outItems.length),
        outScores: new Float64Array(args.outScores.length),
      };
      batchTopNRange(args, 0, users);
      expect(batchTopNRangeWasm(wasmArgs, 0, users)).toBe(true);
      expect(Array.from(wasmArgs.outItems)).toEqual(Array.from(args.outItems));
      expect(Array.from(wasmArgs.outScores)).toEqual(Array.from(args.outScores));
      // A sub-range writes only its own rows.
      const part = {
        ...args,
        outItems: new Int32Array(args.outItems.length).fill(-7),
        outScores: new Float64Array(args.outScores.length),
      };
      batchTopNRangeWasm(part, 1, users);
      expect(Array.from(part.outItems.subarray(0, n))).toEqual(new Array(n).fill(-7));
      expect(Array.from(part.outItems.subarray(n))).toEqual(Array.from(args.outItems.subarray(n)));
    }
  });

  it('the f32 screen of the WebAssembly kernel never changes the order of near-ties', () => {
    // Movies whose scores differ below f32 resolution (1e-12 apart): only exact f64 rescoring orders them right.
    const { args } = batchCase(40, 400, 6, 12);
    const f = args.eligibleFactors;
    for (let e = 1; e < args.numEligible; e += 2) {
      for (let k = 0; k < 6; k++) f[e * 6 + k] = f[(e - 1) * 6 + k]! * (1 + (e % 3) * 1e-12);
      args.eligibleBias[e] = args.eligibleBias[e - 1]! + ((e % 5) - 2) * 1e-13;
    }
    const wasmArgs = {
      ...args,
      outItems: new Int32Array(args.outItems.length),
      outScores: new Float64Array(args.outScores.length),
    };
    batchTopNRange(args, 0, 40);
    batchTopNRangeWasm(wasmArgs, 0, 40);
    expect(Array.from(wasmArgs.outItems)).toEqual(Array.from(args.outItems));
    expect(Array.from(wasmArgs.outScores)).toEqual(Array.from(args.outScores));
  });

  it('breaks exact ties by the lower movie index in both kernels (bias-only model: many equal scores)', () => {
    for (const dim of [0, 3]) {
      const { args } = batchCase(25, 600, dim, 10);
      // Few distinct biases, and (dim 3) identical factors for every movie: scores tie exactly.
      args.eligibleBias.forEach((c, e) => (args.eligibleBias[e] = Math.round(c * 4) / 4));
      if (dim > 0)
        for (let e = 0; e < args.numEligible; e++)
          args.eligibleFactors.set([0.5, -0.25, 1], e * dim);
      const wasmArgs = {
        ...args,
        outItems: new Int32Array(args.outItems.length),
        outScores: new Float64Array(args.outScores.length),
      };
      batchTopNRange(args, 0, 25);
      batchTopNRangeWasm(wasmArgs, 0, 25);
      expect(Array.from(wasmArgs.outItems)).toEqual(Array.from(args.outItems));
      // And the TypeScript path itself is right: ties in ascending item order.
      const row = Array.from(args.outItems.subarray(0, 10));
      const scores = Array.from(args.outScores.subarray(0, 10));
      for (let k = 1; k < 10; k++)
        if (scores[k] === scores[k - 1]) expect(row[k]!).toBeGreaterThan(row[k - 1]!);
    }
  });

  it('pads short lists with −1', () => {
    const { args } = batchCase(3, 6, 2, 10);
    batchTopNRange(args, 0, 3);
    expect(Array.from(args.outItems.subarray(0, 10)).filter((i) => i < 0).length).toBeGreaterThan(
      0,
    );
  });
});
