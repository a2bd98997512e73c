import { readSync } from 'node:fs';
import { fieldValues, parseLine } from './scan.js';

/**
 * The two passes the parallel scanner (parallel-scan.ts) runs over one byte range of a ratings
 * file in a worker: count its lines, then parse them into the final arrays at a given offset.
 * A range starts at a line start and ends just after a newline (or at the end of the file).
 */

const BLOCK_BYTES = 1 << 24;
const NEWLINE = 10;
const CR = 13;

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

/** The output arrays (views of shared memory), written at [offset, offset + lines of the range). */
export interface RangeOutput {
  users: Int32Array;
  items: Int32Array;
  values: Float32Array;
  timestamps: Int32Array | null;
}

/**
 * Lines in [start, end): newlines, plus one for a last line without a newline when the range ends
 * the file. Blank lines count too (the parse then refuses the range and the serial scanner,
 * which knows their rules, takes over).
 */
export function countLinesInRange(
  fd: number,
  start: number,
  end: number,
  endsFile: boolean,
): number {
  const buf = Buffer.allocUnsafe(Math.min(BLOCK_BYTES, Math.max(1, end - start)));
  let lines = 0;
  let pos = start;
  let lastByte = NEWLINE;
  while (pos < end) {
    const bytesRead = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
    if (bytesRead === 0) break;
    let p = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, p);
      if (nl === -1 || nl >= bytesRead) break;
      lines++;
      p = nl + 1;
    }
    lastByte = buf[bytesRead - 1]!;
    pos += bytesRead;
  }
  if (endsFile && end > start && lastByte !== NEWLINE) lines++;
  return lines;
}

/**
 * Parses the lines of [start, end) into `out` from `offset` on, with scan.ts's fast line parser
 * and the same rating checks. Returns the number of ratings written, or -1 at the first line the
 * fast path does not accept as it stands (bad field, off-scale rating, blank line, a line longer
 * than a block): the caller then rescans the file serially, which explains the line exactly.
 */
export function parseRange(
  fd: number,
  start: number,
  end: number,
  endsFile: boolean,
  layout: RangeLayout,
  out: RangeOutput,
  offset: number,
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
  const { users, items, values, timestamps } = out;
  const buf = Buffer.allocUnsafe(Math.min(BLOCK_BYTES, Math.max(1, end - start)));
  let k = offset;
  let carry = 0;
  let pos = start;
  while (pos < end || carry > 0) {
    if (carry === buf.length) return -1; // a line longer than a block: leave it to the serial scanner
    const bytesRead =
      pos < end ? readSync(fd, buf, carry, Math.min(buf.length - carry, end - pos), pos) : 0;
    pos += bytesRead;
    const last = pos >= end || bytesRead === 0;
    const dataEnd = carry + bytesRead;
    let p = 0;
    for (;;) {
      let nl = buf.indexOf(NEWLINE, p);
      if (nl === -1 || nl >= dataEnd) {
        if (!last || p >= dataEnd) break;
        if (!endsFile) return -1; // a range must end with a newline unless it ends the file
        nl = dataEnd; // last line of the file without a final newline
      }
      let lineEnd = nl;
      if (lineEnd > p && buf[lineEnd - 1] === CR) lineEnd--;
      if (lineEnd === p) return -1; // blank line
      const fields = parseLine(buf, p, lineEnd, sep0, sep1, ratingField);
      const rating = fieldValues[ratingField]!;
      if (
        fields !== expectedFields ||
        rating < minRating ||
        rating > maxRating ||
        (step > 0 && !Number.isInteger(rating / step))
      )
        return -1;
      if (k >= users.length) return -1; // more lines than counted: the file changed
      users[k] = fieldValues[userField]!;
      items[k] = fieldValues[itemField]!;
      values[k] = rating;
      if (timestamps !== null) timestamps[k] = fieldValues[timeField]!;
      k++;
      p = nl + 1;
    }
    carry = Math.max(0, dataEnd - p);
    if (carry > 0) buf.copy(buf, 0, p, dataEnd);
    if (last) break;
  }
  return carry > 0 ? -1 : k - offset;
}
