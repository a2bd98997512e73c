import { closeSync, existsSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Random } from '../core/random.js';
import { AlsError } from '../errors.js';
import { installFolderAtomicSync } from './atomic.js';

/**
 * `als synth`: a MovieLens-format folder drawn from a planted model, so that training and
 * evaluation have a known answer.
 *
 * The model, for user u and movie i (rank K):
 *   r̂_ui = μ + b_u + c_i + p_u · q_i                         (the truth, unclipped)
 *   t_ui = clip(r̂_ui, 0.5, 5)                                (what a perfect model predicts)
 *   r_ui = clip(round(2 (r̂_ui + ε_ui)) / 2, 0.5, 5),  ε ~ N(0, σ²)   (the observed half-star rating)
 * with b_u ~ N(0, 0.35²), c_i ~ N(0, 0.45²), and factor entries scaled so p·q has standard deviation
 * 0.5 whatever K is. Movie factors are half inherited from their genres:
 *   q_i = ½ · mean of the centroids of i's genres + √¾ · noise,
 * so genre information genuinely predicts movie factors (the genre model has something to find).
 *
 * Who rates what: user activity n_u = minPerUser + extra_u with extra_u ∝ a Lomax(α) weight
 * (Pareto shifted to start at 0, so many users sit near the minimum and the tail is heavy, as in
 * MovieLens; α = 0 means every user gets the same count), water-filled so
 * that Σ n_u = ratings exactly and n_u ≤ the cap (userCap). Each user draws n_u distinct movies from a
 * Zipf–Mandelbrot popularity P(i) ∝ (rank_i + q)^(−s): the offset q flattens the head so that
 * the most popular movie is expected to be rated by about half the users, as in MovieLens
 * (s = 0 means uniform popularity). Draws use an alias table (O(1) per draw) and reject repeats
 * with a per-movie "last drawn by" stamp; a user who needs a large share of the catalogue
 * switches to weighted sampling without replacement by exponential keys (Efraimidis–Spirakis).
 *
 * Output is streamed user by user through a fixed byte buffer, so memory is O(users + movies),
 * never O(ratings). The folder is built by installFolderAtomicSync (temp folder with the pid in
 * its name, fsynced, renamed into place), so a killed run leaves nothing under the real name.
 */

/** The genres MovieLens uses, with rough relative frequencies (MovieLens-32M-like). */
const GENRES: readonly [string, number][] = [
  ['Drama', 34],
  ['Comedy', 23],
  ['Thriller', 11],
  ['Romance', 10],
  ['Action', 10],
  ['Documentary', 7],
  ['Horror', 8],
  ['Crime', 7],
  ['Adventure', 6],
  ['Sci-Fi', 5],
  ['Animation', 4],
  ['Children', 4],
  ['Mystery', 4],
  ['Fantasy', 4],
  ['War', 2],
  ['Western', 1.5],
  ['Musical', 1.2],
  ['Film-Noir', 0.4],
  ['IMAX', 0.2],
];

export interface SynthOptions {
  /** Folder to create (must not exist). */
  out: string;
  users: number;
  movies: number;
  ratings: number;
  rank: number;
  /** σ of the Gaussian noise added before rounding. */
  noise: number;
  seed: number;
  /** Every user has at least this many ratings (default 20, as in MovieLens). */
  minPerUser?: number;
  /** Lomax (shifted Pareto) shape α of user activity (default 1.2; 0 = equal activity). */
  activityExponent?: number;
  /** Zipf exponent s of movie popularity (default 1; 0 = uniform popularity). */
  popularityExponent?: number;
}

/** What truth.json holds. */
export interface SynthTruth {
  generator: 'als synth';
  parameters: Required<Omit<SynthOptions, 'out'>> & {
    globalMean: number;
    userBiasStd: number;
    itemBiasStd: number;
    interactionStd: number;
    genreFactorShare: number;
    popularityOffset: number;
    maxPerUser: number;
  };
  /** The planted noise σ (same as parameters.noise). */
  noiseSigma: number;
  /**
   * RMSE of the observed (noisy, rounded, clipped) ratings against the noiseless clipped truth
   * t_ui, over the generated ratings: what a perfect model would score on them.
   */
  perfectModelRmse: number;
  counts: { ratings: number; users: number; movies: number; moviesRated: number };
  meanRating: number;
  ratingsPerUser: { min: number; max: number };
  ratingsPerMovie: { min: number; max: number };
  ratingHistogram: { value: number; count: number }[];
}

