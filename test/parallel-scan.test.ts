/** The parallel byte scanner gives the serial scanner's arrays, or its error, for any thread count. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rangesFor, scanRatingsFileParallel } from '../src/data/readers/parallel-scan.js';
import { scanRatingsFile } from '../src/data/readers/scan.js';
import type { RatingsFormat, RawRatings } from '../src/data/readers/types.js';
import { Random } from '../src/core/random.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-parallel-scan-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let files = 0;
const write = (content: string): string => {
  const file = path.join(scratch, `ratings${files++}.csv`);
  writeFileSync(file, content);
  return file;
};

const CSV: RatingsFormat = {
  separator: ',',
  header: true,
  fields: 'auto',
  scale: { min: 0.5, max: 5, step: 0.5 },
};
const DAT: RatingsFormat = {
  separator: '::',
  header: false,
  fields: 4,
  scale: { min: 1, max: 5, step: 1 },
};

/** `lines` random rating lines (ids up to 7 digits, half stars), `fields` 3 or 4 per line. */
function ratingLines(
  lines: number,
  fields: 3 | 4,
  sep: string,
  seed: number,
  wholeStars = false,
): string[] {
  const random = new Random(seed);
  const out: string[] = [];
  for (let k = 0; k < lines; k++) {
    const user = Math.floor(random.nextFloat() * 3_000_000);
    const movie = Math.floor(random.nextFloat() * 200_000);
    const stars = wholeStars
      ? 1 + Math.floor(random.nextFloat() * 5)
      : (1 + Math.floor(random.nextFloat() * 10)) / 2;
    const parts = [user, movie, stars];
    if (fields === 4) parts.push(1_000_000_000 + Math.floor(random.nextFloat() * 1e8));
    out.push(parts.join(sep));
  }
  return out;
}

function expectSame(parallel: RawRatings, serial: RawRatings): void {
  expect(parallel.length).toBe(serial.length);
  expect(parallel.firstLine).toBe(serial.firstLine);
  expect(parallel.blankLinesBefore).toEqual(serial.blankLinesBefore);
  const n = serial.length;
  expect(Array.from(parallel.users.subarray(0, n))).toEqual(
    Array.from(serial.users.subarray(0, n)),
  );
  expect(Array.from(parallel.items.subarray(0, n))).toEqual(
    Array.from(serial.items.subarray(0, n)),
  );
  expect(Array.from(parallel.values.subarray(0, n))).toEqual(
    Array.from(serial.values.subarray(0, n)),
  );
  expect(parallel.timestamps === null).toBe(serial.timestamps === null);
  if (serial.timestamps)
    expect(Array.from(parallel.timestamps!.subarray(0, n))).toEqual(
      Array.from(serial.timestamps.subarray(0, n)),
    );
}

const caught = async (run: () => Promise<unknown>): Promise<Error> => {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
};
const caughtSync = (run: () => unknown): Error => {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
};

describe('parallel ratings scanner', () => {
  it('gives the serial arrays for 2, 3 and 5 threads: header, CRLF, timestamps or not, no final newline', async () => {
    const cases: Array<{ content: string; format: RatingsFormat }> = [
      {
        content: `userId,movieId,rating,timestamp\n${ratingLines(20_000, 4, ',', 1).join('\n')}\n`,
        format: CSV,
      },
      { content: `${ratingLines(20_000, 3, ',', 2).join('\r\n')}`, format: CSV },
      // CRLF and a final "\r" with no "\n" (the serial scanner drops it).
      { content: `${ratingLines(20_000, 4, ',', 7).join('\r\n')}\r`, format: CSV },
      { content: `${ratingLines(15_000, 4, '::', 3, true).join('\n')}`, format: DAT },
      {
        content: `user,rating,item\n${ratingLines(9_000, 3, ',', 4)
          .map((l) => {
            const [u, m, r] = l.split(',');
            return `${u},${r},${m}`;
          })
          .join('\n')}\n`,
        format: { ...CSV, columns: { user: 0, item: 2, rating: 1, timestamp: -1 } },
      },
    ];
    for (const { content, format } of cases) {
      const file = write(content);
      const serial = scanRatingsFile(file, format);
      for (const threads of [2, 3, 5]) {
        let how: { threads: number; ranges: number } | null = null;
        expectSame(
          await scanRatingsFileParallel(file, format, {
            threads,
            minBytes: 0,
            onScanned: (h) => (how = h),
          }),
          serial,
        );
        expect(how).toEqual({ threads, ranges: rangesFor(threads) }); // the worker path ran, not the fallback
      }
    }
  });

  it('a bad line deep in the file: the same one-line error as the serial scanner', async () => {
    const lines = ratingLines(30_000, 4, ',', 5);
    const bad = [
      (l: string[]) => (l[22_222] = '7,8,4.5'), // 3 fields among 4
      (l: string[]) => (l[17_001] = '7,8,6,1'), // off the scale
      (l: string[]) => (l[29_999] = '7,x,4,1'), // last line, not a number
      (l: string[]) => (l[12_345] = '7,8,4,1,9'), // 5 fields
      (l: string[]) => (l[12_346] = '7,8,4,1,'), // a trailing separator
      (l: string[]) => (l[20_000] = '7,21474836480,4,1'), // an id beyond 2^31 - 1
      (l: string[]) => (l[20_001] = '7,8,4.,1'), // a rating with a dot and no decimals
    ];
    for (const spoil of bad) {
      const copy = lines.slice();
      spoil(copy);
      const file = write(`userId,movieId,rating,timestamp\n${copy.join('\n')}\n`);
      const serialError = caughtSync(() => scanRatingsFile(file, CSV));
      let fellBack = false;
      const parallelError = await caught(() =>
        scanRatingsFileParallel(file, CSV, {
          threads: 3,
          minBytes: 0,
          onScanned: (h) => (fellBack = h === null),
        }),
      );
      expect(fellBack).toBe(true);
      expect(parallelError.message).toBe(serialError.message);
      expect(parallelError.constructor).toBe(serialError.constructor);
    }
  });

  it('blank lines keep their line numbers (the serial rules apply)', async () => {
    const lines = ratingLines(12_000, 4, ',', 6);
    lines.splice(5_000, 0, '');
    lines.splice(9_000, 0, '', '');
    const file = write(`userId,movieId,rating,timestamp\n${lines.join('\n')}\n\n`);
    const serial = scanRatingsFile(file, CSV);
    expect(serial.blankLinesBefore.length).toBeGreaterThan(0);
    expectSame(await scanRatingsFileParallel(file, CSV, { threads: 2, minBytes: 0 }), serial);
  });
});
