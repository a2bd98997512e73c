/**
 * Checkpoint files: one self-contained file per trained model.
 *
 * Layout (all integers little-endian):
 *
 *   bytes 0..7    magic  89 41 4C 53 43 4B 50 0A  ("\x89ALSCKP\n": the high byte and the newline
 *                 catch text-mode transfers, as in PNG)
 *   bytes 8..11   u32    format version (CHECKPOINT_VERSION)
 *   bytes 12..15  u32    header length H in bytes
 *   bytes 16..    H bytes of UTF-8 JSON (the header, validated with zod), padded with spaces so
 *                 that the payload starts on an 8-byte boundary
 *   payload       the typed arrays, raw, each at an 8-byte aligned offset (relative to the payload
 *                 start) listed in the header's array table
 *   trailer       32 bytes: SHA-256 of every byte before it (magic, header and payload)
 *
 * The trailer covers the header too, so a flipped digit in a hyperparameter is caught as well as a
 * flipped bit in a factor. The header records the payload length, so a truncated file is told
 * apart from a corrupted one. Files are written through writeFileAtomic (temp file in the same
 * folder, fsync, rename): a reader sees the old checkpoint or the new one, never half of one.
 * The framing (preamble, padded header, aligned arrays, trailer, atomic write, the size checks
 * before the payload) is ./framed-file.ts, shared with Bayesian checkpoints (./bayes-checkpoint.ts);
 * the header schema, the array list and the checks on them are this file's.
 *
 * Reading trusts nothing before it is checked, in an order that bounds the cost of a crafted file:
 * the 16-byte preamble (magic, version, header length ≤ MAX_HEADER_BYTES and within the file),
 * then the header alone (schema, dim ≤ MAX_DIM, counts, the array table: every array known, of
 * its type, of the length the counts imply, laid out back to back exactly as the writer does,
 * and the file size exactly preamble + header + payload + trailer), and only then the payload,
 * whose size is now bounded by the real file size and by the counts. After the checksum: offsets monotone and in range, indexes in range,
 * factors and biases finite.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { z } from 'zod';
import { AlsError, fileSystemError } from '../errors.js';
import { MAX_DIM } from '../core/limits.js';
import {
  arrayView,
  checkBackToBack,
  isInsidePayload,
  layOutArrays,
  readFramedHeader,
  readFramedPayload,
  writeFramedFile,
  type FramedFormat,
  type StoredArray,
  type StoredArrayType,
} from './framed-file.js';
import type { EpochMetrics, Hyperparameters, ModelState } from '../core/types.js';
import type { Catalog, RatingScale, SplitReport } from './types.js';

export const CHECKPOINT_FORMAT = 'als-checkpoint';
export const CHECKPOINT_VERSION = 1;
const MAGIC = Buffer.from([0x89, 0x41, 0x4c, 0x53, 0x43, 0x4b, 0x50, 0x0a]);

/** The data set a checkpoint was trained on: enough to find it again and to check it is the same. */
export interface CheckpointDataset {
  name: string;
  dir: string;
  fingerprint: string;
  numUsers: number;
  numItems: number;
  scale: RatingScale;
}

/** Everything in a checkpoint besides the model's arrays. */
export interface CheckpointMeta {
  /** Seed of the split and of the initial factors. */
  seed: number;
  dataset: CheckpointDataset;
  /** The split the model was trained on (spec, seed and counts). */
  split: SplitReport;
  /** Epochs behind the stored model (with early stopping: the best epoch, not the last one run). */
  epochsDone: number;
  /** Every epoch that was run, in order (may go past epochsDone after early stopping). */
  metrics: EpochMetrics[];
  /** The epoch whose model is stored when early stopping chose it, else null. */
  bestEpoch: number | null;
  /** Kernel and thread count of the run (informational: results do not depend on them). */
  kernel: string;
  threads: number;
  /** ISO time the file was written. */
  createdAt: string;
}

/**
 * A checkpoint in memory: the model, the id maps (so results map back to MovieLens ids without
 * the data set) and the catalogue `als recommend` needs (titles, years, genres, per-movie
 * training counts, and each user's training movies so that seen movies can be excluded).
 */