const GLOBAL_MEAN = 3.55;
const USER_BIAS_STD = 0.35;
const ITEM_BIAS_STD = 0.45;
const INTERACTION_STD = 0.5;
const GENRE_FACTOR_SHARE = 0.5;
/** 2000-01-01 and 2023-10-01 in Unix seconds: the span users start rating in. */
const FIRST_TIMESTAMP = 946_684_800;
const LAST_TIMESTAMP = 1_696_118_400;

/** Independent streams derived from one seed, so e.g. the catalogue does not shift when counts change. */
function stream(seed: number, index: number): Random {
  return new Random((Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

/** The generator's defaults (`als synth` shows them in its help). */
export const SYNTH_DEFAULTS = Object.freeze({
  rank: 10,
  noise: 0.5,
  seed: 1,
  /** As in MovieLens. */
  minPerUser: 20,
  activityExponent: 1.2,
  popularityExponent: 1,
});

export function validateSynthOptions(options: SynthOptions): Required<SynthOptions> {
  const full: Required<SynthOptions> = {
    ...options,
    minPerUser: options.minPerUser ?? SYNTH_DEFAULTS.minPerUser,
    activityExponent: options.activityExponent ?? SYNTH_DEFAULTS.activityExponent,
    popularityExponent: options.popularityExponent ?? SYNTH_DEFAULTS.popularityExponent,
  };
  const { users, movies, ratings, minPerUser } = full;
  if (minPerUser > movies)
    throw new AlsError(`--min-per-user ${minPerUser} is more than --movies ${movies}`);
  if (ratings < users * minPerUser) {
    throw new AlsError(
      `--ratings ${ratings} is too few: ${users} users × ${minPerUser} (--min-per-user) = ${users * minPerUser}`,
    );
  }
  if (ratings > users * movies)
    throw new AlsError(`--ratings ${ratings} is more than users × movies = ${users * movies}`);
  return full;
}

/**
 * Ratings per user: minPerUser + extra_u, extra_u = min(cap, w_u · scale) with the scale chosen so
 * the extras sum to ratings − users · minPerUser (water-filling over the weights sorted
 * descending), then floored with the remainder given to the largest fractional parts.
 */
export function allocateActivity(
  users: number,
  maxPerUser: number,
  ratings: number,
  minPerUser: number,
  exponent: number,
  rng: Random,
): Int32Array {
  const weights = new Float64Array(users);
  for (let u = 0; u < users; u++)
    weights[u] = exponent > 0 ? (1 - rng.nextFloat()) ** (-1 / exponent) - 1 : 1;
  const extras = ratings - users * minPerUser;
  const capExtra = maxPerUser - minPerUser;
  const order = Int32Array.from({ length: users }, (_, u) => u).sort(
    (a, b) => weights[b]! - weights[a]! || a - b,
  );
  let remainingWeight = 0;
  for (let u = 0; u < users; u++) remainingWeight += weights[u]!;
  // The largest weights are capped first; stop at the first user whose share fits under the cap.
  let capped = 0;
  let scale = 0;
  for (;;) {
    const left = extras - capped * capExtra;
    scale = remainingWeight > 0 ? left / remainingWeight : 0;
    if (capped === users || weights[order[capped]!]! * scale <= capExtra) break;
    remainingWeight -= weights[order[capped]!]!;
    capped++;
  }
  const counts = new Int32Array(users);
  const fractions = new Float64Array(users);
  let assigned = 0;
  for (let rank = 0; rank < users; rank++) {
    const u = order[rank]!;
    const share = rank < capped ? capExtra : Math.min(capExtra, weights[u]! * scale);
    const whole = Math.floor(share);
    counts[u] = minPerUser + whole;
    fractions[u] = share - whole;
    assigned += whole;
  }
  // Hand out what flooring lost, largest fractional part first (ties by user index).
  const byFraction = Int32Array.from({ length: users }, (_, u) => u).sort(
    (a, b) => fractions[b]! - fractions[a]! || a - b,
  );
  let remainder = extras - assigned;
  for (let pass = 0; remainder > 0; pass++) {
    for (let k = 0; k < users && remainder > 0; k++) {
      const u = byFraction[k]!;
      if (counts[u]! < maxPerUser) {
        counts[u]!++;
        remainder--;
      }
    }
    if (pass > maxPerUser) throw new Error('activity allocation did not converge');
  }
  return counts;
}

/**
 * The most ratings one user may have: 40 % of the movies (MovieLens' heaviest users rate about a
 * third of the catalogue), unless the requested total needs more, then all of them.
 */
export function userCap(o: Required<SynthOptions>): number {
  const cap = Math.max(o.minPerUser, Math.ceil(0.4 * o.movies));
  return o.ratings <= o.users * cap ? cap : o.movies;
}

/** Vose's alias table: draw i with probability weights[i] / Σ weights in O(1). */
export class AliasTable {
  readonly probability: Float64Array;
  readonly alias: Int32Array;
  constructor(weights: Float64Array) {
    const n = weights.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i]!;
    this.probability = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small = new Int32Array(n);
    const large = new Int32Array(n);
    let smallCount = 0;
    let largeCount = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i]! * n) / total;
      if (scaled[i]! < 1) small[smallCount++] = i;
      else large[largeCount++] = i;
    }
    while (smallCount > 0 && largeCount > 0) {
      const s = small[--smallCount]!;
      const l = large[--largeCount]!;
      this.probability[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      if (scaled[l]! < 1) small[smallCount++] = l;
      else large[largeCount++] = l;
    }
    while (largeCount > 0) this.probability[large[--largeCount]!] = 1;
    while (smallCount > 0) this.probability[small[--smallCount]!] = 1; // rounding leftovers
  }
  sample(rng: Random): number {
    const x = rng.nextFloat() * this.probability.length;
    const column = Math.floor(x);
    return x - column < this.probability[column]! ? column : this.alias[column]!;
  }
}

