import { hasRepeatsInRows, sortRows } from './matrix.js';
import type { ScanCrew, ScannedRatings, SharedSlice } from './readers/parallel-scan.js';
import { MAX_COUNTED_ID } from './readers/scan-range.js';
import type { RatingMatrix } from './types.js';

/**
 * Builds the dense indexes, the CSR and the CSC of a ratings file parsed by ranges
 * (parallel-scan.ts) on the same worker threads, giving exactly what load.ts's serial path
 * (densify + buildRatingMatrix) gives, for files whose user ids never decrease (every MovieLens
 * ratings file is grouped by user this way).
 *
 * The parse counted the ratings of every user id u and movie id i in every range r: c_r(u), c_r(i).
 * Dense indexes are the ids present (Σ_r c_r > 0) in ascending order, as densify numbers them.
 * Row u of the CSR starts at O(u) = Σ_{v<u} Σ_r c_r(v); range r's ratings of u go to
 * O(u) + Σ_{r'<r} c_{r'}(u) onwards, in file order. The CSC is built in two steps, as in
 * buildRatingMatrix, so that writes land in a few hundred places at a time rather than in one
 * place per movie (each a cache and TLB miss on 32M ratings): movies form ≤ 256 bands of 2^s
 * consecutive indexes, contiguous in the CSC, and range r's ratings of band b go to
 * start(b) + Σ_{r'<r} c_{r'}(b) onwards; then each band is put in column order. All writes of
 * a step are disjoint between workers:
 *  1. per range (one worker each): the CSR rows and the CSC bands, in file order (when the file
 *     is strictly increasing in (user, movie), the CSR is the file's order: ranges are copied);
 *  2. per run of bands: each band's entries to their columns, keeping their order;
 *  3. when the file is not strictly increasing in (user, movie): rows sorted by movie (stably,
 *     per block of rows), and checked for a repeated pair.
 * A CSR row then lists its ratings as the serial path's, and a CSC column lists its ratings in
 * file order, which is ascending user order (user ids never decrease along the file) and file
 * order within a user: exactly the serial CSC, which walks the stably sorted CSR rows by user.
 * Null when the fast case does not hold (user ids decrease somewhere, an id ≥ 2^24, a repeated
 * (user, movie) pair): the caller then joins the ranges and uses the serial path, which also
 * words the errors and the dedupe.
 */

export interface ParallelIndex {
  userIds: Int32Array;
  itemIds: Int32Array;
  matrix: RatingMatrix;
  timestampsByUser: Int32Array | null;
}

/** Step 1: one range into the CSR rows and the CSC bands (see the top of this file). */
export interface ScatterRequest {
  type: 'scatter';
  users: SharedSlice;
  items: SharedSlice;
  values: SharedSlice;
  timestamps: SharedSlice | null;
  /** Where the range's next rating of each user id goes (advanced as it goes). */
  userCursor: SharedSlice;
  /**
   * ≥ 0 when the file is strictly increasing in (user, movie): then the CSR lists the ratings in
   * file order, and this range's go to [rowStart, rowStart + its ratings) as they are.
   */
  rowStart: number;
  /** Where the range's next rating of each band goes (advanced as it goes). */
  bandCursor: SharedSlice;
  /** Band of a movie index: index >> bandShift. */
  bandShift: number;
  /** Dense index of each user id / movie id. */
  userIndex: SharedSlice;
  itemIndex: SharedSlice;
  csrItems: SharedSlice;
  csrValues: SharedSlice;
  csrTimes: SharedSlice | null;
  /** The CSC in band order, and each entry's movie index (scratch for step 2). */
  cscUsers: SharedSlice;
  cscValues: SharedSlice;
  bandItems: SharedSlice;
}

/** Step 2: bands [firstBand, endBand) of the CSC put in column order. */
export interface ColumnsRequest {
  type: 'columns';
  firstBand: number;
  endBand: number;
  bandShift: number;
  itemOffsets: SharedSlice;
  bandItems: SharedSlice;
  cscUsers: SharedSlice;
  cscValues: SharedSlice;
}

