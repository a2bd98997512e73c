import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { DataError, quoteForMessage } from '../../errors.js';
import { describeIoError } from './text.js';
import type { RatingsFormat, RawRatings } from './types.js';

/**
 * The same job as scanRatingsFile, with csv-parse (streamed): kept to measure against the byte
 * scanner (src/bench/load.ts) and as a cross-check in tests. csv-parse allocates a string per
 * field and an array per record, which is what makes it slower on the 32M-line files.
 */
export async function csvParseRatingsFile(
  file: string,
  format: RatingsFormat,
): Promise<RawRatings> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new DataError(file, undefined, describeIoError(error));
  }
  if (size === 0) throw new DataError(file, undefined, 'empty file');
  let capacity = Math.max(1024, Math.ceil(size / 20));
  let users = new Int32Array(capacity);
  let items = new Int32Array(capacity);
  let values = new Float32Array(capacity);
  let times = new Int32Array(capacity);
  let length = 0;
  let firstLine = 1;
  const scale = format.scale;
  // Only the 4-column layouts are read here (timestamps required), in header order when named.
  const columns =
    format.columns && format.columns.timestamp >= 0
      ? format.columns
      : { user: 0, item: 1, rating: 2, timestamp: 3 };
  const parser = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(
    parse({
      delimiter: format.separator,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }),
  );
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    if (info.lines === 1 && format.header && !/^\d/.test(record[0] ?? '')) {
      firstLine = 2;
      continue;
    }
    if (record.length !== 4)
      throw new DataError(file, info.lines, `expected 4 fields, found ${record.length}`);
    const user = Number(record[columns.user]);
    const item = Number(record[columns.item]);
    const rating = Number(record[columns.rating]);
    const time = Number(record[columns.timestamp]);
    if (
      !(
        Number.isInteger(user) &&
        user >= 0 &&
        Number.isInteger(item) &&
        item >= 0 &&
        Number.isInteger(time)
      )
    ) {
      throw new DataError(file, info.lines, 'ids and timestamp must be non-negative integers');
    }
    if (!Number.isFinite(rating) || (scale && (rating < scale.min || rating > scale.max))) {
      throw new DataError(
        file,
        info.lines,
        `rating ${quoteForMessage(record[columns.rating] ?? '')} is out of range`,
      );
    }
    if (length === capacity) {
      capacity = Math.ceil(capacity * 1.5);
      const grow = <T extends Int32Array | Float32Array>(a: T, make: (n: number) => T): T => {
        const b = make(capacity);
        b.set(a);
        return b;
      };
      users = grow(users, (n) => new Int32Array(n));
      items = grow(items, (n) => new Int32Array(n));
      values = grow(values, (n) => new Float32Array(n));
      times = grow(times, (n) => new Int32Array(n));
    }
    users[length] = user;
    items[length] = item;
    values[length] = rating;
    times[length] = time;
    length++;
  }
  if (length === 0) throw new DataError(file, undefined, 'no ratings (empty file or header only)');
  return { file, length, users, items, values, timestamps: times, firstLine, blankLinesBefore: [] };
}
