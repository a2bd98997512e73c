import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Random } from '../core/random.js';
import { AlsError, DataError } from '../errors.js';
import type { Dataset, RatingList, RatingMatrix, Split, SplitReport } from './types.js';

/** The official ML-100K folds shipped as `<fold>.base` / `<fold>.test`. */
export const ML100K_FOLDS = ['u1', 'u2', 'u3', 'u4', 'u5', 'ua', 'ub'] as const;
export type Ml100kFold = (typeof ML100K_FOLDS)[number];

/** A parsed `--split` value. */
export type SplitSpec =
  | { kind: 'none' }
  | { kind: 'random'; fraction: number }
  | { kind: 'user'; fraction: number }
  | { kind: 'temporal'; fraction: number }
  | { kind: 'cold-items'; fraction: number }
  | { kind: 'ml100k'; fold: Ml100kFold }
  | { kind: 'file'; path: string };

/** The forms `--split` accepts, for error messages and help texts. */
export const SPLIT_FORMS =
  'none, random:F, user:F, temporal:F, cold-items:F (0 < F < 1), ml100k:u1…u5|ua|ub, file:<path>';

/** Parses a split spec such as "random:0.2" or "ml100k:u1"; anything else is a one-line AlsError. */
export function parseSplitSpec(spec: string): SplitSpec {
  const bad = (why: string): AlsError =>
    new AlsError(`bad split "${spec}": ${why}; valid forms: ${SPLIT_FORMS}`);
  if (spec === 'none') return { kind: 'none' };
  const colon = spec.indexOf(':');
  if (colon < 0) throw bad('unknown form');
  const kind = spec.slice(0, colon);
  const arg = spec.slice(colon + 1);
  switch (kind) {
    case 'random':
    case 'user':
    case 'temporal':
    case 'cold-items': {
      const fraction = Number(arg);
      if (arg.trim() === '' || !Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) {
        throw bad('the fraction must be a number strictly between 0 and 1');
      }
      return { kind, fraction };
    }
    case 'ml100k':
      if (!(ML100K_FOLDS as readonly string[]).includes(arg))
        throw bad(`unknown ML-100K fold "${arg}"`);
      return { kind: 'ml100k', fold: arg as Ml100kFold };
    case 'file':
      if (arg === '') throw bad('missing file path');
      return { kind: 'file', path: arg };
    default:
      throw bad(`unknown kind "${kind}"`);
  }
}

/** Options of makeSplit. */
export interface SplitOptions {
  /**
   * Whether to build `trainTimestamps` (default true). Training never reads them; leaving them out
   * saves 4 bytes per training rating (115 MB at 32M ratings). The temporal rule itself reads the
   * data set's timestamps either way.
   */
  trainTimestamps?: boolean;
}

/**
 * Splits a data set into training ratings and held-out test ratings, deterministically from `seed`.
 *
 * The ratings are addressed by their position in the data set's CSR (by user, then movie), a mask
 * `keep` (1 = train) is filled by the chosen rule, and the training matrix is the full matrix
 * filtered by the mask (see filterMatrix). The test list is in CSR order.
 */
export function makeSplit(
  dataset: Dataset,
  spec: string,
  seed: number,
  options: SplitOptions = {},
): Split {
  const matrix = dataset.matrix;
  if (parseSplitSpec(spec).kind === 'none') {
    // Nothing held out: train on the data set's own matrix instead of a filtered copy of it
    // (a copy of 32M ratings costs about a second and 400 MB).
    const test: RatingList = {
      length: 0,
      users: new Int32Array(0),
      items: new Int32Array(0),
      values: new Float32Array(0),
      timestamps: dataset.timestampsByUser ? new Int32Array(0) : null,
    };
    return {
      train: matrix,
      trainTimestamps: dataset.timestampsByUser,
      test,
      report: describeSplit(matrix, matrix, test, spec, seed),
    };
  }
  const keep = splitMask(dataset, spec, seed);
  const withTimes = options.trainTimestamps ?? true;
  const { train, trainTimestamps } = filterMatrix(
    matrix,
    withTimes ? dataset.timestampsByUser : null,
    keep,
  );
  const test = selectHeldOut(matrix, dataset.timestampsByUser, keep);
  const report = describeSplit(matrix, train, test, spec, seed);
  return { train, trainTimestamps, test, report };
}