export interface Checkpoint extends CheckpointMeta {
  state: ModelState;
  /** Index → original user id / movie id. */
  userIds: Int32Array;
  itemIds: Int32Array;
  catalog: Catalog;
  /** Training ratings per movie (popularity floors, "never rated" marks). */
  itemTrainCounts: Int32Array;
  /** CSR of each user's training movies (no ratings): items[offsets[u] .. offsets[u+1]). */
  trainItemsByUser: { offsets: Int32Array; items: Int32Array };
  /** Set when read from a Bayesian checkpoint (./bayes-checkpoint.ts): `state` is then its posterior mean. */
  bayes?: import('./bayes-checkpoint.js').BayesCheckpoint;
}

const arrayTypeSchema = z.enum(['f64', 'f32', 'i32', 'u8']);

const finite = z.number().refine(Number.isFinite, 'must be finite');
const count = z.number().int().nonnegative();

const epochMetricsSchema = z.object({
  epoch: z.number().int().positive(),
  loss: finite,
  trainRmse: finite,
  validationRmse: finite.nullable(),
  elapsedMs: z.number().nonnegative(),
});

const hyperSchema = z.object({
  kind: z.enum(['bias', 'latent', 'genre']),
  dim: count,
  lambda: finite,
  tau: finite,
  gamma: finite,
  genreTau: finite,
  weightedRegularization: z.boolean(),
  // Added later: checkpoints written before it have no such key and keep the old meaning
  // (γ count-scaled exactly when τ is), which an absent field means in Hyperparameters too.
  weightedBiasRegularization: z.boolean().optional(),
  // Added later still: absent means a = 1, the count weighting every older checkpoint used.
  weightExponent: finite.optional(),
});

const headerSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(CHECKPOINT_VERSION),
  hyper: hyperSchema,
  globalMean: finite,
  numGenres: count,
  seed: z.number().int(),
  dataset: z.object({
    name: z.string(),
    dir: z.string(),
    fingerprint: z.string(),
    numUsers: count,
    numItems: count,
    scale: z.object({ min: finite, max: finite, step: finite }),
  }),
  split: z.object({
    spec: z.string(),
    seed: z.number().int(),
    trainRatings: count,
    testRatings: count,
    testRatingsWithUnseenUser: count,
    testRatingsWithUnseenItem: count,
    usersWithoutTrainingRatings: count,
  }),
  epochsDone: count,
  bestEpoch: z.number().int().positive().nullable(),
  metrics: z.array(epochMetricsSchema),
  kernel: z.string(),
  threads: z.number().int().positive(),
  createdAt: z.string(),
  genreNames: z.array(z.string()),
  payloadBytes: count,
  arrays: z.array(
    z.object({
      name: z.string(),
      type: arrayTypeSchema,
      length: count,
      byteOffset: count,
    }),
  ),
});
type Header = z.infer<typeof headerSchema>;

/** The arrays a checkpoint stores, by name and expected length (checked on read). */
function arraysOf(c: Checkpoint): [string, StoredArray][] {
  const titles = encodeStrings(c.catalog.titles);
  return [
    ['userBias', c.state.userBias],
    ['itemBias', c.state.itemBias],
    ['userFactors', c.state.userFactors],
    ['itemFactors', c.state.itemFactors],
    ['genreFactors', c.state.genreFactors],
    ['userIds', c.userIds],
    ['itemIds', c.itemIds],
    ['titleOffsets', titles.offsets],
    ['titleBytes', titles.bytes],
    ['years', c.catalog.years],
    ['genreOffsets', c.catalog.genreOffsets],
    ['genreIds', c.catalog.genreIds],
    ['itemTrainCounts', c.itemTrainCounts],
    ['trainItemOffsets', c.trainItemsByUser.offsets],
    ['trainItems', c.trainItemsByUser.items],
  ];
}

/**
 * Writes a checkpoint atomically (writeFileAtomic), streamed array by array (no copy of the
 * model). The SHA-256 trailer is computed while writing.
 */
