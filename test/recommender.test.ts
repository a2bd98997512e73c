import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Recommender, openDataset, recommendForNewUser } from '../src/index.js';
import type { Dataset } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';
import { DEFAULT_HYPERPARAMETERS } from '../src/core/defaults.js';

// The library class through the package's entry point, in-process, on ML-100K.
const work = mkdtempSync(path.join(tmpdir(), 'als-recommender-'));
let dataset: Dataset;
let model: Recommender;

beforeAll(async () => {
  dataset = await openDataset({ data: movielensDir('ml-100k'), dataHome: work });
  model = await Recommender.fit(dataset, {
    kind: 'genre',
    dim: 8,
    epochs: 4,
    threads: 1,
    kernel: 'ts',
  });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('Recommender', () => {
  it('fits in memory: the history of every epoch, no file written', () => {
    expect(model.hyperparameters).toMatchObject({
      kind: 'genre',
      dim: 8,
      tau: DEFAULT_HYPERPARAMETERS.tau,
      weightExponent: DEFAULT_HYPERPARAMETERS.weightExponent,
    });
    expect(model.history.map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
    expect(model.history.every((m) => m.validationRmse === null)).toBe(true);
    expect(readdirSync(work).filter((f) => f !== '.als-cache')).toEqual([]);
  });

  it('recommends for a training user, leaving out what they rated unless asked', () => {
    const seen = new Set<number>();
    const c = model.checkpoint;
    const u = c.userIds.indexOf(1);
    for (let k = c.trainItemsByUser.offsets[u]!; k < c.trainItemsByUser.offsets[u + 1]!; k++)
      seen.add(c.itemIds[c.trainItemsByUser.items[k]!]!);
    const filtered = model.recommend(1, { n: 10, minRatings: 0 });
    const all = model.recommend(1, { n: 10, minRatings: 0, filterSeen: false });
    expect(filtered).toHaveLength(10);
    for (const row of filtered) expect(seen.has(row.movieId)).toBe(false);
    // A top-10 over more movies is at least as good at every rank.
    all.forEach((row, k) => expect(row.score).toBeGreaterThanOrEqual(filtered[k]!.score - 1e-12));
    // The score is the predicted rating, clipped to the scale.
    for (const row of filtered)
      expect(row.score).toBeCloseTo(Math.min(5, Math.max(1, model.predict(1, row.movieId))), 10);
  });

  it('folds in a new user from ratings: the list of als recommend --user-likes', () => {
    const fromRatings = model.recommendForRatings([{ movieId: 1, rating: 5 }]);
    const fromTitle = recommendForNewUser(model.checkpoint, { likes: ['Toy Story (1995)'] });
    expect(fromRatings.map((r) => r.movieId)).toEqual(
      fromTitle.recommendations.map((r) => r.movieId),
    );
    expect(fromRatings.map((r) => r.movieId)).not.toContain(1);
  });

  it('finds similar movies by id or title', () => {
    const byId = model.similarItems(1, { n: 5 });
    expect(byId).toHaveLength(5);
    expect(model.similarItems('Toy Story', { n: 5 })).toEqual(byId);
    expect(() => model.predict(1, 999999)).toThrow(/movie 999999 is not in ml-100k/);
    expect(() => model.recommend(424242)).toThrow(/user 424242 is not in the training data/);
  });

  it('saves and loads: the same predictions and lists', () => {
    const file = path.join(work, 'model.als');
    model.save(file);
    expect(existsSync(`${file}.metrics.csv`)).toBe(true);
    const again = Recommender.load(file);
    expect(again.predict(10, 50)).toBe(model.predict(10, 50));
    expect(again.recommend(10)).toEqual(model.recommend(10));
  });
});