/**
 * The mask of a split: keep[k] = 1 when the rating at CSR position k is for training, 0 when it
 * is held out. makeSplit builds its matrices from it; nested cross-validation (src/data/folds.ts)
 * deals its inner folds over the ones only, so it never sees the outer test ratings.
 */
export function splitMask(dataset: Dataset, spec: string, seed: number): Uint8Array {
  const parsed = parseSplitSpec(spec);
  const matrix = dataset.matrix;
  const n = matrix.numRatings;
  const keep = new Uint8Array(n).fill(1);
  const rng = new Random(seed);

  switch (parsed.kind) {
    case 'none':
      break;
    case 'random':
      holdOutRandom(keep, 0, n, Math.round(parsed.fraction * n), rng);
      break;
    case 'user':
      holdOutPerUser(matrix, keep, parsed.fraction, rng);
      break;
    case 'temporal':
      holdOutLatest(dataset, keep, Math.round(parsed.fraction * n), spec);
      break;
    case 'cold-items':
      holdOutColdItems(matrix, keep, parsed.fraction, rng);
      break;
    case 'ml100k':
      holdOutMl100kFold(dataset, keep, parsed.fold);
      break;
    case 'file':
      holdOutListed(dataset, keep, path.resolve(parsed.path));
      break;
  }
  return keep;
}

/**
 * The training matrix: the full matrix with the entries keep[k] === 0 (k = CSR position) removed.
 *
 * Filtering both indexes in place of re-indexing (buildRatingMatrix) avoids three random-access
 * scatter passes over every rating, which dominate on MovieLens-32M. The CSR filter is sequential.
 * For the CSC we need each CSR entry's CSC position: walking users in ascending order, entry
 * (u, i) is the next not-yet-visited entry of column i (columns are sorted by user), so
 * cursor[i]++ gives it; that fills a byte mask in CSC order, and the CSC is then filtered
 * sequentially too. Rows and columns stay sorted.
 */
export function filterMatrix(
  matrix: RatingMatrix,
  timestampsByUser: Int32Array | null,
  keep: Uint8Array,
): { train: RatingMatrix; trainTimestamps: Int32Array | null } {
  const { numUsers, numItems, numRatings } = matrix;
  const csr = matrix.ratingsByUser;
  const csc = matrix.ratingsByItem;
  let kept = 0;
  for (let k = 0; k < numRatings; k++) kept += keep[k]!;

  const rowOffsets = new Int32Array(numUsers + 1);
  const rowItems = new Int32Array(kept);
  const rowValues = new Float32Array(kept);
  const rowTimes = timestampsByUser ? new Int32Array(kept) : null;
  const keepByItem = new Uint8Array(numRatings);
  const cursor = csc.offsets.slice(0, numItems);
  let t = 0;
  for (let u = 0; u < numUsers; u++) {
    const end = csr.offsets[u + 1]!;
    for (let e = csr.offsets[u]!; e < end; e++) {
      const item = csr.indices[e]!;
      keepByItem[cursor[item]!++] = keep[e]!;
      if (keep[e] === 0) continue;
      rowItems[t] = item;
      rowValues[t] = csr.values[e]!;
      if (rowTimes !== null) rowTimes[t] = timestampsByUser![e]!;
      t++;
    }
    rowOffsets[u + 1] = t;
  }

  const colOffsets = new Int32Array(numItems + 1);
  const colUsers = new Int32Array(kept);
  const colValues = new Float32Array(kept);
  t = 0;
  for (let i = 0; i < numItems; i++) {
    const end = csc.offsets[i + 1]!;
    for (let e = csc.offsets[i]!; e < end; e++) {
      if (keepByItem[e] === 0) continue;
      colUsers[t] = csc.indices[e]!;
      colValues[t] = csc.values[e]!;
      t++;
    }
    colOffsets[i + 1] = t;
  }
  return {
    train: {
      numUsers,
      numItems,
      numRatings: kept,
      ratingsByUser: { offsets: rowOffsets, indices: rowItems, values: rowValues },
      ratingsByItem: { offsets: colOffsets, indices: colUsers, values: colValues },
    },
    trainTimestamps: rowTimes,
  };
}

