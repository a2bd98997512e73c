import { readSync } from 'node:fs';

/**
 * What a parallel-scanner worker (parallel-scan.ts) does with one byte range of a ratings file:
 * parse its lines in one pass into arrays of its own (shared memory sized by the range's bytes,
 * so no counting pass is needed first), and count the ratings of every user id and movie id on the
 * way, so the indexes can be laid out without another pass (parallel-index.ts).
 * A range starts at a line start and ends just after a newline (or at the end of the file).
 */

/** Bytes read at a time: small enough that parsing reads them back from cache, not memory. */
const BLOCK_BYTES = 1 << 20;
/**
 * The first blocks are smaller (doubling up to BLOCK_BYTES): V8 then sees more paths of the line
 * loop (a line cut by the end of a block, the per-block counts) before it optimizes the loop, and
 * on a worker's first range recompiles it twice instead of four times (--trace-opt).
 */
const FIRST_BLOCK_BYTES = 1 << 12;
/** Ids up to this bound are counted in tables indexed by id (larger ids: the serial indexer). */
export const MAX_COUNTED_ID = 1 << 24;
const MAX_INT32 = 2147483647;
const NEWLINE = 10;
const CR = 13;
const ZERO = 48;
const NINE = 57;
const DOT = 46;

/** What a parse needs to know about the line layout (decided by the main thread from line 1). */
export interface RangeLayout {
  sep0: number;
  /** Second separator byte ("::"), or -1. */
  sep1: number;
  userField: number;
  itemField: number;
  ratingField: number;
  /** -1 when lines have 3 fields. */
  timeField: number;
  /** 3 or 4. */
  expectedFields: number;
  minRating: number;
  maxRating: number;
  /** 0: any rating in [min, max]. */
  step: number;
}

/**
 * One parsed range: `count` ratings in file order (the buffers may be longer: use the first
 * `count` entries) and how they are ordered.
 */
export interface RangeScan {
  count: number;
  users: SharedArrayBuffer;
  items: SharedArrayBuffer;
  values: SharedArrayBuffer;
  timestamps: SharedArrayBuffer | null;
  /**
   * Int32 tables: ratings per user id / movie id in this range (index = original id; the tables
   * may be shorter than the largest id of another range). Null when an id is ≥ MAX_COUNTED_ID.
   */
  userCounts: SharedArrayBuffer | null;
  itemCounts: SharedArrayBuffer | null;
  /** Entries of the count tables in use (largest id + 1). */
  userCountsLength: number;
  itemCountsLength: number;
  /** (user, movie) of the first and last rating, to check the order across ranges. */
  firstUser: number;
  firstItem: number;
  lastUser: number;
  lastItem: number;
  /** User ids never decrease along the range. */
  sortedByUser: boolean;
  /** (user, movie) strictly increase along the range: rows sorted by movie, no repeated pair. */
  strictlyIncreasing: boolean;
}

/** The output arrays of a range (views of its shared buffers). */
interface RangeArrays {
  users: Int32Array;
  items: Int32Array;
  values: Float32Array;
  times: Int32Array | null;
}

/**
 * Counts per id and the order of a range's ratings, taken block by block right after a block is
 * parsed (its ratings are still in cache).
 */
class RangeSummary {
  userCountsLength = 0;
  itemCountsLength = 0;
  lastUser = -1;
  lastItem = -1;
  sortedByUser = true;
  strictlyIncreasing = true;
  /** False once an id ≥ MAX_COUNTED_ID is seen (then the tables are of no use). */
  counting = true;

  constructor(
    private readonly userCounts: Int32Array,
    private readonly itemCounts: Int32Array,
  ) {}

