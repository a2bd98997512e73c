import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultHyperparameters } from '../src/core/defaults.js';
import { tsKernel } from '../src/core/kernel-ts.js';
import { createTrainer } from '../src/core/trainer.js';
import type { ModelKind } from '../src/core/types.js';
import { loadDataset } from '../src/data/load.js';
import { makeSplit } from '../src/data/splits.js';
import type { Dataset, Split } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';

const cacheDir = mkdtempSync(path.join(tmpdir(), 'als-core-real-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

async function trainOn(dataset: Dataset, split: Split, kind: ModelKind, epochs: number) {
  const { genreOffsets, genreIds, genreNames } = dataset.catalog;
  const trainer = await createTrainer({
    train: split.train,
    validation: split.test,
    itemGenres: { offsets: genreOffsets, ids: genreIds, numGenres: genreNames.length },
    hyper: defaultHyperparameters(kind),
    seed: 1,
    threads: 2,
    kernel: tsKernel,
  });
  const history = [];
  for (let e = 0; e < epochs; e++) history.push(await trainer.epoch());
  await trainer.close();
  return history;
}

describe('ALS on real MovieLens data (default hyperparameters)', () => {
  it('ML-100K u1: the loss only goes down and the latent model beats the biases by a clear margin', async () => {
    const dataset = await loadDataset(movielensDir('ml-100k'), { cacheDir });
    const split = makeSplit(dataset, 'ml100k:u1', 1);
    const bias = await trainOn(dataset, split, 'bias', 5);
    const latent = await trainOn(dataset, split, 'latent', 15);
    for (let e = 1; e < latent.length; e++)
      expect(latent[e]!.loss).toBeLessThanOrEqual(latent[e - 1]!.loss);
    // Published baselines on this split: biases ≈ 0.95, good factor models 0.89–0.93.
    expect(bias.at(-1)!.validationRmse!).toBeLessThan(0.96);
    expect(latent.at(-1)!.validationRmse!).toBeLessThan(0.935);
    expect(latent.at(-1)!.validationRmse!).toBeLessThan(bias.at(-1)!.validationRmse! - 0.02);
  });

  it('ml-latest-small cold-items:0.1: genre priors score unseen movies better than the biases alone', async () => {
    const dataset = await loadDataset(movielensDir('ml-latest-small'), { cacheDir });
    const split = makeSplit(dataset, 'cold-items:0.1', 1);
    expect(split.report.testRatingsWithUnseenItem).toBe(split.test.length);
    const bias = await trainOn(dataset, split, 'bias', 5);
    const genre = await trainOn(dataset, split, 'genre', 10);
    expect(Number.isFinite(genre.at(-1)!.validationRmse!)).toBe(true);
    expect(genre.at(-1)!.validationRmse!).toBeLessThan(bias.at(-1)!.validationRmse! - 0.01);
  });
});
