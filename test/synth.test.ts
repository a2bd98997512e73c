import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../src/core/random.js';
import {
  AliasTable,
  allocateActivity,
  generateSynth,
  type SynthOptions,
  type SynthTruth,
} from '../src/data/synth.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-synth-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const REAL_GENRES = new Set([
  'Action',
  'Adventure',
  'Animation',
  'Children',
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'IMAX',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
]);

interface Parsed {
  users: Int32Array;
  items: Int32Array;
  ratings: Float64Array;
  lines: string[];
}

function readRatings(dir: string): Parsed {
  const text = readFileSync(path.join(dir, 'ratings.csv'), 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  expect(lines[0]).toBe('userId,movieId,rating,timestamp');
  const body = lines.slice(1);
  const users = new Int32Array(body.length);
  const items = new Int32Array(body.length);
  const ratings = new Float64Array(body.length);
  // One assertion for the whole file: per-line expect() calls would dominate the test's time.
  const malformed: string[] = [];
  body.forEach((line, k) => {
    if (!/^\d+,\d+,[0-5]\.[05],\d{9,10}$/.test(line)) malformed.push(line);
    const fields = line.split(',');
    users[k] = Number(fields[0]);
    items[k] = Number(fields[1]);
    ratings[k] = Number(fields[2]);
  });
  expect(malformed).toEqual([]);
  return { users, items, ratings, lines: body };
}

function synth(
  label: string,
  options: Omit<SynthOptions, 'out'>,
): { dir: string; truth: SynthTruth } {
  const out = path.join(scratch, label);
  const result = generateSynth({ ...options, out });
  const truth = JSON.parse(readFileSync(path.join(out, 'truth.json'), 'utf8')) as SynthTruth;
  expect(truth).toEqual(JSON.parse(JSON.stringify(result.truth)));
  return { dir: out, truth };
}

describe('als synth', () => {
  const small = { users: 150, movies: 400, ratings: 12_000, rank: 5, noise: 0.5, seed: 5 };
  const { dir, truth } = synth('small', small);
  const parsed = readRatings(dir);

  it('writes the requested counts, every user with ≥ 20 ratings, no duplicate pairs', () => {
    expect(parsed.lines).toHaveLength(12_000);
    const perUser = new Int32Array(small.users + 1);
    const pairs = new Set<number>();
    let outOfRange = 0;
    for (let k = 0; k < parsed.lines.length; k++) {
      const u = parsed.users[k]!;
      const i = parsed.items[k]!;
      if (!(u >= 1 && u <= small.users && i >= 1 && i <= small.movies)) outOfRange++;
      perUser[u]!++;
      pairs.add(u * 1_000_000 + i);
    }
    expect(outOfRange).toBe(0);
    expect(pairs.size).toBe(12_000);
    expect(Math.min(...perUser.subarray(1))).toBeGreaterThanOrEqual(20);
    // Sorted by user then movie, like MovieLens.
    let unsorted = 0;
    for (let k = 1; k < parsed.lines.length; k++) {
      const before = parsed.users[k - 1]! * 1_000_000 + parsed.items[k - 1]!;
      if (before >= parsed.users[k]! * 1_000_000 + parsed.items[k]!) unsorted++;
    }
    expect(unsorted).toBe(0);
  });

  it('ratings are half stars in 0.5..5 and truth.json agrees with the file', () => {
    const histogram = new Map<number, number>();
    let sum = 0;
    let offScale = 0;
    for (const r of parsed.ratings) {
      if (r * 2 !== Math.round(r * 2) || r < 0.5 || r > 5) offScale++;
      histogram.set(r, (histogram.get(r) ?? 0) + 1);
      sum += r;
    }
    expect(offScale).toBe(0);
    expect(truth.counts).toMatchObject({ ratings: 12_000, users: 150, movies: 400 });
    expect(truth.counts.moviesRated).toBe(new Set(parsed.items).size);
    expect(truth.meanRating).toBeCloseTo(sum / 12_000, 9);
    for (const { value, count } of truth.ratingHistogram)
      expect(histogram.get(value) ?? 0).toBe(count);
    expect(truth.ratingsPerUser.min).toBeGreaterThanOrEqual(20);
    expect(truth.parameters).toMatchObject({ ...small, minPerUser: 20 });
    expect(truth.noiseSigma).toBe(0.5);
    // Noise σ = 0.5 plus rounding to half stars (uniform error, variance 0.5²/12), less clipping at the ends.
    expect(truth.perfectModelRmse).toBeGreaterThan(0.42);
    expect(truth.perfectModelRmse).toBeLessThan(Math.sqrt(0.25 + 0.25 / 12) + 0.02);
  });

  it('movies.csv lists every movie with a quoted title where needed, a year and real genre names', () => {
    const rows = parse(readFileSync(path.join(dir, 'movies.csv'), 'utf8'), { columns: true }) as {
      movieId: string;
      title: string;
      genres: string;
    }[];
    expect(rows).toHaveLength(400);
    expect(rows.map((r) => Number(r.movieId))).toEqual(
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    let withComma = 0;
    let withQuote = 0;
    for (const row of rows) {
      expect(row.title).toMatch(/ \((19[2-9]\d|20[0-2]\d)\)$/);
      if (row.title.includes(',')) withComma++;
      if (row.title.includes('"')) withQuote++;
      const genres = row.genres.split('|');
      expect(genres.length).toBeGreaterThanOrEqual(1);
      for (const genre of genres) expect(REAL_GENRES.has(genre)).toBe(true);
    }
    expect(withComma).toBeGreaterThan(0);
    expect(withQuote).toBeGreaterThan(0);
  });

  it('the same seed gives the same bytes; another seed does not', () => {
    const again = synth('again', small);
    for (const file of ['ratings.csv', 'movies.csv', 'truth.json']) {
      expect(
        readFileSync(path.join(again.dir, file)).equals(readFileSync(path.join(dir, file))),
      ).toBe(true);
    }
    const other = synth('other', { ...small, seed: 6 });
    expect(
      readFileSync(path.join(other.dir, 'ratings.csv')).equals(
        readFileSync(path.join(dir, 'ratings.csv')),
      ),
    ).toBe(false);
  });

  it('activity and popularity are heavy-tailed', () => {
    const { dir: heavyDir } = synth('heavy', {
      users: 2000,
      movies: 3000,
      ratings: 200_000,
      rank: 4,
      noise: 0.5,
      seed: 9,
    });
    const heavy = readRatings(heavyDir);
    const perUser = new Int32Array(2001);
    const perMovie = new Int32Array(3001);
    for (let k = 0; k < heavy.lines.length; k++) {
      perUser[heavy.users[k]!]!++;
      perMovie[heavy.items[k]!]!++;
    }
    const users = Array.from(perUser.subarray(1)).sort((a, b) => a - b);
    expect(users[0]).toBe(20);
    expect(users[users.length - 1]!).toBeGreaterThan(8 * users[1000]!); // max ≫ median
    const movies = Array.from(perMovie.subarray(1)).sort((a, b) => b - a);
    const top10 = movies.slice(0, 300).reduce((a, b) => a + b, 0);
    expect(top10 / 200_000).toBeGreaterThan(0.3); // the top 10 % of movies hold > 30 % of ratings
    expect(movies[0]!).toBeLessThanOrEqual(2000); // nobody rates a movie twice
  });

  it('without noise, a perfect model is off by the half-star rounding only', () => {
    const { truth: exact } = synth('exact', { ...small, noise: 0, seed: 12 });
    // Rounding error is uniform on [−¼, ¼]: RMSE √(0.5²/12) ≈ 0.144 (clipping only removes error).
    expect(exact.perfectModelRmse).toBeGreaterThan(0.12);
    expect(exact.perfectModelRmse).toBeLessThan(0.15);
  });

  it('--dense parameters give ≥ 200 ratings per user and per movie', () => {
    const { truth: dense, dir: denseDir } = synth('dense', {
      users: 300,
      movies: 250,
      ratings: 60_000,
      rank: 5,
      noise: 0.3,
      seed: 1,
      activityExponent: 0,
      popularityExponent: 0,
    });
    expect(dense.ratingsPerUser.min).toBe(200);
    expect(dense.ratingsPerMovie.min).toBeGreaterThanOrEqual(200);
    expect(readRatings(denseDir).lines).toHaveLength(60_000);
  });

  it('refuses impossible requests and an existing folder, leaving nothing behind', () => {
    mkdirSync(path.join(scratch, 'refusals'));
    const base = { users: 10, movies: 200, ratings: 1000, rank: 3, noise: 0.5, seed: 1 };
    const out = path.join(scratch, 'refusals', 'x');
    expect(() => generateSynth({ ...base, ratings: 150, out })).toThrow(
      /^--ratings 150 is too few: 10 users × 20 \(--min-per-user\) = 200$/,
    );
    expect(() => generateSynth({ ...base, ratings: 2001, out })).toThrow(
      /more than users × movies = 2000/,
    );
    expect(() => generateSynth({ ...base, movies: 10, out })).toThrow(
      /--min-per-user 20 is more than --movies 10/,
    );
    expect(() => generateSynth({ ...base, out: scratch })).toThrow(/already exists/);
    expect(readdirSync(path.join(scratch, 'refusals'))).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});

describe('synth building blocks', () => {
  it('allocateActivity hits the total exactly and respects the floor and the cap', () => {
    for (const exponent of [0, 0.8, 1.2, 3]) {
      const counts = allocateActivity(500, 300, 40_000, 20, exponent, new Random(exponent * 10));
      let total = 0;
      for (const c of counts) {
        expect(c >= 20 && c <= 300).toBe(true);
        total += c;
      }
      expect(total).toBe(40_000);
    }
  });

  it('the alias table draws with the right probabilities', () => {
    const weights = Float64Array.from([1, 2, 3, 4, 0.5]);
    const table = new AliasTable(weights);
    const rng = new Random(3);
    const counts = new Float64Array(5);
    const draws = 200_000;
    for (let k = 0; k < draws; k++) counts[table.sample(rng)]!++;
    for (let i = 0; i < 5; i++) expect(counts[i]! / draws).toBeCloseTo(weights[i]! / 10.5, 2);
  });
});
