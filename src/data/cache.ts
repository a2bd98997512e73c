import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileSystemError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import type { Dataset, DatasetInfo } from './types.js';

/**
 * The binary cache: one file per data folder holding everything loadDataset builds, so a later
 * load is one read plus typed-array views (no parsing, no index building).
 *
 * File layout (little-endian, as the typed arrays are on every platform Node runs on):
 *   bytes 0..7   magic "ALSCACH1"
 *   bytes 8..11  header length H (uint32)
 *   bytes 12..15 zero
 *   16..16+H     JSON header (CacheHeader), then zero padding to a multiple of 8
 *   then each array's raw bytes, each starting at a multiple of 8 (its `byteOffset`).
 * The header records the source files' sizes and mtimes: any change invalidates the cache.
 */

const MAGIC = 'ALSCACH1';
const FORMAT_VERSION = 1;
const PREFIX_BYTES = 16;

/** Identity of a source file at the time it was read. */
export interface SourceStamp {
  name: string;
  size: number;
  mtimeMs: number;
}

/** What loading found besides the data itself (kept in the cache so a cached load says the same). */
export interface LoadNotes {
  /** Warnings given while reading (re-emitted on cached loads). */
  warnings: string[];
  /** Whether the source had repeated (user, movie) pairs (then the cache only serves dedupe "last"). */
  hadDuplicates: boolean;
}

type ArrayKind = 'i32' | 'f32';
interface ArrayEntry {
  name: string;
  kind: ArrayKind;
  byteOffset: number;
  length: number;
}

interface CacheHeader {
  version: number;
  dir: string;
  sources: SourceStamp[];
  info: DatasetInfo;
  numUsers: number;
  numItems: number;
  numRatings: number;
  titles: string[];
  genreNames: string[];
  notes: LoadNotes;
  arrays: ArrayEntry[];
  totalBytes: number;
}

/** Stamps (name, size, mtime) of the given files. */
export function stampSources(files: string[]): SourceStamp[] {
  return files.map((file) => {
    const stat = statSync(file);
    return { name: path.basename(file), size: stat.size, mtimeMs: stat.mtimeMs };
  });
}

/** The cache file for a data folder: named after the folder, keyed by a hash of its absolute path. */
export function cacheFileFor(cacheDir: string, dataDir: string): string {
  const absolute = path.resolve(dataDir);
  const key = createHash('sha1').update(absolute).digest('hex').slice(0, 16);
  return path.join(cacheDir, `${path.basename(absolute)}-${key}.alscache`);
}

function namedArrays(dataset: Dataset): [string, Int32Array | Float32Array][] {
  const { matrix, catalog } = dataset;
  const arrays: [string, Int32Array | Float32Array][] = [
    ['userIds', dataset.userIds],
    ['itemIds', dataset.itemIds],
    ['csrOffsets', matrix.ratingsByUser.offsets],
    ['csrIndices', matrix.ratingsByUser.indices],
    ['csrValues', matrix.ratingsByUser.values],
    ['cscOffsets', matrix.ratingsByItem.offsets],
    ['cscIndices', matrix.ratingsByItem.indices],
    ['cscValues', matrix.ratingsByItem.values],
    ['years', catalog.years],
    ['genreOffsets', catalog.genreOffsets],
    ['genreIds', catalog.genreIds],
  ];
  if (dataset.timestampsByUser) arrays.push(['timestamps', dataset.timestampsByUser]);
  return arrays;
}

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * Writes the cache atomically (writeFileAtomic: temp file in the cache folder, fsync, rename), so a
 * crash or full disk never leaves a partial cache under the real name; temp files of killed
 * writers are swept by the next write or load in that folder.
 */
