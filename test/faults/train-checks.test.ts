/**
 * What `als train` checks before the first epoch (the destination, the sizes), what it says when
 * the disk fills after a good checkpoint, `--rating-scale`, and that every file the application
 * layer writes goes through the one atomic-write module. Full-disk and read-only cases mount a
 * tmpfs / a read-only bind mount, so they need root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as checkpointModule from '../../src/data/checkpoint.js';
import { readCheckpoint } from '../../src/data/checkpoint.js';
import { MAX_THREADS_PER_CORE } from '../../src/core/limits.js';
import { movielensDir } from '../helpers/movielens.js';
import { coreTrainFold, itemGenresOf } from '../../src/app/fold-training.js';
import { defaultHyperparameters } from '../../src/core/defaults.js';
import { loadKernel } from '../../src/core/kernels.js';
import { loadDataset } from '../../src/data/load.js';
import { makeSplit } from '../../src/data/splits.js';
import { als, alsBin, caughtAsync, expectOneLine, repoRoot } from './helpers.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-train-checks-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;
const home = path.join(scratch, 'home');
let dirs = 0;
const fresh = (label: string): string => {
  const dir = path.join(scratch, `${label}-${dirs++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const leftovers = (dir: string): string[] =>
  readdirSync(dir).filter((name) => /als-tmp|\.tmp|als-lock/.test(name));

const train100k = (out: string, extra: string[] = []): string[] => [
  'train',
  '--data',
  movielensDir('ml-100k'),
  '--data-home',
  home,
  '--dim',
  '8',
  '--epochs',
  '2',
  '--kernel',
  'ts',
  '--threads',
  '1',
  '--out',
  out,
  ...extra,
];

/** Refused in one line naming the path, before any epoch (nothing on stdout). */
function expectRefusedBeforeTraining(r: ReturnType<typeof als>, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stdout).not.toMatch(/epoch/);
  expect(r.stderr).toMatch(/^als: [^\n]*\n$/);
  expect(r.stderr).toMatch(pattern);
}

