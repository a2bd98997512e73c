import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossValidate, meanStd } from '../src/app/cv.js';
import {
  coreTrainFold,
  itemGenresOf,
  scoreModel,
  workerTrainFold,
} from '../src/app/fold-training.js';
import {
  nestedFolds,
  parseMetric,
  scoreOnHeldOut,
  tune,
  type TuneOptions,
} from '../src/app/tune.js';
import { buildSpace, parseDimension } from '../src/app/tune-space.js';
import { defaultHyperparameters } from '../src/core/defaults.js';
import { loadKernel } from '../src/core/kernels.js';
import type { KernelProvider } from '../src/core/kernel.js';
import { foldMasks, makeFolds } from '../src/data/folds.js';
import { loadDataset } from '../src/data/load.js';
import { makeSplit, splitMask } from '../src/data/splits.js';
import type { Dataset } from '../src/data/types.js';
import { UsageError } from '../src/errors.js';
import { openRegistry } from '../src/registry/registry.js';
import { movielensDir } from './helpers/movielens.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-cvtune-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let dataset: Dataset;
let kernel: KernelProvider;
beforeAll(async () => {
  dataset = await loadDataset(movielensDir('ml-100k'));
  kernel = await loadKernel('ts');
});

const latent = (dim: number) => ({ ...defaultHyperparameters('latent'), dim });

describe('crossValidate', () => {
  it('u1–u5, two configurations: each fold is the official split, scores match an independent run, means and paired differences add up, runs recorded', async () => {
    const folds = makeFolds(dataset, 'ml100k', 1);
    const registry = await openRegistry(path.join(scratch, 'cv', 'runs.sqlite'));
    const events: string[] = [];
    const result = await crossValidate({
      dataset,
      folds,
      configurations: [
        { label: 'bias', hyper: defaultHyperparameters('bias'), epochs: 3 },
        { label: 'latent 8', hyper: latent(8), epochs: 3 },
      ],
      seed: 1,
      threads: 1,
      trainFold: coreTrainFold(kernel),
      record: { registry, commandLine: ['als', 'cv'], toolVersion: 'test', kernel: 'ts' },
      onProgress: (e) => {
        if (e.type === 'fold-done') events.push(`${e.configuration}:${e.fold}`);
      },
    });
    expect(events).toEqual(['0:0', '1:0', '0:1', '1:1', '0:2', '1:2', '0:3', '1:3', '0:4', '1:4']);
    // Fold 3 of the latent model, trained independently on the official ml100k:u3 split.
    const split = makeSplit(dataset, 'ml100k:u3', 1);
    const trained = await coreTrainFold(kernel)({
      train: split.train,
      validation: split.test,
      itemGenres: itemGenresOf(dataset),
      hyper: latent(8),
      seed: 1,
      epochs: 3,
      threads: 1,
    });
    const independent = scoreModel(trained.state, split.train, split.test, dataset);
    expect(result.configurations[1]!.folds[2]!.metrics).toEqual(independent);

    for (const c of result.configurations) {
      const rmses = c.folds.map((f) => f.metrics.rmse!);
      expect(c.summary.rmse).toEqual(meanStd(rmses));
      expect(c.summary.rmse!.mean).toBeGreaterThan(0.85);
      expect(c.summary.rmse!.mean).toBeLessThan(1.05);
      expect(c.summary.rmse!.std).toBeGreaterThan(0);
    }
    const [bias, lat] = result.configurations;
    const diffs = lat!.folds.map((f, i) => f.metrics.rmse! - bias!.folds[i]!.metrics.rmse!);
    expect(lat!.versusFirst!.rmse!.mean).toBeCloseTo(diffs.reduce((s, d) => s + d, 0) / 5, 12);
    expect(bias!.versusFirst).toBeNull();

    const runs = registry.listRuns({ kind: 'cv' });
    expect(runs).toHaveLength(12);
    expect(
      registry
        .listRuns({ kind: 'cv', withoutFolds: true })
        .map((r) => r.id)
        .sort(),
    ).toEqual([bias!.runId, lat!.runId].sort());
    const summary = registry.getRun(lat!.runId!)!;
    expect(summary.fold).toBeNull();
    expect(summary.split).toBe('ml100k');
    expect(summary.metrics.rmse).toBeCloseTo(lat!.summary.rmse!.mean, 12);
    expect(summary.metrics.rmse_std).toBeCloseTo(lat!.summary.rmse!.std, 12);
    const foldRun = runs.find((r) => r.fold === 2 && r.modelKind === 'latent')!;
    expect(foldRun.split).toBe('ml100k#3');
    expect(registry.getRun(foldRun.id)!.history).toHaveLength(3);
    registry.close();
  }, 60_000);

  it('folds trained in parallel worker threads give exactly the sequential scores', async () => {
    const folds = makeFolds(dataset, 'random:3', 4);
    const base = {
      dataset,
      folds,
      configurations: [{ label: 'latent 6', hyper: latent(6), epochs: 2 }],
      seed: 2,
      threads: 1,
    };
    const sequential = await crossValidate({ ...base, trainFold: coreTrainFold(kernel) });
    const parallel = await crossValidate({
      ...base,
      trainFold: workerTrainFold('ts'),
      parallel: 2,
    });
    expect(parallel.configurations[0]!.folds.map((f) => f.metrics)).toEqual(
      sequential.configurations[0]!.folds.map((f) => f.metrics),
    );
  }, 60_000);
});