/**
 * Moves `count` positions of [start, end) to test, uniformly without replacement: a partial
 * Fisher–Yates shuffle of the position range, so every `count`-subset is equally likely.
 * `order` is scratch of at least end − start entries (reused across calls: no allocation per user).
 */
function holdOutRandom(
  keep: Uint8Array,
  start: number,
  end: number,
  count: number,
  rng: Random,
  order = new Int32Array(Math.max(0, end - start)),
): void {
  const size = end - start;
  if (count <= 0 || size <= 0) return;
  for (let p = 0; p < size; p++) order[p] = start + p;
  for (let p = 0; p < count; p++) {
    const q = p + rng.nextInt(size - p);
    const chosen = order[q]!;
    order[q] = order[p]!;
    order[p] = chosen;
    keep[chosen] = 0;
  }
}

/**
 * Per user u with n_u ratings, round(F · n_u) ratings go to test, capped at n_u − 1 so that every
 * user keeps at least one training rating (users with one rating keep it).
 */
function holdOutPerUser(
  matrix: RatingMatrix,
  keep: Uint8Array,
  fraction: number,
  rng: Random,
): void {
  const offsets = matrix.ratingsByUser.offsets;
  let maxRow = 0;
  for (let u = 0; u < matrix.numUsers; u++)
    maxRow = Math.max(maxRow, offsets[u + 1]! - offsets[u]!);
  const order = new Int32Array(maxRow);
  for (let u = 0; u < matrix.numUsers; u++) {
    const start = offsets[u]!;
    const size = offsets[u + 1]! - start;
    const count = Math.min(Math.round(fraction * size), size - 1);
    holdOutRandom(keep, start, start + size, count, rng, order);
  }
}

/**
 * The `count` latest ratings by timestamp go to test. The cut-off timestamp is the count-th largest;
 * ratings strictly after it are all held out, and among ratings exactly at the cut-off the ones
 * latest in (user index, movie index) order are held out, so the result does not depend on the seed.
 */
function holdOutLatest(dataset: Dataset, keep: Uint8Array, count: number, spec: string): void {
  const timestamps = dataset.timestampsByUser;
  if (timestamps === null) {
    throw new AlsError(`split "${spec}" needs timestamps, and ${dataset.info.name} has none`);
  }
  const n = dataset.matrix.numRatings;
  if (count <= 0) return;
  const sorted = timestamps.slice(0, n).sort();
  const cutoff = sorted[n - count]!;
  let strictlyAfter = 0;
  for (let k = 0; k < n; k++) {
    if (timestamps[k]! > cutoff) {
      keep[k] = 0;
      strictlyAfter++;
    }
  }
  let tiesToHold = count - strictlyAfter;
  for (let k = n - 1; k >= 0 && tiesToHold > 0; k--) {
    if (timestamps[k] === cutoff) {
      keep[k] = 0;
      tiesToHold--;
    }
  }
}

