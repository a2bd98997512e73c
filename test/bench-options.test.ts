import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  benchDataHome,
  dataFolder,
  listOf,
  nonNegativeInteger,
  oneOf,
  positiveInteger,
  positiveNumber,
} from '../src/bench/options.js';
import { movielensDir } from './helpers/movielens.js';

// The bench scripts as a user runs them (`npm test` builds dist/ first).
const benchDir = path.resolve('dist/bench');
const bench = (name: string, ...args: string[]) =>
  spawnSync(process.execPath, [path.join(benchDir, `${name}.js`), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ALS_DEBUG: '' },
  });
/** The scripts a user runs: every module of src/bench but the helpers it imports. */
const SCRIPTS = readdirSync('src/bench')
  .filter(
    (f) =>
      f.endsWith('.ts') && !['options.ts', 'half-epoch-problem.ts', 'kernel-worker.ts'].includes(f),
  )
  .map((f) => f.slice(0, -3));

describe('bench option parsers', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('accept what they name and refuse the rest with what is wrong', () => {
    expect(positiveInteger('3')).toBe(3);
    for (const bad of ['0', '-1', '1.5', '', ' ', 'x', '1e400'])
      expect(() => positiveInteger(bad), bad).toThrow(InvalidArgumentError);
    expect(nonNegativeInteger('0')).toBe(0);
    expect(() => nonNegativeInteger('-1')).toThrow('must be a whole number ≥ 0');
    expect(positiveNumber('0.25')).toBe(0.25);
    expect(() => positiveNumber('Infinity')).toThrow('must be a positive number');
    expect(listOf(positiveInteger)('1,2')).toEqual([1, 2]);
    expect(() => listOf(positiveInteger)('1,,2')).toThrow(InvalidArgumentError);
    expect(listOf(oneOf(['ts', 'wasm']))('wasm,ts')).toEqual(['wasm', 'ts']);
    expect(() => oneOf(['ts', 'wasm'])('gpu')).toThrow('"gpu" is not one of ts, wasm');
  });

  it('take the data home from --data-home, else ALS_DATA_HOME, else ./data', () => {
    vi.stubEnv('ALS_DATA_HOME', '/somewhere/home');
    expect(benchDataHome('elsewhere')).toBe(path.resolve('elsewhere'));
    expect(benchDataHome()).toBe(path.resolve('/somewhere/home'));
    vi.stubEnv('ALS_DATA_HOME', '');
    expect(benchDataHome()).toBe(path.resolve('data'));
    expect(benchDataHome(undefined, '/project/data')).toBe(path.resolve('/project/data'));
  });

  it('find --data in the data home first, else as a path', () => {
    const dir = movielensDir('ml-100k');
    expect(dataFolder('ml-100k', path.dirname(dir))).toBe(dir);
    expect(dataFolder(dir, '/no/such/home')).toBe(dir);
    expect(dataFolder('not-there', path.dirname(dir))).toBe(path.resolve('not-there'));
  });
});

describe('the bench scripts', () => {
  it('are all covered here', () => {
    expect(SCRIPTS).toEqual(
      expect.arrayContaining([
        'accuracy',
        'cv',
        'epoch-time',
        'epoch',
        'gibbs',
        'kernel',
        'load',
        'recommend',
        'registry',
        'report',
        'run',
        'splits',
        'synth',
        'tune',
      ]),
    );
  });

  it('state their defaults in --help', () => {
    const expected: Record<string, string[]> = {
      accuracy: [
        '--epochs <n>',
        '(default: 25)',
        '--configs <list>',
        '--models <kinds>',
        '(default: bias,latent,genre)',
        '--no-cold',
      ],
      cv: [
        '<data-folder>',
        '--folds <spec>',
        '(default: "ml100k")',
        '--epochs <n>',
        '(default: 100)',
        '--parallel <n>',
      ],
      'epoch-time': ['--kernel <name>', 'default: "ts"', '--threads <list>', '(default: 1,2)'],
      epoch: ['--scale <s>', '(default: 1)', '--kernels <list>', '(default: wasm,ts)'],
      gibbs: ['--samples <n>', '(default: 300)', '--no-als'],
      kernel: ['--reps <n>', '(default: 3)', '--skip-ts'],
      load: ['--data <set>', '(default: "ml-latest-small")', '--skip-csv-parse'],
      recommend: [
        '--model <checkpoint>',
        '--runs <n>',
        '(default: 5)',
        '--min-ratings <n>',
        '(default: 20)',
      ],
      registry: ['fill <file> [runs]', 'record <file>', 'list <file>'],
      report: ['--model <checkpoint>', '--runs <n>', '(default: 3)'],
      run: ['--big <folder>', '--make-big', '--cv', '--gibbs'],
      splits: ['<data-folder>', '(default: random:0.1 user:0.1 temporal:0.1 cold-items:0.05)'],
      synth: ['[ratings]', '(default: 32000000)'],
      tune: ['<ml-100k-folder>', '--trials <n>', '(default: 40)', '(default: dim=10..100:log'],
    };
    for (const name of SCRIPTS) {
      const result = bench(name, '--help');
      expect(result.status, name).toBe(0);
      const help = result.stdout.replace(/\s+/g, ' ');
      expect(help).toContain(`Usage: ${name} `);
      for (const text of expected[name] ?? []) expect(help, `${name}: ${text}`).toContain(text);
    }
  });

  it('refuse a bad value, an unknown option or a missing argument in one line, before any work', () => {
    const cases: [string, string[], string][] = [
      [
        'epoch',
        ['--epochs', '0'],
        "option '--epochs <n>' argument '0' is invalid. must be a positive whole number",
      ],
      ['kernel', ['--scale', 'x'], 'must be a positive number'],
      ['epoch', ['--kernels', 'wasm,gpu'], '"gpu" is not one of ts, wasm'],
      ['accuracy', ['--configs', 'plain:x:1'], '\'--configs <list>\' item "plain:x:1" is invalid'],
      ['cv', [], "missing required argument 'data-folder'"],
      ['recommend', [], "required option '--model <checkpoint>' not specified"],
      ['kernel', ['--bogus'], "unknown option '--bogus'"],
      ['registry', ['fill', 'file', '0'], "value '0' is invalid for argument 'runs'"],
      ['synth', ['1e3x'], "value '1e3x' is invalid for argument 'ratings'"],
      [
        'cv',
        [path.resolve('no-such-folder')],
        `cv: ${path.resolve('no-such-folder')}: data folder not found`,
      ],
    ];
    for (const [name, args, message] of cases) {
      const result = bench(name, ...args);
      expect(result.status, `${name} ${args.join(' ')}`).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n'), `${name} ${args.join(' ')}`).toHaveLength(1);
      expect(result.stderr).toContain(message);
    }
  });

  it('run with the options the README cites, on real data', () => {
    const result = bench('splits', movielensDir('ml-100k'), 'random:0.1');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^random:0\.1 .* train 90000 {2}test 10000 /m);
    const load = bench('load', '--data', movielensDir('ml-100k'), '--skip-csv-parse');
    expect(load.status, load.stderr).toBe(0);
    expect(load.stdout).toMatch(/^cold-scanner .* 100,000 ratings/m);
    expect(load.stdout).toMatch(/^cached .* 100,000 ratings/m);
    expect(load.stdout).not.toMatch(/cold-csv-parse/);
  });
});
