/**
 * The parallel load (ranges parsed and indexed on worker threads) gives exactly the serial load's
 * dataset (ids, CSR, CSC, timestamps, catalog, fingerprint) or its error, on real data and on
 * synthetic files with known contents.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import { type LoadOptions, readDataset } from '../src/data/load.js';
import type { Dataset } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-parallel-index-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
function folder(files: Record<string, string>): string {
  const dir = path.join(scratch, `set${folders++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

type Path = { scanThreads: number; indexThreads: number };

/** Loads `dir` serially and on `threads` workers (forced for small files); returns both and the paths taken. */
async function bothWays(
  dir: string,
  threads: number,
  options: LoadOptions = {},
): Promise<{ serial: Dataset; parallel: Dataset; serialPath: Path; parallelPath: Path }> {
  let serialPath: Path | null = null;
  let parallelPath: Path | null = null;
  const serial = await readDataset(dir, {
    ...options,
    parseThreads: 1,
    onPath: (how) => (serialPath = how),
  });
  const parallel = await readDataset(dir, {
    ...options,
    parseThreads: threads,
    parallelMinBytes: 0,
    onPath: (how) => (parallelPath = how),
  });
  return {
    serial: serial.dataset,
    parallel: parallel.dataset,
    serialPath: serialPath!,
    parallelPath: parallelPath!,
  };
}

function expectSameDataset(a: Dataset, b: Dataset): void {
  const list = (x: ArrayLike<number> | null) => (x === null ? null : Array.from(x));
  expect(list(a.userIds)).toEqual(list(b.userIds));
  expect(list(a.itemIds)).toEqual(list(b.itemIds));
  for (const side of ['ratingsByUser', 'ratingsByItem'] as const) {
    expect(list(a.matrix[side].offsets)).toEqual(list(b.matrix[side].offsets));
    expect(list(a.matrix[side].indices)).toEqual(list(b.matrix[side].indices));
    expect(list(a.matrix[side].values)).toEqual(list(b.matrix[side].values));
  }
  expect(list(a.timestampsByUser)).toEqual(list(b.timestampsByUser));
  expect(a.matrix.numRatings).toBe(b.matrix.numRatings);
  expect(list(a.catalog.years)).toEqual(list(b.catalog.years));
  expect(list(a.catalog.genreIds)).toEqual(list(b.catalog.genreIds));
  expect(a.catalog.titles).toEqual(b.catalog.titles);
  expect(a.info).toEqual(b.info); // includes the fingerprint
}

interface Rating {
  user: number;
  item: number;
  value: number;
  time: number;
}

/**
 * Ratings grouped by user (ascending ids with gaps), `perUser` each; items drawn at random, so
 * rows come unsorted and, with `repeats`, some (user, movie) pairs twice.
 */
function groupedRatings(users: number, perUser: number, seed: number, repeats = false): Rating[] {
  const random = new Random(seed);
  const out: Rating[] = [];
  for (let u = 0; u < users; u++) {
    const user = 3 + 7 * u;
    const seen = new Set<number>();
    for (let j = 0; j < perUser; j++) {
      let item = 1 + random.nextInt(900);
      while (!repeats && seen.has(item)) item = 1 + random.nextInt(900);
      seen.add(item);
      out.push({ user, item, value: 0.5 * (1 + random.nextInt(10)), time: 1e9 + out.length });
    }
  }
  return out;
}

/** A ml-csv folder: ratings.csv and a movies.csv listing a few of the movies (the rest get placeholders). */
const csvFolder = (ratings: Rating[]): string =>
  folder({
    'ratings.csv': ratingsCsv(ratings),
    'movies.csv': 'movieId,title,genres\n1,One (1990),Comedy\n2,Two (1991),Drama|Comedy\n',
  });

const ratingsCsv = (ratings: Rating[]): string =>
  `userId,movieId,rating,timestamp\n${ratings.map((r) => `${r.user},${r.item},${r.value.toFixed(1)},${r.time}`).join('\n')}\n`;