export function writeCache(
  file: string,
  dataset: Dataset,
  sources: SourceStamp[],
  notes: LoadNotes,
): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw fileSystemError(error, { action: `create cache folder ${path.dirname(file)}` });
  }
  const arrays = namedArrays(dataset);
  const entries: ArrayEntry[] = [];
  const header: CacheHeader = {
    version: FORMAT_VERSION,
    dir: dataset.info.dir,
    sources,
    info: dataset.info,
    numUsers: dataset.matrix.numUsers,
    numItems: dataset.matrix.numItems,
    numRatings: dataset.matrix.numRatings,
    titles: dataset.catalog.titles,
    genreNames: dataset.catalog.genreNames,
    notes,
    arrays: entries,
    totalBytes: 0,
  };
  // The header holds the arrays' offsets, which depend on the header's length: lay out with
  // fixed-width placeholders, then fill in (offsets only grow the JSON by the digits we reserve).
  let headerBytes = Buffer.from(JSON.stringify(header));
  for (let attempt = 0; attempt < 4; attempt++) {
    let offset = align8(PREFIX_BYTES + headerBytes.length + 64);
    entries.length = 0;
    for (const [name, array] of arrays) {
      entries.push({
        name,
        kind: array instanceof Float32Array ? 'f32' : 'i32',
        byteOffset: offset,
        length: array.length,
      });
      offset = align8(offset + array.byteLength);
    }
    header.totalBytes = offset;
    const next = Buffer.from(JSON.stringify(header));
    const dataStart = entries[0]!.byteOffset;
    if (PREFIX_BYTES + next.length <= dataStart) {
      headerBytes = next;
      break;
    }
    headerBytes = next;
  }
  const dataStart = entries[0]!.byteOffset;
  if (PREFIX_BYTES + headerBytes.length > dataStart)
    throw new Error('cache header layout did not converge');

  writeFileAtomic(file, (sink) => {
    const prefix = Buffer.alloc(dataStart);
    prefix.write(MAGIC, 0, 'latin1');
    prefix.writeUInt32LE(headerBytes.length, 8);
    headerBytes.copy(prefix, PREFIX_BYTES);
    sink.write(prefix);
    for (let a = 0; a < arrays.length; a++) {
      const array = arrays[a]![1];
      sink.write(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
      // Zero padding up to the next array (or to totalBytes, so the size check on read is exact).
      const next = a + 1 < entries.length ? entries[a + 1]!.byteOffset : header.totalBytes;
      if (next > sink.bytesWritten) sink.write(new Uint8Array(next - sink.bytesWritten));
    }
  });
}

/** Why a cache could not be used: 'stale' (sources changed, silently rebuilt) or damage (warned). */
export type CacheMiss = { reason: 'absent' | 'stale' | 'damaged'; detail: string };

/**
 * Reads a cache file back: one read, then typed-array views into the buffer. Returns a miss
 * (never throws) when the file is absent, stale (a source's size/mtime changed) or damaged.
 */
export function readCache(
  file: string,
  dataDir: string,
  sources: SourceStamp[],
): { dataset: Dataset; notes: LoadNotes } | CacheMiss {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return { reason: 'absent', detail: 'no cache file' };
  }
  try {
    return decodeCache(buf, dataDir, sources);
  } catch (error) {
    if (isCacheMiss(error)) return error;
    return { reason: 'damaged', detail: error instanceof Error ? error.message : String(error) };
  }
}

function isCacheMiss(value: unknown): value is CacheMiss {
  return typeof value === 'object' && value !== null && 'reason' in value && 'detail' in value;
}

function damaged(detail: string): CacheMiss {
  return { reason: 'damaged', detail };
}