export function writeCheckpoint(file: string, c: Checkpoint): void {
  const arrays = arraysOf(c);
  const { table, payloadBytes } = layOutArrays(arrays);
  const header: Header = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    hyper: { ...c.state.hyper },
    globalMean: c.state.globalMean,
    numGenres: c.catalog.genreNames.length,
    seed: c.seed,
    dataset: { ...c.dataset, scale: { ...c.dataset.scale } },
    split: { ...c.split },
    epochsDone: c.epochsDone,
    bestEpoch: c.bestEpoch,
    metrics: c.metrics.map((m) => ({ ...m })),
    kernel: c.kernel,
    threads: c.threads,
    createdAt: c.createdAt,
    genreNames: c.catalog.genreNames,
    payloadBytes,
    arrays: table,
  };
  // Refuse to write what could not be read back (NaN in the metrics, a bad count).
  const checked = headerSchema.safeParse(header);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new AlsError(
      `cannot write checkpoint ${file}: ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  writeFramedFile(file, MAGIC, CHECKPOINT_VERSION, header, arrays);
}

/** Options of readCheckpoint. */
export interface ReadCheckpointOptions {
  /** Refuse a checkpoint trained on another data set (fingerprint differs). */
  expectFingerprint?: string;
  /**
   * Verify the SHA-256 trailer (default true). Hashing is about 40 % of the load time of a
   * 200 MB checkpoint (32M training ratings); a latency-critical reader may skip it. Truncation,
   * magic, version, header, array bounds, offsets and finiteness are checked either way.
   */
  verifyChecksum?: boolean;
}

export { MAX_HEADER_BYTES } from './framed-file.js';
/** The largest checkpoint file (a Node Buffer holds at most 4 GiB). */
const MAX_FILE_BYTES = 2 ** 32 - 1;
/** Bytes per title, at most (MovieLens' longest is under 200; a hostile file may claim more). */
const MAX_TITLE_BYTES = 4096;
/** Users or movies: the id maps are Int32Array and offsets need n + 1 entries. */
const MAX_ROWS = 2 ** 31 - 2;

/**
 * Reads and verifies a checkpoint. Every failure is a one-line AlsError: missing file (with how to
 * train one), not a checkpoint, unsupported version, truncated, corrupted (checksum, header, sizes,
 * offsets, non-finite numbers), trained on another data set. Only the 16-byte preamble and the
 * header are read before the sizes are checked against the file, so a crafted or sparse file is
 * refused without reading (or allocating) its claimed payload.
 */
export function readCheckpoint(file: string, options: ReadCheckpointOptions = {}): Checkpoint {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new AlsError(`no checkpoint at ${file}: train one with 'als train --out ${file}'`);
    throw fileSystemError(error, { path: file });
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new AlsError(`${file}: not a checkpoint file (it is a folder)`);
    return readOpenCheckpoint(fd, stats.size, file, options);
  } catch (error) {
    // EISDIR on read (some platforms), EIO from a failing disk: one line too.
    throw fileSystemError(error, { path: file });
  } finally {
    closeSync(fd);
  }
}

function corrupted(file: string, what: string): AlsError {
  return new AlsError(`${file}: corrupted checkpoint (${what})`);
}

/** The ALS checkpoint's magic, version, header schema and wording for ./framed-file.ts. */
function checkpointFraming(file: string): FramedFormat<Header> {
  return {
    magic: MAGIC,
    version: CHECKPOINT_VERSION,
    parseHeader: (headerBuffer) => {
      try {
        const parsed = headerSchema.safeParse(JSON.parse(headerBuffer.toString('utf8')));
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new Error(`${issue.path.join('.')}: ${issue.message}`);
        }
        return parsed.data;
      } catch (error) {
        const message =
          error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : String(error);
        throw corrupted(file, `unreadable header: ${message}`);
      }
    },
    notThisFormat: () => new AlsError(`${file}: not an als checkpoint (unrecognised first bytes)`),
    truncated: (detail) =>
      new AlsError(`${file}: truncated checkpoint${detail === undefined ? '' : ` (${detail})`}`),
    corrupted: (what) => corrupted(file, what),
    unsupportedVersion: (version) =>
      new AlsError(
        `${file}: checkpoint format version ${version} is not supported (this als reads version ${CHECKPOINT_VERSION}); retrain with 'als train'`,
      ),
    trailingBytes: (extraBytes) => `${extraBytes} unexpected bytes at the end`,
    maxFileBytes: MAX_FILE_BYTES,
    requirePaddedHeader: true,
  };
}

function readOpenCheckpoint(
  fd: number,
  fileBytes: number,
  file: string,
  options: ReadCheckpointOptions,
): Checkpoint {
  const framed = readFramedHeader(fd, fileBytes, checkpointFraming(file));
  const { header } = framed;

  // Sizes implied by the counts, checked against the table before a byte of payload is read.
  const { numUsers, numItems } = header.dataset;
  if (numUsers > MAX_ROWS || numItems > MAX_ROWS)
    throw corrupted(file, `${numUsers} users, ${numItems} movies`);
  if (header.hyper.dim > MAX_DIM)
    throw corrupted(file, `dim ${header.hyper.dim}, at most ${MAX_DIM} is supported`);
  const dim = header.hyper.kind === 'bias' ? 0 : header.hyper.dim;
  const numGenres = header.numGenres;
  if (numGenres !== header.genreNames.length)
    throw corrupted(file, `numGenres ${numGenres} but ${header.genreNames.length} genre names`);
  const expected: Record<string, { type: StoredArrayType; length: number | null }> = {
    userBias: { type: 'f64', length: numUsers },
    itemBias: { type: 'f64', length: numItems },
    userFactors: { type: 'f64', length: numUsers * dim },
    itemFactors: { type: 'f64', length: numItems * dim },
    genreFactors: { type: 'f64', length: null },
    userIds: { type: 'i32', length: numUsers },
    itemIds: { type: 'i32', length: numItems },
    titleOffsets: { type: 'i32', length: numItems + 1 },
    titleBytes: { type: 'u8', length: null },
    years: { type: 'i32', length: numItems },
    genreOffsets: { type: 'i32', length: numItems + 1 },
    genreIds: { type: 'i32', length: null },
    itemTrainCounts: { type: 'i32', length: numItems },
    trainItemOffsets: { type: 'i32', length: numUsers + 1 },
    trainItems: { type: 'i32', length: null },
  };
  const seen = new Set<string>();
  for (const entry of header.arrays) {
    const want = Object.hasOwn(expected, entry.name) ? expected[entry.name]! : undefined;
    if (want === undefined) throw corrupted(file, `unknown array ${entry.name.slice(0, 40)}`);
    if (seen.has(entry.name)) throw corrupted(file, `array ${entry.name} listed twice`);
    seen.add(entry.name);
    if (entry.type !== want.type || (want.length !== null && entry.length !== want.length)) {
      throw corrupted(file, `array ${entry.name} missing or of the wrong size`);
    }
    if (!isInsidePayload(entry, header.payloadBytes))
      throw corrupted(file, `array ${entry.name} outside the payload`);
  }
  for (const name of Object.keys(expected))
    if (!seen.has(name)) throw corrupted(file, `array ${name} missing or of the wrong size`);
  checkBackToBack(header.arrays, header.payloadBytes, (what) => corrupted(file, what));
  // The variable-length arrays, bounded by the counts (so their sizes cannot be made up either).
  const lengthOf = (name: string): number => header.arrays.find((e) => e.name === name)!.length;
  if (lengthOf('genreIds') > numItems * numGenres)
    throw corrupted(
      file,
      `${lengthOf('genreIds')} genre ids for ${numItems} movies and ${numGenres} genres`,
    );
  if (lengthOf('trainItems') > numUsers * numItems)
    throw corrupted(
      file,
      `${lengthOf('trainItems')} training items for ${numUsers} users and ${numItems} movies`,
    );
  if (lengthOf('titleBytes') > numItems * MAX_TITLE_BYTES)
    throw corrupted(file, `${lengthOf('titleBytes')} bytes of titles for ${numItems} movies`);
  const genreFactorsLength = header.arrays.find((e) => e.name === 'genreFactors')!.length;
  if (genreFactorsLength !== 0 && genreFactorsLength !== numGenres * dim)
    throw corrupted(file, 'array genreFactors of the wrong size');

  // The payload (its size is now the real file's), then its checksum.
  const payload = readFramedPayload(
    fd,
    framed,
    {
      shrank: () =>
        new AlsError(`${file}: truncated checkpoint (the file shrank while being read)`),
      corrupted: (what) => corrupted(file, what),
    },
    options.verifyChecksum !== false,
  );
  if (
    options.expectFingerprint !== undefined &&
    options.expectFingerprint !== header.dataset.fingerprint
  ) {
    throw new AlsError(
      `${file}: checkpoint was trained on another data set (${header.dataset.name.slice(0, 80)}, fingerprint ${header.dataset.fingerprint.slice(0, 12)}; this one is ${options.expectFingerprint.slice(0, 12)})`,
    );
  }

  const byName = new Map<string, StoredArray>();
  for (const entry of header.arrays) byName.set(entry.name, arrayView(payload, entry));
  const get = <T extends StoredArray>(name: string): T => byName.get(name) as T;

  // What the checksum cannot vouch for (it was recomputed by whoever wrote the file).
  const titleBytes = get<Uint8Array>('titleBytes');
  const titleOffsets = checkOffsets(
    file,
    'titleOffsets',
    get<Int32Array>('titleOffsets'),
    titleBytes.length,
  );
  const genreIds = get<Int32Array>('genreIds');
  const genreOffsets = checkOffsets(
    file,
    'genreOffsets',
    get<Int32Array>('genreOffsets'),
    genreIds.length,
  );
  checkIndexes(file, 'genreIds', genreIds, numGenres);
  const trainItems = get<Int32Array>('trainItems');
  const trainItemOffsets = checkOffsets(
    file,
    'trainItemOffsets',
    get<Int32Array>('trainItemOffsets'),
    trainItems.length,
  );
  checkIndexes(file, 'trainItems', trainItems, numItems);
  const itemTrainCounts = get<Int32Array>('itemTrainCounts');
  for (let i = 0; i < itemTrainCounts.length; i++)
    if (itemTrainCounts[i]! < 0) throw corrupted(file, `itemTrainCounts[${i}] is negative`);
  for (const name of ['userBias', 'itemBias', 'userFactors', 'itemFactors', 'genreFactors'])
    checkFinite(file, name, get<Float64Array>(name));

  const state: ModelState = {
    hyper: { ...header.hyper } as Hyperparameters,
    numUsers,
    numItems,
    globalMean: header.globalMean,
    userBias: get('userBias'),
    itemBias: get('itemBias'),
    userFactors: get('userFactors'),
    itemFactors: get('itemFactors'),
    genreFactors: get('genreFactors'),
  };
  return {
    seed: header.seed,
    dataset: header.dataset,
    split: header.split,
    epochsDone: header.epochsDone,
    bestEpoch: header.bestEpoch,
    metrics: header.metrics,
    kernel: header.kernel,
    threads: header.threads,
    createdAt: header.createdAt,
    state,
    userIds: get('userIds'),
    itemIds: get('itemIds'),
    catalog: {
      titles: decodeStrings(titleOffsets, titleBytes),
      years: get('years'),
      genreNames: header.genreNames,
      genreOffsets,
      genreIds,
    },
    itemTrainCounts,
    trainItemsByUser: { offsets: trainItemOffsets, items: trainItems },
  };
}

/** CSR offsets: start at 0, never decrease, end at the entries' length. */
function checkOffsets(
  file: string,
  name: string,
  offsets: Int32Array,
  entries: number,
): Int32Array {
  if (offsets[0] !== 0 || offsets[offsets.length - 1] !== entries)
    throw corrupted(file, `${name} do not span their ${entries} entries`);
  const n = offsets.length;
  let k = 1;
  while (k < n && offsets[k]! >= offsets[k - 1]!) k++;
  if (k < n) throw corrupted(file, `${name} decrease at ${k}`);
  return offsets;
}

function checkIndexes(file: string, name: string, indexes: Int32Array, bound: number): void {
  // A tight loop that does not throw (so it optimises); 32M entries in ~0.2 s.
  const n = indexes.length;
  let k = 0;
  for (; k < n; k++) {
    const v = indexes[k]!;
    if (v < 0 || v >= bound) break;
  }
  if (k < n) throw corrupted(file, `${name}[${k}] = ${indexes[k]} is out of range 0..${bound - 1}`);
}

function checkFinite(file: string, name: string, values: Float64Array): void {
  // x − x is 0 for every finite x and NaN for NaN and ±∞.
  const n = values.length;
  let k = 0;
  for (; k < n; k++) {
    const v = values[k]!;
    if (v - v !== 0) break;
  }
  if (k < n) throw corrupted(file, `${name}[${k}] is not a finite number`);
}

/** Strings as one UTF-8 blob plus byte offsets (length n + 1). */
/** UTF-8 strings as offsets + bytes (also the Bayesian checkpoint's titles). */
export function encodeStrings(strings: string[]): { offsets: Int32Array; bytes: Uint8Array } {
  const parts = strings.map((s) => Buffer.from(s, 'utf8'));
  const offsets = new Int32Array(strings.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i]! + parts[i]!.length;
  const bytes = new Uint8Array(offsets[strings.length]!);
  for (let i = 0; i < parts.length; i++) bytes.set(parts[i]!, offsets[i]!);
  return { offsets, bytes };
}

export function decodeStrings(offsets: Int32Array, bytes: Uint8Array): string[] {
  const decoder = new TextDecoder('utf-8');
  const out = new Array<string>(offsets.length - 1);
  for (let i = 0; i < out.length; i++)
    out[i] = decoder.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!));
  return out;
}
