import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHyperparameters, trainCommand } from '../src/app/selection.js';
import { parseOptionValues } from '../src/cli/options.js';
import { TRAIN_OPTIONS } from '../src/cli/train.js';
import { defaultHyperparameters } from '../src/core/defaults.js';
import { movielensDir } from './helpers/movielens.js';

// What the user sees of als cv, als tune and als runs: the built CLI on real ML-100K with tiny
// models (dim ≤ 8, a few epochs, the ts kernel, one thread), each test in its own data home.
const bin = path.resolve('bin/als.js');
const work = mkdtempSync(path.join(tmpdir(), 'als-select-'));
let ml100k: string;

beforeAll(() => {
  if (!existsSync(path.resolve('dist/cli/main.js')))
    throw new Error('dist/ is missing: run npm run build first');
  ml100k = movielensDir('ml-100k');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Result = { code: number | null; stdout: string; stderr: string };
function als(...args: string[]): Result {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: work,
    env: { ...process.env, ALS_DEBUG: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
function expectOk(r: Result): void {
  if (r.code !== 0) expect(`exit ${r.code}: ${r.stderr}`).toBe('exit 0');
}
function expectOneLineError(r: Result, pattern: RegExp): void {
  if (r.code !== 2) expect(`exit ${r.code}: ${r.stdout}${r.stderr}`).toBe('exit 2');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^als: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stdout).toBe('');
}
const home = (name: string): string => path.join(work, name);
const small = ['--kind', 'latent', '--kernel', 'ts', '--threads', '1'];
const tuneArgs = (dataHome: string): string[] => [
  'tune',
  '--data',
  ml100k,
  '--data-home',
  dataHome,
  '--split',
  'ml100k:u1',
  '--folds',
  '3',
  '--seed',
  '3',
  '--space',
  'dim=2,6',
  '--space',
  'tau=0.05..0.5:log',
  '--trials',
  '4',
  '--halving',
  '1,3',
  '--reduction',
  '2',
  ...small,
];

describe('als cv', () => {
  it('prints per-fold scores and mean ± std per configuration, paired on the same folds; records folds and summaries', () => {
    const h = home('cv');
    const r = als(
      'cv',
      '--data',
      ml100k,
      '--data-home',
      h,
      '--folds',
      'ml100k',
      '--dim',
      '4',
      '--epochs',
      '3',
      '--config',
      'dim=8 tau=0.2',
      ...small,
    );
    expectOk(r);
    expect(r.stdout).toContain('folds ml100k (seed 1), 2 configurations on the same folds');
    const blocks = r.stdout.split('\n\n').filter((b) => /^(latent|dim=)/.test(b));
    expect(blocks.map((b) => b.split('\n')[0])).toEqual([
      expect.stringMatching(/^latent dim 4, 3 epochs \(run \d+\)$/),
      expect.stringMatching(/^dim=8 tau=0\.2, 3 epochs \(run \d+\)$/),
    ]);
    for (const block of blocks) {
      const rows = block.split('\n').filter((l) => /^[1-5] /.test(l));
      expect(rows).toHaveLength(5);
      const rmse = rows.map((l) => Number(l.split(/\s+/)[1]));
      const mean = Number(
        block
          .split('\n')
          .find((l) => l.startsWith('mean'))!
          .split(/\s+/)[1],
      );
      // The printed mean is the mean of the printed folds (each rounded to 4 digits).
      expect(Math.abs(mean - rmse.reduce((s, x) => s + x, 0) / 5)).toBeLessThan(1.5e-4);
      expect(rmse.every((x) => x > 0.85 && x < 1.2)).toBe(true);
    }
    expect(r.stdout).toMatch(/paired against the first: RMSE [+-]\d\.\d{4} ± \d\.\d{4}/);

    const json = als(
      'cv',
      '--data',
      ml100k,
      '--data-home',
      h,
      '--folds',
      'ml100k',
      '--dim',
      '4',
      '--epochs',
      '3',
      '--json',
      '--no-record',
      ...small,
    );
    expectOk(json);
    const parsed = JSON.parse(json.stdout) as {
      folds: { spec: string; k: number };
      configurations: Array<{
        folds: Array<{ metrics: Record<string, number> }>;
        runId: number | null;
      }>;
    };
    expect(parsed.folds).toMatchObject({ spec: 'ml100k', k: 5 });
    expect(parsed.configurations[0]!.runId).toBeNull();
    // Deterministic: the same folds and seed give the same scores as the recorded run's first configuration.
    const firstRow = blocks[0]!.split('\n').find((l) => l.startsWith('1 '))!;
    expect(parsed.configurations[0]!.folds[0]!.metrics.rmse!.toFixed(4)).toBe(
      firstRow.split(/\s+/)[1],
    );

    // The registry: 2 summaries listed by default, 10 folds more with --all; --no-record added nothing.
    const listed = JSON.parse(als('runs', '--data-home', h, '--json').stdout) as Array<{
      id: number;
      kind: string;
      fold: number | null;
      metrics: Record<string, number>;
    }>;
    expect(listed.map((x) => [x.kind, x.fold])).toEqual([
      ['cv', null],
      ['cv', null],
    ]);
    const everything = JSON.parse(
      als('runs', '--data-home', h, '--json', '--all').stdout,
    ) as unknown[];
    expect(everything).toHaveLength(12);
    const [second, first] = listed;
    const show = als('runs', 'show', String(first!.id), '--data-home', h);
    expectOk(show);
    expect(show.stdout).toMatch(/^run {6}\d+: cv, finished$/m);
    expect(show.stdout).toContain(
      `command  als cv --data ${ml100k} --data-home ${h} --folds ml100k --dim 4`,
    );
    expect(show.stdout).toMatch(/metrics {2}rmse 0\.\d{4}, rmse_std 0\.\d{4}/);
    const compare = als('runs', 'compare', String(first!.id), String(second!.id), '--data-home', h);
    expectOk(compare);
    expect(compare.stdout).toMatch(/^\* +dim +4 +8$/m);
    expect(compare.stdout).toMatch(/^ +lambda +1 +1$/m);
    const best = JSON.parse(
      als('runs', '--data-home', h, '--json', '--best', 'rmse').stdout,
    ) as Array<{ metrics: Record<string, number> }>;
    expect(best[0]!.metrics.rmse).toBeLessThanOrEqual(best[1]!.metrics.rmse!);
  });
});

describe('recording train and eval', () => {
  it('records train and eval runs with their metrics; --no-record records nothing; a broken registry warns once and training goes on', () => {
    const h = home('record');
    const out = path.join(h, 'm.als');
    expectOk(
      als(
        'train',
        '--data',
        ml100k,
        '--data-home',
        h,
        '--dim',
        '4',
        '--epochs',
        '3',
        '--split',
        'ml100k:u1',
        '--out',
        out,
        '--quiet',
        ...small,
      ),
    );
    expectOk(als('eval', '--checkpoint', out, '--data-home', h));
    expectOk(
      als(
        'train',
        '--data',
        ml100k,
        '--data-home',
        h,
        '--dim',
        '4',
        '--epochs',
        '2',
        '--out',
        out,
        '--quiet',
        '--no-record',
        ...small,
      ),
    );
    expectOk(als('eval', '--checkpoint', out, '--data-home', h, '--no-record'));
    const runs = JSON.parse(als('runs', '--data-home', h, '--json').stdout) as Array<{
      kind: string;
      epochs: number;
      split: string;
      checkpoint: string;
      metrics: Record<string, number>;
    }>;
    expect(runs.map((r) => r.kind)).toEqual(['eval', 'train']);
    const [evalRun, trainRun] = runs;
    expect(trainRun).toMatchObject({ epochs: 3, split: 'ml100k:u1', checkpoint: out });
    // The eval of the 3-epoch model on its own split gives the training's validation RMSE.
    expect(evalRun!.metrics.rmse).toBeCloseTo(trainRun!.metrics.rmse!, 6);
    expect(evalRun!.metrics['ndcg@10']).toBeGreaterThan(0);
    const filtered = JSON.parse(
      als(
        'runs',
        '--data-home',
        h,
        '--json',
        '--command',
        'train',
        '--kind',
        'latent',
        '--since',
        '1h',
      ).stdout,
    ) as unknown[];
    expect(filtered).toHaveLength(1);
    expect(JSON.parse(als('runs', '--data-home', h, '--json', '--kind', 'genre').stdout)).toEqual(
      [],
    );

    const broken = home('broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(path.join(broken, 'runs.sqlite'), 'not a database at all\n');
    const r = als(
      'train',
      '--data',
      ml100k,
      '--data-home',
      broken,
      '--dim',
      '4',
      '--epochs',
      '1',
      '--quiet',
      ...small,
    );
    expectOk(r);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^als: warning: run registry .*runs\.sqlite is not an SQLite database; .*--no-record; this run is not recorded$/,
      ),
    ]);
    expect(existsSync(path.join(broken, 'models', 'ml-100k-latent.als'))).toBe(true);
    const list = als('runs', '--data-home', broken);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/^als: run registry .* is not an SQLite database/);
  });
});

