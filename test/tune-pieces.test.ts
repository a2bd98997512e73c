import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HalvingScheduler, type HalvingOptions } from '../src/app/asha.js';
import {
  applyConfiguration,
  buildSpace,
  configurationFlags,
  gridConfigurations,
  parseDimension,
  randomConfigurations,
  readSpaceFile,
} from '../src/app/tune-space.js';
import { DEFAULT_HYPERPARAMETERS } from '../src/core/defaults.js';
import { UsageError } from '../src/errors.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-tune-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('search space parsing', () => {
  it('lists, ranges, log ranges, integer ranges and categorical lists', () => {
    expect(parseDimension('dim=10,30,50')).toEqual({
      name: 'dim',
      type: 'list',
      values: [10, 30, 50],
    });
    expect(parseDimension('tau=0.03..0.3:log')).toEqual({
      name: 'tau',
      type: 'range',
      low: 0.03,
      high: 0.3,
      log: true,
      integer: false,
    });
    expect(parseDimension('gamma=1..10')).toEqual({
      name: 'gamma',
      type: 'range',
      low: 1,
      high: 10,
      log: false,
      integer: false,
    });
    expect(parseDimension('dim=10..100')).toMatchObject({ type: 'range', integer: true });
    expect(parseDimension('tau_g=10..1000:log')).toMatchObject({ name: 'genre-tau', log: true });
    expect(parseDimension('model=latent,genre')).toEqual({
      name: 'model',
      type: 'list',
      values: ['latent', 'genre'],
    });
    expect(parseDimension('weighted=true,false')).toEqual({
      name: 'weighted',
      type: 'list',
      values: [true, false],
    });
  });

  it('one line naming the option for each kind of bad input', () => {
    const cases: Array<[string, RegExp]> = [
      ['dim=', /^--space 'dim=': dim has no values$/],
      ['dim', /^--space 'dim': expected name=values/],
      [
        'depth=1,2',
        /^--space 'depth=1,2': unknown hyperparameter "depth" \(tunable: dim, lambda, tau/,
      ],
      ['tau=0.3..0.03', /^--space 'tau=0.3..0.03': tau range 0.3..0.03 has low > high$/],
      ['tau=0..0.3:log', /log range needs low > 0, got 0/],
      ['dim=10.5,20', /dim must be an integer, got 10.5/],
      ['dim=0..10', /dim must be ≥ 1, got 0/],
      ['lambda=0,1', /lambda must be > 0, got 0/],
      ['tau=-1..1', /tau must be ≥ 0, got -1/],
      ['dim=10,10', /dim lists a value twice/],
      ['dim=10,,20', /empty value in its list/],
      ['tau=abc', /tau value "abc" is not a number/],
      ['model=svd', /model must be one of bias, latent, genre, got "svd"/],
      ['model=1..3', /model takes a list of values/],
      ['tau=0.1..', /range must be low..high/],
    ];
    for (const [text, pattern] of cases) {
      let error: unknown = null;
      try {
        parseDimension(text);
      } catch (e) {
        error = e;
      }
      expect(error, text).toBeInstanceOf(UsageError);
      expect((error as Error).message, text).toMatch(pattern);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('empty and contradictory spaces', () => {
    expect(() => buildSpace([])).toThrow(/the search space is empty/);
    expect(() => buildSpace([parseDimension('dim=10,20'), parseDimension('k=30')])).toThrow(
      /--space: dim is given twice/,
    );
    expect(() => buildSpace([parseDimension('model=bias'), parseDimension('tau=0.1,0.2')])).toThrow(
      /tau has no effect on the bias model/,
    );
    expect(() => buildSpace([parseDimension('dim=10'), parseDimension('tau=0.1')])).toThrow(
      /every dimension has a single value/,
    );
  });

  it('reads a JSON space file validated by zod, with one-line errors naming the file', () => {
    const good = path.join(scratch, 'space.json');
    writeFileSync(
      good,
      JSON.stringify({
        dim: [10, 30],
        tau: '0.03..0.3:log',
        gamma: { low: 1, high: 10 },
        tau_g: { low: 10, high: 1000, log: true },
      }),
    );
    expect(readSpaceFile(good)).toEqual([
      { name: 'dim', type: 'list', values: [10, 30] },
      { name: 'tau', type: 'range', low: 0.03, high: 0.3, log: true, integer: false },
      { name: 'gamma', type: 'range', low: 1, high: 10, log: false, integer: false },
      { name: 'genre-tau', type: 'range', low: 10, high: 1000, log: true, integer: false },
    ]);
    const bad = path.join(scratch, 'bad.json');
    writeFileSync(bad, JSON.stringify({ gamma: { low: 1, hi: 10 } }));
    expect(() => readSpaceFile(bad)).toThrow(
      new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: "gamma`),
    );
    writeFileSync(bad, '{ dim: [1, 2] }');
    expect(() => readSpaceFile(bad)).toThrow(/bad\.json: not valid JSON/);
    writeFileSync(bad, JSON.stringify({ gamma: { low: 5, high: 1 } }));
    expect(() => readSpaceFile(bad)).toThrow(/gamma range 5..1 has low > high/);
  });
});

describe('strategies', () => {
  const space = buildSpace([
    parseDimension('dim=10,30,50'),
    parseDimension('tau=0.03..0.3:log'),
    parseDimension('gamma=1..10'),
  ]);

  it('grid: the product of lists and of `gridPoints` points per range, log-spaced for :log', () => {
    const grid = gridConfigurations(space, 3);
    expect(grid).toHaveLength(27);
    expect([...new Set(grid.map((c) => c.tau))]).toEqual([0.03, 0.0948683, 0.3]);
    expect([...new Set(grid.map((c) => c.gamma))]).toEqual([1, 5.5, 10]);
    expect(new Set(grid.map((c) => JSON.stringify(c))).size).toBe(27);
    const ints = gridConfigurations(buildSpace([parseDimension('dim=10..12')]), 5);
    expect(ints.map((c) => c.dim)).toEqual([10, 11, 12]);
  });

  it('random: seeded, inside the space, no repeats, log ranges uniform in ln x', () => {
    const a = randomConfigurations(space, 400, 7);
    expect(randomConfigurations(space, 400, 7)).toEqual(a);
    expect(randomConfigurations(space, 400, 8)).not.toEqual(a);
    expect(new Set(a.map((c) => JSON.stringify(c))).size).toBe(400);
    for (const c of a) {
      expect([10, 30, 50]).toContain(c.dim);
      expect(c.tau as number).toBeGreaterThanOrEqual(0.03);
      expect(c.tau as number).toBeLessThanOrEqual(0.3);
    }
    // ln τ uniform on [ln 0.03, ln 0.3]: half the draws below the geometric mean √(0.03·0.3) ≈ 0.0949.
    const below = a.filter((c) => (c.tau as number) < Math.sqrt(0.03 * 0.3)).length / a.length;
    expect(below).toBeGreaterThan(0.42);
    expect(below).toBeLessThan(0.58);
    const small = randomConfigurations(buildSpace([parseDimension('dim=10,20')]), 10, 1);
    expect(small.map((c) => c.dim).sort()).toEqual([10, 20]);
    const ints = randomConfigurations(buildSpace([parseDimension('dim=1..3')]), 3, 1).map(
      (c) => c.dim,
    );
    expect(ints.sort()).toEqual([1, 2, 3]);
  });

  it('a configuration becomes hyperparameters and the als train flags that reproduce it', () => {
    const config = { dim: 50, tau: 0.1, 'genre-tau': 300, weighted: false, model: 'latent' };
    expect(applyConfiguration(DEFAULT_HYPERPARAMETERS, config)).toEqual({
      ...DEFAULT_HYPERPARAMETERS,
      kind: 'latent',
      dim: 50,
      tau: 0.1,
      genreTau: 300,
      weightedRegularization: false,
    });
    expect(configurationFlags(config)).toBe(
      '--dim 50 --tau 0.1 --genre-tau 300 --no-weighted --model latent',
    );
  });
});

/** Runs a scheduler to the end with score(trial, epochs); returns the jobs in order. */
function drive(
  scheduler: HalvingScheduler,
  score: (trial: number, epochs: number) => number,
): Array<[number, number]> {
  const jobs: Array<[number, number]> = [];
  for (let job = scheduler.next(); job !== null; job = scheduler.next()) {
    jobs.push([job.trial, job.rung]);
    scheduler.report(job.trial, job.rung, score(job.trial, job.epochs));
  }
  expect(scheduler.done).toBe(true);
  return jobs;
}

describe('successive halving', () => {
  const sync: HalvingOptions = {
    milestones: [1, 3, 9],
    reduction: 3,
    direction: 'min',
    mode: 'sync',
  };

  it('sync: all 9 trials at rung 0, the best 3 at rung 1, the best 1 at rung 2', () => {
    // Trial t's score falls with epochs; the order of trials is 4 < 7 < 1 < others.
    const quality = [5, 2, 6, 7, 0, 8, 9, 1, 3];
    const scheduler = new HalvingScheduler(9, sync);
    const jobs = drive(scheduler, (t, e) => quality[t]! + 1 / e);
    expect(jobs).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 0],
      [6, 0],
      [7, 0],
      [8, 0],
      [4, 1],
      [7, 1],
      [1, 1],
      [4, 2],
    ]);
    expect(scheduler.best()).toEqual({ trial: 4, rung: 2, score: 0 + 1 / 9 });
    expect(scheduler.rungs().map((r) => r.length)).toEqual([9, 3, 1]);
  });

  it('a late bloomer is kept only if it is in the top 1/η at the milestone (the schedule follows the scores)', () => {
    // Trial 2 is worst at 1 epoch but best at 9: sync halving drops it at rung 0.
    const scheduler = new HalvingScheduler(3, sync);
    drive(scheduler, (t, e) => (t === 2 ? (e === 1 ? 10 : 0) : t + 1));
    expect(scheduler.best()!.trial).toBe(0);
  });

  it('max direction and NaN (diverged) trials ranked last, never promoted', () => {
    const scheduler = new HalvingScheduler(6, {
      milestones: [2, 4],
      reduction: 2,
      direction: 'max',
      mode: 'sync',
    });
    const values = [0.1, Number.NaN, 0.3, 0.2, Number.NaN, 0.05];
    const jobs = drive(scheduler, (t) => values[t]!);
    expect(jobs.filter(([, r]) => r === 1).map(([t]) => t)).toEqual([2, 3, 0]);
    expect(scheduler.best()!.trial).toBe(2);
    const allNan = new HalvingScheduler(3, { ...sync, milestones: [1, 2] });
    expect(drive(allNan, () => Number.NaN)).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
  });

  it('async (ASHA): promotes as soon as a trial is in the top ⌊n/η⌋ of its rung so far', () => {
    const scheduler = new HalvingScheduler(9, { ...sync, mode: 'async' });
    const quality = [5, 2, 6, 7, 0, 8, 9, 1, 3];
    const jobs = drive(scheduler, (t, e) => quality[t]! + 1 / e);
    // After 3 rung-0 results (trials 0, 1, 2), trial 1 is the top ⌊3/3⌋ = 1 and is promoted at once,
    // before trials 3 … 8 have started.
    expect(jobs.slice(0, 4)).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [1, 1],
    ]);
    // Every trial is scored at rung 0; never more promotions out of a rung than ⌊n/η⌋ of its final size.
    const rungs = scheduler.rungs();
    expect(rungs[0]!.map((r) => r.trial).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rungs[1]!.length).toBeLessThanOrEqual(3);
    expect(rungs[2]!.length).toBeLessThanOrEqual(1);
    expect(scheduler.best()!.rung).toBe(2);
  });

  it('refuses bad options', () => {
    expect(() => new HalvingScheduler(3, { ...sync, milestones: [5, 5] })).toThrow(UsageError);
    expect(() => new HalvingScheduler(3, { ...sync, milestones: [5, 5] })).toThrow(
      /^--halving: milestones must increase \(5 then 5\)$/,
    );
    expect(() => new HalvingScheduler(3, { ...sync, milestones: [] })).toThrow(
      /no epoch milestones/,
    );
    expect(() => new HalvingScheduler(3, { ...sync, reduction: 1 })).toThrow(/at least 2/);
    expect(() => new HalvingScheduler(0, sync)).toThrow(/positive integer/);
    const s = new HalvingScheduler(2, sync);
    expect(() => s.report(0, 0, 1)).toThrow(/no job trial 0 rung 0 is pending/);
  });
});
