import { describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import { loadDataset } from '../src/data/load.js';
import { buildRatingMatrix } from '../src/data/matrix.js';
import {
  computeStats,
  fitPowerLaw,
  gini,
  hurwitzZeta,
  quantiles,
  ratingHistogram,
  topShare,
} from '../src/data/stats.js';
import type { Dataset } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';

const sorted = (values: number[]): Float64Array => Float64Array.from(values).sort();

describe('statistics helpers (known answers)', () => {
  it('Hurwitz zeta matches closed forms', () => {
    expect(hurwitzZeta(2, 1)).toBeCloseTo(Math.PI ** 2 / 6, 12);
    expect(hurwitzZeta(4, 1)).toBeCloseTo(Math.PI ** 4 / 90, 12);
    expect(hurwitzZeta(2, 5)).toBeCloseTo(Math.PI ** 2 / 6 - (1 + 1 / 4 + 1 / 9 + 1 / 16), 12);
    expect(hurwitzZeta(1.5, 1)).toBeCloseTo(2.612375348685488, 10);
  });

  it('rating histogram: every distinct value with its count, on and off the half-star grid', () => {
    const random = new Random(21);
    // Half stars, whole stars beyond 10, quarter stars, negatives, -0, a big value, odd decimals.
    const pool = [0, -0, 0.5, 3.5, 5, 10, 10.5, 12, 0.25, 2.75, -1, -0.5, 1e9, 3.3, 4.1, 7.77];
    const values = Float32Array.from({ length: 5000 }, () => pool[random.nextInt(pool.length)]!);
    const expected = new Map<number, number>();
    for (const v of values) expected.set(v === 0 ? 0 : v, (expected.get(v === 0 ? 0 : v) ?? 0) + 1);
    const histogram = ratingHistogram(values);
    expect(histogram).toEqual(
      [...expected].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count })),
    );
    expect(histogram.map((h) => h.value)).toContain(Math.fround(3.3)); // a float32, as stored
  });

  it('quantiles, Gini, top share', () => {
    const q = quantiles(sorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    expect([q.min, q.p10, q.p25, q.median, q.p75, q.max, q.mean]).toEqual([
      1, 2, 3.5, 6, 8.5, 11, 6,
    ]);
    expect(gini(sorted([3, 3, 3, 3]))).toBe(0);
    expect(gini(sorted([0, 0, 0, 1]))).toBeCloseTo(0.75, 12);
    expect(gini(sorted([1, 2, 3]))).toBeCloseTo(2 / 9, 12);
    // 200 values: the top 1 % is 2 values, the top 10 % is 20.
    const values = sorted(Array.from({ length: 200 }, (_, k) => k + 1));
    expect(topShare(values, 0.01)).toBeCloseTo((200 + 199) / 20100, 12);
    expect(topShare(values, 0.1)).toBeCloseTo(((181 + 200) * 10) / 20100, 12);
  });

  it('recovers the exponent of a sampled discrete power law', () => {
    // Exact inverse-CDF sampling of P(x) ∝ x^(-alpha), x ≥ 1 (truncated at 10^6: negligible mass).
    for (const alpha of [2.2, 2.8]) {
      const cutoff = 1_000_000;
      const cdf = new Float64Array(cutoff);
      let total = 0;
      for (let x = 1; x <= cutoff; x++) cdf[x - 1] = total += x ** -alpha;
      const random = new Random(7);
      const samples = new Float64Array(20_000);
      for (let s = 0; s < samples.length; s++) {
        const u = random.nextFloat() * total;
        let lo = 0;
        let hi = cutoff - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cdf[mid]! < u) lo = mid + 1;
          else hi = mid;
        }
        samples[s] = lo + 1;
      }
      const fit = fitPowerLaw(samples.sort());
      expect(Math.abs(fit.alpha - alpha)).toBeLessThan(0.1);
    }
  });
});

describe('power-law fit on a capped distribution', () => {
  it('does not pick a tail made of one repeated value', () => {
    // Power-law-like counts 1..200 plus 60 values piled up at a cap of 500.
    const values: number[] = [];
    for (let x = 1; x <= 200; x++)
      for (let r = Math.round(20000 * x ** -2); r > 0; r--) values.push(x);
    for (let r = 0; r < 60; r++) values.push(500);
    const fit = fitPowerLaw(sorted(values));
    expect(fit.xMin).toBeLessThan(500);
    expect(fit.alpha).toBeGreaterThan(1.5);
    expect(fit.alpha).toBeLessThan(3);
  });
});

describe('computeStats', () => {
  it('on a small data set with known answers', () => {
    // Users 0..2, items 0..3 (item 3 listed, never rated).
    const rows: [number, number, number][] = [
      [0, 0, 4],
      [0, 1, 3.5],
      [0, 2, 5],
      [1, 0, 4],
      [1, 1, 1],
      [2, 0, 4],
    ];
    const list = {
      length: rows.length,
      users: Int32Array.from(rows, (r) => r[0]),
      items: Int32Array.from(rows, (r) => r[1]),
      values: Float32Array.from(rows, (r) => r[2]),
      timestamps: null,
    };
    const { matrix } = buildRatingMatrix(3, 4, list);
    const dataset = { info: { name: 'tiny', layout: 'plain' }, matrix } as unknown as Dataset;
    const stats = computeStats(dataset);
    expect([stats.numRatings, stats.numUsers, stats.numItemsListed, stats.numItemsRated]).toEqual([
      6, 3, 4, 3,
    ]);
    expect(stats.density).toBeCloseTo(6 / 9, 12);
    expect(stats.meanRating).toBeCloseTo(21.5 / 6, 6);
    expect(stats.ratingHistogram).toEqual([
      { value: 1, count: 1 },
      { value: 3.5, count: 1 },
      { value: 4, count: 3 },
      { value: 5, count: 1 },
    ]);
    expect(stats.userActivityDistribution).toEqual([
      { count: 1, frequency: 1 },
      { count: 2, frequency: 1 },
      { count: 3, frequency: 1 },
    ]);
    expect(stats.itemPopularityDistribution).toEqual([
      { count: 1, frequency: 1 },
      { count: 2, frequency: 1 },
      { count: 3, frequency: 1 },
    ]);
    expect(stats.topItemShare.top1Percent).toBeCloseTo(3 / 6, 12);
    expect(stats.itemPopularity.max).toBe(3);
  });

  it('on ml-100k: counts agree with the raw file', async () => {
    const d = await loadDataset(movielensDir('ml-100k'), { cache: false });
    const stats = computeStats(d);
    expect([stats.numRatings, stats.numUsers, stats.numItemsRated, stats.numItemsListed]).toEqual([
      100_000, 943, 1_682, 1_682,
    ]);
    expect(stats.userActivity.min).toBe(20); // ML-100K keeps users with ≥ 20 ratings
    expect(stats.ratingHistogram.map((h) => h.value)).toEqual([1, 2, 3, 4, 5]);
    expect(stats.ratingHistogram.reduce((s, h) => s + h.count, 0)).toBe(100_000);
    expect(stats.gini.items).toBeGreaterThan(stats.gini.users);
    expect(stats.powerLaw.items.alpha).toBeGreaterThan(1);
  });
});
