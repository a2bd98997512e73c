/**
 * `npm run bench`: every benchmark the issues ask for, one after another, each in its own process
 * (so its timing and peak memory are its own). Numbers, not pass/fail: speed targets live here,
 * never in the unit tests.
 *
 *   npm run bench                       # the two small MovieLens sets + a dense synthetic set (~4 min)
 *   npm run bench -- --big <folder>     # also the 32M-rating scale, on a MovieLens-32M-shaped set
 *   npm run bench -- --make-big         # … generating that set first with `als synth` (data home/synth-32m)
 *   npm run bench -- --cv --gibbs       # also 5-fold CV on ML-100K u1–u5, and Gibbs against ALS on u1
 *   npm run bench -- --help             # every option
 *
 * Data comes from the data home ($ALS_DATA_HOME, else ./data); ml-100k and ml-latest-small are
 * fetched with `als download` when missing (set ALS_MIRROR when offline). Wall times depend on
 * what else the machine runs; the sub-benchmarks print CPU time too where it matters.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCommand, benchDataHome } from './options.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(root, 'bin', 'als.js');
const benchDir = path.join(root, 'dist', 'bench');
const options = benchCommand('run', 'every benchmark, one after another, each in its own process')
  .option('--big <folder>', 'also the 32M-rating scale, on this MovieLens-32M-shaped set')
  .option(
    '--make-big',
    'also the 32M-rating scale, generating the set first with als synth (data home/synth-32m)',
    false,
  )
  .option('--cv', 'also cross-validation of the default model on ML-100K u1–u5, 100 epochs', false)
  .option(
    '--gibbs',
    'also Gibbs-sampled Bayesian ALS against ALS on ML-100K u1, genre and latent',
    false,
  )
  .option('--data-home <dir>', 'data home (default: $ALS_DATA_HOME, else data/ in the project)')
  .parse()
  .opts<{ big?: string; makeBig: boolean; cv: boolean; gibbs: boolean; dataHome?: string }>();
const home = benchDataHome(options.dataHome, path.join(root, 'data'));
const scratch = mkdtempSync(path.join(tmpdir(), 'als-bench-'));

function section(title: string): void {
  process.stdout.write(`\n## ${title}\n\n`);
}

/** Runs a command with its output shown; returns its wall time. */
function run(label: string, args: string[]): number {
  process.stdout.write(`$ ${label}\n`);
  const startedMs = performance.now();
  const result = spawnSync(process.execPath, args, {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, ALS_DATA_HOME: home },
  });
  const elapsedMs = performance.now() - startedMs;
  if (result.status !== 0) process.stdout.write(`(exit code ${result.status})\n`);
  return elapsedMs;
}

/** Runs a command quietly and returns its wall time and stdout. */
function timed(args: string[]): { elapsedMs: number; stdout: string; ok: boolean } {
  const startedMs = performance.now();
  const result = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, ALS_DATA_HOME: home },
  });
  return {
    elapsedMs: performance.now() - startedMs,
    stdout: result.stdout,
    ok: result.status === 0,
  };
}

