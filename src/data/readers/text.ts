import { readFileSync } from 'node:fs';
import { DataError, quoteForMessage } from '../../errors.js';
import type { RawMovies } from './types.js';

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a UTF-8 file strictly. On invalid bytes, finds the first bad line (decoding line by
 * line, only on this error path) so the message names it.
 */
export function decodeUtf8(file: string, bytes: Buffer): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    let start = 0;
    let line = 1;
    while (start < bytes.length) {
      let end = bytes.indexOf(10, start);
      if (end === -1) end = bytes.length;
      try {
        utf8Fatal.decode(bytes.subarray(start, end));
      } catch {
        throw new DataError(file, line, 'invalid UTF-8 (the file must be UTF-8 encoded)');
      }
      start = end + 1;
      line++;
    }
    throw new DataError(file, undefined, 'invalid UTF-8');
  }
}

/** Reads a whole (small) text file in the given encoding; a missing or empty file is a DataError. */
export function readTextFile(file: string, encoding: 'utf-8' | 'latin1'): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new DataError(file, undefined, describeIoError(error));
  }
  if (bytes.length === 0) throw new DataError(file, undefined, 'empty file');
  // Latin-1 is decoded by Buffer (true ISO-8859-1), not TextDecoder (which would apply windows-1252).
  return encoding === 'latin1' ? bytes.toString('latin1') : decodeUtf8(file, bytes);
}

/** One line for an fs error: "file not found", "permission denied", … */
export function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** Splits text into lines (LF or CRLF); a final newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  return lines;
}

// A trailing "(1995)" or a series' "(1994-1998)" / "(2007-)"; the first year is the release year.
const TRAILING_YEAR = /\s*\((\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)\s*$/;

/**
 * Splits MovieLens' "Title (year)" into the title and the year (0 when there is none). The
 * trailing-article form ("Incredibles, The") is MovieLens' own and is kept as is.
 */
export function splitTitleYear(full: string): { title: string; year: number } {
  const trimmed = full.trim();
  const match = TRAILING_YEAR.exec(trimmed);
  if (match === null || match.index === 0) return { title: trimmed, year: 0 };
  return { title: trimmed.slice(0, match.index), year: Number(match[1]) };
}

/** Whether a genre name means "no genre" rather than a genre. */
export function isNoGenre(name: string): boolean {
  return name === '(no genres listed)' || name === 'unknown' || name === '';
}

/** Parses a movie id field: a non-negative integer that fits in int32. Returns -1 if it is not. */
export function parseId(text: string): number {
  if (!/^\d{1,10}$/.test(text)) return -1;
  const id = Number(text);
  return id <= 2147483647 ? id : -1;
}

/**
 * Accumulates the rows of one movies file (id, title with the year split out, source line) into
 * RawMovies, so every layout validates ids and splits titles the same way.
 */
export class MovieListBuilder {
  private readonly ids: number[] = [];
  private readonly titles: string[] = [];
  private readonly years: number[] = [];
  private readonly lineNumbers: number[] = [];

  constructor(readonly file: string) {}

  /** Adds the next movie; a bad id is a DataError naming the line. */
  add(lineNo: number, idText: string, fullTitle: string): void {
    const id = parseId(idText);
    if (id < 0)
      throw new DataError(
        this.file,
        lineNo,
        `movie id ${quoteForMessage(idText)} is not a non-negative integer`,
      );
    const { title, year } = splitTitleYear(fullTitle);
    this.ids.push(id);
    this.titles.push(title);
    this.years.push(year);
    this.lineNumbers.push(lineNo);
  }

  /** The movies with their genre CSR (one entry per added movie); no movie at all is an error. */
  finish(
    genres: { genreNames: string[]; genreOffsets: Int32Array; genreIds: Int32Array },
    emptyProblem = 'no movies',
  ): RawMovies {
    if (this.ids.length === 0) throw new DataError(this.file, undefined, emptyProblem);
    return {
      file: this.file,
      ids: Int32Array.from(this.ids),
      titles: this.titles,
      years: Int32Array.from(this.years),
      ...genres,
      lines: Int32Array.from(this.lineNumbers),
    };
  }
}

/** Collects movies' genres (by name) into a genre CSR with genre ids in order of first appearance sorted by name. */
export class GenreCollector {
  private readonly idByName = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly offsets: number[] = [0];
  private readonly ids: number[] = [];

  /** Adds the genres of the next movie. */
  add(genres: readonly string[]): void {
    for (const name of genres) {
      if (isNoGenre(name)) continue;
      let id = this.idByName.get(name);
      if (id === undefined) {
        id = this.names.length;
        this.idByName.set(name, id);
        this.names.push(name);
      }
      this.ids.push(id);
    }
    this.offsets.push(this.ids.length);
  }

  /**
   * The genre CSR, with genre ids renumbered so genre names are sorted (deterministic whatever
   * the file order) and each movie's genre ids ascending.
   */
  finish(): { genreNames: string[]; genreOffsets: Int32Array; genreIds: Int32Array } {
    const sorted = [...this.names].sort();
    const renumber = this.names.map((name) => sorted.indexOf(name));
    const genreIds = Int32Array.from(this.ids, (id) => renumber[id]!);
    const genreOffsets = Int32Array.from(this.offsets);
    for (let m = 0; m + 1 < genreOffsets.length; m++)
      genreIds.subarray(genreOffsets[m], genreOffsets[m + 1]).sort();
    return { genreNames: sorted, genreOffsets, genreIds };
  }
}
