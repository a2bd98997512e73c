import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultCheckpointFile, openCheckpoint, openDataset } from '../src/app/data.js';
import { evaluateCheckpoint } from '../src/app/evaluate.js';
import {
  recommendForAllUsers,
  recommendForNewUser,
  recommendForTrainingUser,
} from '../src/app/recommend.js';
import { similarMovies } from '../src/app/similar.js';
import { trainModel, TrainingRun, type TrainStart } from '../src/app/train.js';
import { readCheckpoint } from '../src/data/checkpoint.js';
import type { Dataset } from '../src/data/types.js';
import type { EpochMetrics } from '../src/core/types.js';
import { AlsError } from '../src/errors.js';
import { movielensDir } from './helpers/movielens.js';

// The application layer in-process: no CLI spawned, callbacks observed directly. ML-100K with a
// small dim on one thread of the TypeScript kernel keeps every run to a second or two.
const work = mkdtempSync(path.join(tmpdir(), 'als-app-'));
let ml100k: Dataset;
const base = { kernel: 'ts' as const, threads: 1, hyper: { kind: 'latent' as const, dim: 6 } };

beforeAll(async () => {
  ml100k = await openDataset({ data: movielensDir('ml-100k'), dataHome: work });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('trainModel', () => {
  it('reports the start, every epoch and every checkpoint write through callbacks, and returns plain data', async () => {
    const out = path.join(work, 'events.als');
    const starts: TrainStart[] = [];
    const epochs: EpochMetrics[] = [];
    const writes: { epoch: number; reason: string }[] = [];
    const result = await trainModel(
      { ...base, dataset: ml100k, split: 'ml100k:u1', epochs: 5, checkpointEvery: 2, out },
      {
        onStart: (s) => starts.push(s),
        onEpoch: (m) => epochs.push(m),
        onCheckpoint: (w) => writes.push(w),
      },
    );
    expect(starts).toHaveLength(1);
    expect(starts[0]!.split).toMatchObject({
      spec: 'ml100k:u1',
      trainRatings: 80000,
      testRatings: 20000,
    });
    expect(starts[0]!.hyper).toMatchObject({
      kind: 'latent',
      dim: 6,
      weightedRegularization: true,
    });
    expect(epochs.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(writes).toEqual([
      { file: out, epoch: 2, reason: 'every' },
      { file: out, epoch: 4, reason: 'every' },
      { file: out, epoch: 5, reason: 'final' },
    ]);
    expect(result).toMatchObject({
      stopReason: 'completed',
      epochsRun: 5,
      out,
      kernel: 'ts',
      threads: 1,
    });
    expect(result.history).toEqual(epochs);
    // The file on disk is the returned checkpoint, and its metrics are the epochs seen.
    const stored = readCheckpoint(out);
    expect(stored.epochsDone).toBe(5);
    expect(stored.metrics.map((m) => m.validationRmse)).toEqual(
      epochs.map((m) => m.validationRmse),
    );
    expect(Array.from(stored.state.itemFactors)).toEqual(
      Array.from(result.checkpoint!.state.itemFactors),
    );
    expect(readFileSync(`${out}.metrics.csv`, 'utf8').trim().split('\n')).toHaveLength(6);
    const best = epochs.reduce((a, b) => (b.validationRmse! < a.validationRmse! ? b : a));
    expect(result.best!.epoch).toBe(best.epoch);
  });

  it('stops after the epoch in progress on a stop request, saving it', async () => {
    const out = path.join(work, 'stopped.als');
    const stop = new AbortController();
    const result = await trainModel(
      { ...base, dataset: ml100k, epochs: 50, out, signal: stop.signal },
      { onEpoch: (m) => m.epoch === 3 && stop.abort() },
    );
    expect(result.stopReason).toBe('interrupted');
    expect(result.epochsRun).toBe(3);
    expect(readCheckpoint(out).epochsDone).toBe(3);
  });

  it('saves the last finished epoch at once when asked mid-run', async () => {
    const out = path.join(work, 'now.als');
    const saved: ({ file: string; epoch: number } | null)[] = [];
    const run = new TrainingRun(
      { ...base, dataset: ml100k, epochs: 3, out },
      { onEpoch: (m) => m.epoch === 2 && saved.push(run.saveLastGood()) },
    );
    await run.run();
    expect(saved).toEqual([{ file: out, epoch: 2 }]);
    expect(readCheckpoint(out).epochsDone).toBe(3);
  });

  it('resumes: 2 + 2 epochs give the model of 4', async () => {
    const a = path.join(work, 'resume.als');
    const b = path.join(work, 'straight.als');
    await trainModel({ ...base, dataset: ml100k, epochs: 2, out: a });
    const resumed = await trainModel({
      dataset: ml100k,
      kernel: 'ts',
      threads: 1,
      epochs: 2,
      out: a,
      resume: true,
    });
    const straight = await trainModel({ ...base, dataset: ml100k, epochs: 4, out: b });
    expect(resumed.history.map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
    expect(resumed.epochsRun).toBe(2);
    const x = resumed.checkpoint!.state.userFactors;
    const y = straight.checkpoint!.state.userFactors;
    let maxDiff = 0;
    for (let k = 0; k < x.length; k++) maxDiff = Math.max(maxDiff, Math.abs(x[k]! - y[k]!));
    expect(maxDiff).toBeLessThan(1e-9);
    await expect(
      trainModel({
        dataset: ml100k,
        kernel: 'ts',
        epochs: 1,
        out: a,
        resume: true,
        hyper: { dim: 8 },
      }),
    ).rejects.toThrow(/--dim: the checkpoint has dim 6/);
  });

  it('keeps the best epoch under early stopping', async () => {
    const out = path.join(work, 'early.als');
    // τ = γ = 1 at dim 20 without ALS-WR overfits ML-100K after the first epoch or two.
    const result = await trainModel({
      dataset: ml100k,
      kernel: 'ts',
      threads: 1,
      out,
      epochs: 40,
      split: 'ml100k:u1',
      earlyStopPatience: 3,
      hyper: { kind: 'latent', dim: 20, tau: 1, gamma: 1, weightedRegularization: false },
    });
    expect(result.stopReason).toBe('early-stop');
    const best = result.best!;
    expect(result.checkpoint!.bestEpoch).toBe(best.epoch);
    expect(result.checkpoint!.epochsDone).toBe(best.epoch);
    expect(result.history.at(-1)!.epoch).toBe(best.epoch + 3);
  });

  it('never writes a diverged model', async () => {
    const out = path.join(work, 'diverge.als');
    await trainModel({ ...base, dataset: ml100k, epochs: 1, out });
    const error = await trainModel({
      dataset: ml100k,
      kernel: 'ts',
      epochs: 2,
      out,
      resume: true,
      hyper: { lambda: 1e300 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlsError);
    expect((error as Error).message).toMatch(/diverged at epoch 2.*epoch 1\) is unchanged/);
    expect(readCheckpoint(out).epochsDone).toBe(1);
  });

  it('accepts dim 0 for the bias model only', async () => {
    const out = path.join(work, 'bias.als');
    const result = await trainModel({
      dataset: ml100k,
      kernel: 'ts',
      threads: 1,
      epochs: 1,
      out,
      hyper: { kind: 'bias', dim: 0 },
    });
    expect(result.checkpoint!.state.hyper).toMatchObject({
      kind: 'bias',
      dim: 0,
      gamma: 3,
      weightedRegularization: false,
    });
    await expect(
      trainModel({ dataset: ml100k, epochs: 1, out, hyper: { dim: 0 } }),
    ).rejects.toThrow(/--dim: 0 is only for the bias model/);
  });

  it('writes to <data home>/models/<folder name>-<kind>.als, found again from the same folder', async () => {
    const dataHome = path.join(work, 'home');
    const folder = `${movielensDir('ml-100k')}/`;
    const result = await trainModel({ ...base, dataset: ml100k, epochs: 1, dataHome });
    expect(result.out).toBe(path.join(dataHome, 'models', 'ml-100k-latent.als'));
    expect(defaultCheckpointFile({ data: folder, dataHome }, 'latent')).toBe(result.out);
    expect(defaultCheckpointFile({ data: 'ml-100k', dataHome }, 'latent')).toBe(result.out);
    await trainModel({
      ...base,
      hyper: { kind: 'genre', dim: 6 },
      dataset: ml100k,
      epochs: 1,
      dataHome,
    });
    expect(openCheckpoint({ data: folder, dataHome }).file).toBe(
      path.join(dataHome, 'models', 'ml-100k-genre.als'),
    );
  });
});

describe('evaluation and lists from a checkpoint', () => {
  let file: string;
  beforeAll(async () => {
    file = path.join(work, 'lists.als');
    await trainModel({ ...base, dataset: ml100k, epochs: 8, split: 'ml100k:u1', out: file });
  });

  it('evaluates on the checkpoint split: the RMSE of its last epoch', async () => {
    const checkpoint = readCheckpoint(file);
    const report = await evaluateCheckpoint({ checkpointFile: file, source: { dataHome: work } });
    expect(report.sameSplitAsTraining).toBe(true);
    expect(report.split.testRatings).toBe(20000);
    expect(report.ratings.all.rmse!).toBeCloseTo(checkpoint.metrics.at(-1)!.validationRmse!, 10);
    expect(report.ranking.k).toBe(10);
    const other = await evaluateCheckpoint({
      checkpointFile: file,
      checkpoint,
      split: 'ml100k:u2',
      k: 5,
    });
    expect(other.sameSplitAsTraining).toBe(false);
    expect(other.heldOutRatingsSeenInTraining).toBeGreaterThan(0);
    expect(other.ranking.k).toBe(5);
  });

  it('gives every training user the same list from --all-users as one at a time, by rating and by taste', async () => {
    const checkpoint = readCheckpoint(file);
    for (const rankBy of ['rating', 'taste'] as const) {
      const csv = path.join(work, `all-${rankBy}.csv`);
      const all = await recommendForAllUsers(checkpoint, csv, { top: 5, rankBy, threads: 1 });
      expect(all.users).toBeGreaterThan(900);
      const rows = readFileSync(csv, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(','));
      for (const userId of [1, 2, 100, 500, 943]) {
        const one = recommendForTrainingUser(checkpoint, userId, { top: 5, rankBy });
        const mine = rows.filter((r) => Number(r[0]) === userId);
        expect(mine.map((r) => Number(r[2]))).toEqual(one.recommendations.map((r) => r.movieId));
        mine.forEach((r, k) => expect(Number(r[3])).toBeCloseTo(one.recommendations[k]!.score, 3));
      }
    }
  });

  it('folds in a new user from titles and ids, leaving the given movies out', () => {
    const checkpoint = readCheckpoint(file);
    const result = recommendForNewUser(
      checkpoint,
      { likes: ['Toy Story'], movieIds: ['50=4'] },
      { minRatings: 0 },
    );
    expect(result.rankBy).toBe('taste');
    expect(result.resolved.map((r) => [r.how, r.title, r.rating])).toEqual([
      ['likes', 'Toy Story (1995)', 5],
      ['rates', 'Star Wars (1977)', 4],
    ]);
    expect(result.recommendations).toHaveLength(10);
    expect(result.recommendations.map((r) => r.movieId)).not.toContain(1);
    expect(result.recommendations.map((r) => r.movieId)).not.toContain(50);
    for (const r of result.recommendations) {
      expect(r.score).toBeGreaterThanOrEqual(1);
      expect(r.score).toBeLessThanOrEqual(5);
    }
    expect(() => recommendForNewUser(checkpoint, { rates: ['Toy Story=9'] })).toThrow(
      /outside the scale/,
    );
  });

  it('lists similar movies by cosine, the movie itself left out', () => {
    const checkpoint = readCheckpoint(file);
    const result = similarMovies(checkpoint, { movieId: 1 }, { top: 5, minRatings: 50 });
    expect(result.movie.title).toBe('Toy Story (1995)');
    expect(result.similar.map((r) => r.movieId)).not.toContain(1);
    const scores = result.similar.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    for (const r of result.similar) expect(r.ratings).toBeGreaterThanOrEqual(50);
    expect(existsSync(file)).toBe(true);
  });
});
