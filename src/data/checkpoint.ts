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
 * apart from a corrupted one. Files are written to a temporary file in the same folder, fsynced,
 * then renamed over the target: a reader sees the old checkpoint or the new one, never half of one.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AlsError } from '../errors.js';
import type { EpochMetrics, Hyperparameters, ModelState } from '../core/types.js';
import type { Catalog, RatingScale, SplitReport } from './types.js';

export const CHECKPOINT_FORMAT = 'als-checkpoint';
export const CHECKPOINT_VERSION = 1;
const MAGIC = Buffer.from([0x89, 0x41, 0x4c, 0x53, 0x43, 0x4b, 0x50, 0x0a]);
const PREAMBLE_BYTES = 16;
const TRAILER_BYTES = 32;

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
}

const arrayTypeSchema = z.enum(['f64', 'f32', 'i32', 'u8']);
type StoredArrayType = z.infer<typeof arrayTypeSchema>;

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

type StoredArray = Float64Array | Float32Array | Int32Array | Uint8Array;

const ELEMENT_BYTES: Record<StoredArrayType, number> = { f64: 8, f32: 4, i32: 4, u8: 1 };

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

function typeOf(a: StoredArray): StoredArrayType {
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

const align8 = (n: number): number => (n + 7) & ~7;

function bytesOf(a: StoredArray): Buffer {
  // A view, not a copy (works for SharedArrayBuffer-backed arrays too).
  return Buffer.from(a.buffer as ArrayBuffer, a.byteOffset, a.byteLength);
}

/**
 * Writes a checkpoint atomically: temp file in the same folder, streamed array by array (no copy
 * of the model), fsync, rename. The SHA-256 trailer is computed while writing.
 */
export function writeCheckpoint(file: string, c: Checkpoint): void {
  const arrays = arraysOf(c);
  let payloadBytes = 0;
  const table = arrays.map(([name, a]) => {
    const entry = { name, type: typeOf(a), length: a.length, byteOffset: payloadBytes };
    payloadBytes = align8(payloadBytes + a.byteLength);
    return entry;
  });
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
    throw new AlsError(`cannot write checkpoint ${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = align8(PREAMBLE_BYTES + json.length) - PREAMBLE_BYTES;
  if (padded > json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  MAGIC.copy(preamble, 0);
  preamble.writeUInt32LE(CHECKPOINT_VERSION, 8);
  preamble.writeUInt32LE(json.length, 12);

  writeAtomically(file, (write) => {
    write(preamble);
    write(json);
    let written = 0;
    for (const [, a] of arrays) {
      const bytes = bytesOf(a);
      write(bytes);
      written += bytes.length;
      const pad = align8(written) - written;
      if (pad > 0) {
        write(Buffer.alloc(pad));
        written += pad;
      }
    }
  });
}

/**
 * Writes a file atomically. `produce` is called with a `write` function; every chunk is hashed and
 * the SHA-256 of all chunks is appended as a 32-byte trailer when `withChecksum` (checkpoints).
 */
function writeAtomically(file: string, produce: (write: (chunk: Buffer) => void) => void, withChecksum = true): void {
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir)) throw new AlsError(`cannot write ${file}: folder ${dir} does not exist`);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'w');
    const hash = withChecksum ? createHash('sha256') : null;
    const out = fd;
    const write = (chunk: Buffer): void => {
      hash?.update(chunk);
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(out, chunk, offset, chunk.length - offset);
    };
    produce(write);
    if (hash) {
      const digest = hash.digest();
      let offset = 0;
      while (offset < digest.length) offset += writeSync(out, digest, offset, digest.length - offset);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, file);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    if (existsSync(temp)) unlinkSync(temp);
    if (error instanceof AlsError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new AlsError(`cannot write ${file}: ${message}`);
  }
  // Persist the rename itself (best effort: not every platform lets a folder be fsynced).
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    /* ignore */
  }
}

/** Writes a small text file atomically (temp in the same folder, fsync, rename). */
export function writeTextFileAtomic(file: string, text: string): void {
  writeAtomically(file, (write) => write(Buffer.from(text, 'utf8')), false);
}

/** Options of readCheckpoint. */
export interface ReadCheckpointOptions {
  /** Refuse a checkpoint trained on another data set (fingerprint differs). */
  expectFingerprint?: string;
  /**
   * Verify the SHA-256 trailer (default true). Hashing is about 40 % of the load time of a
   * 200 MB checkpoint (32M training ratings); a latency-critical reader may skip it. Truncation,
   * magic, version, header and array bounds are checked either way.
   */
  verifyChecksum?: boolean;
}

/**
 * Reads and verifies a checkpoint. Every failure is a one-line AlsError: missing file (with how to
 * train one), not a checkpoint, unsupported version, truncated, corrupted (checksum or header),
 * trained on another data set.
 */
export function readCheckpoint(file: string, options: ReadCheckpointOptions = {}): Checkpoint {
  if (!existsSync(file)) {
    throw new AlsError(`no checkpoint at ${file}: train one with 'als train --out ${file}'`);
  }
  if (!statSync(file).isFile()) throw new AlsError(`${file}: not a checkpoint file (it is a folder)`);
  let bytes = readFileSync(file);
  if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new AlsError(`${file}: not an als checkpoint (unrecognised first bytes)`);
  }
  if (bytes.length < PREAMBLE_BYTES) throw new AlsError(`${file}: truncated checkpoint (${bytes.length} bytes)`);
  const version = bytes.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) {
    throw new AlsError(
      `${file}: checkpoint format version ${version} is not supported (this als reads version ${CHECKPOINT_VERSION}); retrain with 'als train'`,
    );
  }
  const headerBytes = bytes.readUInt32LE(12);
  const payloadStart = PREAMBLE_BYTES + headerBytes;
  if (bytes.length < payloadStart) {
    throw new AlsError(`${file}: truncated checkpoint (${bytes.length} bytes, header alone needs ${payloadStart})`);
  }
  let header: Header;
  try {
    const parsed = headerSchema.safeParse(JSON.parse(bytes.toString('utf8', PREAMBLE_BYTES, payloadStart)));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${issue.path.join('.')}: ${issue.message}`);
    }
    header = parsed.data;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new AlsError(`${file}: corrupted checkpoint (unreadable header: ${message})`);
  }
  const expectedBytes = payloadStart + header.payloadBytes + TRAILER_BYTES;
  if (bytes.length < expectedBytes) {
    throw new AlsError(`${file}: truncated checkpoint (${bytes.length} of ${expectedBytes} bytes)`);
  }
  if (bytes.length > expectedBytes) {
    throw new AlsError(`${file}: corrupted checkpoint (${bytes.length - expectedBytes} unexpected bytes at the end)`);
  }
  if (options.verifyChecksum !== false) {
    const digest = createHash('sha256').update(bytes.subarray(0, expectedBytes - TRAILER_BYTES)).digest();
    if (!digest.equals(bytes.subarray(expectedBytes - TRAILER_BYTES))) {
      throw new AlsError(`${file}: corrupted checkpoint (checksum mismatch)`);
    }
  }
  if (options.expectFingerprint !== undefined && options.expectFingerprint !== header.dataset.fingerprint) {
    throw new AlsError(
      `${file}: checkpoint was trained on another data set (${header.dataset.name}, fingerprint ${header.dataset.fingerprint.slice(0, 12)}; this one is ${options.expectFingerprint.slice(0, 12)})`,
    );
  }

  // Typed views need an aligned base; a small file read into Node's pool may not have one.
  if ((bytes.byteOffset + payloadStart) % 8 !== 0) bytes = Buffer.from(bytes);
  const byName = new Map<string, StoredArray>();
  for (const entry of header.arrays) {
    const start = bytes.byteOffset + payloadStart + entry.byteOffset;
    const end = entry.byteOffset + entry.length * ELEMENT_BYTES[entry.type];
    if (entry.byteOffset % 8 !== 0 || end > header.payloadBytes) {
      throw new AlsError(`${file}: corrupted checkpoint (array ${entry.name} outside the payload)`);
    }
    const buffer = bytes.buffer;
    const view =
      entry.type === 'f64'
        ? new Float64Array(buffer, start, entry.length)
        : entry.type === 'f32'
          ? new Float32Array(buffer, start, entry.length)
          : entry.type === 'i32'
            ? new Int32Array(buffer, start, entry.length)
            : new Uint8Array(buffer, start, entry.length);
    byName.set(entry.name, view);
  }

  const { numUsers, numItems } = header.dataset;
  const dim = header.hyper.kind === 'bias' ? 0 : header.hyper.dim;
  const get = <T extends StoredArray>(name: string, ctor: new (...args: never[]) => T, length: number | null): T => {
    const a = byName.get(name);
    if (!(a instanceof ctor) || (length !== null && a.length !== length)) {
      throw new AlsError(`${file}: corrupted checkpoint (array ${name} missing or of the wrong size)`);
    }
    return a;
  };
  const numGenres = header.numGenres;
  const titleOffsets = get('titleOffsets', Int32Array, numItems + 1);
  const titleBytes = get('titleBytes', Uint8Array, null);
  const genreOffsets = get('genreOffsets', Int32Array, numItems + 1);
  const trainItemOffsets = get('trainItemOffsets', Int32Array, numUsers + 1);
  const state: ModelState = {
    hyper: { ...header.hyper } as Hyperparameters,
    numUsers,
    numItems,
    globalMean: header.globalMean,
    userBias: get('userBias', Float64Array, numUsers),
    itemBias: get('itemBias', Float64Array, numItems),
    userFactors: get('userFactors', Float64Array, numUsers * dim),
    itemFactors: get('itemFactors', Float64Array, numItems * dim),
    genreFactors: get('genreFactors', Float64Array, null),
  };
  if (state.genreFactors.length !== 0 && state.genreFactors.length !== numGenres * dim) {
    throw new AlsError(`${file}: corrupted checkpoint (array genreFactors of the wrong size)`);
  }
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
    userIds: get('userIds', Int32Array, numUsers),
    itemIds: get('itemIds', Int32Array, numItems),
    catalog: {
      titles: decodeStrings(titleOffsets, titleBytes),
      years: get('years', Int32Array, numItems),
      genreNames: header.genreNames,
      genreOffsets,
      genreIds: get('genreIds', Int32Array, genreOffsets[numItems]!),
    },
    itemTrainCounts: get('itemTrainCounts', Int32Array, numItems),
    trainItemsByUser: {
      offsets: trainItemOffsets,
      items: get('trainItems', Int32Array, trainItemOffsets[numUsers]!),
    },
  };
}

/** Strings as one UTF-8 blob plus byte offsets (length n + 1). */
function encodeStrings(strings: string[]): { offsets: Int32Array; bytes: Uint8Array } {
  const parts = strings.map((s) => Buffer.from(s, 'utf8'));
  const offsets = new Int32Array(strings.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i]! + parts[i]!.length;
  const bytes = new Uint8Array(offsets[strings.length]!);
  for (let i = 0; i < parts.length; i++) bytes.set(parts[i]!, offsets[i]!);
  return { offsets, bytes };
}

function decodeStrings(offsets: Int32Array, bytes: Uint8Array): string[] {
  const decoder = new TextDecoder('utf-8');
  const out = new Array<string>(offsets.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = decoder.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!));
  return out;
}