describe('bad input', () => {
  it('one line naming the option, exit 2', () => {
    const h = home('bad');
    const cv = (...a: string[]) => als('cv', '--data', ml100k, '--data-home', h, ...small, ...a);
    const tune = (...a: string[]) =>
      als('tune', '--data', ml100k, '--data-home', h, '--no-record', ...small, ...a);
    expectOneLineError(
      cv('--folds', '1'),
      /^als: --folds: bad folds "random:1": the number of folds must be an integer from 2 to 100/,
    );
    expectOneLineError(cv('--folds', 'shuffled:3'), /^als: --folds: bad folds "shuffled:3"/);
    expectOneLineError(
      cv('--config', 'depth=3'),
      /^als: --config 'depth=3': unknown hyperparameter "depth"/,
    );
    expectOneLineError(tune(), /^als: --space: the search space is empty/);
    expectOneLineError(
      tune('--space', 'depth=1,2'),
      /^als: --space 'depth=1,2': unknown hyperparameter "depth"/,
    );
    expectOneLineError(
      tune('--space', 'tau=0.3..0.03'),
      /^als: --space 'tau=0\.3\.\.0\.03': tau range 0\.3\.\.0\.03 has low > high/,
    );
    expectOneLineError(
      tune('--space', 'dim=10', '--space', 'dim=20'),
      /^als: --space: dim is given twice/,
    );
    expectOneLineError(
      tune('--space', 'genre-tau=10,100'),
      /^als: --space: genre-tau has no effect on the latent model \(--kind latent\)/,
    );
    expectOneLineError(
      tune('--space', 'dim=4,8', '--metric', 'auc'),
      /^als: --metric auc: not a metric als computes/,
    );
    expectOneLineError(
      tune('--space', 'dim=4,8', '--folds', 'ml100k'),
      /^als: --folds: the official ml100k folds cover the whole data set/,
    );
    expectOneLineError(
      tune('--space', 'dim=4,8', '--halving', '5,3'),
      /^als: --halving: milestones must increase/,
    );
    const spaceFile = path.join(work, 'space.json');
    writeFileSync(spaceFile, '{"dim": "4..2"}');
    expectOneLineError(
      tune('--space-file', spaceFile),
      /space\.json.*dim range 4\.\.2 has low > high/,
    );
    expectOneLineError(
      als('runs', 'show', 'x', '--data-home', h),
      /^als: run id "x" is not a number/,
    );
    expectOneLineError(
      als('runs', '--best', 'auc', '--data-home', h),
      /^als: --best auc: not a recorded metric/,
    );
    expectOneLineError(
      als('runs', '--since', 'yesterday', '--data-home', h),
      /^als: --since: must be a date \(2026-12-01\) or an age/,
    );
    expectOneLineError(
      als('runs', 'compare', '3', '--data-home', h),
      /^als: runs compare: give at least two run ids/,
    );
  });
});

