import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DataError } from '../../errors.js';
import { describeIoError } from './text.js';
import { quoteForMessage } from '../../errors.js';
import type { ColumnMap, RatingsFormat, RawRatings } from './types.js';

/**
 * A hand-written byte scanner for numeric rating files (u.data, ratings.dat, ratings.csv, plain
 * CSV/TSV): `user SEP movie SEP rating [SEP timestamp]` per line.
 *
 * Why not a CSV library: on MovieLens-32M (32M lines, ~850 MB) a general CSV parser allocates a
 * string per field and an array per record; this scanner reads the file in 16 MB chunks into one
 * Buffer and parses the digits straight into typed arrays, so memory stays at the arrays
 * themselves. Only a line that fails the fast path is decoded to a string, to explain the error.
 */

const CHUNK_BYTES = 1 << 24;
const MAX_INT32 = 2147483647;
const NEWLINE = 10;
const CR = 13;
const ZERO = 48;
const NINE = 57;
const DOT = 46;

// The fields of the line being parsed (module scope: no allocation per line).
export const fieldValues = new Float64Array(5);

/**
 * Parses one line [start, end) into `fieldValues`; returns the number of fields, or -1 when the
 * line is not of the fast form (then the slow path explains what is wrong). Every field is a
 * non-negative integer ≤ 2^31−1 but the rating's (`ratingField`), a decimal `digits[.digits]`.
 */
export function parseLine(
  buf: Buffer,
  start: number,
  end: number,
  sep0: number,
  sep1: number,
  ratingField: number,
): number {
  let p = start;
  let field = 0;
  for (;;) {
    if (field >= 4) return -1;
    let value = 0;
    const digitsStart = p;
    while (p < end) {
      const c = buf[p]!;
      if (c < ZERO || c > NINE) break;
      value = value * 10 + (c - ZERO);
      p++;
    }
    if (p === digitsStart) return -1;
    if (field === ratingField && p < end && buf[p] === DOT) {
      p++;
      let scale = 1;
      let fraction = 0;
      const fractionStart = p;
      while (p < end) {
        const c = buf[p]!;
        if (c < ZERO || c > NINE) break;
        fraction = fraction * 10 + (c - ZERO);
        scale *= 10;
        p++;
      }
      if (p === fractionStart) return -1;
      value += fraction / scale;
    } else if (value > MAX_INT32) {
      return -1;
    }
    fieldValues[field++] = value;
    if (p === end) return field;
    if (buf[p] !== sep0) return -1;
    p++;
    if (sep1 >= 0) {
      if (p >= end || buf[p] !== sep1) return -1;
      p++;
    }
  }
}

export const POSITIONAL: ColumnMap = { user: 0, item: 1, rating: 2, timestamp: 3 };

/** Field names by position, for messages: ['user id', 'movie id', 'rating', 'timestamp'] in file order. */
function fieldNames(columns: ColumnMap): string[] {
  const names: string[] = [];
  names[columns.user] = 'user id';
  names[columns.item] = 'movie id';
  names[columns.rating] = 'rating';
  if (columns.timestamp >= 0) names[columns.timestamp] = 'timestamp';
  return names;
}

/** The slow path: explains why a line failed the fast path, as a DataError naming file and line. */
function explainLine(
  file: string,
  lineNo: number,
  text: string,
  format: RatingsFormat,
  expectedFields: number,
  lastLineWithoutNewline: boolean,
): DataError {
  const parts = text.split(format.separator);
  const columns = format.columns ?? POSITIONAL;
  const names = fieldNames(columns);
  if (parts.length !== expectedFields) {
    const truncated =
      lastLineWithoutNewline && parts.length < expectedFields ? ' (truncated last line?)' : '';
    const want = format.columns
      ? `${expectedFields} fields (${names
          .slice(0, expectedFields)
          .map((n) => n.replace(' id', ''))
          .join(', ')})`
      : expectedFields === 4
        ? '4 fields (user, movie, rating, timestamp)'
        : '3 fields (user, movie, rating)';
    return new DataError(
      file,
      lineNo,
      `expected ${want} separated by ${JSON.stringify(format.separator)}, found ${parts.length}${truncated}`,
    );
  }
  for (let f = 0; f < parts.length; f++) {
    const field = parts[f]!;
    const name = names[f]!;
    if (f === columns.rating) {
      if (!/^-?\d+(\.\d+)?$/.test(field))
        return new DataError(file, lineNo, `rating ${quoteForMessage(field)} is not a number`);
      const rating = Number(field);
      const problem = ratingProblem(rating, format);
      if (problem) return new DataError(file, lineNo, problem);
      continue;
    }
    if (/^-\d+$/.test(field))
      return new DataError(file, lineNo, `${name} ${clipDigits(field)} is negative`);
    if (!/^\d+$/.test(field))
      return new DataError(
        file,
        lineNo,
        `${name} ${quoteForMessage(field)} is not a non-negative integer`,
      );
    if (Number(field) > MAX_INT32)
      return new DataError(
        file,
        lineNo,
        `${name} ${clipDigits(field)} is too large (max ${MAX_INT32})`,
      );
  }
  return new DataError(file, lineNo, `cannot parse line ${quoteForMessage(text)}`);
}

/** A run of digits for a message (a 10 MB one is cut). */
const clipDigits = (digits: string): string =>
  digits.length > 24 ? `${digits.slice(0, 24)}…` : digits;