/** round(F · rated movies) movies, chosen uniformly, move to test with all their ratings. */
function holdOutColdItems(
  matrix: RatingMatrix,
  keep: Uint8Array,
  fraction: number,
  rng: Random,
): void {
  const colOffsets = matrix.ratingsByItem.offsets;
  const rated: number[] = [];
  for (let i = 0; i < matrix.numItems; i++) if (colOffsets[i + 1]! > colOffsets[i]!) rated.push(i);
  const count = Math.round(fraction * rated.length);
  const cold = new Uint8Array(matrix.numItems);
  const order = Int32Array.from(rated);
  for (let p = 0; p < count; p++) {
    const q = p + rng.nextInt(order.length - p);
    const chosen = order[q]!;
    order[q] = order[p]!;
    order[p] = chosen;
    cold[chosen] = 1;
  }
  const items = matrix.ratingsByUser.indices;
  for (let k = 0; k < matrix.numRatings; k++) if (cold[items[k]!] === 1) keep[k] = 0;
}

/**
 * ML-100K's official folds: exactly the ratings in `<fold>.test` are held out. The `.base` file
 * must also exist and base + test must account for every rating, which catches a folder whose
 * u.data does not belong to these fold files.
 */
export function holdOutMl100kFold(dataset: Dataset, keep: Uint8Array, fold: Ml100kFold): void {
  const dir = dataset.info.dir;
  if (dataset.info.layout !== 'ml-100k') {
    throw new AlsError(
      `split "ml100k:${fold}" needs the ml-100k data set, not ${dataset.info.name} (${dataset.info.layout} layout)`,
    );
  }
  const baseFile = path.join(dir, `${fold}.base`);
  const testFile = path.join(dir, `${fold}.test`);
  for (const file of [baseFile, testFile]) {
    if (!existsSync(file)) throw new AlsError(`split "ml100k:${fold}": ${file} not found`);
  }
  const held = holdOutListed(dataset, keep, testFile);
  const baseLines = countDataLines(readFileSync(baseFile, 'latin1'));
  if (baseLines + held !== dataset.matrix.numRatings) {
    throw new DataError(
      baseFile,
      undefined,
      `${baseLines} training + ${held} test ratings do not add up to the data set's ${dataset.matrix.numRatings}`,
    );
  }
}

function countDataLines(text: string): number {
  let count = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (text.slice(start, end).trim() !== '') count++;
    start = end + 1;
  }
  return count;
}

/** Maps original ids to indexes: a dense table when ids are small (the usual case), else a Map. */
function idLookup(ids: Int32Array): (id: number) => number {
  let maxId = -1;
  let minId = 0;
  for (let k = 0; k < ids.length; k++) {
    maxId = Math.max(maxId, ids[k]!);
    minId = Math.min(minId, ids[k]!);
  }
  if (minId >= 0 && maxId < 64 * ids.length + 1_000_000) {
    const table = new Int32Array(maxId + 1).fill(-1);
    for (let k = 0; k < ids.length; k++) table[ids[k]!] = k;
    return (id) => (id >= 0 && id <= maxId ? table[id]! : -1);
  }
  const map = new Map<number, number>();
  for (let k = 0; k < ids.length; k++) map.set(ids[k]!, k);
  return (id) => map.get(id) ?? -1;
}