function decodeCache(
  buf: Buffer,
  dataDir: string,
  sources: SourceStamp[],
): { dataset: Dataset; notes: LoadNotes } {
  if (buf.length < PREFIX_BYTES || buf.toString('latin1', 0, 8) !== MAGIC)
    throw damaged('not a cache file');
  const headerLength = buf.readUInt32LE(8);
  if (PREFIX_BYTES + headerLength > buf.length) throw damaged('truncated header');
  const header = JSON.parse(
    buf.toString('utf-8', PREFIX_BYTES, PREFIX_BYTES + headerLength),
  ) as CacheHeader;
  if (header.version !== FORMAT_VERSION)
    throw { reason: 'stale', detail: 'older cache format' } satisfies CacheMiss;
  if (header.dir !== path.resolve(dataDir))
    throw { reason: 'stale', detail: 'cache of another folder' } satisfies CacheMiss;
  if (JSON.stringify(header.sources) !== JSON.stringify(sources))
    throw { reason: 'stale', detail: 'source files changed' } satisfies CacheMiss;
  if (header.totalBytes !== buf.length)
    throw damaged(`size ${buf.length} bytes, expected ${header.totalBytes}`);

  // Typed-array views need aligned offsets. A large readFileSync buffer is its own ArrayBuffer at
  // offset 0; a small one (< 4 KB) may sit at any offset in Node's shared pool: copy it to a
  // fresh ArrayBuffer (Buffer.from would take a pooled slice again).
  let bytes: Uint8Array = buf;
  if (buf.byteOffset % 8 !== 0) {
    bytes = new Uint8Array(buf.length);
    bytes.set(buf);
  }
  const arrays = new Map<string, Int32Array | Float32Array>();
  for (const entry of header.arrays) {
    const byteLength = entry.length * 4;
    if (
      entry.byteOffset % 8 !== 0 ||
      entry.byteOffset + byteLength > bytes.length ||
      entry.length < 0
    )
      throw damaged(`array ${entry.name} out of bounds`);
    const start = bytes.byteOffset + entry.byteOffset;
    arrays.set(
      entry.name,
      entry.kind === 'f32'
        ? new Float32Array(bytes.buffer, start, entry.length)
        : new Int32Array(bytes.buffer, start, entry.length),
    );
  }
  const i32 = (name: string, length: number): Int32Array => {
    const array = arrays.get(name);
    if (!(array instanceof Int32Array) || array.length !== length)
      throw damaged(`array ${name} missing or of the wrong length`);
    return array;
  };
  const f32 = (name: string, length: number): Float32Array => {
    const array = arrays.get(name);
    if (!(array instanceof Float32Array) || array.length !== length)
      throw damaged(`array ${name} missing or of the wrong length`);
    return array;
  };
  const { numUsers, numItems, numRatings } = header;
  const csrOffsets = i32('csrOffsets', numUsers + 1);
  const csrIndices = i32('csrIndices', numRatings);
  const cscOffsets = i32('cscOffsets', numItems + 1);
  const cscIndices = i32('cscIndices', numRatings);
  // Cheap structural checks (O(n) integer compares), so a damaged cache cannot crash training later.
  checkSparse(csrOffsets, csrIndices, numRatings, numItems, 'CSR');
  checkSparse(cscOffsets, cscIndices, numRatings, numUsers, 'CSC');
  const genreOffsets = i32('genreOffsets', numItems + 1);
  const genreIds = i32('genreIds', genreOffsets[numItems]!);
  checkSparse(genreOffsets, genreIds, genreIds.length, header.genreNames.length, 'genre');
  if (header.titles.length !== numItems) throw damaged('titles of the wrong length');
  const dataset: Dataset = {
    info: header.info,
    userIds: i32('userIds', numUsers),
    itemIds: i32('itemIds', numItems),
    matrix: {
      numUsers,
      numItems,
      numRatings,
      ratingsByUser: {
        offsets: csrOffsets,
        indices: csrIndices,
        values: f32('csrValues', numRatings),
      },
      ratingsByItem: {
        offsets: cscOffsets,
        indices: cscIndices,
        values: f32('cscValues', numRatings),
      },
    },
    timestampsByUser: arrays.has('timestamps') ? i32('timestamps', numRatings) : null,
    catalog: {
      titles: header.titles,
      years: i32('years', numItems),
      genreNames: header.genreNames,
      genreOffsets,
      genreIds,
    },
  };
  return { dataset, notes: header.notes };
}

function checkSparse(
  offsets: Int32Array,
  indices: Int32Array,
  entries: number,
  columns: number,
  what: string,
): void {
  if (offsets[0] !== 0 || offsets[offsets.length - 1] !== entries)
    throw damaged(`${what} offsets do not span the entries`);
  for (let r = 1; r < offsets.length; r++)
    if (offsets[r]! < offsets[r - 1]!) throw damaged(`${what} offsets decrease`);
  for (let k = 0; k < indices.length; k++) {
    const index = indices[k]!;
    if (index < 0 || index >= columns) throw damaged(`${what} index out of range`);
  }
}
