import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { centralIntervalZ, rmseFromSamples } from '../src/core/gibbs-predict.js';
import { readBayesCheckpoint } from '../src/data/bayes-checkpoint.js';
import { loadDataset } from '../src/data/load.js';
import { makeSplit } from '../src/data/splits.js';
import { movielensDir } from './helpers/movielens.js';

// The built CLI on real ML-100K u1 with a small chain (dim 4, a dozen samples): seconds, not minutes.
const bin = path.resolve('bin/als.js');
const work = mkdtempSync(path.join(tmpdir(), 'als-gibbs-cli-'));
let ml100k: string;
const model = (): string => path.join(work, 'u1-gibbs.als');

function als(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: work,
    env: { ...process.env, ALS_DEBUG: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectOk(r: { code: number | null; stderr: string }): void {
  if (r.code !== 0) expect(`exit ${r.code}: ${r.stderr}`).toBe('exit 0');
}

function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^als: /);
  expect(lines[0]).toMatch(pattern);
}

const chain = [
  '--method',
  'gibbs',
  '--kind',
  'genre',
  '--dim',
  '4',
  '--split',
  'ml100k:u1',
  '--threads',
  '2',
];

beforeAll(() => {
  if (!existsSync(path.resolve('dist/cli/main.js')))
    throw new Error('dist/ is missing: run npm run build first');
  ml100k = movielensDir('ml-100k');
  const r = als(
    'train',
    '--data',
    ml100k,
    ...chain,
    '--samples',
    '12',
    '--burn-in',
    '4',
    '--thin',
    '2',
    '--out',
    model(),
  );
  expectOk(r);
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('als train --method gibbs', () => {
  it('prints one line per sample off a terminal and a summary with calibration', () => {
    const r = als(
      'train',
      '--data',
      ml100k,
      ...chain,
      '--samples',
      '6',
      '--burn-in',
      '2',
      '--thin',
      '1',
      '--out',
      path.join(work, 'lines.als'),
    );
    expectOk(r);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('sample '));
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(
      /^sample 2 {2}train RMSE [\d.]+ {2}α [\d.]+ {2}held-out RMSE \(average\) - /,
    );
    expect(lines[5]).toMatch(
      /^sample 6 {2}train RMSE [\d.]+ {2}α [\d.]+ {2}held-out RMSE \(average\) \d\.\d{4} /,
    );
    expect(r.stdout).toMatch(
      /valid {4}RMSE \d\.\d{4} of the average over 4 post-burn-in samples \(stored: 4\)/,
    );
    expect(r.stdout).toMatch(
      /calib {4}share inside the central intervals: 50 %: [\d.]+ %, 80 %: [\d.]+ %, 95 %: [\d.]+ %/,
    );
    expect(r.stderr).toContain(
      'model    Bayesian genre, dim 4 (Gibbs sampling; precisions learned)',
    );
  });

  it('writes its default file beside, not over, the ALS model: <set>-<kind>-gibbs.als', () => {
    const home = path.join(work, 'home');
    const r = als(
      'train',
      '--data',
      ml100k,
      '--data-home',
      home,
      ...chain,
      '--samples',
      '3',
      '--burn-in',
      '1',
      '--thin',
      '1',
      '--quiet',
    );
    expectOk(r);
    expect(existsSync(path.join(home, 'models', 'ml-100k-genre-gibbs.als'))).toBe(true);
    expect(existsSync(path.join(home, 'models', 'ml-100k-genre.als'))).toBe(false);
    // A reading command without --checkpoint looks for the ALS model and names the Bayesian one.
    const bayes = path.join(home, 'models', 'ml-100k-genre-gibbs.als');
    expectOneLineError(
      als('eval', '--data', ml100k, '--data-home', home),
      new RegExp(
        `a Bayesian model is at ${bayes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: pass --checkpoint`,
      ),
    );
    expectOk(als('eval', '--checkpoint', bayes, '--max-users', '20'));
  });

  it('resumes the chain exactly through the CLI: 3 + 3 samples equal 6', () => {
    const whole = path.join(work, 'whole.als');
    const halves = path.join(work, 'halves.als');
    const settings = [...chain, '--burn-in', '2', '--thin', '1', '--quiet'];
    expectOk(als('train', '--data', ml100k, ...settings, '--samples', '6', '--out', whole));
    expectOk(als('train', '--data', ml100k, ...settings, '--samples', '3', '--out', halves));
    // The second half takes the chain's settings from the file (and 1 thread: the chain does not depend on it).
    expectOk(
      als(
        'train',
        '--data',
        ml100k,
        '--method',
        'gibbs',
        '--threads',
        '1',
        '--samples',
        '3',
        '--resume',
        '--out',
        halves,
        '--quiet',
      ),
    );
    const a = readBayesCheckpoint(whole);
    const b = readBayesCheckpoint(halves);
    const strip = (m: typeof a.run.metrics) => m.map(({ elapsedMs: _, ...rest }) => rest);
    expect(b.run.chain.samplesDone).toBe(6);
    expect(strip(b.run.metrics)).toEqual(strip(a.run.metrics));
    expect(b.run.storedSamples.map((s) => s.sample)).toEqual([3, 4, 5, 6]);
    expect(b.run.storedSamples.map((s) => s.itemFactors)).toEqual(
      a.run.storedSamples.map((s) => s.itemFactors),
    );
    expect(b.run.chain.model.userFactors).toEqual(a.run.chain.model.userFactors);
    const evalA = JSON.parse(als('eval', '--checkpoint', whole, '--json').stdout);
    const evalB = JSON.parse(als('eval', '--checkpoint', halves, '--json').stdout);
    expect(evalB.bayes.rmse).toBe(evalA.bayes.rmse);
  }, 60_000);

  it('is recorded in the run registry as a training with method gibbs and its per-sample history; --no-record records nothing', () => {
    const home = path.join(work, 'recorded-home');
    const out = path.join(work, 'recorded.als');
    const settings = [...chain, '--samples', '5', '--burn-in', '2', '--thin', '1', '--quiet'];
    expectOk(als('train', '--data', ml100k, '--data-home', home, ...settings, '--out', out));
    const listed = JSON.parse(als('runs', '--data-home', home, '--json').stdout) as Array<{
      id: number;
      kind: string;
      status: string;
      modelKind: string;
      hyperparameters: Record<string, unknown>;
      split: string;
      epochs: number;
      checkpoint: string;
      wallMs: number;
      metrics: Record<string, number>;
    }>;
    expect(listed).toHaveLength(1);
    const run = listed[0]!;
    expect(run).toMatchObject({
      kind: 'train',
      status: 'finished',
      modelKind: 'genre',
      hyperparameters: { method: 'gibbs', kind: 'genre', dim: 4, samples: 5, burnIn: 2, thin: 1 },
      split: 'ml100k:u1',
      epochs: 5,
      checkpoint: out,
    });
    expect(run.wallMs).toBeGreaterThan(0);
    // The final metrics are the file's: the average's held-out RMSE, the last draw's, calibration.
    const saved = readBayesCheckpoint(out);
    const samples = saved.run.metrics;
    expect(run.metrics.rmse).toBe(samples[4]!.validationRmse);
    expect(run.metrics.train_rmse).toBe(samples[4]!.trainRmse);
    for (const level of [50, 80, 95]) {
      expect(run.metrics[`calibration_${level}`]).toBeGreaterThan(0);
      expect(run.metrics[`calibration_${level}`]).toBeLessThanOrEqual(1);
    }
    expect(run.metrics.calibration_50).toBeLessThan(run.metrics.calibration_95!);
    // The history: one row per sample (epoch = sample), no loss, no average during burn-in.
    const shown = JSON.parse(
      als('runs', 'show', String(run.id), '--data-home', home, '--json').stdout,
    ) as {
      history: Array<{
        epoch: number;
        loss: number | null;
        trainRmse: number;
        validationRmse: number | null;
      }>;
    };
    expect(
      shown.history.map(({ epoch, loss, trainRmse, validationRmse }) => ({
        epoch,
        loss,
        trainRmse,
        validationRmse,
      })),
    ).toEqual(
      samples.map((m) => ({
        epoch: m.sample,
        loss: null,
        trainRmse: m.trainRmse,
        validationRmse: m.validationRmse,
      })),
    );
    expect(shown.history.slice(0, 2).map((m) => m.validationRmse)).toEqual([null, null]);

    const unrecorded = path.join(work, 'unrecorded-home');
    expectOk(
      als(
        'train',
        '--data',
        ml100k,
        '--data-home',
        unrecorded,
        ...settings,
        '--out',
        path.join(work, 'unrecorded.als'),
        '--no-record',
      ),
    );
    expect(existsSync(path.join(unrecorded, 'runs.sqlite'))).toBe(false);
  }, 60_000);

  it('refuses bad chain settings and ALS-only options with one line', () => {
    expectOneLineError(
      als('train', '--data', ml100k, ...chain, '--samples', '0'),
      /^als: --samples: must be a positive whole number$/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, ...chain, '--samples', '-3'),
      /--samples: must be a positive whole number/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, ...chain, '--thin', '0'),
      /--thin: must be a positive whole number/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, ...chain, '--samples', '5', '--burn-in', '5'),
      /--burn-in \(5\) must be less than --samples \(5\)/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, ...chain, '--burn-in', '-1'),
      /--burn-in: must not be negative/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, ...chain, '--lambda', '0.1'),
      /--lambda: not used by --method gibbs/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, ...chain, '--epochs', '3'),
      /--epochs: --method gibbs counts samples/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, '--samples', '3'),
      /--samples: only for --method gibbs/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, '--method', 'mcmc'),
      /--method: must be als or gibbs/,
    );
    expectOneLineError(
      als(
        'train',
        '--data',
        ml100k,
        '--method',
        'gibbs',
        '--resume',
        '--samples',
        '2',
        '--dim',
        '8',
        '--out',
        model(),
      ),
      /--dim: .* holds a chain with dim 4; --resume continues it and cannot change it/,
    );
  });
});

