import path from 'node:path';
import { AlsError, DataError } from '../errors.js';
import { sweepStaleTemps } from './atomic.js';
import {
  cacheFileFor,
  readCache,
  stampSources,
  writeCache,
  type LoadNotes,
  type SourceStamp,
} from './cache.js';
import { dataHome } from './home.js';
import { fingerprint, mixWords, wordsOf } from './fingerprint.js';
import { buildRatingMatrix, hasRepeatsInRows } from './matrix.js';
import { indexOnCrew, type ParallelIndex } from './parallel-index.js';
import { csvParseRatingsFile } from './readers/csvParseRatings.js';
import { detectLayout } from './readers/detect.js';
import {
  joinScanned,
  scanOnCrew,
  type ScanCrew,
  type ScannedRatings,
} from './readers/parallel-scan.js';
import { scanRatingsFile } from './readers/scan.js';
import { lineOfRating, type RawMovies, type RawRatings } from './readers/types.js';
import type { Catalog, Dataset, RatingScale } from './types.js';
import { RELEASE_MIN_BYTES, releaseGarbage } from '../memory.js';

/** Options of loadDataset. */
export interface LoadOptions {
  /** What to do with a repeated (user, movie) pair: refuse (default) or keep the latest by timestamp/line. */
  dedupe?: 'error' | 'last';
  /** Use and write the binary cache (default true). */
  cache?: boolean;
  /** Called with one-line warnings (e.g. a rated movie missing from the movies file). */
  warn?: (message: string) => void;
  /** Where cache files go (default `<data home>/.als-cache`; the data folders may be read-only). */
  cacheDir?: string;
  /** Parser for the numeric ratings file: the byte scanner (default) or csv-parse (benchmarks, cross-checks). */
  ratingsParser?: 'scanner' | 'csv-parse';
  /** Threads of the byte scanner on a large file (default: the available cores, at most 8; 1 = serial). */
  parseThreads?: number;
  /** Ratings files from this size on are read and indexed on worker threads (default 32 MiB; tests). */
  parallelMinBytes?: number;
  /** Told how the ratings were read and indexed: on how many threads (0 = serially). Tests, benchmarks. */
  onPath?: (how: { scanThreads: number; indexThreads: number }) => void;
  /**
   * The allowed ratings of a plain file (MovieLens layouts have their own). Without it the scale
   * is inferred (see inferPlainScale) and a warning says which was used.
   */
  ratingScale?: RatingScale;
}

/**
 * Loads a MovieLens folder (layout detected from its files) into a Dataset: dense user and movie
 * indexes sorted by original id, CSR by user and CSC by item, timestamps, and the catalog.
 *
 * With the cache on (default), a valid cache file is read back instead; otherwise the folder is
 * parsed and the cache written (atomically) afterwards. A failed load writes nothing.
 */