describe('als tune', () => {
  it('prints the rounds and the als train command of the best configuration, which --refit trains; a killed tune resumes from the registry', async () => {
    const whole = home('tune-whole');
    const uninterrupted = als(...tuneArgs(whole), '--refit');
    expectOk(uninterrupted);
    expect(uninterrupted.stdout).toMatch(
      /^tune {5}4 trials, rmse \(lower is better\) by random:3 folds inside the training part of ml100k:u1/m,
    );
    expect(uninterrupted.stdout).toMatch(/^rung 1 +1 epochs: 4 trials; best trial \d/m);
    expect(uninterrupted.stdout).toMatch(/^rung 2 +3 epochs: 2 trials; best trial \d/m);
    const command = uninterrupted.stdout.split('\n').find((l) => l.startsWith('als train '))!;
    expect(command).toMatch(/ --epochs 3 --split ml100k:u1 --seed 3$/);
    // The printed command sets exactly the chosen hyperparameters.
    const args = command.split(' ').slice(2);
    const raw: Record<string, unknown> = {};
    for (let i = 0; i < args.length; i++) {
      const name = args[i]!.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) =>
        c.toUpperCase(),
      );
      raw[name] = args[i + 1]!.startsWith('--') ? true : args[++i];
    }
    const parsed = parseOptionValues(TRAIN_OPTIONS, raw);
    const json = JSON.parse(
      als(...tuneArgs(home('tune-json')), '--json', '--no-record').stdout,
    ) as { best: { hyper: unknown; epochs: number } };
    expect(
      resolveHyperparameters({
        kind: parsed.kind,
        dim: parsed.dim,
        lambda: parsed.lambda,
        tau: parsed.tau,
        gamma: parsed.gamma,
      }),
    ).toEqual(json.best.hyper);
    expect(uninterrupted.stdout).toMatch(
      /^refit {4}3 epochs in [\d.]+ s; held-out RMSE 0\.\d{4}$/m,
    );
    expect(existsSync(path.join(whole, 'models', 'ml-100k-latent.als'))).toBe(true);
    const trained = JSON.parse(
      als('runs', '--data-home', whole, '--json', '--command', 'train').stdout,
    ) as Array<{ epochs: number; split: string }>;
    expect(trained).toEqual([expect.objectContaining({ epochs: 3, split: 'ml100k:u1' })]);
    // The tune's page: both charts, and one table row per (trial, halving round) run: 4 + 2.
    const page = path.join(work, 'tune.html');
    expectOk(als('report', '--tune', '1', '--data-home', whole, '--out', page));
    const html = readFileSync(page, 'utf8');
    expect(html.match(/<svg/g)).toHaveLength(2);
    expect(html).toContain('rmse against each hyperparameter');
    expect(html.match(/<tr>/g)!.length - 1).toBe(6);
    expectOneLineError(
      als('report', '--tune', '9', '--data-home', whole, '--out', page),
      /^als: --tune 9: no such tune/,
    );

    // Kill a tune after its second job, then run the same command again.
    const h = home('tune-killed');
    const stderr = await new Promise<string>((resolve) => {
      const p = spawn(process.execPath, [bin, ...tuneArgs(h)], {
        cwd: work,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      p.stderr.on('data', (d) => {
        err += d;
        if (err.split('\n').filter((l) => l.startsWith('trial ')).length >= 2) p.kill('SIGKILL');
      });
      p.on('close', () => resolve(err));
    });
    expect(stderr).toMatch(/^tune {5}4 trials × 3 inner folds, tune 1$/m);
    const resumed = als(...tuneArgs(h));
    expectOk(resumed);
    expect(resumed.stderr).toMatch(
      /^tune {5}4 trials × 3 inner folds, resuming tune 1 from the registry$/m,
    );
    expect(resumed.stderr).toMatch(/\(3 folds from the registry\)/);
    const reused = Number(/(\d+) fold results reused from the registry/.exec(resumed.stdout)?.[1]);
    expect(reused).toBeGreaterThanOrEqual(6);
    expect(reused).toBeLessThan(18);
    const bestLine = (s: string): string[] =>
      s
        .split('\n')
        .filter((l) => l.startsWith('best ') || l.startsWith('als train') || l.startsWith('rung '));
    expect(bestLine(resumed.stdout)).toEqual(bestLine(uninterrupted.stdout));
    // Run again once finished: a new tune (the finished one is not reopened).
    const again = als(...tuneArgs(h), '--quiet');
    expectOk(again);
    expect(again.stdout).toContain('; tune 2');
    expect(again.stdout).not.toContain('reused from the registry');
  }, 120_000);
});

describe('trainCommand', () => {
  it('names --kind and every hyperparameter that differs from that kind’s default', () => {
    const hyper = {
      ...defaultHyperparameters('genre'),
      dim: 50,
      genreTau: 20,
      weightedRegularization: false,
    };
    expect(trainCommand({ data: 'my data', hyper, epochs: 40, split: 'ml100k:u1', seed: 1 })).toBe(
      "als train --data 'my data' --kind genre --dim 50 --genre-tau 20 --no-weighted --epochs 40 --split ml100k:u1 --seed 1",
    );
    expect(
      trainCommand({
        hyper: defaultHyperparameters('bias'),
        epochs: 5,
        split: 'random:0.1',
        seed: 2,
      }),
    ).toBe('als train --kind bias --epochs 5 --split random:0.1 --seed 2');
  });
});
