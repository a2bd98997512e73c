import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { movielensDir } from './helpers/movielens.js';

// Runs the compiled CLI (npm test builds first), with the data home (and so the cache) in a temp dir.
const home = mkdtempSync(path.join(tmpdir(), 'als-stats-cli-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
function als(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.resolve('bin/als.js'), ...args], {
    encoding: 'utf-8',
    env: { ...process.env, ALS_DATA_HOME: home },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('als stats', () => {
  it('prints the ml-latest-small counts as a table, and as JSON', () => {
    const dir = movielensDir('ml-latest-small');
    const table = als('stats', '--data', dir);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/^ratings +100,836$/m);
    expect(table.stdout).toMatch(/^users +610$/m);
    expect(table.stdout).toMatch(/^movies listed +9,742$/m);
    expect(table.stdout).toMatch(/^movies rated +9,724$/m);
    const json = als('stats', '--data', dir, '--json');
    expect(json.status).toBe(0);
    const stats = JSON.parse(json.stdout);
    expect([stats.numRatings, stats.numUsers, stats.numItemsRated, stats.numItemsListed]).toEqual([
      100_836, 610, 9_724, 9_742,
    ]);
  });

  it('prints the ml-100k counts', () => {
    const json = als('stats', '--data', movielensDir('ml-100k'), '--json', '--no-cache');
    expect(json.status).toBe(0);
    const stats = JSON.parse(json.stdout);
    expect([stats.numRatings, stats.numUsers, stats.numItemsListed]).toEqual([100_000, 943, 1_682]);
  });

  it('bad input: one line on stderr naming file and line, non-zero exit, no stack', () => {
    const dir = path.join(home, 'bad');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'ratings.csv'),
      'userId,movieId,rating,timestamp\n1,1,4.0,1\n1,1,9,2\n',
    );
    writeFileSync(path.join(dir, 'movies.csv'), 'movieId,title,genres\n1,A (1990),Drama\n');
    const result = als('stats', '--data', dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `als: ${path.join(dir, 'ratings.csv')}:3: rating 9 is outside 0.5..5\n`,
    );
    const usage = als('stats', '--data', dir, '--dedupe', 'first');
    expect(usage.status).toBe(2);
    expect(usage.stderr.trim().split('\n')).toHaveLength(1);
    expect(usage.stderr).toMatch(/^als: --dedupe: /);
  });

  it('warnings go to stderr, the table to stdout', () => {
    const dir = path.join(home, 'missing-movie');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'ratings.csv'),
      'userId,movieId,rating,timestamp\n1,1,4.0,1\n1,2,3.0,2\n',
    );
    writeFileSync(path.join(dir, 'movies.csv'), 'movieId,title,genres\n1,A (1990),Drama\n');
    const result = als('stats', '--data', dir);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(
      'als: warning: movies.csv: 1 rated movie id(s) not listed (2); kept with placeholder titles\n',
    );
    expect(result.stdout).toMatch(/^ratings +2$/m);
  });
});