describe('parallel load', () => {
  it('ml-latest-small: the serial dataset and fingerprint, indexed on 2 and 3 workers', async () => {
    const dir = movielensDir('ml-latest-small');
    for (const threads of [2, 3]) {
      const { serial, parallel, serialPath, parallelPath } = await bothWays(dir, threads);
      expect(serialPath).toEqual({ scanThreads: 0, indexThreads: 0 });
      expect(parallelPath).toEqual({ scanThreads: threads, indexThreads: threads });
      expect(parallel.matrix.numRatings).toBe(100_836);
      expectSameDataset(parallel, serial);
    }
  });

  it('a synthetic file with known contents: rows sorted by movie, columns by user, file order kept', async () => {
    const ratings = groupedRatings(300, 25, 7);
    const dir = folder({
      'ratings.csv': ratingsCsv(ratings),
      // Movie 5000 is listed but never rated: an empty column, still indexed.
      'movies.csv': 'movieId,title,genres\n5000,Unrated (1999),Drama\n',
    });
    const { serial, parallel, parallelPath } = await bothWays(dir, 3, { warn: () => {} });
    expect(parallelPath.indexThreads).toBe(3);
    expectSameDataset(parallel, serial);
    // Against a reference built by sorting: CSR by (user, movie), CSC by (movie, user).
    const users = [...new Set(ratings.map((r) => r.user))].sort((a, b) => a - b);
    const items = [...new Set([...ratings.map((r) => r.item), 5000])].sort((a, b) => a - b);
    expect(Array.from(parallel.userIds)).toEqual(users);
    expect(Array.from(parallel.itemIds)).toEqual(items);
    const byUser = [...ratings].sort((a, b) => a.user - b.user || a.item - b.item);
    const { ratingsByUser, ratingsByItem } = parallel.matrix;
    expect(Array.from(ratingsByUser.indices)).toEqual(byUser.map((r) => items.indexOf(r.item)));
    expect(Array.from(ratingsByUser.values)).toEqual(byUser.map((r) => r.value));
    expect(Array.from(parallel.timestampsByUser!)).toEqual(byUser.map((r) => r.time));
    const byItem = [...ratings].sort((a, b) => a.item - b.item || a.user - b.user);
    expect(Array.from(ratingsByItem.indices)).toEqual(byItem.map((r) => users.indexOf(r.user)));
    expect(Array.from(ratingsByItem.values)).toEqual(byItem.map((r) => r.value));
    const last = items.indexOf(5000);
    expect(ratingsByItem.offsets[last + 1]).toBe(ratingsByItem.offsets[last]);
  });

  it('a file strictly increasing in (user, movie): no row sort, the same dataset', async () => {
    const ratings = groupedRatings(200, 30, 8).sort((a, b) => a.user - b.user || a.item - b.item);
    const dir = csvFolder(ratings);
    const { serial, parallel, parallelPath } = await bothWays(dir, 2, { warn: () => {} });
    expect(parallelPath.indexThreads).toBe(2);
    expectSameDataset(parallel, serial);
  });

  it('more than 256 movies in few ratings, and a plain file without timestamps or scale', async () => {
    const random = new Random(9);
    const lines: string[] = [];
    for (let u = 1; u <= 400; u++) {
      const seen = new Set<number>();
      while (seen.size < 12) seen.add(1 + random.nextInt(20_000));
      for (const item of seen) lines.push(`${u}\t${item}\t${1 + random.nextInt(5)}`);
    }
    const dir = folder({ 'ratings.tsv': `${lines.join('\n')}\n` });
    const { serial, parallel, parallelPath } = await bothWays(dir, 2);
    expect(parallelPath.indexThreads).toBe(2);
    expect(parallel.info.scale).toEqual({ min: 1, max: 5, step: 1 });
    expect(parallel.matrix.numItems).toBeGreaterThan(4000); // several movies per CSC band
    expectSameDataset(parallel, serial);
  });

  it('falls back to the serial path, with the same result, where the fast case does not hold', async () => {
    // User ids decrease (ml-100k's u.data is in no order).
    const unsorted = groupedRatings(100, 20, 10).reverse();
    const a = await bothWays(csvFolder(unsorted), 2, { warn: () => {} });
    expect(a.parallelPath).toEqual({ scanThreads: 2, indexThreads: 0 });
    expectSameDataset(a.parallel, a.serial);
    const ml100k = path.join(scratch, 'ml-100k');
    cpSync(movielensDir('ml-100k'), ml100k, { recursive: true, dereference: true });
    const b = await bothWays(ml100k, 2);
    expect(b.parallelPath).toEqual({ scanThreads: 2, indexThreads: 0 });
    expectSameDataset(b.parallel, b.serial);
    // An id of 2^24 or more.
    const wide = groupedRatings(50, 10, 11);
    wide[wide.length - 1]!.item = 2 ** 24 + 5;
    const c = await bothWays(csvFolder(wide), 2, { warn: () => {} });
    expect(c.parallelPath.indexThreads).toBe(0);
    expectSameDataset(c.parallel, c.serial);
    // Repeated pairs: kept with --dedupe last exactly as the serial path keeps them.
    const repeats = groupedRatings(150, 40, 12, true);
    const dir = csvFolder(repeats);
    const d = await bothWays(dir, 2, { dedupe: 'last', warn: () => {} });
    expect(d.parallelPath.indexThreads).toBe(0);
    expect(d.parallel.matrix.numRatings).toBeLessThan(repeats.length);
    expectSameDataset(d.parallel, d.serial);
  });

  it('repeated pairs: the serial path’s error, word for word', async () => {
    const repeats = groupedRatings(150, 40, 13, true);
    const dir = csvFolder(repeats);
    const message = async (threads: number): Promise<string> => {
      try {
        await readDataset(dir, { parseThreads: threads, parallelMinBytes: 0 });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a duplicate error');
    };
    const serial = await message(1);
    expect(serial).toMatch(/duplicate rating for user \d+, movie \d+/);
    expect(await message(2)).toBe(serial);
  });
});
