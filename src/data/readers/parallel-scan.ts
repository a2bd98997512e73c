import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseLine, POSITIONAL, scanRatingsFile } from './scan.js';
import type { RangeLayout } from './scan-range.js';
import type { RatingsFormat, RawRatings } from './types.js';

/**
 * The byte scanner of scan.ts run on worker threads, for large files (MovieLens-32M: 873 MB).
 *
 * The main thread reads line 1 (header or not, 3 or 4 fields) and cuts the rest of the file into
 * byte ranges that each start just after a newline. Pass 1: the workers count each range's lines,
 * so rating k of range r lands at (lines before r) + k; the final arrays are then allocated at
 * their exact size in shared memory and pass 2 parses every range straight into them. The result
 * is the same arrays as the serial scanner's for any number of threads or ranges.
 *
 * Anything off the fast path (a bad or off-scale rating, a blank line, a file that changes
 * between passes, a worker that cannot start) makes it rescan the file with the serial scanner,
 * which gives the same result or throws its one-line error naming the file and line: the
 * parallel path never words an error of its own, so messages stay identical.
 */

/** Below this size the serial scanner is used: worker start-up (~50 ms) would not pay. */
const DEFAULT_MIN_BYTES = 32 * 2 ** 20;
/** Ranges per thread: small enough that a thread slowed by other load does not hold up the rest. */
const RANGES_PER_THREAD = 4;
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

interface ByteRange {
  start: number;
  end: number;
  endsFile: boolean;
}

/** Messages to a scan worker. */
export type ScanRequest =
  | { type: 'count'; file: string; range: ByteRange }
  | {
      type: 'parse';
      file: string;
      range: ByteRange;
      layout: RangeLayout;
      offset: number;
      users: SharedArrayBuffer;
      items: SharedArrayBuffer;
      values: SharedArrayBuffer;
      timestamps: SharedArrayBuffer | null;
    };

/** A worker's answer: the range's line count (count) or ratings written, −1 = refused (parse). */
export type ScanReply = { type: 'done'; value: number } | { type: 'error'; message: string };

/** Path of the compiled worker: next to this file in dist/, or in dist/ when run from src/ (vitest). */
function workerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('../../../dist/data/readers/scan-worker.js', here);
  return new URL('./scan-worker.js', here);
}

/** Reads a numeric ratings file like scanRatingsFile, on worker threads when it is large. */
export async function scanRatingsFileParallel(
  file: string,
  format: RatingsFormat,
  options: ParallelScanOptions = {},
): Promise<RawRatings> {
  const threads = Math.max(1, Math.floor(options.threads ?? Math.min(8, availableParallelism())));
  const minBytes = options.minBytes ?? DEFAULT_MIN_BYTES;
  const url = workerUrl();
  const serially = (): RawRatings => {
    options.onScanned?.(null);
    return scanRatingsFile(file, format);
  };
  if (threads < 2 || !existsSync(fileURLToPath(url))) return serially();
  const plan = planRanges(file, format, threads * RANGES_PER_THREAD, minBytes);
  if (plan === null) return serially();
  const raw = await scanOnWorkers(url, file, plan, threads);
  if (raw === null) return serially();
  options.onScanned?.({
    threads: Math.min(threads, plan.ranges.length),
    ranges: plan.ranges.length,
  });
  return raw;
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

/** The two passes on `threads` workers; null when any range is refused or a worker fails. */
async function scanOnWorkers(
  url: URL,
  file: string,
  plan: ScanPlan,
  threads: number,
): Promise<RawRatings | null> {
  const { ranges, layout } = plan;
  const workers: Worker[] = [];
  const pending: Array<((reply: ScanReply) => void) | null> = [];
  const ask = (w: number, message: ScanRequest): Promise<number> =>
    new Promise((resolve, reject) => {
      pending[w] = (reply) =>
        reply.type === 'done' ? resolve(reply.value) : reject(new Error(reply.message));
      workers[w]!.postMessage(message);
    });
  /** Runs one request per range, each idle worker taking the next; the values in range order. */
  const everyRange = async (request: (r: number) => ScanRequest): Promise<number[]> => {
    const values = new Array<number>(ranges.length).fill(0);
    let next = 0;
    await Promise.all(
      workers.map(async (_, w) => {
        while (next < ranges.length) {
          const r = next++;
          values[r] = await ask(w, request(r));
        }
      }),
    );
    return values;
  };
  try {
    for (let w = 0; w < Math.min(threads, ranges.length); w++) {
      const worker = new Worker(url);
      workers.push(worker);
      pending.push(null);
      const fail = (message: string): void => {
        const handler = pending[w];
        pending[w] = null;
        handler?.({ type: 'error', message });
      };
      worker.on('message', (reply: ScanReply) => {
        const handler = pending[w];
        pending[w] = null;
        handler?.(reply);
      });
      worker.on('error', (error: Error) => fail(error.message));
      worker.on('exit', () => fail('scan worker exited'));
    }
    const counts = await everyRange((r) => ({ type: 'count', file, range: ranges[r]! }));
    const offsets = new Array<number>(ranges.length + 1).fill(0);
    for (let r = 0; r < ranges.length; r++) offsets[r + 1] = offsets[r]! + counts[r]!;
    const total = offsets[ranges.length]!;
    if (total === 0) return null;
    const users = new SharedArrayBuffer(total * 4);
    const items = new SharedArrayBuffer(total * 4);
    const values = new SharedArrayBuffer(total * 4);
    const timestamps = layout.expectedFields === 4 ? new SharedArrayBuffer(total * 4) : null;
    const written = await everyRange((r) => ({
      type: 'parse',
      file,
      range: ranges[r]!,
      layout,
      offset: offsets[r]!,
      users,
      items,
      values,
      timestamps,
    }));
    for (let r = 0; r < ranges.length; r++) if (written[r] !== counts[r]) return null;
    return {
      file,
      length: total,
      users: new Int32Array(users),
      items: new Int32Array(items),
      values: new Float32Array(values),
      timestamps: timestamps === null ? null : new Int32Array(timestamps),
      firstLine: plan.firstLine,
      blankLinesBefore: [],
    };
  } catch {
    return null;
  } finally {
    for (const worker of workers) worker.removeAllListeners('exit');
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
