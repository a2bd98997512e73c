import path from 'node:path';
import { DataError } from '../../errors.js';
import { GenreCollector, parseId, readTextFile, splitLines, splitTitleYear } from './text.js';
import type { RawMovies } from './types.js';

/**
 * MovieLens 1M / 10M movies: `movies.dat`, `id::title::Genre|Genre`. ml-1m is Latin-1, ml-10m
 * UTF-8 (decoded strictly: bad bytes are an error naming the line).
 */
export function readDatMovies(dir: string, encoding: 'latin1' | 'utf-8'): RawMovies {
  const file = path.join(dir, 'movies.dat');
  const lines = splitLines(readTextFile(file, encoding));
  const ids: number[] = [];
  const titles: string[] = [];
  const years: number[] = [];
  const lineNumbers: number[] = [];
  const genres = new GenreCollector();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const parts = line.split('::');
    if (parts.length !== 3) throw new DataError(file, i + 1, `expected 3 fields (movie, title, genres) separated by "::", found ${parts.length}`);
    const id = parseId(parts[0]!);
    if (id < 0) throw new DataError(file, i + 1, `movie id ${JSON.stringify(parts[0])} is not a non-negative integer`);
    const { title, year } = splitTitleYear(parts[1]!);
    ids.push(id);
    titles.push(title);
    years.push(year);
    lineNumbers.push(i + 1);
    genres.add(parts[2]!.split('|'));
  }
  if (ids.length === 0) throw new DataError(file, undefined, 'no movies');
  return {
    file,
    ids: Int32Array.from(ids),
    titles,
    years: Int32Array.from(years),
    ...genres.finish(),
    lines: Int32Array.from(lineNumbers),
  };
}
