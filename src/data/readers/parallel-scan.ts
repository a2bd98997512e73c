import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ColumnsRequest, ScatterRequest, SortRequest } from '../parallel-index.js';
import { parseLine, POSITIONAL, scanRatingsFile } from './scan.js';
import type { RangeLayout, RangeScan } from './scan-range.js';
import type { RatingsFormat, RawRatings } from './types.js';

/**
 * The byte scanner of scan.ts run on worker threads, for large files (MovieLens-32M: 873 MB).
 *
 * The main thread reads line 1 (header or not, 3 or 4 fields) and cuts the rest of the file into
 * byte ranges that each start just after a newline. Each worker parses the ranges it takes in one
 * pass into arrays of its own (growable shared memory) and counts the ratings of every user and
 * movie id on the way (scan-range.ts); the ratings in range order are the file's ratings in file
 * order, the same arrays as the serial scanner's for any number of threads or ranges. The same
 * workers then build the indexes (parallel-index.ts) and hash them for the fingerprint.
 *
 * Anything off the fast path (a bad or off-scale rating, a blank line, a worker that cannot
 * start) makes it rescan the file with the serial scanner, which gives the same result or throws
 * its one-line error naming the file and line: the parallel path never words an error of its
 * own, so messages stay identical.
 */

/** Below this size the serial scanner is used: worker start-up (~50 ms) would not pay. */
const DEFAULT_MIN_BYTES = 32 * 2 ** 20;
/**
 * How many ranges the file is cut into for `threads` workers: several per thread, so that a
 * thread slowed by other load does not hold up the rest and the first two ranges a worker parses,
 * before V8 has fully optimized the line loop (~1.7× slower), are a small share of its work; but
 * not many more than 32 in all, as every range has count tables as long as the largest id (a
 * few MB on MovieLens-32M) that the main thread sums.
 */
export const rangesFor = (threads: number): number => Math.max(32, 4 * threads);
/** How far past a cut point a newline is looked for (longer lines: serial scanner). */
const WINDOW_BYTES = 1 << 16;
const NEWLINE = 10;
const CR = 13;
const ZERO = 48;
const NINE = 57;

export interface ParallelScanOptions {
  /** Worker threads (default: the available cores, at most 8); 1 = the serial scanner. */
  threads?: number;
  /** Files smaller than this use the serial scanner (default 32 MiB). */
  minBytes?: number;
  /** Told how the file was read: by how many threads over how many ranges, or null = serially. */
  onScanned?: (how: { threads: number; ranges: number } | null) => void;
}

export interface ByteRange {
  start: number;
  end: number;
  endsFile: boolean;
}

/** A view of a whole (or the start of a) shared buffer: what crosses to a worker. */
export interface SharedSlice {
  buffer: SharedArrayBuffer;
  length: number;
}

/** Messages to a scan worker. */
export type ScanRequest =
  | { type: 'parse'; file: string; range: ByteRange; layout: RangeLayout }
  | ScatterRequest
  | ColumnsRequest
  | SortRequest
  | { type: 'mix'; words: SharedSlice };

/** A worker's answer: the request's result (null = refused: the serial path takes over). */
export type ScanReply = { type: 'done'; value: unknown } | { type: 'error'; message: string };

/** Path of the compiled worker: next to this file in dist/, or in dist/ when run from src/ (vitest). */
function workerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('../../../dist/data/readers/scan-worker.js', here);
  return new URL('./scan-worker.js', here);
}

/**
 * Worker threads kept for one load: the parse, the index build and the hashing each hand out
 * tasks, every idle worker taking the next. Any worker failure rejects the tasks in flight.
 */
export class ScanCrew {
  private readonly workers: Worker[] = [];
  private readonly pending: Array<((reply: ScanReply) => void) | null> = [];

  private constructor(url: URL, threads: number) {
    for (let w = 0; w < threads; w++) {
      const worker = new Worker(url);
      this.workers.push(worker);
      this.pending.push(null);
      const fail = (message: string): void => {
        const handler = this.pending[w];
        this.pending[w] = null;
        handler?.({ type: 'error', message });
      };
      worker.on('message', (reply: ScanReply) => {
        const handler = this.pending[w];
        this.pending[w] = null;
        handler?.(reply);
      });
      worker.on('error', (error: Error) => fail(error.message));
      worker.on('exit', () => fail('scan worker exited'));
    }
  }