/** Position of (user, item) in the CSR, or −1: binary search in the user's sorted row. */
function findRating(matrix: RatingMatrix, user: number, item: number): number {
  const { offsets, indices } = matrix.ratingsByUser;
  let lo = offsets[user]!;
  let hi = offsets[user + 1]! - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const value = indices[mid]!;
    if (value === item) return mid;
    if (value < item) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

const INTEGER = /^[+-]?\d+$/;

/**
 * Holds out exactly the ratings a file lists: one `user,item[,rating…]` per line in original ids,
 * comma-, tab- or `::`-separated; a first line whose ids are not integers is taken as a header.
 * Unknown ids, pairs the data set does not rate and repeated pairs are one-line DataErrors.
 * Returns how many ratings were held out.
 */
function holdOutListed(dataset: Dataset, keep: Uint8Array, file: string): number {
  if (!existsSync(file)) throw new AlsError(`split test file not found: ${file}`);
  const text = readFileSync(file, 'latin1');
  const userIndex = idLookup(dataset.userIds);
  const itemIndex = idLookup(dataset.itemIds);
  let lineNumber = 0;
  let held = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    lineNumber++;
    if (line.trim() === '') continue;
    const fields = line.includes('\t')
      ? line.split('\t')
      : line.includes('::')
        ? line.split('::')
        : line.split(',');
    if (fields.length < 2)
      throw new DataError(file, lineNumber, `expected user,item[,rating…], got "${clip(line)}"`);
    const userField = fields[0]!.trim();
    const itemField = fields[1]!.trim();
    if (!INTEGER.test(userField) || !INTEGER.test(itemField)) {
      if (lineNumber === 1 && held === 0) continue; // header
      throw new DataError(
        file,
        lineNumber,
        `user and movie ids must be integers, got "${clip(line)}"`,
      );
    }
    const userId = Number(userField);
    const itemId = Number(itemField);
    const user = userIndex(userId);
    if (user < 0)
      throw new DataError(file, lineNumber, `user ${userId} is not in ${dataset.info.name}`);
    const item = itemIndex(itemId);
    if (item < 0)
      throw new DataError(file, lineNumber, `movie ${itemId} is not in ${dataset.info.name}`);
    const position = findRating(dataset.matrix, user, item);
    if (position < 0)
      throw new DataError(
        file,
        lineNumber,
        `user ${userId} has not rated movie ${itemId} in ${dataset.info.name}`,
      );
    if (keep[position] === 0)
      throw new DataError(file, lineNumber, `user ${userId}, movie ${itemId} is listed twice`);
    keep[position] = 0;
    held++;
  }
  return held;
}

function clip(line: string): string {
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

/** The ratings with keep[k] === 0, in coordinate form (CSR order: by user, then movie). */
export function selectHeldOut(
  matrix: RatingMatrix,
  timestampsByUser: Int32Array | null,
  keep: Uint8Array,
): RatingList {
  const { offsets, indices, values: ratingValues } = matrix.ratingsByUser;
  let count = 0;
  for (let k = 0; k < matrix.numRatings; k++) if (keep[k] === 0) count++;
  const users = new Int32Array(count);
  const items = new Int32Array(count);
  const values = new Float32Array(count);
  const timestamps = timestampsByUser ? new Int32Array(count) : null;
  let t = 0;
  for (let u = 0; u < matrix.numUsers; u++) {
    const end = offsets[u + 1]!;
    for (let e = offsets[u]!; e < end; e++) {
      if (keep[e] !== 0) continue;
      users[t] = u;
      items[t] = indices[e]!;
      values[t] = ratingValues[e]!;
      if (timestamps !== null) timestamps[t] = timestampsByUser![e]!;
      t++;
    }
  }
  return { length: count, users, items, values, timestamps };
}

/** Counts what a model trained on `train` has never seen among the test ratings. */
export function describeSplit(
  full: RatingMatrix,
  train: RatingMatrix,
  test: RatingList,
  spec: string,
  seed: number,
): SplitReport {
  const userRows = train.ratingsByUser.offsets;
  const itemCols = train.ratingsByItem.offsets;
  let unseenUser = 0;
  let unseenItem = 0;
  for (let t = 0; t < test.length; t++) {
    const u = test.users[t]!;
    const i = test.items[t]!;
    if (userRows[u + 1] === userRows[u]) unseenUser++;
    if (itemCols[i + 1] === itemCols[i]) unseenItem++;
  }
  const fullRows = full.ratingsByUser.offsets;
  let usersWithoutTraining = 0;
  for (let u = 0; u < full.numUsers; u++) {
    if (fullRows[u + 1]! > fullRows[u]! && userRows[u + 1] === userRows[u]) usersWithoutTraining++;
  }
  return {
    spec,
    seed,
    trainRatings: train.numRatings,
    testRatings: test.length,
    testRatingsWithUnseenUser: unseenUser,
    testRatingsWithUnseenItem: unseenItem,
    usersWithoutTrainingRatings: usersWithoutTraining,
  };
}
