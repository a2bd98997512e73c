import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultHyperparameters } from '../src/core/defaults.js';
import type { KernelProvider } from '../src/core/kernel.js';
import { tsKernel } from '../src/core/kernel-ts.js';
import { wasmKernel } from '../src/core/kernel-wasm.js';
import { createTrainer } from '../src/core/trainer.js';
import type { ModelKind } from '../src/core/types.js';
import { loadDataset } from '../src/data/load.js';
import { makeSplit } from '../src/data/splits.js';
import type { Dataset, Split } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';

/**
 * The wasm kernel forms the Gram matrix in float32 (src/core/wasm/kernel.ts); the ts kernel is
 * float64 throughout. On real MovieLens data, with the default hyperparameters at dim 30, the
 * held-out RMSE of the two must stay within 0.0005 of each other after many epochs, where the
 * round-off of every epoch has had time to add up.
 */
const cacheDir = mkdtempSync(path.join(tmpdir(), 'als-kernel-f32-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

async function heldOutRmse(
  dataset: Dataset,
  split: Split,
  kind: ModelKind,
  kernel: KernelProvider,
  epochs: number,
): Promise<number> {
  const { genreOffsets, genreIds, genreNames } = dataset.catalog;
  const trainer = await createTrainer({
    train: split.train,
    validation: split.test,
    itemGenres: { offsets: genreOffsets, ids: genreIds, numGenres: genreNames.length },
    hyper: defaultHyperparameters(kind),
    seed: 1,
    threads: 1,
    kernel,
  });
  let rmse = NaN;
  try {
    for (let e = 0; e < epochs; e++) rmse = (await trainer.epoch()).validationRmse!;
  } finally {
    await trainer.close();
  }
  return rmse;
}

describe('float32 Gram of the wasm kernel vs the float64 ts kernel on real data', () => {
  const cases = [
    ['ml-100k', 'ml100k:u1', 'latent'],
    ['ml-100k', 'ml100k:u1', 'genre'],
    ['ml-latest-small', 'random:0.1', 'latent'],
    ['ml-latest-small', 'random:0.1', 'genre'],
  ] as const;
  for (const [name, splitSpec, kind] of cases) {
    it(`${name} ${splitSpec}, ${kind} dim 30, 25 epochs: held-out RMSE within 0.0005`, async () => {
      const dataset = await loadDataset(movielensDir(name), { cacheDir });
      const split = makeSplit(dataset, splitSpec, 1);
      const f64 = await heldOutRmse(dataset, split, kind, tsKernel, 25);
      const f32 = await heldOutRmse(dataset, split, kind, wasmKernel, 25);
      expect(f64).toBeGreaterThan(0.7);
      expect(f64).toBeLessThan(1);
      expect(Math.abs(f32 - f64)).toBeLessThan(0.0005);
    }, 60_000);
  }
});
