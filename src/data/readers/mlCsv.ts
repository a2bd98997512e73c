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

  // Record r sits on line r + 1 when no line is blank (records never span lines: checked below);
  // csv-parse's per-record line info then is not needed, and it costs ~40 % of the parse
  // (~0.2 s on MovieLens-32M's 87K movies, taken from the worker threads parsing the ratings).
  const lineByIndex = !/^\r?\n|\n\r?\n/.test(text);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    const parsed = parse(text, {
      info: !lineByIndex,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown[];
    records = lineByIndex
      ? (parsed as string[][]).map((record, r) => ({ record, info: { lines: r + 1 } }))
      : (parsed as typeof records);
  } catch (error) {
    const csvError = error as { code?: string; lines?: number; message?: string };
    // csv-parse reports an unclosed quote where the file ends; name the line where it opened.
    const opened = unbalancedQuoteLine(text);
    if (csvError.code === 'CSV_QUOTE_NOT_CLOSED' && opened !== undefined)
      throw unbalancedQuote(file, opened);
    const problem = (csvError.message ?? String(error))
      .split('\n')[0]!
      .replace(/^Invalid Record Length: /, '');
    throw new DataError(file, csvError.lines, `CSV: ${problem}`);
  }
  const movies = new MovieListBuilder(file);
  const genres = new GenreCollector();
  for (let r = 0; r < records.length; r++) {
    const { record, info } = records[r]!;
    // info.lines is the line where the record ends; a quoted title may not span lines in MovieLens.
    const lineNo = info.lines;
    if (r === 0 && record[0] === 'movieId') continue;
    if (record.some((field) => field.includes('\n'))) {
      // A quoted field ran over line ends: a quote opened earlier and closed lines later.
      throw unbalancedQuote(file, unbalancedQuoteLine(text) ?? lineNo);
    }
    if (record.length !== 3)
      throw new DataError(
        file,
        lineNo,
        `expected 3 fields (movieId, title, genres), found ${record.length}`,
      );
    movies.add(lineNo, record[0]!, record[1]!);
    genres.add(record[2]!.split('|'));
  }
  return movies.finish(genres.finish(), 'no movies (header only)');
}

function unbalancedQuote(file: string, line: number): DataError {
  return new DataError(
    file,
    line,
    'unbalanced quote: a quoted field opens on this line and is not closed on it',
  );
}

/**
 * The first line with an odd number of double quotes: where a quoted field opens without closing
 * (MovieLens titles never span lines, and "" inside a quoted field counts twice). Error path only.
 */
function unbalancedQuoteLine(text: string): number | undefined {
  let line = 1;
  let quotes = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === 34) quotes++;
    else if (c === 10) {
      if (quotes % 2 === 1) return line;
      line++;
      quotes = 0;
    }
  }
  return quotes % 2 === 1 ? line : undefined;
}