/** Sort CSR rows [firstRow, endRow) by movie; answers whether one repeats a movie. */
export interface SortRequest {
  type: 'sort';
  offsets: SharedSlice;
  indices: SharedSlice;
  values: SharedSlice;
  times: SharedSlice | null;
  firstRow: number;
  endRow: number;
}

/** Row blocks (and band runs) per worker: small enough to balance a slowed thread. */
const BLOCKS_PER_THREAD = 4;
/** At most this many CSC bands (2^s movies each) in step 1, as in buildRatingMatrix. */
const MAX_BANDS = 256;

const sharedInt32 = (length: number): Int32Array =>
  new Int32Array(new SharedArrayBuffer(Math.max(1, length) * 4), 0, length);
const sharedFloat32 = (length: number): Float32Array =>
  new Float32Array(new SharedArrayBuffer(Math.max(1, length) * 4), 0, length);
/** An array that lives at the start of its own shared buffer, as a message can carry it. */
const slice = (array: Int32Array | Float32Array): SharedSlice => {
  if (!(array.buffer instanceof SharedArrayBuffer) || array.byteOffset !== 0)
    throw new Error('not a shared array');
  return { buffer: array.buffer, length: array.length };
};

/**
 * The dense numbering of the ids present in count tables (plus `extra` ids, e.g. movies listed
 * but never rated): the sorted ids, each id's index (−1 where absent) and the ratings per index.
 */
function numberIds(
  tables: Int32Array[],
  starts: number[],
  extra: Int32Array | null,
): { ids: Int32Array; indexOf: Int32Array; counts: Int32Array } {
  let slots = 0;
  for (const table of tables) slots = Math.max(slots, table.length);
  if (extra) for (const id of extra) slots = Math.max(slots, id + 1);
  const totals = new Int32Array(slots);
  for (let r = 0; r < tables.length; r++) {
    const table = tables[r]!;
    for (let id = starts[r]!; id < table.length; id++) totals[id]! += table[id]!;
  }
  const indexOf = sharedInt32(slots);
  indexOf.fill(-1);
  if (extra) for (const id of extra) indexOf[id] = 0;
  let present = 0;
  for (let id = 0; id < slots; id++) if (totals[id]! > 0 || indexOf[id] === 0) present++;
  const ids = new Int32Array(present);
  const counts = new Int32Array(present);
  let next = 0;
  for (let id = 0; id < slots; id++) {
    if (totals[id]! > 0 || indexOf[id] === 0) {
      ids[next] = id;
      counts[next] = totals[id]!;
      indexOf[id] = next++;
    }
  }
  return { ids, indexOf, counts };
}

/**
 * Offsets from per-index counts, and turns each range's count table into that range's cursors:
 * c_r(id) ← offset(id) + Σ_{r'<r} c_{r'}(id) (for the ids the range holds; the others are unused).
 */
function offsetsAndCursors(
  numbered: { ids: Int32Array; indexOf: Int32Array; counts: Int32Array },
  tables: Int32Array[],
  starts: number[],
): Int32Array {
  const { ids, counts } = numbered;
  const offsets = sharedInt32(ids.length + 1);
  for (let x = 0; x < ids.length; x++) offsets[x + 1] = offsets[x]! + counts[x]!;
  const next = new Int32Array(numbered.indexOf.length); // by id: where its next rating goes
  for (let x = 0; x < ids.length; x++) next[ids[x]!] = offsets[x]!;
  for (let r = 0; r < tables.length; r++) {
    const table = tables[r]!;
    for (let id = starts[r]!; id < table.length; id++) {
      const c = table[id]!;
      if (c === 0) continue;
      table[id] = next[id]!;
      next[id]! += c;
    }
  }
  return offsets;
}

/**
 * Each range's band cursors: start(b) + Σ_{r'<r} c_{r'}(b), from the ranges' counts per movie id.
 */
function bandCursors(
  tables: Int32Array[],
  itemIndex: Int32Array,
  itemOffsets: Int32Array,
  bandShift: number,
  numBands: number,
): Int32Array[] {
  const numItems = itemOffsets.length - 1;
  const next = new Int32Array(numBands);
  for (let b = 0; b < numBands; b++) next[b] = itemOffsets[Math.min(numItems, b << bandShift)]!;
  return tables.map((table) => {
    const cursor = sharedInt32(numBands);
    cursor.set(next);
    for (let id = 0; id < table.length; id++) {
      const c = table[id]!;
      if (c > 0) next[itemIndex[id]! >> bandShift]! += c;
    }
    return cursor;
  });
}