  add(users: Int32Array, items: Int32Array, from: number, to: number): void {
    const { userCounts, itemCounts } = this;
    let { lastUser, lastItem, userCountsLength, itemCountsLength, counting } = this;
    let sorted = this.sortedByUser;
    let strictly = this.strictlyIncreasing;
    for (let k = from; k < to; k++) {
      const user = users[k]!;
      const item = items[k]!;
      if (user < lastUser) {
        sorted = false;
        strictly = false;
      } else if (user === lastUser && item <= lastItem) strictly = false;
      lastUser = user;
      lastItem = item;
      if (counting) {
        if (user >= MAX_COUNTED_ID || item >= MAX_COUNTED_ID) counting = false;
        else {
          userCounts[user]!++;
          itemCounts[item]!++;
          if (user >= userCountsLength) userCountsLength = user + 1;
          if (item >= itemCountsLength) itemCountsLength = item + 1;
        }
      }
    }
    this.lastUser = lastUser;
    this.lastItem = lastItem;
    this.userCountsLength = userCountsLength;
    this.itemCountsLength = itemCountsLength;
    this.counting = counting;
    this.sortedByUser = sorted;
    this.strictlyIncreasing = strictly;
  }
}

/**
 * Parses the lines of [start, end) with the same rules and arithmetic as scan.ts's fast path
 * (so the arrays are bit-identical to the serial scanner's), into shared buffers of its own.
 * Returns null at the first line the fast path does not accept as it stands (bad field,
 * off-scale rating, blank line, a line longer than a block, a range not ending with a newline):
 * the caller then rescans the file serially, which explains the line exactly.
 *
 * The file is read a block at a time (readPositional for the usual `user SEP movie SEP rating
 * [SEP timestamp]` with a one-byte separator, readAnyLayout otherwise); each block's ratings are
 * then counted and checked for order while they are still in cache (RangeSummary).
 */
export function parseRange(
  fd: number,
  start: number,
  end: number,
  endsFile: boolean,
  layout: RangeLayout,
): RangeScan | null {
  const rangeBytes = end - start;
  // Every line has ≥ 2 bytes per field (a digit and a separator or newline). The buffers are
  // allocated at that bound, which costs address space only: memory pages are zero-filled by the
  // system when first written, so only the entries used take memory. (Growable buffers would
  // too, but views of them are several times slower to write in V8 11.)
  const capacity = Math.floor(rangeBytes / (2 * layout.expectedFields)) + 2;
  const usersBuffer = new SharedArrayBuffer(capacity * 4);
  const itemsBuffer = new SharedArrayBuffer(capacity * 4);
  const valuesBuffer = new SharedArrayBuffer(capacity * 4);
  const timesBuffer = layout.timeField >= 0 ? new SharedArrayBuffer(capacity * 4) : null;
  const out: RangeArrays = {
    users: new Int32Array(usersBuffer),
    items: new Int32Array(itemsBuffer),
    values: new Float32Array(valuesBuffer),
    times: timesBuffer === null ? null : new Int32Array(timesBuffer),
  };
  const { users, items } = out;
  // Count tables indexed by id, sized the same way (only the pages of ids present get memory).
  let userCountsBuffer: SharedArrayBuffer | null = new SharedArrayBuffer(MAX_COUNTED_ID * 4);
  let itemCountsBuffer: SharedArrayBuffer | null = new SharedArrayBuffer(MAX_COUNTED_ID * 4);
  const summary = new RangeSummary(
    new Int32Array(userCountsBuffer),
    new Int32Array(itemCountsBuffer),
  );
  const buf = Buffer.allocUnsafe(Math.min(BLOCK_BYTES, Math.max(1, rangeBytes)) + 1);
  const positional =
    layout.userField === 0 &&
    layout.itemField === 1 &&
    layout.ratingField === 2 &&
    (layout.expectedFields === 3 || layout.timeField === 3) &&
    layout.sep1 < 0;
  const count = positional
    ? readPositional(
        buf,
        fd,
        start,
        end,
        endsFile,
        layout.sep0,
        layout.expectedFields === 4,
        layout.minRating,
        layout.maxRating,
        layout.step,
        out.users,
        out.items,
        out.values,
        out.times,
        summary,
        capacity,
        buf.length - 1,
        Math.min(buf.length - 1, FIRST_BLOCK_BYTES),
      )
    : readAnyLayout(fd, start, end, endsFile, layout, out, summary);
  if (count < 0) return null;
  if (!summary.counting) {
    userCountsBuffer = null;
    itemCountsBuffer = null;
  }
  return {
    count,
    users: usersBuffer,
    items: itemsBuffer,
    values: valuesBuffer,
    timestamps: timesBuffer,
    userCounts: userCountsBuffer,
    itemCounts: itemCountsBuffer,
    userCountsLength: summary.userCountsLength,
    itemCountsLength: summary.itemCountsLength,
    firstUser: count > 0 ? users[0]! : -1,
    firstItem: count > 0 ? items[0]! : -1,
    lastUser: summary.lastUser,
    lastItem: summary.lastItem,
    sortedByUser: summary.sortedByUser,
    strictlyIncreasing: summary.strictlyIncreasing,
  };
}