describe('reading a Bayesian checkpoint', () => {
  it('als eval: the sample-averaged RMSE (recomputed here from the stored samples), calibration and the sample curve', async () => {
    const r = als('eval', '--checkpoint', model(), '--json');
    expectOk(r);
    const report = JSON.parse(r.stdout);
    const b = report.bayes;
    expect(b.samplesDone).toBe(12);
    expect(b.storedSamples).toBe(4);
    expect(b.rmse).toBe(report.ratings.all.rmse);
    // The same number from the file's samples, computed without the app layer.
    const c = readBayesCheckpoint(model());
    const dataset = await loadDataset(ml100k, { cacheDir: path.join(work, 'cache') });
    const split = makeSplit(dataset, 'ml100k:u1', 1);
    const direct = rmseFromSamples(
      c.run.storedSamples,
      c.run.chain.model.globalMean,
      4,
      c.run.chain.model.numUsers,
      c.run.chain.model.numItems,
      split.test,
      c.scale,
    );
    expect(b.rmse).toBeCloseTo(direct, 12);
    // 4 stored samples of 8 averaged: close to the chain's running average, and a real model (the u1 mean predictor is 1.15).
    expect(Math.abs(b.rmse - b.chainRmse)).toBeLessThan(0.01);
    expect(b.rmse).toBeLessThan(0.97);
    expect(b.curve.map((p: { sample: number }) => p.sample)).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(b.curve[7].validationRmse).toBe(b.chainRmse);
    expect(b.calibration.map((x: { level: number }) => x.level)).toEqual([0.5, 0.8, 0.95]);
    // Calibrated within a few points even this early (the sd is mostly the learned noise 1/α).
    const shares = b.calibration.map((x: { share: number }) => x.share);
    expect(shares[0]).toBeGreaterThan(0.42);
    expect(shares[0]).toBeLessThan(0.58);
    expect(shares[1]).toBeGreaterThan(0.74);
    expect(shares[1]).toBeLessThan(0.86);
    expect(shares[2]).toBeGreaterThan(0.91);
    expect(shares[2]).toBeLessThan(0.98);
    const table = als('eval', '--checkpoint', model());
    expectOk(table);
    expect(table.stdout).toMatch(
      /Bayesian genre, dim 4 \(Gibbs sampling\): 12 samples, burn-in 4, thin 2: 4 stored samples averaged/,
    );
    expect(table.stdout).toMatch(/ {2}80 % {8}80\.0 % {4}\d\d\.\d %/);
    expect(table.stdout).toMatch(
      /sample curve \(held-out RMSE of the running average, training split, samples 5–12\)/,
    );
  });

  it('als recommend: mean ± sd for a new user from liked titles; --rank-by lower favours sure bets, upper long shots', () => {
    const list = (rankBy: string) => {
      const r = als(
        'recommend',
        '--checkpoint',
        model(),
        '--user-likes',
        'Toy Story',
        '--top',
        '30',
        '--rank-by',
        rankBy,
        '--json',
      );
      expectOk(r);
      return JSON.parse(r.stdout).recommendations as {
        movieId: number;
        score: number;
        sd: number;
        rankedBy: number;
      }[];
    };
    const byMean = list('mean');
    const byLower = list('lower');
    const byUpper = list('upper');
    const z = centralIntervalZ(0.8);
    for (const [rows, sign] of [
      [byMean, 0],
      [byLower, -1],
      [byUpper, 1],
    ] as const) {
      expect(rows).toHaveLength(30);
      expect(rows.some((x) => x.movieId === 1)).toBe(false); // Toy Story itself is left out
      for (const x of rows) {
        expect(x.sd).toBeGreaterThan(0);
        expect(x.rankedBy).toBeCloseTo(x.score + sign * z * x.sd, 12);
      }
      for (let k = 1; k < rows.length; k++)
        expect(rows[k]!.rankedBy).toBeLessThanOrEqual(rows[k - 1]!.rankedBy);
    }
    const meanSd = (rows: { sd: number }[]) => rows.reduce((s, x) => s + x.sd, 0) / rows.length;
    expect(byLower.map((x) => x.movieId)).not.toEqual(byMean.map((x) => x.movieId));
    expect(meanSd(byLower)).toBeLessThan(meanSd(byMean));
    expect(meanSd(byUpper)).toBeGreaterThan(meanSd(byMean));
    const text = als(
      'recommend',
      '--checkpoint',
      model(),
      '--user-likes',
      'Toy Story',
      '--top',
      '3',
    );
    expectOk(text);
    // The default for a new user described by titles is the taste match, as for ALS.
    expect(text.stdout).toMatch(
      /ranked by taste match \(u − μ_U\)·v\/‖v‖ averaged over the samples .*score = predictive mean; posterior predictive of 4 stored samples, new user folded in per sample/,
    );
    const byTaste = list('taste');
    expect(byTaste).toHaveLength(30);
    expect(byTaste.some((x) => x.movieId === 1)).toBe(false);
    for (let k = 1; k < byTaste.length; k++)
      expect(byTaste[k]!.rankedBy).toBeLessThanOrEqual(byTaste[k - 1]!.rankedBy);
    // The taste key is not the mean: the score column stays the predictive mean ± sd.
    expect(byTaste.some((x) => Math.abs(x.rankedBy - x.score) > 1e-6)).toBe(true);
    expect(byTaste.map((x) => x.movieId)).not.toEqual(byMean.map((x) => x.movieId));
    expect(text.stdout).toMatch(/^1 {2}\d\.\d\d ± \d\.\d\d {2}/m);
    const user = als(
      'recommend',
      '--checkpoint',
      model(),
      '--user',
      '1',
      '--top',
      '3',
      '--rank-by',
      'lower',
    );
    expectOk(user);
    expect(user.stdout).toMatch(
      /ranked by the lower end of the central 80 % interval, mean − 1\.28 sd/,
    );
  });

  it('als similar, report and plot curves read it; --rank-by lower on an ALS checkpoint is one line', () => {
    const similar = als('similar', '--checkpoint', model(), 'Toy Story', '--top', '3', '--json');
    expectOk(similar);
    expect(JSON.parse(similar.stdout).similar).toHaveLength(3);
    const html = path.join(work, 'r.html');
    expectOk(als('report', '--checkpoint', model(), '--out', html, '--max-users', '50'));
    const page = readFileSync(html, 'utf8');
    expect(page).toContain(
      'Calibration: share of held-out ratings inside the central predictive intervals',
    );
    expect(page).toContain('Sample curve');
    const svg = path.join(work, 'c.svg');
    expectOk(als('plot', 'curves', model(), `${model()}.metrics.json`, '--out', svg));
    expect(readFileSync(svg, 'utf8')).toContain('<svg');
    // Both are Gibbs runs: samples on the x axis, no loss panel.
    expect(readFileSync(svg, 'utf8')).toContain('Sample (Gibbs sweeps');
    expect(readFileSync(svg, 'utf8')).not.toContain('Training loss');
    const alsModel = path.join(work, 'bias.als');
    expectOk(
      als(
        'train',
        '--data',
        ml100k,
        '--kind',
        'bias',
        '--epochs',
        '1',
        '--split',
        'ml100k:u1',
        '--out',
        alsModel,
        '--quiet',
      ),
    );
    expectOneLineError(
      als('recommend', '--checkpoint', alsModel, '--user', '1', '--rank-by', 'lower'),
      /--rank-by lower: needs a Bayesian checkpoint/,
    );
  }, 60_000);

  it('refuses a damaged file with one line before reading its payload', () => {
    const bytes = readFileSync(model());
    const truncated = path.join(work, 'truncated.als');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 1000));
    expectOneLineError(
      als('eval', '--checkpoint', truncated),
      /truncated\.als: truncated Bayesian checkpoint \(\d+ of \d+ bytes\)/,
    );
    const huge = Buffer.from(bytes);
    const headerLength = huge.readUInt32LE(12);
    // The same length: a claimed dim far past the cap (the checksum would fail too, but is never reached).
    const header = huge
      .subarray(16, 16 + headerLength)
      .toString('utf8')
      .replace('"dim":4,', '"dim":9e9,')
      .replace('"kernel":"wasm"', '"kernel":"ww"');
    expect(Buffer.byteLength(header)).toBe(headerLength);
    huge.write(header, 16, 'utf8');
    const bad = path.join(work, 'bad-dim.als');
    writeFileSync(bad, huge);
    expectOneLineError(
      als('eval', '--checkpoint', bad),
      /bad-dim\.als: corrupted Bayesian checkpoint \(dim 9000000000, at most 1000 is supported\)/,
    );
  });
});

