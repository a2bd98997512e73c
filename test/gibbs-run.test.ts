/**
 * Whole Gibbs runs (src/app/bayes.ts) on planted synthetic problems: the same chain for any
 * thread count, exact resume (also through a checkpoint file), the stored float32 samples against
 * the full chain, calibration of the predictive intervals, recovery of a planted model better
 * than the data's noise floor allows a bad model to, and one-line errors for bad settings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trainBayesian, validateBayesianOptions, type BayesianOptions } from '../src/app/bayes.js';
import {
  foldInUserPredictive,
  predictFromSamples,
  rmseFromSamples,
} from '../src/core/gibbs-predict.js';
import { sampleRowRange } from '../src/core/gibbs.js';
import { tsKernel } from '../src/core/kernel-ts.js';
import {
  readBayesCheckpoint,
  writeBayesCheckpoint,
  type BayesCheckpoint,
} from '../src/data/bayes-checkpoint.js';
import { AlsError, UsageError } from '../src/errors.js';
import { plantedProblem } from './helpers/planted.js';

const planted = plantedProblem({
  numUsers: 120,
  numItems: 90,
  rank: 3,
  density: 0.35,
  noiseStd: 0.5,
  seed: 4,
  testFraction: 0.15,
});
// Three genres, each movie in one or two of them.
const genreOffsets = new Int32Array(planted.numItems + 1);
const genreIdList: number[] = [];
for (let n = 0; n < planted.numItems; n++) {
  genreIdList.push(n % 3);
  if (n % 4 === 0) genreIdList.push((n + 1) % 3);
  genreOffsets[n + 1] = genreIdList.length;
}
const itemGenres = { offsets: genreOffsets, ids: Int32Array.from(genreIdList), numGenres: 3 };
const input = { train: planted.train, test: planted.test, itemGenres, scale: null };
const base: BayesianOptions = {
  kind: 'genre',
  dim: 4,
  samples: 12,
  burnIn: 4,
  thin: 2,
  seed: 7,
  threads: 1,
  kernel: 'wasm',
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'als-gibbs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Gibbs runs', () => {
  it('gives the same chain for 1 and 2 threads (wasm), and the ts kernel agrees to round-off', async () => {
    const one = await trainBayesian(input, base);
    const two = await trainBayesian(input, { ...base, threads: 2 });
    expect(two.metrics.map((m) => [m.trainRmse, m.alpha, m.validationRmse])).toEqual(
      one.metrics.map((m) => [m.trainRmse, m.alpha, m.validationRmse]),
    );
    expect(two.resume.chain.model.userFactors).toEqual(one.resume.chain.model.userFactors);
    expect(two.resume.chain.model.genreFactors).toEqual(one.resume.chain.model.genreFactors);
    const ts = await trainBayesian(input, { ...base, kernel: 'ts', threads: 2 });
    for (let i = 0; i < one.metrics.length; i++)
      expect(ts.metrics[i]!.trainRmse).toBeCloseTo(one.metrics[i]!.trainRmse, 8);
    expect(ts.rmse!).toBeCloseTo(one.rmse!, 8);
  });

  it('samples the bias model (K = 0) alike on both kernels, better than the global mean', async () => {
    const wasm = await trainBayesian(input, { ...base, kind: 'bias', samples: 10, burnIn: 2 });
    const ts = await trainBayesian(input, {
      ...base,
      kind: 'bias',
      samples: 10,
      burnIn: 2,
      kernel: 'ts',
    });
    expect(ts.rmse!).toBeCloseTo(wasm.rmse!, 9);
    let sse = 0;
    for (let e = 0; e < planted.test.length; e++)
      sse += (planted.test.values[e]! - wasm.globalMean) ** 2;
    expect(wasm.rmse!).toBeLessThan(Math.sqrt(sse / planted.test.length) - 0.02);
  });

  it('resumes exactly: 6 + 6 samples equal 12, also through a checkpoint file', async () => {
    const whole = await trainBayesian(input, base);
    const first = await trainBayesian(input, { ...base, samples: 6 });
    const file = path.join(tmp, 'half.bayes');
    const checkpoint: BayesCheckpoint = {
      kind: base.kind,
      dim: base.dim,
      burnIn: base.burnIn,
      thin: base.thin,
      seed: base.seed,
      dataset: null,
      split: null,
      scale: null,
      numGenres: 3,
      kernel: 'wasm',
      threads: 1,
      createdAt: new Date(0).toISOString(),
      run: first.resume,
    };
    writeBayesCheckpoint(file, checkpoint);
    const read = readBayesCheckpoint(file);
    const second = await trainBayesian(input, { ...base, samples: 6, threads: 2 }, {}, read.run);
    expect(second.metrics).toHaveLength(12);
    expect(second.metrics.map((m) => [m.sample, m.trainRmse, m.alpha, m.validationRmse])).toEqual(
      whole.metrics.map((m) => [m.sample, m.trainRmse, m.alpha, m.validationRmse]),
    );
    expect(second.resume.chain.model.itemFactors).toEqual(whole.resume.chain.model.itemFactors);
    expect(second.rmse).toBe(whole.rmse);
    expect(second.storedSamples.map((s) => s.sample)).toEqual([6, 8, 10, 12]);
    expect(second.storedSamples.map((s) => s.userFactors)).toEqual(
      whole.storedSamples.map((s) => s.userFactors),
    );
  });

  it('refuses a damaged checkpoint with one line naming the file', async () => {
    const run = await trainBayesian(input, { ...base, samples: 5 });
    const file = path.join(tmp, 'damaged.bayes');
    writeBayesCheckpoint(file, {
      kind: 'genre',
      dim: 4,
      burnIn: 4,
      thin: 2,
      seed: 7,
      dataset: null,
      split: null,
      scale: null,
      numGenres: 3,
      kernel: 'wasm',
      threads: 1,
      createdAt: new Date(0).toISOString(),
      run: run.resume,
    });
    const { readFileSync, writeFileSync } = await import('node:fs');
    const bytes = readFileSync(file);
    bytes[bytes.length - 100]! ^= 1;
    writeFileSync(file, bytes);
    expect(() => readBayesCheckpoint(file)).toThrow(AlsError);
    expect(() => readBayesCheckpoint(file)).toThrow(
      /damaged\.bayes: corrupted Bayesian checkpoint \(checksum mismatch\)$/,
    );
    writeFileSync(file, bytes.subarray(0, 200));
    expect(() => readBayesCheckpoint(file)).toThrow(/truncated/);
  });

  it('recovers a planted latent model near the noise floor, with calibrated intervals, and the stored samples predict like the chain', async () => {
    const big = plantedProblem({
      numUsers: 300,
      numItems: 200,
      rank: 3,
      density: 0.3,
      noiseStd: 0.5,
      seed: 12,
      testFraction: 0.1,
    });
    const run = await trainBayesian(
      { train: big.train, test: big.test, itemGenres: null, scale: null },
      {
        kind: 'latent',
        dim: 5,
        samples: 80,
        burnIn: 20,
        thin: 2,
        seed: 3,
        threads: 2,
        kernel: 'wasm',
      },
    );
    // The noise sd is 0.5: the perfect model's held-out RMSE is ≈ 0.5; estimation error adds a little.
    expect(run.rmse!).toBeGreaterThan(0.45);
    expect(run.rmse!).toBeLessThan(0.56);
    // The learned noise sd matches the planted one.
    const last = run.metrics.at(-1)!;
    expect(1 / Math.sqrt(last.alpha)).toBeGreaterThan(0.45);
    expect(1 / Math.sqrt(last.alpha)).toBeLessThan(0.55);
    const cal = run.calibration!;
    expect(cal.map((c) => c.level)).toEqual([0.5, 0.8, 0.95]);
    expect(cal[0]!.share).toBeGreaterThan(0.45);
    expect(cal[0]!.share).toBeLessThan(0.55);
    expect(cal[1]!.share).toBeGreaterThan(0.76);
    expect(cal[1]!.share).toBeLessThan(0.84);
    expect(cal[2]!.share).toBeGreaterThan(0.93);
    expect(cal[2]!.share).toBeLessThan(0.97);
    // 30 stored float32 samples of 60 averaged.
    expect(run.storedSamples).toHaveLength(30);
    const stored = rmseFromSamples(
      run.storedSamples,
      run.globalMean,
      5,
      big.numUsers,
      big.numItems,
      big.test,
    );
    expect(Math.abs(stored - run.rmse!)).toBeLessThan(0.002);
    // The running-average curve ends at the reported RMSE and improves on the first averaged sample.
    const curve = run.metrics
      .filter((m) => m.validationRmse !== null)
      .map((m) => m.validationRmse!);
    expect(curve).toHaveLength(60);
    expect(curve.at(-1)).toBe(run.rmse);
    expect(curve.at(-1)!).toBeLessThan(curve[0]!);
  });

  it('refuses impossible settings with one-line usage errors', async () => {
    expect(() => validateBayesianOptions({ ...base, samples: 0 })).toThrow(UsageError);
    expect(() => validateBayesianOptions({ ...base, samples: 0 })).toThrow(
      '--samples must be a positive integer, got 0',
    );
    expect(() => validateBayesianOptions({ ...base, samples: -3 })).toThrow(
      '--samples must be a positive integer, got -3',
    );
    expect(() => validateBayesianOptions({ ...base, samples: 10, burnIn: 10 })).toThrow(
      '--burn-in (10) must be less than --samples (10): no sample would be averaged',
    );
    expect(() => validateBayesianOptions({ ...base, thin: 0 })).toThrow(
      '--thin must be a positive integer, got 0',
    );
    expect(() => validateBayesianOptions({ ...base, samples: 5, burnIn: 20 }, 10)).toThrow(
      "--burn-in (20) must be less than the chain's 15 samples (10 done + --samples 5)",
    );
    await expect(trainBayesian(input, { ...base, samples: 0 })).rejects.toThrow(UsageError);
    // A dimension the wasm kernel cannot draw: its one-line AlsError.
    await expect(
      trainBayesian(input, { ...base, dim: 300, samples: 2, burnIn: 0 }),
    ).rejects.toThrow(/the wasm kernel supports dim 0…240, got 300: use --kernel ts/);
  });

  it('folds in a new user exactly: per sample, the Rao–Blackwellised mean and variance match draws of the row', async () => {
    const run = await trainBayesian(input, {
      ...base,
      kind: 'latent',
      samples: 8,
      burnIn: 4,
      thin: 4,
    });
    const sample = run.storedSamples.at(-1)!;
    const K = base.dim;
    // User 5's training ratings, folded in as a new user.
    const byUser = planted.train.ratingsByUser;
    const items = byUser.indices.slice(byUser.offsets[5]!, byUser.offsets[6]!);
    const values = byUser.values.slice(byUser.offsets[5]!, byUser.offsets[6]!);
    const folded = foldInUserPredictive(
      [sample],
      run.globalMean,
      K,
      planted.numItems,
      items,
      values,
    );
    // Monte Carlo reference: draw the row 4000 times from the same conditional with the kernel.
    const arena = tsKernel.createArena(1 << 20);
    const solve = await tsKernel.createSolver(arena.buffer, null);
    const draws = 4000;
    const x = new Float64Array(K);
    const b = new Float64Array(1);
    const args = {
      dim: K,
      offsets: Int32Array.of(0, items.length),
      indices: items,
      values,
      otherFactors: Float64Array.from(sample.itemFactors),
      otherBias: Float64Array.from(sample.itemBias),
      rowFactors: x,
      rowBias: b,
      priorMeans: null,
      globalMean: run.globalMean,
      lambda: sample.alpha,
      tau: 0,
      gamma: 0,
      weightedRegularization: false,
      sampling: {
        priorPrecision: sample.userPriorPrecision,
        priorMean: sample.userPriorMean,
        normals: new Float64Array(K + 1),
      },
    };
    for (const movie of [0, 17, 40]) {
      let sum = 0;
      let sumSquares = 0;
      for (let d = 1; d <= draws; d++) {
        sampleRowRange(solve, args, args.sampling, 99, d, 0, 0, 1);
        let r = run.globalMean + sample.itemBias[movie]! + b[0]!;
        for (let k = 0; k < K; k++) r += x[k]! * sample.itemFactors[movie * K + k]!;
        sum += r;
        sumSquares += r * r;
      }
      const mean = sum / draws;
      const variance = sumSquares / draws - mean * mean;
      const foldedVariance = folded.sd[movie]! ** 2 - 1 / sample.alpha;
      expect(Math.abs(folded.mean[movie]! - mean)).toBeLessThan(4 * Math.sqrt(variance / draws));
      expect(Math.abs(foldedVariance / variance - 1)).toBeLessThan(0.1);
    }
    // Over all stored samples, the fold-in of a well-rated user predicts close to the chain's own row.
    const long = await trainBayesian(input, {
      ...base,
      kind: 'latent',
      samples: 60,
      burnIn: 20,
      thin: 2,
    });
    const all = foldInUserPredictive(
      long.storedSamples,
      long.globalMean,
      K,
      planted.numItems,
      items,
      values,
    );
    let diff = 0;
    for (let movie = 0; movie < planted.numItems; movie++) {
      diff += Math.abs(
        all.mean[movie]! -
          predictFromSamples(
            long.storedSamples,
            long.globalMean,
            K,
            planted.numUsers,
            planted.numItems,
            5,
            movie,
          ).mean,
      );
    }
    expect(diff / planted.numItems).toBeLessThan(0.06); // measured 0.025
  });
});