/**
 * The usual layout (user, movie, rating[, timestamp] with a one-byte separator): the range's
 * lines into `out`, the fields in locals with no per-field dispatch (this loop runs 32M times on
 * MovieLens-32M; readAnyLayout is ~1.7× slower per line). The parse loop lives in the same
 * function as the reads, and it takes plain values prepared by the caller: its first call runs
 * before V8 collects type feedback, so any work before the loop (even `users.length`) has none,
 * and a later call would deoptimize there and run unoptimized (~1.7× slower) for good.
 * Returns the ratings read, or −1 when a line is off the fast path.
 */
function readPositional(
  buf: Buffer,
  fd: number,
  start: number,
  end: number,
  endsFile: boolean,
  sep0: number,
  four: boolean,
  minRating: number,
  maxRating: number,
  step: number,
  users: Int32Array,
  items: Int32Array,
  values: Float32Array,
  times: Int32Array | null,
  summary: RangeSummary,
  capacity: number,
  blockBytes: number,
  firstFill: number,
): number {
  let k = 0;
  let carry = 0;
  let pos = start;
  let fill = firstFill;
  for (;;) {
    if (carry === blockBytes) return -1; // a line longer than a block: the serial scanner
    if (carry >= fill) fill = Math.min(blockBytes, 2 * carry);
    const want = Math.min(fill - carry, end - pos);
    const bytesRead = want > 0 ? readSync(fd, buf, carry, want, pos) : 0;
    pos += bytesRead;
    const last = pos >= end || bytesRead === 0;
    const lastOfFile = last && endsFile; // a last line without a newline counts
    const dataEnd = carry + bytesRead;
    buf[dataEnd] = 0; // sentinel: not a digit, separator or newline
    const before = k;
    let p = 0;
    while (p < dataEnd) {
      const lineStart = p;
      let user = 0;
      let item = 0;
      let rating = 0;
      let time = 0;
      let next = -1;
      let complete = false; // all fields read, and the data ends right after them
      let c = buf[p]!;
      let digitsStart = p;
      for (;;) {
        while (c >= ZERO && c <= NINE) {
          user = user * 10 + (c - ZERO);
          c = buf[++p]!;
        }
        if (p === digitsStart || c !== sep0 || user > MAX_INT32) break;
        c = buf[++p]!;
        digitsStart = p;
        while (c >= ZERO && c <= NINE) {
          item = item * 10 + (c - ZERO);
          c = buf[++p]!;
        }
        if (p === digitsStart || c !== sep0 || item > MAX_INT32) break;
        c = buf[++p]!;
        digitsStart = p;
        while (c >= ZERO && c <= NINE) {
          rating = rating * 10 + (c - ZERO);
          c = buf[++p]!;
        }
        if (p === digitsStart) break;
        if (c === DOT) {
          c = buf[++p]!;
          digitsStart = p;
          let fraction = 0;
          let scale = 1;
          while (c >= ZERO && c <= NINE) {
            fraction = fraction * 10 + (c - ZERO);
            scale *= 10;
            c = buf[++p]!;
          }
          if (p === digitsStart) break;
          rating += fraction / scale;
        } else if (rating > MAX_INT32) break;
        if (four) {
          if (c !== sep0) break;
          c = buf[++p]!;
          digitsStart = p;
          while (c >= ZERO && c <= NINE) {
            time = time * 10 + (c - ZERO);
            c = buf[++p]!;
          }
          if (p === digitsStart || time > MAX_INT32) break;
        }
        // The line must end here: "\n", "\r\n", or at the end of the data.
        if (c === NEWLINE) next = p + 1;
        else if (c === CR && buf[p + 1] === NEWLINE && p + 1 < dataEnd) next = p + 2;
        else if (p >= dataEnd || (c === CR && p + 1 >= dataEnd)) {
          complete = true;
          p = dataEnd;
        }
        break; // the line is read
      }
      if (next < 0) {
        if (p < dataEnd) return -1; // off the fast path: the serial scanner explains it
        // Cut by the end of the data: carried into the next block, unless the data ends the file
        // and the line is whole (the file's last line without a final newline).
        if (!lastOfFile) {
          p = lineStart;
          break;
        }
        if (!complete) return -1;
        next = dataEnd;
      }
      if (
        rating < minRating ||
        rating > maxRating ||
        (step > 0 && !Number.isInteger(rating / step))
      )
        return -1;
      if (k === capacity) return -1; // cannot happen: more lines than bytes allow
      users[k] = user;
      items[k] = item;
      values[k] = rating;
      if (times !== null) times[k] = time;
      k++;
      p = next;
    }
    summary.add(users, items, before, k);
    carry = dataEnd - p;
    if (carry > 0) {
      if (last) return -1; // a range must end with a newline unless it ends the file
      buf.copy(buf, 0, p, dataEnd);
    }
    if (last) break;
    fill = Math.min(blockBytes, 2 * fill);
  }
  return k;
}