describe('the destination is checked (and its folder created) before the first epoch', () => {
  it('--out <an existing folder>', () => {
    const dir = fresh('folder');
    const out = path.join(dir, 'taken.als');
    mkdirSync(out);
    expectRefusedBeforeTraining(
      als(train100k(out)),
      new RegExp(`cannot write ${escape(out)}: it is a folder`),
    );
  });

  it('--out u1.als/m.als where u1.als is a file', () => {
    const dir = fresh('file-in-the-way');
    writeFileSync(path.join(dir, 'u1.als'), 'x');
    const r = als(train100k(path.join(dir, 'u1.als', 'm.als')));
    expectRefusedBeforeTraining(
      r,
      new RegExp(`${escape(path.join(dir, 'u1.als'))}: a file is in the way`),
    );
    expect(readFileSync(path.join(dir, 'u1.als'), 'utf8')).toBe('x');
  });

  it('a missing folder is created', () => {
    const out = path.join(fresh('create'), 'a', 'b', 'm.als');
    const r = als(train100k(out));
    expect(r.status, r.stderr).toBe(0);
    expect(readCheckpoint(out).epochsDone).toBe(2);
  });

  it.skipIf(!isRoot)('a read-only place (EROFS)', () => {
    const source = fresh('ro-source');
    const dir = fresh('ro');
    execFileSync('mount', ['--bind', source, dir]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
      expectRefusedBeforeTraining(
        als(train100k(path.join(dir, 'm.als'))),
        /cannot write .*m\.als: read-only file system \(EROFS\)/,
      );
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  it.skipIf(!isRoot)(
    'a disk that fills while the metrics are written after a good checkpoint: says what was saved and what not',
    () => {
      // The same run once on a roomy disk gives the checkpoint's size; the small disk then holds
      // the checkpoint and the lock file, and nothing more.
      const roomy = path.join(fresh('roomy'), 'm.als');
      expect(als(train100k(roomy)).status).toBe(0);
      const pages = Math.ceil(statSync(roomy).size / 4096) + 1;
      const dir = fresh('tmpfs');
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${pages * 4096}`, 'tmpfs', dir]);
      try {
        const out = path.join(dir, 'm.als');
        const r = als(train100k(out));
        expect(r.status, r.stderr).toBe(1);
        // The start lines, then one line: what was saved and what was not.
        expect(r.stderr.match(/^als: /gm)).toHaveLength(1);
        expect(r.stderr).toMatch(
          new RegExp(
            `\\nals: saved the checkpoint of epoch 2 to ${escape(out)}, but not m\\.als\\.metrics\\.csv: cannot write ${escape(out)}\\.metrics\\.csv: no space left on the device \\(ENOSPC\\)\\n$`,
          ),
        );
        expect(readCheckpoint(out).epochsDone).toBe(2);
        expect(readdirSync(dir)).toEqual(['m.als']);
      } finally {
        execFileSync('umount', [dir]);
      }
    },
  );
});

describe('sizes are checked before anything large is allocated', () => {
  let synth = '';
  beforeAll(() => {
    synth = path.join(scratch, 'synth');
    const r = als([
      'synth',
      '--out',
      synth,
      '--users',
      '60',
      '--movies',
      '40',
      '--ratings',
      '1200',
      '--rank',
      '3',
    ]);
    expect(r.status, r.stderr).toBe(0);
  });
  const trainSynth = (extra: string[]): ReturnType<typeof als> =>
    als([
      'train',
      '--data',
      synth,
      '--data-home',
      home,
      '--epochs',
      '1',
      '--out',
      path.join(scratch, 'sized', 'm.als'),
      ...extra,
    ]);

  it('--dim 100000 is refused at once with the maximum (it used to grow to gigabytes)', () => {
    // A plain spawn with a short timeout: a run that starts allocating would be cut off (status null).
    const r = spawnSync(
      process.execPath,
      [alsBin, ...train100k(path.join(fresh('huge'), 'm.als'), ['--dim', '100000'])],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe('als: --dim 100000 is not supported: the maximum is 1000\n');
  });

  it('--dim 241 --kernel wasm (above the wasm maximum 240) falls back to the TS kernel and says so', () => {
    const r = trainSynth(['--dim', '241', '--kernel', 'wasm', '--threads', '1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "dim 241 is above the wasm kernel's maximum 240: using the TS kernel",
    );
    expect(r.stderr).toMatch(/^kernel {3}ts, 1 thread$/m);
    expect(readCheckpoint(path.join(scratch, 'sized', 'm.als')).state.hyper.dim).toBe(241);
  });

  it('--threads 1000 is capped at 4 × cores with a one-line note', () => {
    const cores = availableParallelism();
    const cap = MAX_THREADS_PER_CORE * cores;
    const r = trainSynth(['--dim', '4', '--threads', '1000']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `--threads 1000 capped at ${cap} (${MAX_THREADS_PER_CORE} × ${cores} cores)`,
    );
    expect(r.stderr).toMatch(new RegExp(`^kernel {3}\\w+, ${cap} threads$`, 'm'));
    expect(readCheckpoint(path.join(scratch, 'sized', 'm.als')).threads).toBe(cap);
  });
});

describe('cross-validation and tuning folds check sizes too', () => {
  it('a fold of dim 241 on the wasm kernel trains (with the TS kernel); dim 100000 is refused in one line', async () => {
    const synthDir = path.join(scratch, 'synth-folds');
    expect(
      als([
        'synth',
        '--out',
        synthDir,
        '--users',
        '40',
        '--movies',
        '30',
        '--ratings',
        '900',
        '--rank',
        '2',
      ]).status,
    ).toBe(0);
    const dataset = await loadDataset(synthDir, { cache: false });
    const split = makeSplit(dataset, 'random:0.2', 1);
    const trainFold = coreTrainFold(await loadKernel('wasm'));
    const job = (dim: number) => ({
      train: split.train,
      validation: split.test,
      itemGenres: itemGenresOf(dataset),
      hyper: { ...defaultHyperparameters('latent'), dim },
      seed: 1,
      epochs: 1,
      threads: 1,
    });
    const trained = await trainFold(job(241));
    expect(trained.diverged).toBeNull();
    expect(trained.state.userFactors.length).toBe(dataset.matrix.numUsers * 241);
    expectOneLine(
      await caughtAsync(() => trainFold(job(100_000))),
      /--dim 100000 is not supported: the maximum is 1000/,
    );
  });
});

describe('--rating-scale', () => {
  /** A plain ratings.csv of 1–5 stars with one 9 (line 58). */
  function plainFolder(): string {
    const dir = fresh('plain');
    const lines = Array.from(
      { length: 200 },
      (_, k) => `${(k % 40) + 1},${Math.floor(k / 40) + 1},${k === 57 ? 9 : (k % 5) + 1}`,
    );
    writeFileSync(path.join(dir, 'ratings.csv'), `${lines.join('\n')}\n`);
    return dir;
  }

  it('is taken by every command reading a data set and passed to the loader', () => {
    const dir = plainFolder();
    const refused = als(['stats', '--data', dir, '--data-home', home]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /ratings\.csv:58: rating 9 is off the scale .*--rating-scale 1-9/,
    );
    const stats = als([
      'stats',
      '--json',
      '--data',
      dir,
      '--data-home',
      home,
      '--rating-scale',
      '1-10',
    ]);
    expect(stats.status, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout).numRatings).toBe(200);
    const out = path.join(fresh('scaled'), 'm.als');
    const trained = als([
      'train',
      '--data',
      dir,
      '--data-home',
      home,
      '--rating-scale',
      '1-10',
      '--dim',
      '2',
      '--epochs',
      '1',
      '--out',
      out,
    ]);
    expect(trained.status, trained.stderr).toBe(0);
    expect(readCheckpoint(out).dataset.scale).toEqual({ min: 1, max: 10, step: 1 });
    // eval reads the plain file again on the checkpoint's scale (without it, the 9 would be refused).
    const evaluated = als(['eval', '--checkpoint', out, '--data-home', home, '--json']);
    expect(evaluated.status, evaluated.stderr).toBe(0);
    // A given scale the ratings do not fit is refused at the line.
    const narrow = als(['stats', '--data', dir, '--data-home', home, '--rating-scale', '1-5']);
    expect(narrow.stderr).toMatch(/ratings\.csv:58: rating 9 is outside 1\.\.5/);
  });

  it('a malformed scale is a usage error (exit 2) in one line; half stars are inferred from the ends', () => {
    for (const [value, message] of [
      ['5-1', '--rating-scale: the lowest rating must be below the highest (got 5-1)'],
      [
        'stars',
        '--rating-scale: must be min-max or min-max:step, e.g. 1-10 or 0.5-5:0.5 (got "stars")',
      ],
    ]) {
      const r = als([
        'stats',
        '--data',
        plainFolder(),
        '--data-home',
        home,
        '--rating-scale',
        value,
      ]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`als: ${message}\n`);
    }
    const half = als([
      'stats',
      '--json',
      '--data',
      plainFolder(),
      '--data-home',
      home,
      '--rating-scale',
      '0.5-10',
    ]);
    expect(half.status, half.stderr).toBe(0);
  });
});

describe('one atomic-write helper', () => {
  it('the application and CLI layers write files only through src/data/atomic.ts', () => {
    // The checkpoint module no longer re-exports a second way of writing text files.
    expect('writeTextFileAtomic' in checkpointModule).toBe(false);
    const offenders: string[] = [];
    for (const layer of ['src/app', 'src/cli']) {
      for (const name of readdirSync(path.join(repoRoot, layer))) {
        const text = readFileSync(path.join(repoRoot, layer, name), 'utf8');
        if (
          /\b(writeFileSync|renameSync|createWriteStream|appendFileSync|writeFile)\s*\(/.test(text)
        )
          offenders.push(`${layer}/${name}`);
        if (/writeTextFileAtomic[^;]*from '\.\.\/data\/checkpoint\.js'/.test(text))
          offenders.push(`${layer}/${name} (old import)`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('recommend --all-users refuses a folder in the way before scoring, leaving nothing behind', () => {
    const dir = fresh('recs');
    const out = path.join(dir, 'm.als');
    expect(als(train100k(out)).status).toBe(0);
    const csv = path.join(dir, 'recs.csv');
    mkdirSync(csv);
    const r = als(['recommend', '--checkpoint', out, '--all-users', '--out', csv]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`als: cannot write ${csv}: it is a folder\n`);
    expect(leftovers(dir)).toEqual([]);
  });
});