try {
  const missing = ['ml-100k', 'ml-latest-small'].filter(
    (name) => !existsSync(path.join(home, name)),
  );
  if (missing.length > 0) run(`als download ${missing.join(' ')}`, [bin, 'download', ...missing]);

  section('Data: counts and load times');
  for (const name of ['ml-100k', 'ml-latest-small']) {
    const stats = timed([bin, 'stats', '--data', name, '--json']);
    if (stats.ok) {
      const s = JSON.parse(stats.stdout) as {
        numRatings: number;
        numUsers: number;
        numItemsRated: number;
        numItemsListed: number;
      };
      process.stdout.write(
        `${name}: ${s.numRatings} ratings, ${s.numUsers} users, ${s.numItemsRated} rated movies, ${s.numItemsListed} listed\n`,
      );
    }
    run(`node dist/bench/load.js --data ${name}`, [
      path.join(benchDir, 'load.js'),
      '--data',
      path.join(home, name),
    ]);
  }

  section(
    'Accuracy: held-out RMSE of the three models with the default hyperparameters (dim 30, 100 epochs)',
  );
  run('node dist/bench/accuracy.js --configs default --epochs 100', [
    path.join(benchDir, 'accuracy.js'),
    '--configs',
    'default',
    '--epochs',
    '100',
  ]);

  section('Known answer: a dense als synth set (rank 10, σ 0.5, 300 ratings per user)');
  const dense = path.join(scratch, 'dense');
  run(
    'als synth --users 1000 --movies 500 --ratings 300000 --rank 10 --noise 0.5 --seed 7 --dense',
    [
      bin,
      'synth',
      '--out',
      dense,
      '--users',
      '1000',
      '--movies',
      '500',
      '--ratings',
      '300000',
      '--rank',
      '10',
      '--noise',
      '0.5',
      '--seed',
      '7',
      '--dense',
    ],
  );
  for (const [dim, tau] of [
    ['10', '0.02'],
    ['30', '0.02'],
    ['30', '0.12'],
  ] as const) {
    run(
      `als train --data <dense> --kind latent --dim ${dim} --tau ${tau} --gamma ${tau} --epochs 30`,
      [
        bin,
        'train',
        '--data',
        dense,
        '--kind',
        'latent',
        '--dim',
        dim,
        '--tau',
        tau,
        '--gamma',
        tau,
        '--epochs',
        '30',
        '--quiet',
        '--no-cache',
        '--out',
        path.join(scratch, `dense-${dim}-${tau}.als`),
      ],
    );
  }

  section(
    'Speed: als train on ml-latest-small, 100 epochs, dim 30 (whole command, process start to saved checkpoint)',
  );
  const model = path.join(scratch, 'ml-latest-small-genre.als');
  for (const kind of ['latent', 'genre']) {
    const out = kind === 'genre' ? model : path.join(scratch, `ml-latest-small-${kind}.als`);
    const { elapsedMs } = timed([
      bin,
      'train',
      '--data',
      'ml-latest-small',
      '--kind',
      kind,
      '--dim',
      '30',
      '--epochs',
      '100',
      '--quiet',
      '--out',
      out,
    ]);
    process.stdout.write(
      `als train --kind ${kind} --dim 30 --epochs 100: ${(elapsedMs / 1000).toFixed(2)} s wall\n`,
    );
  }
  for (const kernel of ['ts', 'wasm']) {
    run(`node dist/bench/epoch-time.js --kernel ${kernel} --epochs 20`, [
      path.join(benchDir, 'epoch-time.js'),
      '--kernel',
      kernel,
      '--epochs',
      '20',
    ]);
  }

  section('Recommendations: latency (process start to list) and batch top-10 for every user');
  run('node dist/bench/recommend.js --model <ml-latest-small genre model> --runs 7', [
    path.join(benchDir, 'recommend.js'),
    '--model',
    model,
    '--runs',
    '7',
  ]);
  run('node dist/bench/report.js --model <ml-latest-small genre model> --runs 3', [
    path.join(benchDir, 'report.js'),
    '--model',
    model,
    '--runs',
    '3',
  ]);

  if (options.cv) {
    section(
      'Cross-validation: the default model on ML-100K u1–u5 (100 epochs, dim 30), whole process',
    );
    run('node dist/bench/cv.js <data home>/ml-100k --threads 2', [
      path.join(benchDir, 'cv.js'),
      path.join(home, 'ml-100k'),
      '--threads',
      '2',
    ]);
  }
  if (options.gibbs) {
    section('Bayesian: Gibbs sampling against ALS on ML-100K u1 (genre and latent)');
    run('node dist/bench/gibbs.js --data ml-100k --split ml100k:u1', [
      path.join(benchDir, 'gibbs.js'),
      '--data',
      'ml-100k',
      '--split',
      'ml100k:u1',
    ]);
  }

  let big = options.big === undefined ? undefined : path.resolve(options.big);
  if (options.makeBig) {
    big = path.join(home, 'synth-32m');
    if (!existsSync(big)) {
      section('Generating a MovieLens-32M-shaped set with als synth');
      run(
        'als synth --users 200948 --movies 87585 --ratings 32000000 --rank 20 --noise 0.5 --seed 32',
        [
          bin,
          'synth',
          '--out',
          big,
          '--users',
          '200948',
          '--movies',
          '87585',
          '--ratings',
          '32000000',
          '--rank',
          '20',
          '--noise',
          '0.5',
          '--seed',
          '32',
        ],
      );
    }
  }
  if (big !== undefined) {
    section(`32M scale: ${big}`);
    run('node dist/bench/load.js --skip-csv-parse', [
      path.join(benchDir, 'load.js'),
      '--data',
      big,
      '--skip-csv-parse',
    ]);
    run('node dist/bench/kernel.js --reps 1', [path.join(benchDir, 'kernel.js'), '--reps', '1']);
    run('node dist/bench/epoch.js --kernels wasm --threads 1,2 --epochs 3', [
      path.join(benchDir, 'epoch.js'),
      '--kernels',
      'wasm',
      '--threads',
      '1,2',
      '--epochs',
      '3',
    ]);
    const bigModel = path.join(scratch, 'synth-32m.als');
    run('als train --data <32M> --kind latent --split random:0.1 --epochs 5 (one line per epoch)', [
      bin,
      'train',
      '--data',
      big,
      '--kind',
      'latent',
      '--split',
      'random:0.1',
      '--epochs',
      '5',
      '--out',
      bigModel,
    ]);
    run('node dist/bench/recommend.js --model <32M model> --runs 5', [
      path.join(benchDir, 'recommend.js'),
      '--model',
      bigModel,
      '--runs',
      '5',
    ]);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
