import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOptionValues } from '../src/cli/options.js';
import { TRAIN_OPTIONS } from '../src/cli/train.js';
import { readCheckpoint, writeCheckpoint } from '../src/data/checkpoint.js';
import { UsageError } from '../src/errors.js';
import { movielensDir } from './helpers/movielens.js';

// These tests run the built CLI (`npm test` builds first) on real ML-100K with tiny dims/epochs.
const bin = path.resolve('bin/als.js');
const work = mkdtempSync(path.join(tmpdir(), 'als-cli-'));
let ml100k: string;

beforeAll(() => {
  if (!existsSync(path.resolve('dist/cli/main.js')))
    throw new Error('dist/ is missing: run npm run build first');
  ml100k = movielensDir('ml-100k');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function als(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: work,
    env: { ...process.env, ALS_DEBUG: '' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Exit code 0 expected; on failure the diff shows stderr too. */
function expectOk(r: { code: number | null; stderr: string }): void {
  if (r.code !== 0) expect(`exit ${r.code}: ${r.stderr}`).toBe('exit 0');
}

function expectOneLineError(
  r: { code: number | null; stderr: string },
  code: number,
  pattern: RegExp,
): void {
  if (r.code !== code) expect(`exit ${r.code}: ${r.stderr}`).toBe(`exit ${code}`);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^als: /);
  expect(lines[0]).toMatch(pattern);
}

/** A tiny plain data set: 3 users, 3 movies; user 30 has a single rating. */
function tinyDataset(): string {
  const dir = path.join(work, 'tiny');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'ratings.csv'),
    '10,1,4\n10,2,3\n10,3,5\n20,1,2\n20,2,4\n20,3,1\n30,2,5\n',
  );
  return dir;
}

describe('als train', () => {
  it('trains, prints one line per epoch off a TTY, and writes checkpoint + metrics files', () => {
    const out = path.join(work, 'u1.als');
    const r = als(
      'train',
      '--data',
      ml100k,
      '--dim',
      '4',
      '--epochs',
      '3',
      '--split',
      'ml100k:u1',
      '--kernel',
      'ts',
      '--threads',
      '1',
      '--out',
      out,
    );
    expect(r.stderr).not.toMatch(/error/i);
    expectOk(r);
    const epochLines = r.stdout.split('\n').filter((line) => line.startsWith('epoch '));
    expect(epochLines).toHaveLength(3);
    expect(epochLines[2]).toMatch(
      /^epoch 3 {2}loss [\d.]+ {2}train RMSE [\d.]+ {2}validation RMSE [\d.]+/,
    );
    expect(r.stdout).toMatch(/valid {4}best RMSE [\d.]+ at epoch \d/);
    expect(r.stdout).toContain(`saved    ${out}`);
    expect(r.stderr).toContain('split    ml100k:u1 (seed 1): 80000 train, 20000 held out');

    const checkpoint = readCheckpoint(out);
    expect(checkpoint.epochsDone).toBe(3);
    expect(checkpoint.split.spec).toBe('ml100k:u1');
    expect(checkpoint.state.hyper).toMatchObject({ kind: 'genre', dim: 4 });
    expect(checkpoint.metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(checkpoint.kernel).toBe('ts');
    const csv = readFileSync(`${out}.metrics.csv`, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,loss,train_rmse,validation_rmse,elapsed_ms');
    expect(csv).toHaveLength(4);
    expect(Number(csv[3]!.split(',')[3])).toBe(checkpoint.metrics[2]!.validationRmse);
    const json = JSON.parse(readFileSync(`${out}.metrics.json`, 'utf8'));
    expect(json.epochs).toHaveLength(3);
    // Loss goes down epoch by epoch (ALS minimises it block by block).
    const losses = checkpoint.metrics.map((m) => m.loss);
    expect(losses[1]!).toBeLessThan(losses[0]!);
    expect(losses[2]!).toBeLessThan(losses[1]!);

    // als eval re-creates the recorded split: its RMSE is the last validation RMSE.
    const e = als('eval', '--model', out, '--json');
    expectOk(e);
    const report = JSON.parse(e.stdout);
    expect(report.sameSplitAsTraining).toBe(true);
    expect(report.ratings.all.count).toBe(20000);
    expect(report.ratings.all.rmse).toBeCloseTo(checkpoint.metrics[2]!.validationRmse!, 10);
    expect(report.ranking.k).toBe(10);
    expect(report.ranking.users).toBeGreaterThan(400);
    expect(report.ranking.precision).toBeGreaterThan(0);
    const table = als('eval', '--model', out, '--k', '5');
    expectOk(table);
    expect(table.stdout).toMatch(/all held-out ratings\s+20000\s+[\d.]+\s+[\d.]+/);
    expect(table.stdout).toMatch(/nDCG@5\s+0\.\d{4}/);
    expect(table.stdout).toMatch(/users with 200\+ ratings/);
    // Another split: held-out ratings the model trained on are counted, not hidden.
    const otherRun = als('eval', '--model', out, '--split', 'ml100k:u2', '--json');
    expectOk(otherRun);
    const other = JSON.parse(otherRun.stdout);
    expect(other.sameSplitAsTraining).toBe(false);
    expect(other.heldOutRatingsSeenInTraining).toBeGreaterThan(0);
  });

  it('--no-weighted-bias keeps the bias ridge constant, records it, and --resume reports a change', () => {
    const out = path.join(work, 'constant-gamma.als');
    const r = als(
      'train',
      '--data',
      ml100k,
      '--dim',
      '4',
      '--epochs',
      '1',
      '--gamma',
      '5',
      '--no-weighted-bias',
      '--kernel',
      'ts',
      '--threads',
      '1',
      '--out',
      out,
    );
    expectOk(r);
    expect(r.stderr).toMatch(
      /^model {4}genre, dim 4, λ 1, τ [\d.]+, γ 5, τ_g 100, ALS-WR on, n\^0\.5, γ constant$/m,
    );
    expect(readCheckpoint(out).state.hyper).toMatchObject({
      weightedRegularization: true,
      weightedBiasRegularization: false,
      gamma: 5,
    });
    const resumed = als(
      'train',
      '--data',
      ml100k,
      '--epochs',
      '1',
      '--resume',
      '--weighted-bias',
      '--kernel',
      'ts',
      '--threads',
      '1',
      '--out',
      out,
    );
    expectOk(resumed);
    expect(resumed.stderr).toContain('with changed weightedBiasRegularization false → true');
    expect(resumed.stderr).toMatch(
      /^model {4}genre, dim 4, .*ALS-WR on, n\^0\.5, γ count-scaled$/m,
    );
    expect(readCheckpoint(out).state.hyper.weightedBiasRegularization).toBe(true);
    // --no-weighted makes the bias ridge plain too unless --weighted-bias says otherwise.
    const plain = als(
      'train',
      '--data',
      ml100k,
      '--dim',
      '4',
      '--epochs',
      '1',
      '--no-weighted',
      '--kernel',
      'ts',
      '--threads',
      '1',
      '--out',
      out,
      '--quiet',
    );
    expectOk(plain);
    expect(readCheckpoint(out).state.hyper).toMatchObject({
      weightedRegularization: false,
      weightedBiasRegularization: false,
    });
  });

  it('--weight-exponent records a, resumes with it, and refuses a value outside [0, 1] in one line', () => {
    const out = path.join(work, 'exponent.als');
    const r = als(
      'train',
      '--data',
      ml100k,
      '--dim',
      '4',
      '--epochs',
      '1',
      '--weight-exponent',
      '0.25',
      '--kernel',
      'ts',
      '--threads',
      '1',
      '--out',
      out,
    );
    expectOk(r);
    expect(r.stderr).toMatch(/^model {4}genre, dim 4, .*ALS-WR on, n\^0\.25, γ constant$/m);
    expect(readCheckpoint(out).state.hyper).toMatchObject({
      weightedRegularization: true,
      weightExponent: 0.25,
    });
    const resumed = als(
      'train',
      '--data',
      ml100k,
      '--epochs',
      '1',
      '--resume',
      '--weight-exponent',
      '1',
      '--kernel',
      'ts',
      '--threads',
      '1',
      '--out',
      out,
    );
    expectOk(resumed);
    expect(resumed.stderr).toContain('with changed weightExponent 0.25 → 1');
    expect(readCheckpoint(out).state.hyper.weightExponent).toBe(1);
    expectOneLineError(
      als('train', '--data', ml100k, '--weight-exponent', '2', '--out', out),
      2,
      /--weight-exponent: must be ≤ 1/,
    );
    // A checkpoint from before the exponent existed (no weightExponent in its header) was ALS-WR:
    // resuming it keeps a = 1, not today's default, and reports no change.
    const old = readCheckpoint(out);
    delete old.state.hyper.weightExponent;
    writeCheckpoint(out, old);
    const again = als(
      'train',
      '--data',
      ml100k,
      '--epochs',
      '1',
      '--resume',
      '--kernel',
      'ts',
      '--threads',
      '1',
      '--out',
      out,
    );
    expectOk(again);
    expect(again.stderr).not.toContain('changed');
    expect(again.stderr).toMatch(/ALS-WR on, γ constant$/m);
    expect(readCheckpoint(out).state.hyper.weightExponent).toBe(1);
  });

  it('resumes: 2 + 2 epochs give the model of 4 epochs (also across thread counts)', () => {
    const a = path.join(work, 'resume.als');
    const b = path.join(work, 'straight.als');
    expectOk(
      als(
        'train',
        '--data',
        ml100k,
        '--dim',
        '6',
        '--epochs',
        '2',
        '--threads',
        '1',
        '--out',
        a,
        '--quiet',
      ),
    );
    const resumed = als(
      'train',
      '--data',
      ml100k,
      '--epochs',
      '2',
      '--resume',
      '--threads',
      '2',
      '--out',
      a,
      '--quiet',
    );
    expectOk(resumed);
    expectOk(
      als(
        'train',
        '--data',
        ml100k,
        '--dim',
        '6',
        '--epochs',
        '4',
        '--threads',
        '1',
        '--out',
        b,
        '--quiet',
      ),
    );
    const ca = readCheckpoint(a);
    const cb = readCheckpoint(b);
    expect(ca.epochsDone).toBe(4);
    expect(ca.metrics.map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
    for (const key of ['userBias', 'itemBias', 'userFactors', 'itemFactors'] as const) {
      const x = ca.state[key];
      const y = cb.state[key];
      expect(x.length).toBe(y.length);
      let maxDiff = 0;
      for (let k = 0; k < x.length; k++) maxDiff = Math.max(maxDiff, Math.abs(x[k]! - y[k]!));
      expect(maxDiff).toBeLessThan(1e-9);
    }
    expect(ca.metrics[3]!.loss).toBeCloseTo(cb.metrics[3]!.loss, 6);
    // --resume refuses to change the model's shape or its split.
    expectOneLineError(
      als('train', '--data', ml100k, '--epochs', '1', '--resume', '--dim', '8', '--out', a),
      2,
      /--dim: the checkpoint has dim 6/,
    );
    expectOneLineError(
      als(
        'train',
        '--data',
        ml100k,
        '--epochs',
        '1',
        '--resume',
        '--split',
        'user:0.2',
        '--out',
        a,
      ),
      2,
      /--split: .*random:0\.1/,
    );
    // Divergence while resuming: clear message, the checkpoint is left as it was.
    const diverged = als(
      'train',
      '--data',
      ml100k,
      '--epochs',
      '2',
      '--resume',
      '--lambda',
      '1e300',
      '--out',
      a,
      '--quiet',
    );
    expectOneLineError(diverged, 1, /diverged at epoch 5.*epoch 4\) is unchanged/);
    expect(readCheckpoint(a).epochsDone).toBe(4);
  });

  it('early stopping keeps the best epoch and records it', () => {
    const out = path.join(work, 'early.als');
    // τ = γ = 1 at dim 20 overfits ML-100K after the first epoch or two.
    const r = als(
      'train',
      '--data',
      ml100k,
      '--dim',
      '20',
      '--tau',
      '1',
      '--gamma',
      '1',
      '--no-weighted',
      '--epochs',
      '30',
      '--early-stop',
      '2',
      '--out',
      out,
    );
    expectOk(r);
    expect(r.stdout).toMatch(/early stop/);
    const c = readCheckpoint(out);
    const rmses = c.metrics.map((m) => m.validationRmse!);
    const bestEpoch = rmses.indexOf(Math.min(...rmses)) + 1;
    expect(c.bestEpoch).toBe(bestEpoch);
    expect(c.epochsDone).toBe(bestEpoch);
    expect(c.metrics).toHaveLength(bestEpoch + 2);
    expect(c.metrics.length).toBeLessThan(30);
  });

  it('genre model: unseen movies are scored through the genre prior, better than the bias model does', () => {
    const rmse: Record<string, number> = {};
    for (const model of ['bias', 'genre']) {
      const out = path.join(work, `cold-${model}.als`);
      expectOk(
        als(
          'train',
          '--data',
          ml100k,
          '--model',
          model,
          '--dim',
          '8',
          '--split',
          'cold-items:0.1',
          '--epochs',
          '8',
          '--out',
          out,
          '--quiet',
        ),
      );
      const run = als('eval', '--model', out, '--json');
      expectOk(run);
      const report = JSON.parse(run.stdout);
      // cold-items: every held-out rating is of a movie without training ratings.
      expect(report.ratings.unseenItem.count).toBe(report.ratings.all.count);
      expect(report.ratings.fallbacks.genrePrior).toBe(
        model === 'genre' ? report.ratings.fallbacks.unseenItem : 0,
      );
      rmse[model] = report.ratings.unseenItem.rmse;
    }
    expect(rmse.genre!).toBeLessThan(rmse.bias!);
  });

  // util-linux `script` gives the CLI a pseudo-terminal, so the cli-progress bar is what it prints.
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)(
    'shows a progress bar with epoch, loss, RMSEs and s/epoch on a terminal',
    () => {
      const out = path.join(work, 'tty.als');
      const command = [
        process.execPath,
        bin,
        'train',
        '--data',
        ml100k,
        '--dim',
        '4',
        '--epochs',
        '3',
        '--out',
        out,
      ]
        .map((a) => `'${a.replace(/'/g, "'\\''")}'`)
        .join(' ');
      const r = spawnSync('script', ['-qec', command, '/dev/null'], {
        encoding: 'utf8',
        cwd: work,
      });
      expect(r.status).toBe(0);
      const screen = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
      expect(screen).toMatch(
        /epoch 3\/3 \[.+\] loss [\d.]+ \| train [\d.]+ \| valid [\d.]+ \| [\d.]+ s\/epoch/,
      );
      // No plain per-epoch lines on a terminal.
      expect(screen).not.toMatch(/^epoch 1 {2}loss/m);
      expect(readCheckpoint(out).epochsDone).toBe(3);
    },
  );

  it('saves the last finished epoch on Ctrl-C and exits 130', async () => {
    const out = path.join(work, 'interrupted.als');
    const child = spawn(
      process.execPath,
      [
        bin,
        'train',
        '--data',
        ml100k,
        '--dim',
        '4',
        '--epochs',
        '100000',
        '--threads',
        '1',
        '--out',
        out,
      ],
      { cwd: work },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (chunk) => {
        const before = stdout;
        stdout += chunk;
        if (!before.includes('epoch 3 ') && stdout.includes('epoch 3 ')) child.kill('SIGINT');
      });
      child.on('close', (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/als: interrupted: saved the checkpoint of epoch \d+ to /);
    const c = readCheckpoint(out);
    expect(c.epochsDone).toBeGreaterThanOrEqual(3);
    expect(c.metrics).toHaveLength(c.epochsDone);
    const lastPrinted = Math.max(
      ...[...stdout.matchAll(/^epoch (\d+) /gm)].map((m) => Number(m[1])),
    );
    expect(c.epochsDone).toBe(lastPrinted);
  });

  it('writes to the data home by default and checkpoints every N epochs', async () => {
    const home = path.join(work, 'home');
    mkdirSync(home);
    const env = { ...process.env, ALS_DATA_HOME: home };
    const r = spawnSync(
      process.execPath,
      [bin, 'train', '--data', ml100k, '--model', 'bias', '--epochs', '1', '--quiet'],
      { encoding: 'utf8', cwd: work, env },
    );
    expect(r.status).toBe(0);
    const expected = path.join(home, 'models', 'ml-100k-bias.als');
    expect(readCheckpoint(expected).state.hyper.kind).toBe('bias');
    expect(r.stdout).toContain(`saved    ${expected}`);

    // --checkpoint-every 2: a run killed hard (SIGKILL, no chance to save) still leaves epoch 2 or later on disk.
    const out = path.join(work, 'every.als');
    const child = spawn(
      process.execPath,
      [
        bin,
        'train',
        '--data',
        ml100k,
        '--dim',
        '4',
        '--epochs',
        '100000',
        '--threads',
        '1',
        '--checkpoint-every',
        '2',
        '--out',
        out,
      ],
      { cwd: work },
    );
    let stdout = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (/^epoch 5 /m.test(stdout)) child.kill('SIGKILL');
      });
      child.on('close', () => resolve());
    });
    const c = readCheckpoint(out);
    expect(c.epochsDone % 2).toBe(0);
    expect(c.epochsDone).toBeGreaterThanOrEqual(4);
    expect(c.metrics).toHaveLength(c.epochsDone);
  });

  it('refuses nonsense options with one line naming the option (exit 2)', () => {
    // The schema itself, in-process (fast), for every case...
    const cases: [Record<string, string>, RegExp][] = [
      [{ dim: '2.5' }, /^--dim: /],
      [{ dim: '-3' }, /^--dim: /],
      [{ lambda: '-1' }, /^--lambda: .*positive/],
      [{ tau: '-0.5' }, /^--tau: .*positive/],
      [{ gamma: 'abc' }, /^--gamma: /],
      [{ epochs: '2.5' }, /^--epochs: .*integer/],
      [{ kind: 'deep' }, /^--kind: must be one of bias, latent, genre/],
      [{ kernel: 'gpu' }, /^--kernel: /],
      [{ threads: '0' }, /^--threads: /],
      [{ earlyStop: '0' }, /^--early-stop: /],
      [{ checkpointEvery: '-1' }, /^--checkpoint-every: /],
    ];
    for (const [raw, pattern] of cases) {
      let message = '';
      try {
        parseOptionValues(TRAIN_OPTIONS, raw);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        message = (error as Error).message;
      }
      expect(message).toMatch(pattern);
    }
    expect(
      parseOptionValues(TRAIN_OPTIONS, { dim: '8', lambda: '0.5', epochs: '3' }),
    ).toMatchObject({ dim: 8, lambda: 0.5, epochs: 3 });
    // ...and through the CLI for a few: one line on stderr, exit code 2, before any data is read.
    expectOneLineError(als('train', '--data', ml100k, '--dim', '0'), 2, /^als: --dim: /);
    expectOneLineError(
      als('train', '--data', ml100k, '--model', 'deep'),
      2,
      /^als: --model: must be one of bias, latent, genre/,
    );
    expectOneLineError(
      als('train', '--data', ml100k, '--epochs', '2.5'),
      2,
      /^als: --epochs: .*integer/,
    );
    expectOneLineError(
      als(
        'train',
        '--data',
        ml100k,
        '--split',
        'random:2',
        '--epochs',
        '1',
        '--out',
        path.join(work, 'x.als'),
      ),
      1,
      /bad split "random:2"/,
    );
  });

  it('reports users without training ratings and refuses an empty training split', () => {
    const dir = tinyDataset();
    const heldOne = path.join(work, 'held-one.csv');
    writeFileSync(heldOne, '30,2\n');
    const out = path.join(work, 'tiny.als');
    const r = als(
      'train',
      '--data',
      dir,
      '--dim',
      '2',
      '--epochs',
      '2',
      '--split',
      `file:${heldOne}`,
      '--out',
      out,
    );
    expectOk(r);
    expect(r.stderr).toMatch(/1 user has no training rating/);
    const e = JSON.parse(als('eval', '--model', out, '--json').stdout);
    expect(e.ratings.unseenUser.count).toBe(1);
    expect(e.ratings.fallbacks.unseenUser).toBe(1);
    expect(Number.isFinite(e.ratings.all.rmse)).toBe(true);
    // --test names the same file: the same held-out set as training, found as such.
    const viaTest = als('eval', '--model', out, '--test', heldOne, '--json');
    expectOk(viaTest);
    expect(JSON.parse(viaTest.stdout)).toMatchObject({
      sameSplitAsTraining: true,
      heldOutRatingsSeenInTraining: 0,
    });
    // Evaluating on a rating the model was trained on is flagged, not hidden.
    const trained = path.join(work, 'trained-one.csv');
    writeFileSync(trained, '10,1\n');
    const flagged = JSON.parse(als('eval', '--model', out, '--test', trained, '--json').stdout);
    expect(flagged).toMatchObject({ sameSplitAsTraining: false, heldOutRatingsSeenInTraining: 1 });

    const all = path.join(work, 'all.csv');
    writeFileSync(all, readFileSync(path.join(dir, 'ratings.csv')));
    expectOneLineError(
      als(
        'train',
        '--data',
        dir,
        '--epochs',
        '1',
        '--split',
        `file:${all}`,
        '--out',
        path.join(work, 'none.als'),
      ),
      1,
      /leaves no training ratings/,
    );
    expect(existsSync(path.join(work, 'none.als'))).toBe(false);
  });
});

