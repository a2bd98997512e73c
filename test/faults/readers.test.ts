/** Messages that point at the right place, columns by name, and the plain layout's rating scale. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/load.js';
import { movielensDir } from '../helpers/movielens.js';
import { caughtAsync, expectOneLine } from './helpers.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-readers-faults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
function folder(files: Record<string, string | Buffer>): string {
  const dir = path.join(scratch, `set${folders++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}
const load = (dir: string, options: Parameters<typeof loadDataset>[1] = {}) =>
  loadDataset(dir, { cache: false, ...options });
const ratingOf = (
  d: Awaited<ReturnType<typeof loadDataset>>,
  user: number,
  movie: number,
): number => {
  const u = d.userIds.indexOf(user);
  const i = d.itemIds.indexOf(movie);
  const { offsets, indices, values } = d.matrix.ratingsByUser;
  for (let e = offsets[u]!; e < offsets[u + 1]!; e++) if (indices[e] === i) return values[e]!;
  return NaN;
};
const RATINGS = 'userId,movieId,rating,timestamp\n1,1,4,1\n1,2,3,2\n';

describe('messages that point at the right place', () => {
  it('an unbalanced quote in movies.csv is reported at the line where the quote opened', async () => {
    const movies = [
      'movieId,title,genres',
      '1,Toy Story (1995),Comedy',
      '2,"Heat (1995),Action',
      '3,Casino (1995),Drama',
      '4,Balto (1995),Animation',
      '',
    ].join('\n');
    const error = await caughtAsync(() =>
      load(folder({ 'ratings.csv': RATINGS, 'movies.csv': movies })),
    );
    expectOneLine(error, /movies\.csv:3: unbalanced quote/);
    // A quote that closes lines later (a title spanning lines) is refused at its opening line too.
    const spanning = [
      'movieId,title,genres',
      '1,"Toy Story',
      '(1995)",Comedy',
      '2,Heat (1995),Action',
      '',
    ].join('\n');
    expectOneLine(
      await caughtAsync(() => load(folder({ 'ratings.csv': RATINGS, 'movies.csv': spanning }))),
      /movies\.csv:2: unbalanced quote/,
    );
  });

  it('a truncated u.genre is blamed on u.genre, not u.item', async () => {
    const ml100k = movielensDir('ml-100k');
    const dir = folder({});
    for (const name of ['u.data', 'u.item'])
      copyFileSync(path.join(ml100k, name), path.join(dir, name));
    const genres = readFileSync(path.join(ml100k, 'u.genre'), 'latin1')
      .split('\n')
      .filter((l) => l !== '');
    writeFileSync(path.join(dir, 'u.genre'), `${genres.slice(0, -2).join('\n')}\n`, 'latin1');
    expectOneLine(
      await caughtAsync(() => load(dir)),
      /u\.genre: lists 17 genres but the movies in u\.item have 19 genre flags each/,
    );
  });

  it('a 10,000-character title or a 10 MB field is cut in the message', async () => {
    const long = 'A'.repeat(10_000);
    const movies = `movieId,title,genres\n1,${long} "x" (1995),Comedy\n`;
    const error = await caughtAsync(() =>
      load(folder({ 'ratings.csv': RATINGS, 'movies.csv': movies })),
    );
    expectOneLine(error, /movies\.csv:2: /);
    expect((error as Error).message.length).toBeLessThan(500);
    const huge = `1,1,4\n1,2,${'9'.repeat(10 << 20)}x\n`;
    const error2 = await caughtAsync(() => load(folder({ 'ratings.csv': huge })));
    expectOneLine(error2, /ratings\.csv:2: rating "9+…" is not a number/);
    expect((error2 as Error).message.length).toBeLessThan(500);
    const badId = await caughtAsync(() =>
      load(
        folder({
          'ratings.csv': RATINGS,
          'movies.csv': `movieId,title,genres\n${'x'.repeat(10_000)},T (1995),Drama\n`,
        }),
      ),
    );
    expectOneLine(badId, /movie id "x+…" is not a non-negative integer/);
    expect((badId as Error).message.length).toBeLessThan(500);
  });
});

describe('columns by name', () => {
  it('a ratings.csv headed userId,movieId,timestamp,rating is read by name', async () => {
    const movies = 'movieId,title,genres\n1,Toy Story (1995),Comedy\n2,Heat (1995),Action\n';
    const d = await load(
      folder({
        'ratings.csv': 'userId,movieId,timestamp,rating\n1,1,964982703,4.5\n1,2,964982224,3\n',
        'movies.csv': movies,
      }),
    );
    expect(d.info.layout).toBe('ml-csv');
    expect(ratingOf(d, 1, 1)).toBe(4.5);
    expect(ratingOf(d, 1, 2)).toBe(3);
    expect([...d.timestampsByUser!]).toEqual([964982703, 964982224]);
    // A plain file with named columns in another order, without timestamps.
    const plain = await load(folder({ 'ratings.tsv': 'rating\titem\tuser\n5\t7\t3\n2\t8\t3\n' }));
    expect(ratingOf(plain, 3, 7)).toBe(5);
    expect(ratingOf(plain, 3, 8)).toBe(2);
  });

  it('a header that lacks a needed column, or names an unknown one, is refused at line 1', async () => {
    const movies = 'movieId,title,genres\n1,Toy Story (1995),Comedy\n';
    expectOneLine(
      await caughtAsync(() =>
        load(
          folder({
            'ratings.csv': 'userId,movieId,timestamp\n1,1,964982703\n',
            'movies.csv': movies,
          }),
        ),
      ),
      /ratings\.csv:1: the header has no rating column \(columns: "userId", "movieId", "timestamp"\)/,
    );
    expectOneLine(
      await caughtAsync(() =>
        load(folder({ 'ratings.csv': 'user,movie,rating,weight\n1,1,4,2\n' })),
      ),
      /ratings\.csv:1: unknown column "weight"/,
    );
    expectOneLine(
      await caughtAsync(() =>
        load(folder({ 'ratings.csv': 'user,rating,movie,rating\n1,4,1,2\n' })),
      ),
      /names the rating column twice/,
    );
  });
});

describe('the plain layout checks the rating scale', () => {
  const lines = (ratings: number[]): string =>
    `${ratings.map((r, k) => `${k + 1},${(k % 7) + 1},${r}`).join('\n')}\n`;

  it('a 9 among 1–5 stars is refused at its line; the scale used is said in a warning', async () => {
    const ratings = Array.from({ length: 200 }, (_, k) => (k % 5) + 1);
    ratings[57] = 9;
    expectOneLine(
      await caughtAsync(() => load(folder({ 'ratings.csv': lines(ratings) }))),
      /ratings\.csv:58: rating 9 is off the scale 1–5 in steps of 1 of the other ratings/,
    );
    ratings[57] = 3;
    const warnings: string[] = [];
    const d = await load(folder({ 'ratings.csv': lines(ratings) }), {
      warn: (m) => warnings.push(m),
    });
    expect(d.info.scale).toEqual({ min: 1, max: 5, step: 1 });
    // Exactly a usual scale: nothing to say. A partial range is said, as is one no usual scale fits.
    expect(warnings).toEqual([]);
    await load(folder({ 'ratings.csv': lines(ratings.map((r) => Math.min(r, 3))) }), {
      warn: (m) => warnings.push(m),
    });
    await load(folder({ 'ratings.csv': lines(ratings.map((r) => r * 0.3)) }), {
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([
      'ratings.csv: no rating scale given; using 1–3 in steps of 1, the range of the ratings',
      expect.stringMatching(
        /^ratings\.csv: no rating scale given; using 0\.3\d*–1\.5\d*, the range of the ratings \(no usual scale fits them\)$/,
      ),
    ]);
  });

  it('a given rating scale is used and checked line by line', async () => {
    const ratings = Array.from({ length: 200 }, (_, k) => (k % 5) + 1);
    ratings[57] = 9;
    const dir = folder({ 'ratings.csv': lines(ratings) });
    const d = await load(dir, { ratingScale: { min: 1, max: 10, step: 1 } });
    expect(d.info.scale).toEqual({ min: 1, max: 10, step: 1 });
    expect(ratingOf(d, 58, (57 % 7) + 1)).toBe(9);
    expectOneLine(
      await caughtAsync(() => load(dir, { ratingScale: { min: 1, max: 5, step: 1 } })),
      /ratings\.csv:58: rating 9 is outside 1\.\.5/,
    );
    expectOneLine(
      await caughtAsync(() => load(dir, { ratingScale: { min: 5, max: 1, step: 1 } })),
      /is not a range/,
    );
  });
});