/**
 * The Zipf–Mandelbrot offset q for which the most popular movie's expected share of the ratings
 * is about half the users (bisection; the share falls as q grows). 0 if even q = 0 is below.
 */
function popularityOffset(
  movies: number,
  exponent: number,
  users: number,
  ratings: number,
): number {
  if (exponent === 0) return 0;
  const topShare = (q: number): number => {
    let total = 0;
    for (let k = 1; k <= movies; k++) total += (k + q) ** -exponent;
    return (1 + q) ** -exponent / total;
  };
  const target = (0.5 * users) / ratings;
  if (topShare(0) <= target) return 0;
  let lo = 0;
  let hi = movies;
  if (topShare(hi) > target) return hi;
  for (let step = 0; step < 40; step++) {
    const mid = (lo + hi) / 2;
    if (topShare(mid) > target) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Appends ASCII to a fixed buffer and flushes it to a file descriptor when nearly full. */
class ByteWriter {
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  private position = 0;
  constructor(private readonly fd: number) {}
  ascii(text: string): void {
    if (this.position + text.length * 3 > this.buffer.length) this.flush();
    this.position += this.buffer.write(text, this.position, 'utf8');
  }
  uint(value: number): void {
    if (this.position + 24 > this.buffer.length) this.flush();
    if (value === 0) {
      this.buffer[this.position++] = 48;
      return;
    }
    let digits = 0;
    for (let v = value; v > 0; v = Math.floor(v / 10)) digits++;
    let end = this.position + digits;
    for (let v = value; v > 0; v = Math.floor(v / 10)) this.buffer[--end] = 48 + (v % 10);
    this.position += digits;
  }
  byte(value: number): void {
    if (this.position + 1 > this.buffer.length) this.flush();
    this.buffer[this.position++] = value;
  }
  flush(): void {
    let offset = 0;
    while (offset < this.position)
      offset += writeSync(this.fd, this.buffer, offset, this.position - offset);
    this.position = 0;
  }
}

/** "4.0", "3.5": how MovieLens writes ratings. */
const RATING_TEXT = Array.from({ length: 11 }, (_, k) => (k / 2).toFixed(1));

const TITLE_ADJECTIVES = [
  'Silent',
  'Last',
  'Crimson',
  'Hidden',
  'Broken',
  'Golden',
  'Midnight',
  'Lonely',
  'Electric',
  'Savage',
  'Quiet',
  'Burning',
  'Frozen',
  'Lucky',
  'Secret',
  'Wild',
];
const TITLE_NOUNS = [
  'River',
  'Summer',
  'Kingdom',
  'Detective',
  'Garden',
  'Highway',
  'Mirror',
  'Empire',
  'Harbor',
  'Stranger',
  'Orchard',
  'Signal',
  'Carnival',
  'Frontier',
  'Letter',
  'Machine',
];
const TITLE_TAILS = [
  'Returns',
  'in Paris',
  'of the North',
  'at Dawn',
  'Forever',
  'Reloaded',
  'and Sons',
  'Part II',
];

/** A made-up MovieLens-style title; some have ", The" or a comma or quotes, so CSV quoting is exercised. */
function makeTitle(rng: Random): string {
  const adjective = TITLE_ADJECTIVES[rng.nextInt(TITLE_ADJECTIVES.length)]!;
  const noun = TITLE_NOUNS[rng.nextInt(TITLE_NOUNS.length)]!;
  const style = rng.nextInt(10);
  if (style < 3) return `${adjective} ${noun}, The`;
  if (style < 5) return `${adjective} ${noun} ${TITLE_TAILS[rng.nextInt(TITLE_TAILS.length)]!}`;
  if (style === 5)
    return `${noun}, ${adjective} and ${TITLE_NOUNS[rng.nextInt(TITLE_NOUNS.length)]!}`;
  if (style === 6) return `"${adjective}" ${noun}`;
  return `${adjective} ${noun}`;
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function clip(value: number): number {
  return value < 0.5 ? 0.5 : Math.min(value, 5);
}

/** Result of generateSynth: where it went and the truth. */
export interface SynthResult {
  dir: string;
  truth: SynthTruth;
  elapsedMs: number;
}

/** Writes the folder `options.out` (ratings.csv, movies.csv, truth.json); see the module comment. */
export function generateSynth(options: SynthOptions): SynthResult {
  const startedMs = performance.now();
  const o = validateSynthOptions(options);
  const out = path.resolve(o.out);
  if (existsSync(out))
    throw new AlsError(`${out} already exists; remove it or choose another --out`);
  const truth = installFolderAtomicSync(out, (temp) => {
    const written = writeFolder(temp, o);
    writeFileSync(path.join(temp, 'truth.json'), `${JSON.stringify(written, null, 2)}\n`);
    return written;
  });
  return { dir: out, truth, elapsedMs: performance.now() - startedMs };
}

function writeFolder(dir: string, o: Required<SynthOptions>): SynthTruth {
  const { users, movies, ratings, rank, noise } = o;
  const activityRng = stream(o.seed, 0);
  const popularityRng = stream(o.seed, 1);
  const modelRng = stream(o.seed, 2);
  const catalogRng = stream(o.seed, 3);
  const ratingRng = stream(o.seed, 4);

  // Catalogue: genres (1–3 per movie, by frequency), title, year.
  const genreWeights = new Float64Array(GENRES.map(([, w]) => w));
  const genreTable = new AliasTable(genreWeights);
  const genreOffsets = new Int32Array(movies + 1);
  const genreIds = new Int32Array(movies * 3);
  const moviesFd = openSync(path.join(dir, 'movies.csv'), 'w');
  const moviesOut = new ByteWriter(moviesFd);
  moviesOut.ascii('movieId,title,genres\n');
  for (let i = 0; i < movies; i++) {
    const wanted =
      1 + (catalogRng.nextFloat() < 0.45 ? 1 + (catalogRng.nextFloat() < 0.4 ? 1 : 0) : 0);
    const start = genreOffsets[i]!;
    let count = 0;
    for (let attempt = 0; count < wanted && attempt < 20; attempt++) {
      const g = genreTable.sample(catalogRng);
      let seen = false;
      for (let k = start; k < start + count; k++) if (genreIds[k] === g) seen = true;
      if (!seen) genreIds[start + count++] = g;
    }
    genreIds.subarray(start, start + count).sort();
    genreOffsets[i + 1] = start + count;
    const year = 1920 + Math.min(103, Math.floor(103 * catalogRng.nextFloat() ** 0.5));
    const names = Array.from(genreIds.subarray(start, start + count), (g) => GENRES[g]![0]).join(
      '|',
    );
    moviesOut.uint(i + 1);
    moviesOut.byte(44);
    moviesOut.ascii(`${csvField(`${makeTitle(catalogRng)} (${year})`)},${names}\n`);
  }
  moviesOut.flush();
  closeSync(moviesFd);

  // Planted model. Entries of p_u and q_i have std f with K f⁴ = INTERACTION_STD², so p·q has std INTERACTION_STD.
  const factorStd = ((INTERACTION_STD * INTERACTION_STD) / rank) ** 0.25;
  const userBias = new Float64Array(users);
  const userFactors = new Float64Array(users * rank);
  for (let u = 0; u < users; u++) {
    userBias[u] = USER_BIAS_STD * modelRng.nextGaussian();
    for (let k = 0; k < rank; k++) userFactors[u * rank + k] = factorStd * modelRng.nextGaussian();
  }
  const genreCentroids = new Float64Array(GENRES.length * rank);
  for (let k = 0; k < genreCentroids.length; k++)
    genreCentroids[k] = factorStd * modelRng.nextGaussian();
  const itemBias = new Float64Array(movies);
  const itemFactors = new Float64Array(movies * rank);
  const ownShare = Math.sqrt(1 - GENRE_FACTOR_SHARE * GENRE_FACTOR_SHARE);
  for (let i = 0; i < movies; i++) {
    itemBias[i] = ITEM_BIAS_STD * modelRng.nextGaussian();
    const gStart = genreOffsets[i]!;
    const gCount = genreOffsets[i + 1]! - gStart;
    for (let k = 0; k < rank; k++) {
      let centroid = 0;
      for (let g = gStart; g < gStart + gCount; g++)
        centroid += genreCentroids[genreIds[g]! * rank + k]!;
      centroid = gCount > 0 ? centroid / gCount : 0;
      itemFactors[i * rank + k] =
        GENRE_FACTOR_SHARE * centroid + ownShare * factorStd * modelRng.nextGaussian();
    }
  }

  // Who rates what.
  const perUser = allocateActivity(
    users,
    userCap(o),
    ratings,
    o.minPerUser,
    o.activityExponent,
    activityRng,
  );
  const offset = popularityOffset(movies, o.popularityExponent, users, ratings);
  const popularityRank = Int32Array.from({ length: movies }, (_, i) => i);
  popularityRng.shuffle(popularityRank);
  const popularity = new Float64Array(movies);
  for (let i = 0; i < movies; i++)
    popularity[i] =
      o.popularityExponent > 0 ? (popularityRank[i]! + 1 + offset) ** -o.popularityExponent : 1;
  const popularityTable = new AliasTable(popularity);
  const logPopularity = new Float64Array(movies);
  for (let i = 0; i < movies; i++) logPopularity[i] = Math.log(popularity[i]!);

  let maxPerUser = 0;
  for (let u = 0; u < users; u++) maxPerUser = Math.max(maxPerUser, perUser[u]!);
  const row = new Int32Array(maxPerUser);
  const drawnBy = new Int32Array(movies); // user index + 1 that last drew the movie
  const keys = new Float64Array(movies);
  const perMovie = new Int32Array(movies);
  const histogram = new Float64Array(11);
  let squaredError = 0;
  let ratingSum = 0;

  const ratingsFd = openSync(path.join(dir, 'ratings.csv'), 'w');
  const ratingsOut = new ByteWriter(ratingsFd);
  ratingsOut.ascii('userId,movieId,rating,timestamp\n');
  for (let u = 0; u < users; u++) {
    const count = perUser[u]!;
    drawMovies(u, count, row, drawnBy, keys, logPopularity, popularityTable, ratingRng);
    const chosen = row.subarray(0, count).sort();
    // Each user is active over a period: start uniform, length exponential with mean one year.
    const start =
      FIRST_TIMESTAMP + Math.floor(ratingRng.nextFloat() * (LAST_TIMESTAMP - FIRST_TIMESTAMP));
    const span = Math.min(
      LAST_TIMESTAMP + 86_400 * 365 - start,
      Math.floor(-Math.log(1 - ratingRng.nextFloat()) * 86_400 * 365),
    );
    const userBase = GLOBAL_MEAN + userBias[u]!;
    const pu = u * rank;
    for (let e = 0; e < count; e++) {
      const i = chosen[e]!;
      const qi = i * rank;
      let dot = 0;
      for (let k = 0; k < rank; k++) dot += userFactors[pu + k]! * itemFactors[qi + k]!;
      const exact = userBase + itemBias[i]! + dot;
      const halfStars = clip(Math.round(2 * (exact + noise * ratingRng.nextGaussian())) / 2);
      const error = halfStars - clip(exact);
      squaredError += error * error;
      ratingSum += halfStars;
      histogram[halfStars * 2]!++;
      perMovie[i]!++;
      ratingsOut.uint(u + 1);
      ratingsOut.byte(44);
      ratingsOut.uint(i + 1);
      ratingsOut.byte(44);
      ratingsOut.ascii(RATING_TEXT[halfStars * 2]!);
      ratingsOut.byte(44);
      ratingsOut.uint(start + Math.floor(ratingRng.nextFloat() * span));
      ratingsOut.byte(10);
    }
  }
  ratingsOut.flush();
  closeSync(ratingsFd);

  let moviesRated = 0;
  let minPerMovie = Infinity;
  let maxPerMovie = 0;
  for (let i = 0; i < movies; i++) {
    if (perMovie[i]! > 0) moviesRated++;
    minPerMovie = Math.min(minPerMovie, perMovie[i]!);
    maxPerMovie = Math.max(maxPerMovie, perMovie[i]!);
  }
  let minPerUser = Infinity;
  for (let u = 0; u < users; u++) minPerUser = Math.min(minPerUser, perUser[u]!);
  return {
    generator: 'als synth',
    parameters: {
      users,
      movies,
      ratings,
      rank,
      noise,
      seed: o.seed,
      minPerUser: o.minPerUser,
      activityExponent: o.activityExponent,
      popularityExponent: o.popularityExponent,
      globalMean: GLOBAL_MEAN,
      userBiasStd: USER_BIAS_STD,
      itemBiasStd: ITEM_BIAS_STD,
      interactionStd: INTERACTION_STD,
      genreFactorShare: GENRE_FACTOR_SHARE,
      popularityOffset: offset,
      maxPerUser: userCap(o),
    },
    noiseSigma: noise,
    perfectModelRmse: Math.sqrt(squaredError / ratings),
    counts: { ratings, users, movies, moviesRated },
    meanRating: ratingSum / ratings,
    ratingsPerUser: { min: minPerUser, max: maxPerUser },
    ratingsPerMovie: { min: minPerMovie, max: maxPerMovie },
    ratingHistogram: Array.from(histogram.slice(1), (count, k) => ({ value: (k + 1) / 2, count })),
  };
}

/**
 * Fills row[0..count) with distinct movies for user u, drawn by popularity. Rejection sampling
 * from the alias table while the user needs a small share of the catalogue (each draw O(1));
 * otherwise, or if rejections pile up, the Efraimidis–Spirakis keys log(U)/w_i (the `count`
 * largest are a weighted sample without replacement), O(movies log movies).
 */
function drawMovies(
  u: number,
  count: number,
  row: Int32Array,
  drawnBy: Int32Array,
  keys: Float64Array,
  logPopularity: Float64Array,
  table: AliasTable,
  rng: Random,
): void {
  const movies = drawnBy.length;
  const stamp = u + 1;
  if (count * 8 <= movies) {
    let picked = 0;
    const budget = 50 * count + 1000;
    for (let draws = 0; picked < count && draws < budget; draws++) {
      const i = table.sample(rng);
      if (drawnBy[i] === stamp) continue;
      drawnBy[i] = stamp;
      row[picked++] = i;
    }
    if (picked === count) return;
  }
  // log(U)/w = exp(log(−log U) ... ) would overflow for tiny w; compare log(−log U) − log w instead
  // (smaller is better), which orders the movies the same way.
  for (let i = 0; i < movies; i++)
    keys[i] = Math.log(-Math.log(1 - rng.nextFloat())) - logPopularity[i]!;
  const sorted = keys.slice().sort();
  const threshold = sorted[count - 1]!;
  let picked = 0;
  for (let i = 0; i < movies && picked < count; i++) {
    if (keys[i]! <= threshold) {
      drawnBy[i] = stamp;
      row[picked++] = i;
    }
  }
}
