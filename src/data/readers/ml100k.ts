import path from 'node:path';
import { DataError, quoteForMessage } from '../../errors.js';
import { isNoGenre, MovieListBuilder, readTextFile, splitLines } from './text.js';
import type { RawMovies } from './types.js';

/**
 * MovieLens 100K movies: `u.item` is pipe-separated Latin-1,
 * `id|title|release date|video release date|IMDb URL|` then 19 genre flags (0/1) in the order
 * of `u.genre` (`name|index` lines). The "unknown" genre is not a genre: its flag is dropped.
 */
export function readMl100kMovies(dir: string): RawMovies {
  const genreFile = path.join(dir, 'u.genre');
  const itemFile = path.join(dir, 'u.item');

  const flagNames: string[] = [];
  const genreLines = splitLines(readTextFile(genreFile, 'latin1'));
  genreLines.forEach((line, i) => {
    if (line.trim() === '') return;
    const parts = line.split('|');
    const index = Number(parts[1]);
    if (parts.length !== 2 || !Number.isInteger(index) || index !== flagNames.length) {
      throw new DataError(genreFile, i + 1, `expected "name|${flagNames.length}"`);
    }
    flagNames.push(parts[0]!);
  });
  if (flagNames.length === 0) throw new DataError(genreFile, undefined, 'no genres');
  // Genre ids skip the non-genres ("unknown"); keep u.genre's order otherwise.
  const genreIdOfFlag = new Int32Array(flagNames.length).fill(-1);
  const genreNames: string[] = [];
  flagNames.forEach((name, flag) => {
    if (!isNoGenre(name)) {
      genreIdOfFlag[flag] = genreNames.length;
      genreNames.push(name);
    }
  });

  const lines = splitLines(readTextFile(itemFile, 'latin1'));
  const fieldsPerLine = 5 + flagNames.length;
  // u.item's lines all carry one flag per u.genre line: when its first two movies agree with each
  // other on a different count, u.genre is the file that is short (or long), not u.item.
  const firstTwo = lines
    .filter((line) => line !== '')
    .slice(0, 2)
    .map((line) => line.split('|').length);
  if (
    firstTwo.length > 0 &&
    firstTwo[0]! > 5 &&
    firstTwo[0] !== fieldsPerLine &&
    firstTwo.every((n) => n === firstTwo[0])
  ) {
    throw new DataError(
      genreFile,
      undefined,
      `lists ${flagNames.length} genres but the movies in u.item have ${firstTwo[0]! - 5} genre flags each (truncated or damaged u.genre?)`,
    );
  }
  const movies = new MovieListBuilder(itemFile);
  const genreOffsets: number[] = [0];
  const genreIds: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNo = i + 1;
    if (line === '') continue;
    const parts = line.split('|');
    if (parts.length !== fieldsPerLine) {
      throw new DataError(
        itemFile,
        lineNo,
        `expected ${fieldsPerLine} fields separated by "|", found ${parts.length}`,
      );
    }
    movies.add(lineNo, parts[0]!, parts[1]!);
    for (let flag = 0; flag < flagNames.length; flag++) {
      const value = parts[5 + flag];
      if (value !== '0' && value !== '1') {
        throw new DataError(
          itemFile,
          lineNo,
          `genre flag ${flag + 1} (${flagNames[flag]}) is ${quoteForMessage(value ?? '')}, expected 0 or 1`,
        );
      }
      if (value === '1' && genreIdOfFlag[flag]! >= 0) genreIds.push(genreIdOfFlag[flag]!);
    }
    genreOffsets.push(genreIds.length);
  }
  return movies.finish({
    genreNames,
    genreOffsets: Int32Array.from(genreOffsets),
    genreIds: Int32Array.from(genreIds),
  });
}