/** Any other layout (fields in any order, "::"): as readPositional, each field by its position. */
function readAnyLayout(
  fd: number,
  start: number,
  end: number,
  endsFile: boolean,
  layout: RangeLayout,
  out: RangeArrays,
  summary: RangeSummary,
): number {
  const {
    sep0,
    sep1,
    userField,
    itemField,
    ratingField,
    timeField,
    expectedFields,
    minRating,
    maxRating,
    step,
  } = layout;
  const { users, items, values, times } = out;
  const capacity = users.length;
  const buf = Buffer.allocUnsafe(Math.min(BLOCK_BYTES, Math.max(1, end - start)) + 1);
  const blockBytes = buf.length - 1;
  let k = 0;
  let carry = 0;
  let pos = start;
  let fill = Math.min(blockBytes, FIRST_BLOCK_BYTES);
  for (;;) {
    if (carry === blockBytes) return -1; // a line longer than a block: the serial scanner
    if (carry >= fill) fill = Math.min(blockBytes, 2 * carry);
    const want = Math.min(fill - carry, end - pos);
    const bytesRead = want > 0 ? readSync(fd, buf, carry, want, pos) : 0;
    pos += bytesRead;
    const last = pos >= end || bytesRead === 0;
    const lastOfFile = last && endsFile; // a last line without a newline counts
    const dataEnd = carry + bytesRead;
    buf[dataEnd] = 0; // sentinel: not a digit, separator or newline
    const before = k;
    let p = 0;
    while (p < dataEnd) {
      const lineStart = p;
      // The fields, unrolled into locals. Leaving the one-pass `line` loop early means the line is
      // off the fast path, or cut by the end of the data when p has reached dataEnd.
      let f0 = 0;
      let f1 = 0;
      let f2 = 0;
      let f3 = 0;
      let next = -1;
      let complete = false; // all fields read, and the data ends right after them
      let c = buf[p]!;
      let digitsStart = p;
      for (;;) {
        while (c >= ZERO && c <= NINE) {
          f0 = f0 * 10 + (c - ZERO);
          c = buf[++p]!;
        }
        if (p === digitsStart) break;
        if (ratingField === 0 && c === DOT) {
          c = buf[++p]!;
          digitsStart = p;
          let fraction = 0;
          let scale = 1;
          while (c >= ZERO && c <= NINE) {
            fraction = fraction * 10 + (c - ZERO);
            scale *= 10;
            c = buf[++p]!;
          }
          if (p === digitsStart) break;
          f0 += fraction / scale;
        } else if (f0 > MAX_INT32) break;
        if (c !== sep0) break;
        c = buf[++p]!;
        if (sep1 >= 0) {
          if (c !== sep1) break;
          c = buf[++p]!;
        }
        digitsStart = p;
        while (c >= ZERO && c <= NINE) {
          f1 = f1 * 10 + (c - ZERO);
          c = buf[++p]!;
        }
        if (p === digitsStart) break;
        if (ratingField === 1 && c === DOT) {
          c = buf[++p]!;
          digitsStart = p;
          let fraction = 0;
          let scale = 1;
          while (c >= ZERO && c <= NINE) {
            fraction = fraction * 10 + (c - ZERO);
            scale *= 10;
            c = buf[++p]!;
          }
          if (p === digitsStart) break;
          f1 += fraction / scale;
        } else if (f1 > MAX_INT32) break;
        if (c !== sep0) break;
        c = buf[++p]!;
        if (sep1 >= 0) {
          if (c !== sep1) break;
          c = buf[++p]!;
        }
        digitsStart = p;
        while (c >= ZERO && c <= NINE) {
          f2 = f2 * 10 + (c - ZERO);
          c = buf[++p]!;
        }
        if (p === digitsStart) break;
        if (ratingField === 2 && c === DOT) {
          c = buf[++p]!;
          digitsStart = p;
          let fraction = 0;
          let scale = 1;
          while (c >= ZERO && c <= NINE) {
            fraction = fraction * 10 + (c - ZERO);
            scale *= 10;
            c = buf[++p]!;
          }
          if (p === digitsStart) break;
          f2 += fraction / scale;
        } else if (f2 > MAX_INT32) break;
        if (expectedFields === 4) {
          if (c !== sep0) break;
          c = buf[++p]!;
          if (sep1 >= 0) {
            if (c !== sep1) break;
            c = buf[++p]!;
          }
          digitsStart = p;
          while (c >= ZERO && c <= NINE) {
            f3 = f3 * 10 + (c - ZERO);
            c = buf[++p]!;
          }
          if (p === digitsStart) break;
          if (ratingField === 3 && c === DOT) {
            c = buf[++p]!;
            digitsStart = p;
            let fraction = 0;
            let scale = 1;
            while (c >= ZERO && c <= NINE) {
              fraction = fraction * 10 + (c - ZERO);
              scale *= 10;
              c = buf[++p]!;
            }
            if (p === digitsStart) break;
            f3 += fraction / scale;
          } else if (f3 > MAX_INT32) break;
        }
        // The line must end here: "\n" or "\r\n" (or at the end of the file, below).
        if (c === NEWLINE) next = p + 1;
        else if (c === CR && buf[p + 1] === NEWLINE && p + 1 < dataEnd) next = p + 2;
        else if (p >= dataEnd || (c === CR && p + 1 >= dataEnd)) {
          complete = true;
          p = dataEnd;
        }
        break; // the line is read
      }
      if (next < 0) {
        if (p < dataEnd) return -1; // off the fast path: the serial scanner explains it
        // Cut by the end of the data: carried into the next block, or the file's last line
        // without a final newline (a range must end with a newline unless it ends the file).
        if (!lastOfFile) {
          p = lineStart;
          break;
        }
        if (!complete) return -1;
        next = dataEnd;
      }
      const rating = ratingField === 0 ? f0 : ratingField === 1 ? f1 : ratingField === 2 ? f2 : f3;
      if (
        rating < minRating ||
        rating > maxRating ||
        (step > 0 && !Number.isInteger(rating / step))
      )
        return -1;
      if (k === capacity) return -1; // cannot happen: more lines than bytes allow
      users[k] = userField === 0 ? f0 : userField === 1 ? f1 : userField === 2 ? f2 : f3;
      items[k] = itemField === 0 ? f0 : itemField === 1 ? f1 : itemField === 2 ? f2 : f3;
      values[k] = rating;
      if (times !== null)
        times[k] = timeField === 0 ? f0 : timeField === 1 ? f1 : timeField === 2 ? f2 : f3;
      k++;
      p = next;
    }
    summary.add(users, items, before, k);
    carry = dataEnd - p;
    if (carry > 0) {
      if (last) return -1; // a range must end with a newline unless it ends the file
      buf.copy(buf, 0, p, dataEnd);
    }
    if (last) break;
    fill = Math.min(blockBytes, 2 * fill);
  }
  return k;
}