export async function loadDataset(dir: string, options: LoadOptions = {}): Promise<Dataset> {
  const absolute = path.resolve(dir);
  const warn = options.warn ?? (() => {});
  const dedupe = options.dedupe ?? 'error';
  const plan = detectLayout(absolute);
  const useCache = options.cache ?? true;
  // Stamp the sources before reading them: if one changes during the read, the cache goes stale.
  const sources = stampSources(plan.sourceFiles);
  const cacheFile = cacheFileFor(options.cacheDir ?? path.join(dataHome(), '.als-cache'), absolute);
  // Temp files of cache writers that were killed (they can be as large as the cache itself).
  if (useCache) sweepStaleTemps(path.dirname(cacheFile));
  if (useCache) {
    const cached = readCache(cacheFile, absolute, sources);
    if ('dataset' in cached) {
      // A cache built with --dedupe last from data with duplicates must not hide them from a strict load;
      // one built under another rating scale must not skip the check of the scale asked for now.
      const otherScale =
        plan.layout === 'plain' &&
        options.ratingScale !== undefined &&
        !sameScale(cached.dataset.info.scale, options.ratingScale);
      if (!(cached.notes.hadDuplicates && dedupe === 'error') && !otherScale) {
        for (const message of cached.notes.warnings) warn(message);
        return cached.dataset;
      }
    } else if (cached.reason === 'damaged') {
      warn(`ignoring damaged cache ${cacheFile} (${cached.detail}); rebuilding it`);
    }
  }
  const { dataset, notes } = await readDataset(absolute, { ...options, warn });
  if (useCache) {
    // The parse's buffers (about 20 bytes per rating: the ranges and the index scratch) are
    // garbage now, but V8 may not collect them before the cache is written, a second or more at
    // 32M ratings, and the caller's next allocations (a split, a trainer's arena) would stack on
    // top of them. One forced collection first.
    if (dataset.matrix.numRatings * 20 >= RELEASE_MIN_BYTES) await releaseGarbage(0, true);
    try {
      writeCache(cacheFile, dataset, sources, notes);
    } catch (error) {
      warn(
        `could not write cache ${cacheFile}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
  }
  return dataset;
}

/** What the scale checks read: the ratings' values in file order, and where they came from. */
type RatingValues = Pick<
  RawRatings,
  'file' | 'length' | 'values' | 'firstLine' | 'blankLinesBefore'
>;

/** Parses a data folder without the cache. Exposed for benchmarks and tests. */
export async function readDataset(
  dir: string,
  options: LoadOptions = {},
): Promise<{ dataset: Dataset; notes: LoadNotes; sources: SourceStamp[] }> {
  const absolute = path.resolve(dir);
  const warn = options.warn ?? (() => {});
  const plan = detectLayout(absolute);
  const sources = stampSources(plan.sourceFiles);
  const given = plan.layout === 'plain' ? options.ratingScale : undefined;
  if (given !== undefined) checkScale(given);
  const format = given !== undefined ? { ...plan.ratingsFormat, scale: given } : plan.ratingsFormat;
  const csvParsing =
    options.ratingsParser === 'csv-parse' ? csvParseRatingsFile(plan.ratingsFile, format) : null;
  // Large files: parsed by ranges on worker threads, which then build the indexes too.
  const onCrew =
    options.ratingsParser === 'csv-parse'
      ? null
      : scanOnCrew(plan.ratingsFile, format, {
          threads: options.parseThreads,
          minBytes: options.parallelMinBytes,
        });
  // The movies file is read while worker threads parse the ratings; a ratings error still wins.
  let movies: RawMovies | null = null;
  let moviesError: unknown = null;
  try {
    movies = plan.readMovies ? plan.readMovies() : null;
  } catch (error) {
    moviesError = error;
  }
  const parallel = await onCrew;
  const crew = parallel?.crew ?? null;
  let scanned: ScannedRatings | null = parallel?.scanned ?? null;
  if (parallel !== null) parallel.scanned = null; // only `scanned` holds the ranges, to drop them
  try {
    let raw: RawRatings | null = null;
    if (scanned === null)
      raw = csvParsing !== null ? await csvParsing : scanRatingsFile(plan.ratingsFile, format);
    if (moviesError !== null) throw moviesError;
    const warnings: string[] = [];
    const note = (message: string): void => {
      warnings.push(message);
      warn(message);
    };
    const scale =
      format.scale ??
      inferPlainScale(
        raw ?? {
          file: scanned!.file,
          length: scanned!.length,
          values: joinValues(scanned!),
          firstLine: scanned!.firstLine,
          blankLinesBefore: [],
        },
        note,
      );
    if (movies) checkMovies(movies);
    let fast: ParallelIndex | null = null;
    if (scanned !== null) {
      fast = await indexOnCrew(crew!, scanned, movies ? movies.ids : null);
      if (fast === null) raw = joinScanned(scanned);
      scanned = null; // the ranges (~16 bytes per rating) can go now
    }
    const built =
      fast !== null
        ? {
            dataset: { ...fast, catalog: buildCatalog(fast.itemIds, movies, note) },
            hadDuplicates: false,
          }
        : indexRatings(raw!, movies, options.dedupe ?? 'error', note);
    options.onPath?.({
      scanThreads: crew?.size ?? 0,
      indexThreads: fast !== null ? crew!.size : 0,
    });
    const dataset: Dataset = {
      info: {
        name: path.basename(absolute),
        dir: absolute,
        layout: plan.layout,
        fingerprint: '',
        scale,
      },
      ...built.dataset,
    };
    dataset.info.fingerprint = await fingerprintOn(crew, dataset);
    return { dataset, notes: { warnings, hadDuplicates: built.hadDuplicates }, sources };
  } finally {
    await crew?.close();
  }
}

/** The ratings' values in file order, from the ranges of a parallel scan. */
function joinValues(scanned: ScannedRatings): Float32Array {
  const values = new Float32Array(scanned.length);
  let at = 0;
  for (const range of scanned.ranges) {
    values.set(range.values, at);
    at += range.count;
  }
  return values;
}

/**
 * The fingerprint, with the largest shared arrays mixed on the crew's workers while the main
 * thread mixes the others (same digest as fingerprint() alone).
 */
async function fingerprintOn(crew: ScanCrew | null, dataset: Dataset): Promise<string> {
  const mixed = new Map<Int32Array | Float32Array, Int32Array>();
  if (crew !== null) {
    const { ratingsByUser } = dataset.matrix;
    const shared = [ratingsByUser.indices, ratingsByUser.values].filter(
      (a) => a.buffer instanceof SharedArrayBuffer && a.byteOffset === 0,
    );
    const mixing = crew.run<Int32Array>(
      shared.map((a) => ({
        type: 'mix',
        words: { buffer: a.buffer as SharedArrayBuffer, length: a.length },
      })),
    );
    // Meanwhile, the timestamps (as large as each of the others) here.
    if (dataset.timestampsByUser)
      mixed.set(dataset.timestampsByUser, mixWords(wordsOf(dataset.timestampsByUser)));
    const mixes = await mixing;
    for (let k = 0; k < shared.length; k++) mixed.set(shared[k]!, mixes[k]!);
  }
  return fingerprint(dataset, mixed);
}

const sameScale = (a: RatingScale, b: RatingScale): boolean =>
  a.min === b.min && a.max === b.max && a.step === b.step;

function checkScale(scale: RatingScale): void {
  if (
    !(
      Number.isFinite(scale.min) &&
      Number.isFinite(scale.max) &&
      scale.min < scale.max &&
      Number.isFinite(scale.step) &&
      scale.step >= 0
    )
  ) {
    throw new AlsError(
      `rating scale ${scale.min}..${scale.max} step ${scale.step} is not a range (min < max, step ≥ 0)`,
    );
  }
}

const formatScale = (s: RatingScale): string =>
  `${s.min}–${s.max}${s.step > 0 ? ` in steps of ${s.step}` : ''}`;

/** The usual rating scales, narrowest first: a plain file's outliers are judged against them. */
const KNOWN_SCALES: RatingScale[] = [
  { min: 1, max: 5, step: 1 },
  { min: 0.5, max: 5, step: 0.5 },
  { min: 0, max: 5, step: 1 },
  { min: 1, max: 10, step: 1 },
  { min: 0.5, max: 10, step: 0.5 },
  { min: 0, max: 10, step: 1 },
];

const onScale = (r: number, s: RatingScale): boolean =>
  r >= s.min && r <= s.max && (s.step === 0 || Number.isInteger(r / s.step));

/**
 * A plain file's scale when none was given: the observed range (and step). If nearly every rating
 * (all but ≤ 0.1 %, at least 10 ratings) fits one of KNOWN_SCALES but a few do not, those few are
 * typos (a 9 among 1–5 stars): refused at the first one's line. Warns which scale was used
 * unless the observed range is exactly a usual scale.
 */
function inferPlainScale(raw: RatingValues, warn: (message: string) => void): RatingScale {
  const observed = observedScale(raw);
  const name = path.basename(raw.file);
  // Narrowest first: a scale all ratings fit is accepted; one all but a few fit (in a file large
  // enough to tell) means those few are mistakes, even if a wider scale would hold them too.
  const allowed = raw.length >= 10 ? Math.max(1, Math.floor(raw.length / 1000)) : 0;
  let fits = false;
  for (const s of KNOWN_SCALES) {
    const off = countOff(raw, s, allowed + 1);
    if (off === 0) {
      fits = true;
      break;
    }
    if (off > allowed) continue;
    let k = 0;
    while (onScale(raw.values[k]!, s)) k++;
    throw new DataError(
      raw.file,
      lineOfRating(raw, k),
      `rating ${raw.values[k]} is off the scale ${formatScale(s)} of the other ratings; if it is valid, give the rating scale (e.g. --rating-scale ${observed.min}-${observed.max})`,
    );
  }
  // Said only when it is not plainly a usual scale (1–5 stars, half stars…): a range like 1–3 may
  // be a partial view of a wider scale, and predictions will be clipped to it.
  if (!KNOWN_SCALES.some((s) => sameScale(s, observed))) {
    warn(
      `${name}: no rating scale given; using ${formatScale(observed)}, the range of the ratings${fits ? '' : ' (no usual scale fits them)'}`,
    );
  }
  return observed;
}

/** Ratings of `raw` off the scale `s`, counting up to `stopAt`. */
function countOff(raw: RatingValues, s: RatingScale, stopAt: number): number {
  let off = 0;
  for (let k = 0; k < raw.length && off < stopAt; k++) if (!onScale(raw.values[k]!, s)) off++;
  return off;
}

/** For a plain file: the observed range, and step 1 / 0.5 when every rating is a multiple of it (else 0). */
function observedScale(raw: RatingValues): RatingScale {
  let min = Infinity;
  let max = -Infinity;
  let whole = true;
  let half = true;
  for (let k = 0; k < raw.length; k++) {
    const r = raw.values[k]!;
    if (r < min) min = r;
    if (r > max) max = r;
    if (whole && !Number.isInteger(r)) whole = false;
    if (half && !Number.isInteger(r * 2)) half = false;
  }
  return { min, max, step: whole ? 1 : half ? 0.5 : 0 };
}

/**
 * Dense 0-based indexes sorted by original id. With ids below 2^24 a lookup table does it in
 * O(n + maxId); otherwise the distinct ids are sorted and looked up by binary search.
 * Returns the sorted distinct ids and rewrites `ids[0..length)` in place to indexes.
 */
function densify(ids: Int32Array, length: number, extra: Int32Array | null): Int32Array {
  let maxId = 0;
  for (let k = 0; k < length; k++) if (ids[k]! > maxId) maxId = ids[k]!;
  if (extra) for (const id of extra) if (id > maxId) maxId = id;
  if (maxId < 1 << 24) {
    const table = new Int32Array(maxId + 1);
    for (let k = 0; k < length; k++) table[ids[k]!] = 1;
    if (extra) for (const id of extra) table[id] = 1;
    let count = 0;
    for (let id = 0; id <= maxId; id++) if (table[id] !== 0) count++;
    const sorted = new Int32Array(count);
    let next = 0;
    for (let id = 0; id <= maxId; id++) {
      if (table[id] !== 0) {
        sorted[next] = id;
        table[id] = next++;
      }
    }
    for (let k = 0; k < length; k++) ids[k] = table[ids[k]!]!;
    return sorted;
  }
  const all = new Int32Array(length + (extra ? extra.length : 0));
  all.set(ids.subarray(0, length));
  if (extra) all.set(extra, length);
  all.sort();
  let count = 0;
  for (let k = 0; k < all.length; k++) if (k === 0 || all[k] !== all[k - 1]) all[count++] = all[k]!;
  const sorted = all.slice(0, count);
  for (let k = 0; k < length; k++) {
    const id = ids[k]!;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    ids[k] = lo;
  }
  return sorted;
}

/** Movies listed twice in the movies file are an error (which title would be right?). */
function checkMovies(movies: RawMovies): void {
  const seen = new Map<number, number>();
  for (let m = 0; m < movies.ids.length; m++) {
    const first = seen.get(movies.ids[m]!);
    if (first !== undefined)
      throw new DataError(
        movies.file,
        movies.lines[m],
        `movie id ${movies.ids[m]} is listed twice (first at line ${movies.lines[first]})`,
      );
    seen.set(movies.ids[m]!, m);
  }
}

function indexRatings(
  raw: RawRatings,
  movies: RawMovies | null,
  dedupe: 'error' | 'last',
  warn: (message: string) => void,
): { dataset: Omit<Dataset, 'info'>; hadDuplicates: boolean } {
  // Keep the original ids for messages about duplicates; densify rewrites the arrays in place.
  const userIds = densify(raw.users, raw.length, null);
  const itemIds = densify(raw.items, raw.length, movies ? movies.ids : null);
  const numUsers = userIds.length;
  const numItems = itemIds.length;
  const list = {
    length: raw.length,
    users: raw.users,
    items: raw.items,
    values: raw.values,
    timestamps: raw.timestamps,
  };
  let built = buildRatingMatrix(numUsers, numItems, list);

  // Repeated (user, movie) pairs sit next to each other in the sorted CSR rows.
  const hadDuplicates = hasRepeatsInRows(
    built.matrix.ratingsByUser.offsets,
    built.matrix.ratingsByUser.indices,
  );
  if (hadDuplicates) {
    // Rare path: index again carrying each rating's position in the file (in place of the
    // timestamp; the build is stable, so a run of repeats lists positions ascending). Typed
    // arrays only, so it works at any size (a Map of pairs would not hold 32M keys).
    const positions = new Int32Array(raw.length);
    for (let k = 0; k < raw.length; k++) positions[k] = k;
    const traced = buildRatingMatrix(numUsers, numItems, { ...list, timestamps: positions });
    const position = traced.timestampsByUser!;
    const { offsets, indices } = traced.matrix.ratingsByUser;
    const keep = dedupe === 'last' ? new Uint8Array(raw.length).fill(1) : null;
    let firstRepeat = -1; // earliest file position that repeats a pair
    let firstOccurrence = -1;
    let dropped = 0;
    for (let u = 0; u < numUsers; u++) {
      const end = offsets[u + 1]!;
      let runStart = offsets[u]!;
      while (runStart < end) {
        let runEnd = runStart + 1;
        while (runEnd < end && indices[runEnd] === indices[runStart]) runEnd++;
        if (runEnd - runStart > 1) {
          if (firstRepeat < 0 || position[runStart + 1]! < firstRepeat) {
            firstRepeat = position[runStart + 1]!;
            firstOccurrence = position[runStart]!;
          }
          if (keep !== null) {
            // Keep the latest by timestamp; on equal timestamps (or none) the later line wins.
            let best = runStart;
            for (let e = runStart + 1; e < runEnd; e++) {
              if (
                raw.timestamps === null ||
                raw.timestamps[position[e]!]! >= raw.timestamps[position[best]!]!
              )
                best = e;
            }
            for (let e = runStart; e < runEnd; e++) if (e !== best) keep[position[e]!] = 0;
            dropped += runEnd - runStart - 1;
          }
        }
        runStart = runEnd;
      }
    }
    if (keep === null) {
      throw new DataError(
        raw.file,
        lineOfRating(raw, firstRepeat),
        `duplicate rating for user ${userIds[raw.users[firstRepeat]!]}, movie ${itemIds[raw.items[firstRepeat]!]} (first at line ${lineOfRating(raw, firstOccurrence)}); use --dedupe last to keep the latest`,
      );
    }
    warn(
      `${path.basename(raw.file)}: ${dropped} repeated (user, movie) ratings dropped, keeping the latest of each`,
    );
    built = buildRatingMatrix(numUsers, numItems, list, keep);
  }

  const catalog = buildCatalog(itemIds, movies, warn);
  return {
    dataset: {
      userIds,
      itemIds,
      matrix: built.matrix,
      timestampsByUser: built.timestampsByUser,
      catalog,
    },
    hadDuplicates,
  };
}

/** The catalog in item-index order; rated movies missing from the movies file get a placeholder title. */
function buildCatalog(
  itemIds: Int32Array,
  movies: RawMovies | null,
  warn: (message: string) => void,
): Catalog {
  const numItems = itemIds.length;
  const titles = new Array<string>(numItems);
  const years = new Int32Array(numItems);
  const genreOffsets = new Int32Array(numItems + 1);
  if (movies === null) {
    for (let i = 0; i < numItems; i++) titles[i] = `movie ${itemIds[i]}`;
    return { titles, years, genreNames: [], genreOffsets, genreIds: new Int32Array(0) };
  }
  const movieOfId = new Map<number, number>();
  for (let m = 0; m < movies.ids.length; m++) movieOfId.set(movies.ids[m]!, m);
  const genreIds: number[] = [];
  const missing: number[] = [];
  for (let i = 0; i < numItems; i++) {
    const m = movieOfId.get(itemIds[i]!);
    if (m === undefined) {
      missing.push(itemIds[i]!);
      titles[i] = `movie ${itemIds[i]}`;
    } else {
      titles[i] = movies.titles[m]!;
      years[i] = movies.years[m]!;
      for (let g = movies.genreOffsets[m]!; g < movies.genreOffsets[m + 1]!; g++)
        genreIds.push(movies.genreIds[g]!);
    }
    genreOffsets[i + 1] = genreIds.length;
  }
  if (missing.length > 0) {
    // Every item index comes from a rating or the movies file, so a missing one was rated.
    const examples = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ', …' : '');
    warn(
      `${path.basename(movies.file)}: ${missing.length} rated movie id(s) not listed (${examples}); kept with placeholder titles`,
    );
  }
  return {
    titles,
    years,
    genreNames: movies.genreNames,
    genreOffsets,
    genreIds: Int32Array.from(genreIds),
  };
}