/** Splits [0, count) into about `parts` runs of about equal weight (weight of [a, b): at(b) − at(a)). */
function balancedRuns(count: number, parts: number, at: (k: number) => number): number[] {
  const cuts = [0];
  const total = at(count) - at(0);
  let k = 0;
  for (let p = 1; p < parts; p++) {
    const target = at(0) + Math.floor((total * p) / parts);
    while (k < count && at(k) < target) k++;
    if (k > cuts[cuts.length - 1]! && k < count) cuts.push(k);
  }
  if (count > 0) cuts.push(count);
  return cuts;
}

/** The parallel build (see the top of this file), or null when the fast case does not hold. */
export async function indexOnCrew(
  crew: ScanCrew,
  scanned: ScannedRatings,
  movieIds: Int32Array | null,
): Promise<ParallelIndex | null> {
  const { ranges } = scanned;
  let strictly = true;
  for (let r = 0; r < ranges.length; r++) {
    const range = ranges[r]!;
    if (range.userCounts === null || range.itemCounts === null || !range.sortedByUser) return null;
    if (!range.strictlyIncreasing) strictly = false;
    if (r === 0 || range.count === 0) continue;
    const before = ranges[r - 1]!;
    if (range.firstUser < before.lastUser) return null;
    if (range.firstUser === before.lastUser && range.firstItem <= before.lastItem) strictly = false;
  }
  if (ranges.some((range) => range.count === 0)) return null; // cannot happen: a range holds a line
  if (movieIds?.some((id) => id >= MAX_COUNTED_ID)) return null;
  const userTables = ranges.map((range) => range.userCounts!);
  const itemTables = ranges.map((range) => range.itemCounts!);
  // User ids never decrease along the file: range r's are ≥ its first (no need to look below).
  const userStarts = ranges.map((range) => range.firstUser);
  const users = numberIds(userTables, userStarts, null);
  const items = numberIds(
    itemTables,
    ranges.map(() => 0),
    movieIds,
  );
  const userOffsets = offsetsAndCursors(users, userTables, userStarts);
  const itemOffsets = sharedInt32(items.ids.length + 1);
  for (let x = 0; x < items.ids.length; x++)
    itemOffsets[x + 1] = itemOffsets[x]! + items.counts[x]!;
  const numItems = items.ids.length;
  let bandShift = 0;
  while ((numItems - 1) >> bandShift >= MAX_BANDS) bandShift++;
  const numBands = numItems === 0 ? 0 : ((numItems - 1) >> bandShift) + 1;
  const bandCursor = bandCursors(itemTables, items.indexOf, itemOffsets, bandShift, numBands);

  const n = scanned.length;
  const csrItems = sharedInt32(n);
  const csrValues = sharedFloat32(n);
  const csrTimes = scanned.hasTimestamps ? sharedInt32(n) : null;
  const cscUsers = sharedInt32(n);
  const cscValues = sharedFloat32(n);
  let bandItems: Int32Array | null = sharedInt32(n);
  const rowStarts: number[] = [];
  for (let r = 0, at = 0; r < ranges.length; at += ranges[r]!.count, r++) rowStarts.push(at);
  await crew.run<number>(
    ranges.map(
      (range, r): ScatterRequest => ({
        type: 'scatter',
        users: slice(range.users),
        items: slice(range.items),
        values: slice(range.values),
        timestamps: range.timestamps === null ? null : slice(range.timestamps),
        userCursor: slice(userTables[r]!),
        rowStart: strictly ? rowStarts[r]! : -1,
        bandCursor: slice(bandCursor[r]!),
        bandShift,
        userIndex: slice(users.indexOf),
        itemIndex: slice(items.indexOf),
        csrItems: slice(csrItems),
        csrValues: slice(csrValues),
        csrTimes: csrTimes === null ? null : slice(csrTimes),
        cscUsers: slice(cscUsers),
        cscValues: slice(cscValues),
        bandItems: slice(bandItems!),
      }),
    ),
  );
  const bandRuns = balancedRuns(
    numBands,
    crew.size * BLOCKS_PER_THREAD,
    (b) => itemOffsets[Math.min(numItems, b << bandShift)]!,
  );
  const columns: ColumnsRequest[] = [];
  for (let j = 0; j + 1 < bandRuns.length; j++)
    columns.push({
      type: 'columns',
      firstBand: bandRuns[j]!,
      endBand: bandRuns[j + 1]!,
      bandShift,
      itemOffsets: slice(itemOffsets),
      bandItems: slice(bandItems),
      cscUsers: slice(cscUsers),
      cscValues: slice(cscValues),
    });
  // The row sort needs only the CSR: it runs alongside the columns.
  const sorts: SortRequest[] = [];
  if (!strictly) {
    const numUsers = users.ids.length;
    const rowRuns = balancedRuns(numUsers, crew.size * BLOCKS_PER_THREAD, (u) => userOffsets[u]!);
    for (let j = 0; j + 1 < rowRuns.length; j++)
      sorts.push({
        type: 'sort',
        offsets: slice(userOffsets),
        indices: slice(csrItems),
        values: slice(csrValues),
        times: csrTimes === null ? null : slice(csrTimes),
        firstRow: rowRuns[j]!,
        endRow: rowRuns[j + 1]!,
      });
  }
  const answers = await crew.run<number | boolean>([...sorts, ...columns]);
  bandItems = null;
  if (answers.slice(0, sorts.length).some((repeats) => repeats === true)) return null;
  return {
    userIds: users.ids,
    itemIds: items.ids,
    matrix: {
      numUsers: users.ids.length,
      numItems: items.ids.length,
      numRatings: n,
      ratingsByUser: { offsets: userOffsets, indices: csrItems, values: csrValues },
      ratingsByItem: { offsets: itemOffsets, indices: cscUsers, values: cscValues },
    },
    timestampsByUser: csrTimes,
  };
}

