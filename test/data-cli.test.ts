import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { movielensDir } from './helpers/movielens.js';

// Runs the compiled CLI (npm test builds first) with its data home in a temp folder.
const home = mkdtempSync(path.join(tmpdir(), 'als-data-cli-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
function als(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, ALS_DATA_HOME: path.join(home, 'data') };
  delete env.ALS_MIRROR;
  const result = spawnSync(process.execPath, [path.resolve('bin/als.js'), ...args], {
    encoding: 'utf-8',
    env,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('als download / synth from the command line', () => {
  it('downloads from a folder mirror, then finds the set again without the mirror', () => {
    const mirror = path.dirname(movielensDir('ml-100k'));
    const first = als('download', 'ml-100k', '--mirror', mirror);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(
      `ml-100k: copied in ${path.join(home, 'data', 'ml-100k')} (verified SHA-256 of u.data, SHA-256 of u.item)\n`,
    );
    const second = als('download', 'ml-100k');
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/^ml-100k: already present in /);
  });

  it('refuses unknown names and a missing set when offline, in one line', () => {
    const unknown = als('download', 'ml-5m');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(
      'als: unknown data set "ml-5m"; known: ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, ml-32m, ml-latest-small\n',
    );
    const offline = als('stats', '--data', 'ml-1m', '--offline');
    expect(offline.status).toBe(1);
    expect(offline.stderr).toBe(
      `als: ml-1m is not in the data home ${path.join(home, 'data')} and --offline forbids downloading it; run 'als download ml-1m' first\n`,
    );
  });

  it('synth writes a set that als stats reads back with the requested counts', () => {
    const out = path.join(home, 'synth');
    const made = als(
      'synth',
      '--out',
      out,
      '--users',
      '40',
      '--movies',
      '120',
      '--ratings',
      '2000',
      '--seed',
      '3',
    );
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/^wrote .*: 2000 ratings, 40 users, 120 movies/);
    const stats = als('stats', '--data', out, '--json', '--no-cache');
    expect(stats.status).toBe(0);
    const parsed = JSON.parse(stats.stdout);
    expect([parsed.numRatings, parsed.numUsers, parsed.numItemsListed]).toEqual([2000, 40, 120]);
    const truth = JSON.parse(readFileSync(path.join(out, 'truth.json'), 'utf8'));
    expect(parsed.meanRating).toBeCloseTo(truth.meanRating, 6);
  });

  it('synth option errors are one line naming the option', () => {
    const bad = als(
      'synth',
      '--out',
      path.join(home, 'bad'),
      '--users',
      '-3',
      '--movies',
      '10',
      '--ratings',
      '100',
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('als: --users: must be positive\n');
    const tooFew = als(
      'synth',
      '--out',
      path.join(home, 'bad'),
      '--users',
      '10',
      '--movies',
      '50',
      '--ratings',
      '100',
    );
    expect(tooFew.status).toBe(1);
    expect(tooFew.stderr).toBe(
      'als: --ratings 100 is too few: 10 users × 20 (--min-per-user) = 200\n',
    );
    expect(existsSync(path.join(home, 'bad'))).toBe(false);
  });
});
