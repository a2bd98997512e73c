import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  openRecorder,
  Recorder,
  recordResult,
  recordTraining,
  TOOL_VERSION,
} from '../src/app/record.js';
import { listRecordedRuns } from '../src/app/runs.js';
import { runCrossValidation } from '../src/app/selection.js';
import { trainModel } from '../src/app/train.js';
import { loadDataset } from '../src/data/load.js';
import type { Dataset } from '../src/data/types.js';
import { AlsError } from '../src/errors.js';
import { openRegistry, type Registry } from '../src/registry/registry.js';
import { movielensDir } from './helpers/movielens.js';

// In-process: the adapter between the app layer's runs and the registry.
const scratch = mkdtempSync(path.join(tmpdir(), 'als-record-'));
let dataset: Dataset;
beforeAll(async () => {
  dataset = await loadDataset(movielensDir('ml-100k'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const request = (extra = {}) => ({
  dataset,
  hyper: { kind: 'latent' as const, dim: 3 },
  epochs: 3,
  split: 'ml100k:u2',
  threads: 1,
  kernel: 'ts' as const,
  write: false,
  ...extra,
});

describe('Recorder', () => {
  it('records a training: settings at start, every epoch, the saved model’s validation RMSE at the end', async () => {
    const file = path.join(scratch, 'a', 'runs.sqlite');
    const recorder = (await openRecorder({ file, commandLine: ['als', 'train', '--dim', '3'] }))!;
    const epochs: number[] = [];
    const result = await recordResult(
      recorder,
      trainModel(
        request(),
        recordTraining(recorder, dataset, { onEpoch: (m) => epochs.push(m.epoch) }),
      ),
    );
    recorder.close();
    expect(epochs).toEqual([1, 2, 3]);
    const registry = await openRegistry(file);
    const [run] = registry.listRuns();
    const detail = registry.getRun(run!.id)!;
    registry.close();
    expect(detail).toMatchObject({
      kind: 'train',
      status: 'finished',
      modelKind: 'latent',
      split: 'ml100k:u2',
      seed: 1,
      threads: 1,
      kernel: 'ts',
      epochs: 3,
      dataName: 'ml-100k',
      dataFingerprint: dataset.info.fingerprint,
      commandLine: ['als', 'train', '--dim', '3'],
      toolVersion: TOOL_VERSION,
    });
    expect(detail.hyperparameters).toMatchObject({ kind: 'latent', dim: 3, lambda: 1 });
    expect(detail.history.map((e) => e.validationRmse)).toEqual(
      result.history.map((m) => m.validationRmse),
    );
    expect(detail.metrics.rmse).toBe(result.history[2]!.validationRmse);
    expect(detail.metrics.train_rmse).toBe(result.history[2]!.trainRmse);
  });

  it('a failed training is recorded as failed with its message', async () => {
    const file = path.join(scratch, 'b', 'runs.sqlite');
    const recorder = (await openRecorder({ file, commandLine: ['als', 'train'] }))!;
    const events = recordTraining(recorder, dataset, {});
    // The run fails after onStart: the record says so, and the error reaches the caller unchanged.
    const failing = trainModel(request({ hyper: { kind: 'latent', dim: 3 } }), {
      ...events,
      onEpoch: (m) => {
        events.onEpoch!(m);
        throw new AlsError('disk on fire');
      },
    });
    await expect(recordResult(recorder, failing)).rejects.toThrow('disk on fire');
    recorder.close();
    const registry = await openRegistry(file);
    const [run] = registry.listRuns();
    registry.close();
    expect(run).toMatchObject({ status: 'failed', error: 'disk on fire' });
  });

  it('a registry write that fails is one warning, and the training goes on and returns its result', async () => {
    const refusing = {
      file: 'x.sqlite',
      startRun: () => {
        throw new AlsError(
          'run registry x.sqlite is locked by another process (waited 5.0 s); try again or pass --no-record',
        );
      },
      close: () => {},
    } as unknown as Registry;
    const warnings: string[] = [];
    const recorder = new Recorder(refusing, ['als', 'train'], (w) => warnings.push(w));
    const result = await recordResult(
      recorder,
      trainModel(request(), recordTraining(recorder, dataset, {})),
    );
    expect(result.history).toHaveLength(3);
    expect(warnings).toEqual([
      'run registry x.sqlite is locked by another process (waited 5.0 s); try again or pass --no-record; the rest of this run is not recorded',
    ]);
  });

  it('record: false opens nothing; cv through the recorder records each fold and the summary', async () => {
    expect(
      await openRecorder({
        record: false,
        file: path.join(scratch, 'never', 'runs.sqlite'),
        commandLine: [],
      }),
    ).toBeNull();
    const file = path.join(scratch, 'c', 'runs.sqlite');
    const recorder = (await openRecorder({ file, commandLine: ['als', 'cv'] }))!;
    const result = await runCrossValidation({
      dataset,
      folds: 'random:3',
      hyper: { kind: 'bias' },
      epochs: 2,
      threads: 1,
      kernel: 'ts',
      recorder,
    });
    recorder.close();
    const registry = await openRegistry(file);
    const folds = registry.listRuns({ kind: 'cv' }).filter((r) => r.fold !== null);
    const [summary] = registry.listRuns({ kind: 'cv', withoutFolds: true });
    registry.close();
    expect(folds.map((r) => r.fold).sort()).toEqual([0, 1, 2]);
    expect(summary!.id).toBe(result.configurations[0]!.runId);
    expect(summary!.metrics.rmse).toBeCloseTo(result.configurations[0]!.summary.rmse!.mean, 12);
  });

  it('listing a data home without a registry finds no runs and creates no file', async () => {
    const dataHome = path.join(scratch, 'empty-home');
    expect(await listRecordedRuns({ dataHome })).toEqual({
      file: path.join(dataHome, 'runs.sqlite'),
      runs: [],
    });
    expect(existsSync(path.join(dataHome, 'runs.sqlite'))).toBe(false);
  });
});