const int32Of = (s: SharedSlice): Int32Array => new Int32Array(s.buffer, 0, s.length);
const float32Of = (s: SharedSlice): Float32Array => new Float32Array(s.buffer, 0, s.length);

/**
 * The hot loops below take typed arrays and numbers prepared by their callers, with no work
 * before the loop: V8 first runs a function before it has type feedback, and an operation
 * without feedback in a later call deoptimizes it there, leaving the loop unoptimized.
 */

/** Step 1 in a worker: one range into the CSR rows and the CSC bands. Returns its ratings. */
export function scatterRange(request: ScatterRequest): number {
  const users = int32Of(request.users);
  if (request.rowStart >= 0) {
    const values = float32Of(request.values);
    float32Of(request.csrValues).set(values, request.rowStart);
    if (request.timestamps !== null)
      int32Of(request.csrTimes!).set(int32Of(request.timestamps), request.rowStart);
    scatterInFileOrder(
      users.length,
      request.rowStart,
      users,
      int32Of(request.items),
      values,
      int32Of(request.bandCursor),
      request.bandShift,
      int32Of(request.userIndex),
      int32Of(request.itemIndex),
      int32Of(request.csrItems),
      int32Of(request.cscUsers),
      float32Of(request.cscValues),
      int32Of(request.bandItems),
    );
    return users.length;
  }
  scatterLoop(
    users.length,
    users,
    int32Of(request.items),
    float32Of(request.values),
    request.timestamps === null ? null : int32Of(request.timestamps),
    int32Of(request.userCursor),
    int32Of(request.bandCursor),
    request.bandShift,
    int32Of(request.userIndex),
    int32Of(request.itemIndex),
    int32Of(request.csrItems),
    float32Of(request.csrValues),
    request.csrTimes === null ? null : int32Of(request.csrTimes),
    int32Of(request.cscUsers),
    float32Of(request.cscValues),
    int32Of(request.bandItems),
  );
  return users.length;
}