/** Why a rating is not allowed by the format's scale, or '' when it is. */
function ratingProblem(rating: number, format: RatingsFormat): string {
  const scale = format.scale;
  if (!Number.isFinite(rating)) return `rating ${rating} is not a finite number`;
  if (scale === null) return '';
  if (rating < scale.min || rating > scale.max)
    return `rating ${rating} is outside ${scale.min}..${scale.max}`;
  if (!Number.isInteger(rating / scale.step))
    return `rating ${rating} is not a multiple of ${scale.step}`;
  return '';
}

/** Reads a numeric ratings file with the byte scanner. Errors are DataErrors naming file and line. */
export function scanRatingsFile(file: string, format: RatingsFormat): RawRatings {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new DataError(file, undefined, describeIoError(error));
  }
  try {
    return scanOpenFile(fd, file, format);
  } finally {
    closeSync(fd);
  }
}

function scanOpenFile(fd: number, file: string, format: RatingsFormat): RawRatings {
  const size = fstatSync(fd).size;
  if (size === 0) throw new DataError(file, undefined, 'empty file');
  const sep0 = format.separator.charCodeAt(0);
  const sep1 = format.separator.length > 1 ? format.separator.charCodeAt(1) : -1;
  const scale = format.scale;
  const minRating = scale ? scale.min : -Infinity;
  const maxRating = scale ? scale.max : Infinity;
  const step = scale ? scale.step : 0;
  const columns = format.columns ?? POSITIONAL;
  const userField = columns.user;
  const itemField = columns.item;
  const ratingField = columns.rating;
  const timeField = columns.timestamp;

  // MovieLens lines are ~20–27 bytes; start near the expected count and grow by 1.5×.
  let capacity = Math.max(1024, Math.ceil(size / 20));
  let users = new Int32Array(capacity);
  let items = new Int32Array(capacity);
  let values = new Float32Array(capacity);
  let times = new Int32Array(capacity);
  let length = 0;

  let expectedFields = format.columns
    ? format.columns.timestamp >= 0
      ? 4
      : 3
    : format.fields === 'auto'
      ? 0
      : 4;
  let firstLine = 1;
  const blankLinesBefore: number[] = [];

  let buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size + 1));
  let carry = 0; // bytes of an incomplete line kept at the start of buf
  let filePos = 0;
  let lineNo = 0;
  let eof = false;
  while (!eof) {
    if (carry === buf.length) {
      // A line longer than the buffer: grow (only pathological inputs get here).
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, carry);
      buf = bigger;
    }
    const bytesRead = readSync(fd, buf, carry, buf.length - carry, filePos);
    filePos += bytesRead;
    eof = bytesRead === 0;
    const end = carry + bytesRead;
    let p = 0;
    for (;;) {
      let nl = buf.indexOf(NEWLINE, p);
      let lineEnd: number;
      if (nl === -1 || nl >= end) {
        if (!eof || p >= end) break;
        nl = end; // last line without a final newline
      }
      lineEnd = nl;
      if (lineEnd > p && buf[lineEnd - 1] === CR) lineEnd--;
      lineNo++;
      if (lineEnd === p) {
        // Blank line: skipped, but remembered so error messages keep the right line numbers.
        if (lineNo === 1) firstLine = 2;
        else blankLinesBefore.push(length);
        p = nl + 1;
        continue;
      }
      if (lineNo === 1 && format.header) {
        const c = buf[p]!;
        if (c < ZERO || c > NINE) {
          firstLine = 2;
          p = nl + 1;
          continue;
        }
      }
      const fields = parseLine(buf, p, lineEnd, sep0, sep1, ratingField);
      if (expectedFields === 0 && (fields === 3 || fields === 4)) expectedFields = fields;
      const rating = fieldValues[ratingField]!;
      if (
        fields !== expectedFields ||
        rating < minRating ||
        rating > maxRating ||
        (step > 0 && !Number.isInteger(rating / step))
      ) {
        const text = buf.toString('utf-8', p, lineEnd);
        if (expectedFields === 0)
          expectedFields = text.split(format.separator).length === 3 ? 3 : 4;
        throw explainLine(file, lineNo, text, format, expectedFields, eof && nl === end);
      }
      if (length === capacity) {
        capacity = Math.ceil(capacity * 1.5);
        users = grow(users, capacity);
        items = grow(items, capacity);
        values = growFloat(values, capacity);
        times = grow(times, capacity);
      }
      users[length] = fieldValues[userField]!;
      items[length] = fieldValues[itemField]!;
      values[length] = rating;
      if (fields === 4) times[length] = fieldValues[timeField]!;
      length++;
      p = nl + 1;
    }
    carry = Math.max(0, end - p);
    if (carry > 0) buf.copy(buf, 0, p, end);
  }
  if (length === 0) throw new DataError(file, undefined, 'no ratings (empty file or header only)');
  return {
    file,
    length,
    users,
    items,
    values,
    timestamps: expectedFields === 4 ? times : null,
    firstLine,
    blankLinesBefore,
  };
}

function grow(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(capacity);
  bigger.set(array);
  return bigger;
}

function growFloat(array: Float32Array, capacity: number): Float32Array<ArrayBuffer> {
  const bigger = new Float32Array(capacity);
  bigger.set(array);
  return bigger;
}
