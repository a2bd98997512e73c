import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { DataError } from '../../errors.js';
import { decodeUtf8, describeIoError, GenreCollector, MovieListBuilder } from './text.js';
import type { RawMovies } from './types.js';

/**
 * ml-latest-small / ml-20m / ml-25m / ml-32m movies: `movies.csv` (UTF-8, header
 * `movieId,title,genres`), titles quoted when they hold commas or quotes, so it goes through
 * csv-parse (RFC 4180 quoting). The file is small (≤ 4 MB), so parsing it whole is fine.
 */
export function readCsvMovies(dir: string): RawMovies {
  const file = path.join(dir, 'movies.csv');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new DataError(file, undefined, describeIoError(error));
  }
  if (bytes.length === 0) throw new DataError(file, undefined, 'empty file');
  const text = decodeUtf8(file, bytes);

  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (error) {
    const csvError = error as { lines?: number; message?: string };
    const problem = (csvError.message ?? String(error)).split('\n')[0]!.replace(/^Invalid Record Length: /, '');
    throw new DataError(file, csvError.lines, `CSV: ${problem}`);
  }
  const movies = new MovieListBuilder(file);
  const genres = new GenreCollector();
  for (let r = 0; r < records.length; r++) {
    const { record, info } = records[r]!;
    // info.lines is the line where the record ends; a quoted title may not span lines in MovieLens.
    const lineNo = info.lines;
    if (r === 0 && record[0] === 'movieId') continue;
    if (record.length !== 3) throw new DataError(file, lineNo, `expected 3 fields (movieId, title, genres), found ${record.length}`);
    movies.add(lineNo, record[0]!, record[1]!);
    genres.add(record[2]!.split('|'));
  }
  return movies.finish(genres.finish(), 'no movies (header only)');
}
