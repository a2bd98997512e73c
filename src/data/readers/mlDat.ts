import path from 'node:path';
import { DataError } from '../../errors.js';
import { GenreCollector, MovieListBuilder, readTextFile, splitLines } from './text.js';
import type { RawMovies } from './types.js';

/**
 * MovieLens 1M / 10M movies: `movies.dat`, `id::title::Genre|Genre`. ml-1m is Latin-1, ml-10m
 * UTF-8 (decoded strictly: bad bytes are an error naming the line).
 */
export function readDatMovies(dir: string, encoding: 'latin1' | 'utf-8'): RawMovies {
  const file = path.join(dir, 'movies.dat');
  const lines = splitLines(readTextFile(file, encoding));
  const movies = new MovieListBuilder(file);
  const genres = new GenreCollector();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const parts = line.split('::');
    if (parts.length !== 3)
      throw new DataError(
        file,
        i + 1,
        `expected 3 fields (movie, title, genres) separated by "::", found ${parts.length}`,
      );
    movies.add(i + 1, parts[0]!, parts[1]!);
    genres.add(parts[2]!.split('|'));
  }
  return movies.finish(genres.finish());
}