  /** A crew of `threads` workers, or null when the compiled worker is missing (run from source). */
  static start(threads: number): ScanCrew | null {
    const url = workerUrl();
    if (threads < 2 || !existsSync(fileURLToPath(url))) return null;
    return new ScanCrew(url, threads);
  }

  get size(): number {
    return this.workers.length;
  }

  private ask(w: number, message: ScanRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending[w] = (reply) =>
        reply.type === 'done' ? resolve(reply.value) : reject(new Error(reply.message));
      this.workers[w]!.postMessage(message);
    });
  }

  /** Runs the requests (each idle worker takes the next); the results in request order. */
  async run<T>(requests: ScanRequest[]): Promise<T[]> {
    const results = new Array<T>(requests.length);
    let next = 0;
    await Promise.all(
      this.workers.map(async (_, w) => {
        while (next < requests.length) {
          const r = next++;
          results[r] = (await this.ask(w, requests[r]!)) as T;
        }
      }),
    );
    return results;
  }

  async close(): Promise<void> {
    for (const worker of this.workers) worker.removeAllListeners('exit');
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** One parsed range, as views (see RangeScan). */
export interface ScannedRange {
  count: number;
  users: Int32Array;
  items: Int32Array;
  values: Float32Array;
  timestamps: Int32Array | null;
  /** Ratings per original user / movie id in this range (index = id), or null: ids too large. */
  userCounts: Int32Array | null;
  itemCounts: Int32Array | null;
  firstUser: number;
  firstItem: number;
  lastUser: number;
  lastItem: number;
  sortedByUser: boolean;
  strictlyIncreasing: boolean;
}

/** A ratings file parsed by ranges: the ranges in file order. */
export interface ScannedRatings {
  file: string;
  length: number;
  firstLine: number;
  hasTimestamps: boolean;
  ranges: ScannedRange[];
}

/**
 * Parses a large ratings file on a crew of workers. Null (and no crew) when the file is small,
 * the worker is missing or anything is off the fast path: the caller then uses the serial
 * scanner. The caller closes the crew it gets, and may set `scanned` to null to let go of it.
 */
export async function scanOnCrew(
  file: string,
  format: RatingsFormat,
  options: ParallelScanOptions = {},
): Promise<{ crew: ScanCrew; scanned: ScannedRatings | null } | null> {
  const threads = Math.max(1, Math.floor(options.threads ?? Math.min(8, availableParallelism())));
  if (threads < 2) return null;
  const plan = planRanges(file, format, rangesFor(threads), options.minBytes ?? DEFAULT_MIN_BYTES);
  if (plan === null) return null;
  const crew = ScanCrew.start(Math.min(threads, plan.ranges.length));
  if (crew === null) return null;
  try {
    const parsed = await crew.run<RangeScan | null>(
      plan.ranges.map((range) => ({ type: 'parse', file, range, layout: plan.layout })),
    );
    const ranges: ScannedRange[] = [];
    let length = 0;
    for (const scan of parsed) {
      if (scan === null) throw new Error('refused');
      ranges.push(rangeViews(scan));
      length += scan.count;
    }
    if (length === 0) throw new Error('no ratings');
    return {
      crew,
      scanned: {
        file,
        length,
        firstLine: plan.firstLine,
        hasTimestamps: plan.layout.timeField >= 0,
        ranges,
      },
    };
  } catch {
    await crew.close();
    return null;
  }
}

function rangeViews(scan: RangeScan): ScannedRange {
  const n = scan.count;
  const counts = (buffer: SharedArrayBuffer | null, length: number): Int32Array | null =>
    buffer === null ? null : new Int32Array(buffer, 0, length);
  return {
    count: n,
    users: new Int32Array(scan.users, 0, n),
    items: new Int32Array(scan.items, 0, n),
    values: new Float32Array(scan.values, 0, n),
    timestamps: scan.timestamps === null ? null : new Int32Array(scan.timestamps, 0, n),
    userCounts: counts(scan.userCounts, scan.userCountsLength),
    itemCounts: counts(scan.itemCounts, scan.itemCountsLength),
    firstUser: scan.firstUser,
    firstItem: scan.firstItem,
    lastUser: scan.lastUser,
    lastItem: scan.lastItem,
    sortedByUser: scan.sortedByUser,
    strictlyIncreasing: scan.strictlyIncreasing,
  };
}

/** The ranges joined into one RawRatings (file order), as the serial scanner returns them. */
export function joinScanned(scanned: ScannedRatings): RawRatings {
  const n = scanned.length;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const values = new Float32Array(n);
  const timestamps = scanned.hasTimestamps ? new Int32Array(n) : null;
  let at = 0;
  for (const range of scanned.ranges) {
    users.set(range.users, at);
    items.set(range.items, at);
    values.set(range.values, at);
    if (timestamps !== null) timestamps.set(range.timestamps!, at);
    at += range.count;
  }
  return {
    file: scanned.file,
    length: n,
    users,
    items,
    values,
    timestamps,
    firstLine: scanned.firstLine,
    blankLinesBefore: [],
  };
}

/** Reads a numeric ratings file like scanRatingsFile, on worker threads when it is large. */
export async function scanRatingsFileParallel(
  file: string,
  format: RatingsFormat,
  options: ParallelScanOptions = {},
): Promise<RawRatings> {
  const result = await scanOnCrew(file, format, options);
  if (result === null) {
    options.onScanned?.(null);
    return scanRatingsFile(file, format);
  }
  const scanned = result.scanned!;
  options.onScanned?.({ threads: result.crew.size, ranges: scanned.ranges.length });
  await result.crew.close();
  return joinScanned(scanned);
}

interface ScanPlan {
  ranges: ByteRange[];
  layout: RangeLayout;
  firstLine: number;
}

/**
 * Line 1 (header skipped as the serial scanner does, fields counted) and the cut points; null when
 * the file is small, unreadable or its start is off the fast path (the serial scanner decides).
 */
function planRanges(
  file: string,
  format: RatingsFormat,
  rangeCount: number,
  minBytes: number,
): ScanPlan | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < Math.max(minBytes, 1)) return null;
    const window = Buffer.allocUnsafe(Math.min(WINDOW_BYTES, size));
    const headBytes = readSync(fd, window, 0, window.length, 0);
    const lineEndAt = (from: number): number => {
      const nl = window.indexOf(NEWLINE, from);
      return nl === -1 || nl >= headBytes ? -1 : nl;
    };
    let nl = lineEndAt(0);
    if (nl <= 0) return null;
    let dataStart = 0;
    let firstLine = 1;
    if (format.header && (window[0]! < ZERO || window[0]! > NINE)) {
      dataStart = nl + 1;
      firstLine = 2;
      nl = lineEndAt(dataStart);
      if (nl === -1) return null;
    }
    const lineEnd = nl > dataStart && window[nl - 1] === CR ? nl - 1 : nl;
    if (lineEnd === dataStart) return null;
    const columns = format.columns ?? POSITIONAL;
    const fields = parseLine(
      window,
      dataStart,
      lineEnd,
      format.separator.charCodeAt(0),
      format.separator.length > 1 ? format.separator.charCodeAt(1) : -1,
      columns.rating,
    );
    const expectedFields = format.columns
      ? format.columns.timestamp >= 0
        ? 4
        : 3
      : format.fields === 'auto'
        ? fields
        : 4;
    if (fields !== expectedFields || (fields !== 3 && fields !== 4)) return null;

    const cuts = [dataStart];
    for (let r = 1; r < rangeCount; r++) {
      const at = dataStart + Math.floor(((size - dataStart) * r) / rangeCount);
      if (at <= cuts[cuts.length - 1]!) continue;
      const got = readSync(fd, window, 0, Math.min(window.length, size - at), at);
      const next = window.indexOf(NEWLINE, 0);
      if (next === -1 || next >= got) return null;
      const cut = at + next + 1;
      if (cut > cuts[cuts.length - 1]! && cut < size) cuts.push(cut);
    }
    cuts.push(size);
    const ranges: ByteRange[] = [];
    for (let r = 0; r + 1 < cuts.length; r++)
      ranges.push({ start: cuts[r]!, end: cuts[r + 1]!, endsFile: cuts[r + 1] === size });
    const scale = format.scale;
    return {
      ranges,
      firstLine,
      layout: {
        sep0: format.separator.charCodeAt(0),
        sep1: format.separator.length > 1 ? format.separator.charCodeAt(1) : -1,
        userField: columns.user,
        itemField: columns.item,
        ratingField: columns.rating,
        timeField: expectedFields === 4 ? columns.timestamp : -1,
        expectedFields,
        minRating: scale ? scale.min : -Infinity,
        maxRating: scale ? scale.max : Infinity,
        step: scale ? scale.step : 0,
      },
    };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
