import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { cacheFileFor } from '../src/data/cache.js';
import { loadDataset, readDataset } from '../src/data/load.js';
import type { Dataset } from '../src/data/types.js';
import { movielensDir } from './helpers/movielens.js';

const root = mkdtempSync(path.join(tmpdir(), 'als-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folderCount = 0;

/** A fixture folder with the given files (strings are written as UTF-8, Buffers as is). */
function folder(files: Record<string, string | Buffer>): string {
  const dir = path.join(root, `set${folderCount++}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

const cacheDir = path.join(root, 'cache');
const MOVIES_CSV =
  'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n2,"American President, The (1995)",Comedy|Drama\n3,"Movie ""Quoted"" (2001)",(no genres listed)\n';

/** Runs a load expected to fail and returns the DataError. */
async function loadError(dir: string, options = {}): Promise<DataError> {
  try {
    await loadDataset(dir, { cache: false, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return error as DataError;
  }
  throw new Error('expected the load to fail');
}

function ratingOf(d: Dataset, userId: number, movieId: number): number | undefined {
  const u = d.userIds.indexOf(userId);
  const i = d.itemIds.indexOf(movieId);
  const { offsets, indices, values } = d.matrix.ratingsByUser;
  for (let e = offsets[u]!; e < offsets[u + 1]!; e++) if (indices[e] === i) return values[e];
  return undefined;
}

function ratedItems(d: Dataset): number {
  const o = d.matrix.ratingsByItem.offsets;
  let n = 0;
  for (let i = 0; i < d.matrix.numItems; i++) if (o[i + 1]! > o[i]!) n++;
  return n;
}

function genresOf(d: Dataset, movieId: number): string[] {
  const i = d.itemIds.indexOf(movieId);
  const c = d.catalog;
  return [...c.genreIds.subarray(c.genreOffsets[i], c.genreOffsets[i + 1])].map(
    (g) => c.genreNames[g]!,
  );
}

describe('real MovieLens sets', () => {
  it('ml-latest-small: counts, ratings, quoted titles, genres', async () => {
    const dir = movielensDir('ml-latest-small');
    const d = await loadDataset(dir, { cache: false });
    expect(d.info.layout).toBe('ml-csv');
    expect(d.matrix.numRatings).toBe(100_836);
    expect(d.matrix.numUsers).toBe(610);
    expect(ratedItems(d)).toBe(9_724);
    expect(d.matrix.numItems).toBe(9_742);
    expect(d.info.scale).toEqual({ min: 0.5, max: 5, step: 0.5 });
    // Spot checks against lines of ratings.csv, found independently with a plain string search.
    const lines = readFileSync(path.join(dir, 'ratings.csv'), 'utf-8').trim().split('\n');
    for (const line of [lines[1]!, lines[5000]!, lines[lines.length - 1]!]) {
      const [u, m, r] = line.split(',').map(Number);
      expect(ratingOf(d, u!, m!)).toBe(r);
    }
    // A quoted title with a comma: find one in movies.csv with a string search, not the parser.
    const movieLines = readFileSync(path.join(dir, 'movies.csv'), 'utf-8').split('\n');
    const quoted = movieLines.find((l) => /^\d+,".*, The \(\d{4}\)",/.test(l))!;
    const id = Number(quoted.split(',')[0]);
    const fullTitle = quoted.slice(quoted.indexOf('"') + 1, quoted.lastIndexOf('"'));
    const i = d.itemIds.indexOf(id);
    expect(`${d.catalog.titles[i]} (${d.catalog.years[i]})`).toBe(fullTitle);
    expect(d.catalog.titles[i]).toMatch(/, The$/);
    expect(genresOf(d, 1)).toEqual(['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy']);
    expect(d.catalog.titles[d.itemIds.indexOf(1)]).toBe('Toy Story');
    expect(d.catalog.years[d.itemIds.indexOf(1)]).toBe(1995);
    expect(d.catalog.genreNames).not.toContain('(no genres listed)');
    // Rows sorted, both indexes agree.
    expect(d.timestampsByUser).not.toBeNull();
    expect(d.userIds[0]).toBe(1);
    expect(d.userIds[609]).toBe(610);
  });

  it('ml-100k: counts, whole-star scale, Latin-1 titles and genre flags', async () => {
    const dir = movielensDir('ml-100k');
    const d = await loadDataset(dir, { cache: false });
    expect(d.info.layout).toBe('ml-100k');
    expect([d.matrix.numRatings, d.matrix.numUsers, d.matrix.numItems, ratedItems(d)]).toEqual([
      100_000, 943, 1_682, 1_682,
    ]);
    expect(d.info.scale).toEqual({ min: 1, max: 5, step: 1 });
    const first = readFileSync(path.join(dir, 'u.data'), 'utf-8')
      .split('\n')[0]!
      .split('\t')
      .map(Number);
    expect(ratingOf(d, first[0]!, first[1]!)).toBe(first[2]);
    expect(genresOf(d, 1)).toEqual(['Animation', "Children's", 'Comedy']);
    expect(d.catalog.genreNames).not.toContain('unknown');
    // Latin-1: a title with an accented letter decodes to that letter (not U+FFFD).
    const accented = d.catalog.titles.find((t) => /[éèá]/.test(t));
    expect(accented).toBeDefined();
    expect(d.catalog.titles.some((t) => t.includes('\uFFFD'))).toBe(false);
  });
});

describe('layouts on small fixtures', () => {
  it('ml-1m style ratings.dat with "::" and Latin-1 movies.dat', async () => {
    const dir = folder({
      'ratings.dat': '1::10::5::978300760\n2::10::3::978302109\n2::20::4::978301968\n',
      'movies.dat': Buffer.from(
        '10::Caf\xe9 Society (1995)::Comedy|Drama\n20::Heat (1995)::Action\n30::Never Rated (1990)::Drama\n',
        'latin1',
      ),
      'users.dat': '1::F::1::10::48067\n',
    });
    const d = await loadDataset(dir, { cache: false });
    expect(d.info.layout).toBe('ml-1m');
    expect(d.matrix.numItems).toBe(3); // movie 30 kept although never rated
    expect(d.catalog.titles).toEqual(['Café Society', 'Heat', 'Never Rated']);
    expect(ratingOf(d, 2, 20)).toBe(4);
    expect(d.catalog.genreNames).toEqual(['Action', 'Comedy', 'Drama']);
  });

  it('ml-10m style: half stars, UTF-8 movies.dat', async () => {
    const dir = folder({
      'ratings.dat': '1::10::4.5::978300760\n1::20::0.5::978300761\n',
      'movies.dat': '10::Amélie (2001)::Comedy|Romance\n20::Heat (1995)::Action\n',
    });
    const d = await loadDataset(dir, { cache: false });
    expect(d.info.layout).toBe('ml-10m');
    expect(ratingOf(d, 1, 10)).toBe(4.5);
    expect(d.catalog.titles[0]).toBe('Amélie');
  });

  it('ml-csv: quoted titles with commas and quotes, CRLF, no final newline', async () => {
    const dir = folder({
      'ratings.csv': 'userId,movieId,rating,timestamp\r\n7,2,3.5,100\r\n5,1,4.0,200\r\n7,1,0.5,300',
      'movies.csv': MOVIES_CSV,
    });
    const d = await loadDataset(dir, { cache: false });
    expect([...d.userIds]).toEqual([5, 7]);
    expect([...d.itemIds]).toEqual([1, 2, 3]);
    expect(d.catalog.titles).toEqual(['Toy Story', 'American President, The', 'Movie "Quoted"']);
    expect([...d.catalog.years]).toEqual([1995, 1995, 2001]);
    expect(genresOf(d, 3)).toEqual([]);
    expect(ratingOf(d, 7, 1)).toBe(0.5);
    expect([...d.timestampsByUser!]).toEqual([200, 300, 100]);
  });

  it('plain user,item,rating files (TSV without timestamps, CSV with header)', async () => {
    const tsv = await loadDataset(folder({ 'ratings.tsv': '3\t9\t1\n1\t9\t2\n' }), {
      cache: false,
    });
    expect(tsv.info.layout).toBe('plain');
    expect(tsv.timestampsByUser).toBeNull();
    expect(tsv.info.scale).toEqual({ min: 1, max: 2, step: 1 });
    expect(tsv.catalog.titles).toEqual(['movie 9']);
    const csv = await loadDataset(folder({ 'ratings.csv': 'user,item,rating\n1,2,0.25\n' }), {
      cache: false,
    });
    expect(csv.info.layout).toBe('plain');
    expect(csv.info.scale.step).toBe(0);
    // Ids beyond the lookup-table range take the sort + binary-search path.
    const big = await loadDataset(
      folder({ 'ratings.tsv': '2000000000\t7\t3\n5\t2147483647\t4\n5\t7\t5\n' }),
      { cache: false },
    );
    expect([...big.userIds]).toEqual([5, 2000000000]);
    expect([...big.itemIds]).toEqual([7, 2147483647]);
    expect(ratingOf(big, 2000000000, 7)).toBe(3);
    expect(ratingOf(big, 5, 2147483647)).toBe(4);
  });

  it('the byte scanner and csv-parse read the same ratings', async () => {
    const dir = movielensDir('ml-latest-small');
    const a = await readDataset(dir, { ratingsParser: 'scanner' });
    const b = await readDataset(dir, { ratingsParser: 'csv-parse' });
    expect(b.dataset.info.fingerprint).toBe(a.dataset.info.fingerprint);
  });

  it('the fingerprint depends on content, not on where the files are', async () => {
    const files = {
      'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4.0,1\n',
      'movies.csv': MOVIES_CSV,
    };
    const a = await loadDataset(folder(files), { cache: false });
    const b = await loadDataset(folder(files), { cache: false });
    const c = await loadDataset(
      folder({ ...files, 'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4.5,1\n' }),
      { cache: false },
    );
    expect(a.info.fingerprint).toBe(b.info.fingerprint);
    expect(c.info.fingerprint).not.toBe(a.info.fingerprint);
  });
});

describe('bad input: one line naming file and line', () => {
  const csv = (ratings: string): string =>
    folder({
      'ratings.csv': `userId,movieId,rating,timestamp\n${ratings}`,
      'movies.csv': MOVIES_CSV,
    });

  it('missing folder, missing file, unknown layout', async () => {
    expect((await loadError(path.join(root, 'nope'))).message).toMatch(
      /nope: data set folder not found|nope: data folder not found/,
    );
    const noItems = folder({ 'u.data': '1\t1\t5\t1\n', 'u.genre': 'unknown|0\n' });
    expect((await loadError(noItems)).message).toBe(
      `${path.join(noItems, 'u.item')}: file not found (a ml-100k folder needs it)`,
    );
    const noMovies = folder({ 'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4,1\n' });
    expect((await loadError(noMovies)).message).toMatch(/movies\.csv: file not found/);
    const unknown = folder({ 'notes.txt': 'hello' });
    expect((await loadError(unknown)).message).toMatch(/: unknown layout: expected u\.data/);
  });

  it('wrong column count', async () => {
    const dir = csv('1,1,4.0,10\n1,2,4.0\n');
    const error = await loadError(dir);
    expect(error.message).toBe(
      `${path.join(dir, 'ratings.csv')}:3: expected 4 fields (user, movie, rating, timestamp) separated by ",", found 3`,
    );
  });

  it('non-numeric and out-of-range ratings', async () => {
    expect((await loadError(csv('1,1,good,10\n'))).message).toMatch(
      /ratings\.csv:2: rating "good" is not a number$/,
    );
    expect((await loadError(csv('1,1,4.0,10\n1,2,5.5,10\n'))).message).toMatch(
      /ratings\.csv:3: rating 5.5 is outside 0.5..5$/,
    );
    expect((await loadError(csv('1,1,0,10\n'))).message).toMatch(
      /ratings\.csv:2: rating 0 is outside 0.5..5$/,
    );
    expect((await loadError(csv('1,1,3.7,10\n'))).message).toMatch(
      /ratings\.csv:2: rating 3.7 is not a multiple of 0.5$/,
    );
    const whole = folder({
      'u.data': '1\t1\t3.5\t1\n',
      'u.item': `1|A (1990)|||${'|0'.repeat(2)}\n`,
      'u.genre': 'unknown|0\nDrama|1\n',
    });
    expect((await loadError(whole)).message).toMatch(
      /u\.data:1: rating 3.5 is not a multiple of 1$/,
    );
  });

  it('negative or non-integer ids', async () => {
    expect((await loadError(csv('1,1,4.0,10\n-3,1,4.0,10\n'))).message).toMatch(
      /ratings\.csv:3: user id -3 is negative$/,
    );
    expect((await loadError(csv('1,1.5,4.0,10\n'))).message).toMatch(
      /ratings\.csv:2: movie id "1.5" is not a non-negative integer$/,
    );
    expect((await loadError(csv('1,x,4.0,10\n'))).message).toMatch(
      /ratings\.csv:2: movie id "x" is not a non-negative integer$/,
    );
    expect((await loadError(csv('99999999999,1,4.0,10\n'))).message).toMatch(
      /ratings\.csv:2: user id 99999999999 is too large/,
    );
  });

  it('duplicate (user, movie) pairs: error by default, --dedupe last keeps the latest', async () => {
    const dir = csv('1,1,4.0,10\n2,1,3.0,10\n1,2,2.0,10\n1,1,1.0,30\n1,1,5.0,20\n');
    const error = await loadError(dir);
    expect(error.message).toBe(
      `${path.join(dir, 'ratings.csv')}:5: duplicate rating for user 1, movie 1 (first at line 2); use --dedupe last to keep the latest`,
    );
    const warnings: string[] = [];
    const d = await loadDataset(dir, {
      cache: false,
      dedupe: 'last',
      warn: (m) => warnings.push(m),
    });
    expect(d.matrix.numRatings).toBe(3);
    expect(ratingOf(d, 1, 1)).toBe(1); // timestamp 30 is the latest
    expect(warnings).toEqual([
      'ratings.csv: 2 repeated (user, movie) ratings dropped, keeping the latest of each',
    ]);
    // The earliest repeat in the file is reported, whichever user it belongs to.
    const order = await loadError(csv('5,1,4.0,10\n1,2,3.0,10\n5,1,2.0,10\n1,2,2.0,10\n'));
    expect(order.message).toMatch(
      /ratings\.csv:4: duplicate rating for user 5, movie 1 \(first at line 2\)/,
    );
    // Equal timestamps: the later line wins.
    const tie = await loadDataset(csv('1,1,4.0,10\n1,1,2.0,10\n'), {
      cache: false,
      dedupe: 'last',
    });
    expect(ratingOf(tie, 1, 1)).toBe(2);
  });

  it('empty file and header-only file', async () => {
    const empty = folder({ 'ratings.csv': '', 'movies.csv': MOVIES_CSV });
    // An empty ratings.csv has no MovieLens header, so it is read as a plain file: still an error.
    expect((await loadError(empty)).message).toBe(`${path.join(empty, 'ratings.csv')}: empty file`);
    expect((await loadError(csv(''))).message).toMatch(
      /ratings\.csv: no ratings \(empty file or header only\)$/,
    );
    const emptyMovies = folder({
      'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4,1\n',
      'movies.csv': '',
    });
    expect((await loadError(emptyMovies)).message).toMatch(/movies\.csv: empty file$/);
  });

  it('a truncated last line is an error; a complete last line without newline is fine', async () => {
    expect((await loadError(csv('1,1,4.0,10\n1,2,4.0,10\n2,3'))).message).toMatch(
      /ratings\.csv:4: expected 4 fields .* found 2 \(truncated last line\?\)$/,
    );
    expect((await loadError(csv('1,1,4.0,10\n1,2,4.0,'))).message).toMatch(
      /ratings\.csv:3: timestamp "" is not a non-negative integer$/,
    );
    const d = await loadDataset(csv('1,1,4.0,10\n1,2,4.0,11'), { cache: false });
    expect(d.matrix.numRatings).toBe(2);
  });

  it('blank lines are skipped and line numbers stay right', async () => {
    const error = await loadError(csv('1,1,4.0,10\n\n1,2,4.0,10\n1,1,3.0,10\n'));
    expect(error.message).toMatch(
      /ratings\.csv:5: duplicate rating for user 1, movie 1 \(first at line 2\)/,
    );
  });

  it('a rated movie missing from movies.csv: one warning, kept with a placeholder title', async () => {
    const warnings: string[] = [];
    const d = await loadDataset(csv('1,1,4.0,10\n1,42,3.0,10\n'), {
      cache: false,
      warn: (m) => warnings.push(m),
    });
    expect(warnings).toEqual([
      'movies.csv: 1 rated movie id(s) not listed (42); kept with placeholder titles',
    ]);
    expect(d.catalog.titles[d.itemIds.indexOf(42)]).toBe('movie 42');
    expect(ratingOf(d, 1, 42)).toBe(3);
  });

  it('bad UTF-8 in movies.csv names the line', async () => {
    const bad = Buffer.concat([
      Buffer.from('movieId,title,genres\n1,Toy Story (1995),Comedy\n2,Caf'),
      Buffer.from([0xe9]),
      Buffer.from(' (1995),Drama\n'),
    ]);
    const dir = folder({
      'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4,1\n',
      'movies.csv': bad,
    });
    expect((await loadError(dir)).message).toBe(
      `${path.join(dir, 'movies.csv')}:3: invalid UTF-8 (the file must be UTF-8 encoded)`,
    );
  });

  it('malformed movies files', async () => {
    const ratings = 'userId,movieId,rating,timestamp\n1,1,4,1\n';
    const unclosed = folder({
      'ratings.csv': ratings,
      'movies.csv': 'movieId,title,genres\n1,"Toy Story (1995),Comedy\n',
    });
    // The quote opens on line 2 (the file's last line here); see test/faults for one opened mid-file.
    expect((await loadError(unclosed)).message).toMatch(/movies\.csv:2: unbalanced quote/);
    const twice = folder({
      'ratings.csv': ratings,
      'movies.csv': 'movieId,title,genres\n1,A (1990),Drama\n1,B (1991),Drama\n',
    });
    expect((await loadError(twice)).message).toMatch(
      /movies\.csv:3: movie id 1 is listed twice \(first at line 2\)$/,
    );
    const columns = folder({
      'ratings.csv': ratings,
      'movies.csv': 'movieId,title,genres\n1,A (1990)\n',
    });
    expect((await loadError(columns)).message).toMatch(
      /movies\.csv:2: expected 3 fields \(movieId, title, genres\), found 2$/,
    );
  });

  it('a failed load writes no cache', async () => {
    const dir = csv('1,1,4.0,10\n1,1,4.0,10\n');
    await expect(loadDataset(dir, { cacheDir })).rejects.toThrow(/duplicate/);
    expect(() => statSync(cacheFileFor(cacheDir, dir))).toThrow();
  });
});

describe('binary cache', () => {
  const bytesOf = (array: Int32Array | Float32Array | null): Buffer | null =>
    array === null ? null : Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  function sameArrays(a: Dataset, b: Dataset): void {
    expect(b.info).toEqual(a.info);
    const arrays = (d: Dataset) => [
      d.userIds,
      d.itemIds,
      d.timestampsByUser,
      d.catalog.years,
      d.catalog.genreOffsets,
      d.catalog.genreIds,
      ...[d.matrix.ratingsByUser, d.matrix.ratingsByItem].flatMap((s) => [
        s.offsets,
        s.indices,
        s.values,
      ]),
    ];
    const left = arrays(a);
    const right = arrays(b);
    for (let k = 0; k < left.length; k++) {
      expect(right[k]!.constructor).toBe(left[k]!.constructor);
      expect(bytesOf(right[k]!)!.equals(bytesOf(left[k]!)!)).toBe(true);
    }
    expect([b.matrix.numUsers, b.matrix.numItems, b.matrix.numRatings]).toEqual([
      a.matrix.numUsers,
      a.matrix.numItems,
      a.matrix.numRatings,
    ]);
    expect(b.catalog.titles).toEqual(a.catalog.titles);
    expect(b.catalog.genreNames).toEqual(a.catalog.genreNames);
  }

  it('round-trips ml-100k exactly, and touching a source file invalidates it', async () => {
    const dir = path.join(root, 'ml-100k-copy');
    // Write fresh files with the data's bytes: never copy links (the data home holds symlinks to
    // read-only shared copies, which this test must not write through) nor read-only modes.
    mkdirSync(dir);
    for (const name of ['u.data', 'u.item', 'u.genre'])
      writeFileSync(path.join(dir, name), readFileSync(path.join(movielensDir('ml-100k'), name)));
    expect(lstatSync(path.join(dir, 'u.data')).isFile()).toBe(true);
    const fresh = await loadDataset(dir, { cache: false });
    const first = await loadDataset(dir, { cacheDir });
    const cacheFile = cacheFileFor(cacheDir, dir);
    const written = statSync(cacheFile).mtimeMs;
    const cached = await loadDataset(dir, { cacheDir });
    sameArrays(fresh, first);
    sameArrays(fresh, cached);
    expect(statSync(cacheFile).mtimeMs).toBe(written); // read, not rewritten
    // Copies of the same data have the same fingerprint.
    expect(fresh.info.fingerprint).toBe(
      (await loadDataset(movielensDir('ml-100k'), { cache: false })).info.fingerprint,
    );

    // Change u.data's content and mtime: the cache must not be used.
    const uData = path.join(dir, 'u.data');
    const text = readFileSync(uData, 'utf-8');
    const firstLine = text.slice(0, text.indexOf('\n')).split('\t');
    const changedRating = firstLine[2] === '1' ? '2' : '1';
    writeFileSync(
      uData,
      [firstLine[0], firstLine[1], changedRating, firstLine[3]].join('\t') +
        text.slice(text.indexOf('\n')),
    );
    const later = new Date(Date.now() + 5000);
    utimesSync(uData, later, later);
    const reloaded = await loadDataset(dir, { cacheDir });
    expect(ratingOf(reloaded, Number(firstLine[0]), Number(firstLine[1]))).toBe(
      Number(changedRating),
    );
    expect(reloaded.info.fingerprint).not.toBe(fresh.info.fingerprint);
  });

  it('a small cache is read back (not rebuilt) while sizes and mtimes match', async () => {
    const dir = folder({
      'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4.0,10\n2,2,3.0,11\n',
      'movies.csv': MOVIES_CSV,
    });
    const ratings = path.join(dir, 'ratings.csv');
    utimesSync(ratings, 1_600_000_000, 1_600_000_000); // a whole-second mtime that can be set again exactly
    const fresh = await loadDataset(dir, { cacheDir });
    expect(statSync(cacheFileFor(cacheDir, dir)).size).toBeLessThan(4096); // from Node's shared buffer pool
    // Same size and mtime, different content: only a cache hit can still return the old ratings.
    writeFileSync(ratings, 'userId,movieId,rating,timestamp\n1,1,2.0,10\n2,2,3.0,11\n');
    utimesSync(ratings, 1_600_000_000, 1_600_000_000);
    const warnings: string[] = [];
    const cached = await loadDataset(dir, { cacheDir, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(ratingOf(cached, 1, 1)).toBe(4);
    sameArrays(fresh, cached);
    expect(ratingOf(await loadDataset(dir, { cache: false }), 1, 1)).toBe(2);
  });

  it('a corrupt or truncated cache is ignored and rebuilt', async () => {
    const dir = folder({
      'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4.0,10\n2,2,3.0,11\n',
      'movies.csv': MOVIES_CSV,
    });
    const fresh = await loadDataset(dir, { cacheDir });
    const cacheFile = cacheFileFor(cacheDir, dir);
    const bytes = readFileSync(cacheFile);
    for (const damaged of [
      bytes.subarray(0, bytes.length - 8),
      bytes.subarray(0, 20),
      Buffer.from('garbage'),
      Buffer.alloc(0),
    ]) {
      writeFileSync(cacheFile, damaged);
      const warnings: string[] = [];
      const d = await loadDataset(dir, { cacheDir, warn: (m) => warnings.push(m) });
      sameArrays(fresh, d);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^ignoring damaged cache .*; rebuilding it$/);
      expect(readFileSync(cacheFile).equals(bytes)).toBe(true);
    }
    // Out-of-range indexes inside an intact-size file: caught by the structural checks.
    const header = JSON.parse(bytes.toString('utf-8', 16, 16 + bytes.readUInt32LE(8))) as {
      arrays: { name: string; byteOffset: number }[];
    };
    const csrIndices = header.arrays.find((a) => a.name === 'csrIndices')!;
    const flipped = Buffer.from(bytes);
    flipped.writeInt32LE(1000, csrIndices.byteOffset);
    writeFileSync(cacheFile, flipped);
    const warnings: string[] = [];
    const d = await loadDataset(dir, { cacheDir, warn: (m) => warnings.push(m) });
    sameArrays(fresh, d);
    expect(warnings).toEqual([
      `ignoring damaged cache ${cacheFile} (CSR index out of range); rebuilding it`,
    ]);
  });

  it('a cache built with --dedupe last is not served to a strict load', async () => {
    const dir = folder({
      'ratings.csv': 'userId,movieId,rating,timestamp\n1,1,4.0,10\n1,1,3.0,11\n',
      'movies.csv': MOVIES_CSV,
    });
    const d = await loadDataset(dir, { cacheDir, dedupe: 'last' });
    expect(d.matrix.numRatings).toBe(1);
    await expect(loadDataset(dir, { cacheDir })).rejects.toThrow(/duplicate rating/);
    expect((await loadDataset(dir, { cacheDir, dedupe: 'last' })).matrix.numRatings).toBe(1);
  });
});