describe('als eval on bad checkpoints', () => {
  it('gives one line for a missing, corrupted, truncated or other-data-set checkpoint', () => {
    const good = path.join(work, 'good.als');
    expectOk(
      als('train', '--data', ml100k, '--model', 'bias', '--epochs', '2', '--out', good, '--quiet'),
    );
    expectOneLineError(
      als('eval', '--model', path.join(work, 'missing.als')),
      1,
      /no checkpoint at .*missing\.als: train one with 'als train/,
    );

    const corrupted = path.join(work, 'corrupted.als');
    const bytes = readFileSync(good);
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(corrupted, bytes);
    expectOneLineError(
      als('eval', '--model', corrupted),
      1,
      /corrupted checkpoint \(checksum mismatch\)/,
    );

    const truncated = path.join(work, 'truncated.als');
    writeFileSync(truncated, readFileSync(good).subarray(0, Math.floor(bytes.length / 2)));
    expectOneLineError(als('eval', '--model', truncated), 1, /truncated checkpoint/);

    const notOne = path.join(work, 'ratings.als');
    copyFileSync(path.join(ml100k, 'u.data'), notOne);
    expectOneLineError(als('eval', '--model', notOne), 1, /not an als checkpoint/);

    const tiny = tinyDataset();
    expectOneLineError(
      als('eval', '--model', good, '--data', tiny),
      1,
      /trained on another data set \(ml-100k/,
    );
    expectOneLineError(als('eval', '--model', good, '--k', '0'), 2, /^als: --k: /);
  });
});