function scatterLoop(
  n: number,
  users: Int32Array,
  items: Int32Array,
  values: Float32Array,
  times: Int32Array | null,
  userCursor: Int32Array,
  bandCursor: Int32Array,
  shift: number,
  userIndex: Int32Array,
  itemIndex: Int32Array,
  csrItems: Int32Array,
  csrValues: Float32Array,
  csrTimes: Int32Array | null,
  cscUsers: Int32Array,
  cscValues: Float32Array,
  bandItems: Int32Array,
): void {
  for (let k = 0; k < n; k++) {
    const user = users[k]!;
    const item = itemIndex[items[k]!]!;
    const value = values[k]!;
    const row = userCursor[user]!++;
    csrItems[row] = item;
    csrValues[row] = value;
    if (csrTimes !== null) csrTimes[row] = times![k]!;
    const at = bandCursor[item >> shift]!++;
    cscUsers[at] = userIndex[user]!;
    cscValues[at] = value;
    bandItems[at] = item;
  }
}

/** scatterLoop for a file in CSR order: rows need no cursors, values and times were copied. */
function scatterInFileOrder(
  n: number,
  rowStart: number,
  users: Int32Array,
  items: Int32Array,
  values: Float32Array,
  bandCursor: Int32Array,
  shift: number,
  userIndex: Int32Array,
  itemIndex: Int32Array,
  csrItems: Int32Array,
  cscUsers: Int32Array,
  cscValues: Float32Array,
  bandItems: Int32Array,
): void {
  for (let k = 0; k < n; k++) {
    const item = itemIndex[items[k]!]!;
    csrItems[rowStart + k] = item;
    const at = bandCursor[item >> shift]!++;
    cscUsers[at] = userIndex[users[k]!]!;
    cscValues[at] = values[k]!;
    bandItems[at] = item;
  }
}

/** Step 2 in a worker: a run of CSC bands put in column order, each band's order kept. */
export function columnsOfBands(request: ColumnsRequest): number {
  const itemOffsets = int32Of(request.itemOffsets);
  const numItems = itemOffsets.length - 1;
  const shift = request.bandShift;
  const firstItem = request.firstBand << shift;
  const endItem = Math.min(numItems, request.endBand << shift);
  let longest = 0;
  for (let b = request.firstBand; b < request.endBand; b++) {
    const start = itemOffsets[b << shift]!;
    const end = itemOffsets[Math.min(numItems, (b + 1) << shift)]!;
    longest = Math.max(longest, end - start);
  }
  const bandItems = int32Of(request.bandItems);
  const cscUsers = int32Of(request.cscUsers);
  const cscValues = float32Of(request.cscValues);
  // A band's entries are copied out, then written back at their columns' places.
  const users = new Int32Array(longest);
  const values = new Float32Array(longest);
  const cursor = new Int32Array(Math.max(0, endItem - firstItem));
  for (let b = request.firstBand; b < request.endBand; b++) {
    const bandFirst = b << shift;
    const bandEnd = Math.min(numItems, (b + 1) << shift);
    const start = itemOffsets[bandFirst]!;
    const end = itemOffsets[bandEnd]!;
    users.set(cscUsers.subarray(start, end));
    values.set(cscValues.subarray(start, end));
    cursor.set(itemOffsets.subarray(bandFirst, bandEnd), bandFirst - firstItem);
    bandToColumns(start, end, firstItem, bandItems, cursor, users, values, cscUsers, cscValues);
  }
  return endItem - firstItem;
}

function bandToColumns(
  start: number,
  end: number,
  firstItem: number,
  bandItems: Int32Array,
  cursor: Int32Array,
  users: Int32Array,
  values: Float32Array,
  cscUsers: Int32Array,
  cscValues: Float32Array,
): void {
  for (let p = start; p < end; p++) {
    const dst = cursor[bandItems[p]! - firstItem]!++;
    cscUsers[dst] = users[p - start]!;
    cscValues[dst] = values[p - start]!;
  }
}

/** A worker's share of the row sort; true when a sorted row repeats a movie. */
export function sortRowBlock(request: SortRequest): boolean {
  const offsets = int32Of(request.offsets);
  const indices = int32Of(request.indices);
  sortRows(
    offsets,
    indices,
    float32Of(request.values),
    request.times === null ? null : int32Of(request.times),
    request.firstRow,
    request.endRow,
  );
  return hasRepeatsInRows(offsets, indices, request.firstRow, request.endRow);
}