describe('stopping a Bayesian run', () => {
  it('SIGTERM finishes the sample in progress, saves the chain (exit 143, as an ALS run), and --resume continues it', async () => {
    const { spawn } = await import('node:child_process');
    const out = path.join(work, 'stopped.als');
    const child = spawn(
      process.execPath,
      [
        bin,
        'train',
        '--data',
        ml100k,
        ...chain,
        '--samples',
        '5000',
        '--burn-in',
        '2',
        '--out',
        out,
      ],
      { cwd: work },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (/^sample 4 /m.test(stdout) && !child.killed) child.kill('SIGTERM');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(143);
    const saved = readBayesCheckpoint(out);
    const done = saved.run.chain.samplesDone;
    expect(done).toBeGreaterThanOrEqual(4);
    expect(done).toBeLessThan(5000);
    expect(stderr).toContain(`saved the chain after sample ${done} to ${out}`);
    // Recorded (in the default data home, ./data) as a failed run: interrupted, with its samples.
    const recorded = (
      JSON.parse(als('runs', '--json').stdout) as Array<{
        checkpoint: string;
        status: string;
        error: string | null;
        epochs: number;
        hyperparameters: { method?: string };
      }>
    ).filter((r) => r.checkpoint === out);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      status: 'failed',
      error: 'interrupted',
      epochs: done,
      hyperparameters: { method: 'gibbs' },
    });
    expectOk(
      als(
        'train',
        '--data',
        ml100k,
        '--method',
        'gibbs',
        '--threads',
        '2',
        '--samples',
        '2',
        '--resume',
        '--out',
        out,
        '--quiet',
      ),
    );
    expect(readBayesCheckpoint(out).run.metrics.map((m) => m.sample)).toEqual(
      Array.from({ length: done + 2 }, (_, i) => i + 1),
    );
  }, 60_000);
});