function tuneOptions(over: Partial<TuneOptions> = {}): TuneOptions {
  return {
    dataset,
    outer: { spec: 'ml100k:u1', seed: 1 },
    innerFolds: 'random:3',
    seed: 3,
    space: buildSpace([parseDimension('dim=2,6'), parseDimension('tau=0.05..0.5:log')]),
    strategy: { type: 'random', trials: 4 },
    base: defaultHyperparameters('latent'),
    halving: { milestones: [1, 3], reduction: 2, mode: 'sync' },
    metric: 'rmse',
    threads: 1,
    trainFold: coreTrainFold(kernel),
    ...over,
  };
}

/** A copy of the data set whose ratings at `mask[k] === 0` (CSR position k) are NaN, in both indexes. */
function poisoned(source: Dataset, heldOut: Uint8Array): Dataset {
  const m = source.matrix;
  const byUser = { ...m.ratingsByUser, values: m.ratingsByUser.values.slice() };
  const byItem = { ...m.ratingsByItem, values: m.ratingsByItem.values.slice() };
  const cursor = m.ratingsByItem.offsets.slice(0, m.numItems);
  for (let u = 0; u < m.numUsers; u++) {
    for (let p = m.ratingsByUser.offsets[u]!; p < m.ratingsByUser.offsets[u + 1]!; p++) {
      const q = cursor[m.ratingsByUser.indices[p]!]!++;
      if (heldOut[p] === 0) {
        byUser.values[p] = Number.NaN;
        byItem.values[q] = Number.NaN;
      }
    }
  }
  return { ...source, matrix: { ...m, ratingsByUser: byUser, ratingsByItem: byItem } };
}

describe('tune', () => {
  it('nested selection never touches the outer test fold: poisoning those ratings with NaN changes nothing', async () => {
    const outerTrain = splitMask(dataset, 'ml100k:u1', 1);
    const { folds } = nestedFolds(dataset, { spec: 'ml100k:u1', seed: 1 }, 'random:3', 3);
    for (let f = 0; f < 3; f++) {
      const { train, test } = foldMasks(folds, f);
      for (let p = 0; p < outerTrain.length; p++)
        if (outerTrain[p] === 0) expect(train[p] === 0 && test[p] === 1).toBe(true);
    }
    const clean = await tune(tuneOptions());
    const dirty = poisoned(dataset, outerTrain);
    const onPoisoned = await tune(tuneOptions({ dataset: dirty }));
    expect(onPoisoned.trials.map((t) => t.rungs.map((r) => r.score))).toEqual(
      clean.trials.map((t) => t.rungs.map((r) => r.score)),
    );
    expect(Number.isFinite(onPoisoned.best.score)).toBe(true);
    // The control: without the outer split the poisoned ratings are used, and every score is NaN.
    await expect(tune(tuneOptions({ dataset: dirty, outer: null }))).rejects.toThrow(
      /no trial produced a score/,
    );
    // And the chosen configuration scored on the outer test part, which the selection never saw.
    const heldOut = await scoreOnHeldOut({
      dataset,
      split: makeSplit(dataset, 'ml100k:u1', 1),
      hyper: clean.best.hyper,
      epochs: clean.best.epochs,
      seed: 3,
      threads: 1,
      trainFold: coreTrainFold(kernel),
    });
    expect(heldOut.rmse).toBeGreaterThan(0.85);
    expect(heldOut.rmse).toBeLessThan(1.1);
  }, 120_000);

  it('halving: all trials scored at the first milestone, the better half continues, the best is the best final score', async () => {
    const result = await tune(tuneOptions());
    expect(result.rungs.map((r) => r.length)).toEqual([4, 2]);
    const firstRung = result.trials.map((t) => t.rungs[0]!.score);
    const promoted = result.trials.filter((t) => t.rungs.length === 2).map((t) => t.trial);
    const twoBest = [...firstRung.keys()].sort((a, b) => firstRung[a]! - firstRung[b]!).slice(0, 2);
    expect(promoted.sort()).toEqual(twoBest.sort());
    const finals = result.trials.filter((t) => t.rungs.length === 2).map((t) => t.rungs[1]!.score);
    expect(result.best.score).toBe(Math.min(...finals));
    expect(result.best.epochs).toBe(3);
    expect(result.bestFlags).toMatch(/^--dim \d+ --tau [\d.]+ --epochs 3$/);
    // 4 trials × 3 folds × 1 epoch, then 2 × 3 × 2 more epochs (continued from the kept models).
    expect(result.epochsTrained).toBe(4 * 3 * 1 + 2 * 3 * 2);
    // Retrained from scratch instead (no memory for kept models): the same scores, more epochs.
    const retrained = await tune(tuneOptions({ keptModelBytes: 0 }));
    expect(retrained.trials.map((t) => t.rungs.map((r) => r.score))).toEqual(
      result.trials.map((t) => t.rungs.map((r) => r.score)),
    );
    expect(retrained.epochsTrained).toBe(4 * 3 * 1 + 2 * 3 * 3);
  }, 120_000);

  it('bad objective names are one-line usage errors', () => {
    expect(parseMetric('ndcg@10')).toEqual({ name: 'ndcg@10', k: 10 });
    expect(() => parseMetric('auc')).toThrow(UsageError);
    expect(() => parseMetric('auc')).toThrow(/^--metric auc: not a metric als computes/);
    expect(() => parseMetric('ndcg@0')).toThrow(/K must be from 1 to 1000/);
  });

  it('a killed tune resumes from the registry without redoing finished trials, and ends as an uninterrupted one', async () => {
    const file = path.join(scratch, 'resume', 'runs.sqlite');
    const script = path.join(scratch, 'tune-child.mjs');
    const dist = (p: string) => JSON.stringify(path.resolve('dist', p));
    writeFileSync(
      script,
      `
      import { tune } from ${dist('app/tune.js')};
      import { coreTrainFold } from ${dist('app/fold-training.js')};
      import { buildSpace, parseDimension } from ${dist('app/tune-space.js')};
      import { defaultHyperparameters } from ${dist('core/defaults.js')};
      import { loadKernel } from ${dist('core/kernels.js')};
      import { loadDataset } from ${dist('data/load.js')};
      import { openRegistry } from ${dist('registry/registry.js')};
      const [dataDir, file] = process.argv.slice(2);
      const dataset = await loadDataset(dataDir);
      const registry = await openRegistry(file);
      await tune({
        dataset, outer: { spec: 'ml100k:u1', seed: 1 }, innerFolds: 'random:3', seed: 3,
        space: buildSpace([parseDimension('dim=2,6'), parseDimension('tau=0.05..0.5:log')]),
        strategy: { type: 'random', trials: 4 }, base: defaultHyperparameters('latent'),
        halving: { milestones: [1, 3], reduction: 2, mode: 'sync' }, metric: 'rmse', threads: 1,
        trainFold: coreTrainFold(await loadKernel('ts')),
        record: { registry, commandLine: ['als', 'tune'], toolVersion: 'test', kernel: 'ts' },
        onProgress: (e) => { if (e.type === 'fold-done') process.stdout.write('fold\\n'); },
      });
      process.stdout.write('finished\\n');
    `,
    );
    // Kill the child with SIGKILL once it has finished 5 (trial, fold) trainings.
    const output = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, [script, movielensDir('ml-100k'), file], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
        if (out.split('\n').filter((l) => l === 'fold').length >= 5) p.kill('SIGKILL');
      });
      p.on('close', () => resolve(out));
    });
    expect(output).not.toContain('finished');
    const registry = await openRegistry(file);
    const finishedBefore = registry.listRuns({ kind: 'tune-trial', status: 'finished' }).length;
    expect(finishedBefore).toBeGreaterThanOrEqual(5);
    expect(finishedBefore).toBeLessThan(18);
    const events: string[] = [];
    const resumed = await tune(
      tuneOptions({
        record: { registry, commandLine: ['als', 'tune'], toolVersion: 'test', kernel: 'ts' },
        onProgress: (e) => {
          if (e.type === 'start') events.push(`start resumed=${e.resumed}`);
        },
      }),
    );
    expect(events).toEqual(['start resumed=true']);
    expect(resumed.resumed).toBe(true);
    expect(resumed.reusedFolds).toBe(finishedBefore);
    expect(resumed.trainedFolds + resumed.reusedFolds).toBe(4 * 3 + 2 * 3);
    const uninterrupted = await tune(tuneOptions());
    expect(resumed.trials.map((t) => t.rungs.map((r) => r.score))).toEqual(
      uninterrupted.trials.map((t) => t.rungs.map((r) => r.score)),
    );
    expect(resumed.best).toEqual(uninterrupted.best);
    expect(registry.getTune(resumed.tuneId!)).toMatchObject({ status: 'finished' });
    // Every (trial, fold, rung) is there once finished (a killed one may also have left a "running" row).
    expect(registry.listRuns({ tuneId: resumed.tuneId!, status: 'finished' })).toHaveLength(18);
    registry.close();
  }, 120_000);
});