// A short chain (dim 8, 120 samples, ~3 s): 30 samples have not yet learned the taste
// directions, and their taste list is still mostly the all-time favourites.
describe('als recommend --user-likes on a Bayesian ml-latest-small model', () => {
  it('ranks by sample-averaged taste by default: "Toy Story" gives mostly Animation/Children, not the all-time favourites', () => {
    const out = path.join(work, 'small-gibbs.als');
    expectOk(
      als(
        'train',
        '--data',
        movielensDir('ml-latest-small'),
        '--method',
        'gibbs',
        '--kind',
        'genre',
        '--dim',
        '8',
        '--samples',
        '120',
        '--burn-in',
        '40',
        '--thin',
        '2',
        '--threads',
        '2',
        '--out',
        out,
      ),
    );
    const list = (...extra: string[]) => {
      const r = als(
        'recommend',
        '--checkpoint',
        out,
        '--user-likes',
        'Toy Story',
        '--top',
        '10',
        '--json',
        ...extra,
      );
      expectOk(r);
      const parsed = JSON.parse(r.stdout) as {
        rankBy: string;
        recommendations: { movieId: number; genres: string[] }[];
      };
      return parsed;
    };
    const family = (rows: { genres: string[] }[]) =>
      rows.filter((x) => x.genres.includes('Animation') || x.genres.includes('Children')).length;
    const byDefault = list();
    const byMean = list('--rank-by', 'mean');
    expect(byDefault.rankBy).toBe('taste');
    expect(byMean.rankBy).toBe('mean');
    expect(byDefault.recommendations).toHaveLength(10);
    expect(family(byDefault.recommendations)).toBeGreaterThan(5);
    // The predictive mean favours the generic favourites: clearly fewer family movies.
    expect(family(byMean.recommendations)).toBeLessThan(family(byDefault.recommendations));
  }, 60_000);
});
