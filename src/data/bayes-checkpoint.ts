/**
 * Bayesian checkpoint files: what a Gibbs run (src/app/bayes.ts) needs to predict and to resume.
 *
 * Layout, the same shape as an ALS checkpoint (./checkpoint.ts) with its own magic so neither
 * reader mistakes the other's file for its own (all integers little-endian):
 *
 *   bytes 0..7    magic  89 41 4C 53 42 41 59 0A  ("\x89ALSBAY\n")
 *   bytes 8..11   u32    format version (BAYES_CHECKPOINT_VERSION)
 *   bytes 12..15  u32    header length H
 *   bytes 16..    H bytes of UTF-8 JSON (validated with zod), space-padded to an 8-byte boundary
 *   payload       typed arrays, raw, 8-byte aligned, listed in the header's array table
 *   trailer       32 bytes: SHA-256 of every byte before it
 *
 * Contents:
 *   - prediction: the thinned post-burn-in samples in float32 (user/movie factors and biases,
 *     genre embeddings; rows without training ratings at their prior mean; α and both priors
 *     (μ, π) in float64, for folding in new users and the spread of unrated rows). Measured: on ML-100K u1 (latent, 500 samples, burn-in 100) the
 *     200 samples of thin 2 predict within 0.0003 of the full chain (0.9081 vs 0.9078), 8 samples
 *     of thin 10 over 80 post-burn-in sweeps were 0.018 off: the stored count matters, not the
 *     precision, so float32 (half the size of float64) with enough samples is the trade-off.
 *   - resume: the chain state in float64 (current draw, row priors, genre precisions, α, sample
 *     count) and the held-out predictive sums, so that resuming continues the chain and its curve
 *     exactly (100 + 100 samples = 200).
 *   - the per-sample metrics.
 *   - the listing (when trained on a data set): id maps, catalogue (titles, years, genres),
 *     training counts per movie and each user's training movies, the same arrays as an ALS
 *     checkpoint, so that eval, recommend, similar and report read a Bayesian file on its own.
 * The framing (preamble, padded header, aligned arrays, trailer, atomic write) is ./framed-file.ts,
 * shared with ./checkpoint.ts. Reading checks the preamble and the header alone (schema,
 * dim ≤ MAX_DIM, row counts, every array inside the payload, the file size exactly what the
 * header says) before a byte of payload is read; each array's type and size against the counts
 * as it is taken, after the checksum.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { z } from 'zod';
import { AlsError, fileSystemError } from '../errors.js';
import { MAX_DIM } from '../core/limits.js';
import { decodeStrings, encodeStrings, readCheckpoint, type Checkpoint } from './checkpoint.js';
import {
  ELEMENT_BYTES,
  isInsidePayload,
  layOutArrays,
  readAt,
  readFramedHeader,
  readFramedPayload,
  writeFramedFile,
  type FramedFormat,
  type StoredArray,
  type StoredArrayType,
} from './framed-file.js';
import type { GibbsResumePoint, SampleMetrics } from '../core/gibbs.js';
import type { EpochMetrics, ModelState } from '../core/types.js';
import type { ModelKind } from '../core/types.js';
import type { CheckpointDataset } from './checkpoint.js';
import type { Catalog, RatingScale, SplitReport } from './types.js';

export const BAYES_CHECKPOINT_FORMAT = 'als-bayes-checkpoint';
export const BAYES_CHECKPOINT_VERSION = 1;
const MAGIC = Buffer.from([0x89, 0x41, 0x4c, 0x53, 0x42, 0x41, 0x59, 0x0a]);

/** A Bayesian checkpoint in memory. */
export interface BayesCheckpoint {
  kind: ModelKind;
  dim: number;
  burnIn: number;
  thin: number;
  seed: number;
  /** The data set and split trained on (null when trained on bare matrices, e.g. in tests). */
  dataset: CheckpointDataset | null;
  split: SplitReport | null;
  /** Predictions are clamped per sample to this scale (null: not clamped). */
  scale: RatingScale | { min: number; max: number } | null;
  numGenres: number;
  kernel: string;
  threads: number;
  createdAt: string;
  /** Chain, predictive sums, stored samples, metrics. */
  run: GibbsResumePoint;
  /** Ids, catalogue and training rows of the data set (null or absent: trained on bare matrices). */
  listing?: BayesListing | null;
}

/** What the reading commands need besides the samples (the same arrays as an ALS checkpoint). */
export interface BayesListing {
  userIds: Int32Array;
  itemIds: Int32Array;
  catalog: Catalog;
  itemTrainCounts: Int32Array;
  trainItemsByUser: { offsets: Int32Array; items: Int32Array };
}

/** Users or movies at most (Int32 ids, offsets of n + 1 entries). */
const MAX_ROWS = 2 ** 31 - 2;
/** Stored samples at most (each costs (U + N)(K + 1) floats: a bound, not a target). */
const MAX_STORED_SAMPLES = 100_000;

const finite = z.number().refine(Number.isFinite, 'must be finite');
const count = z.number().int().nonnegative();
const arrayEntry = z.object({
  name: z.string(),
  type: z.enum(['f64', 'f32', 'i32', 'u8']),
  length: count,
  byteOffset: count,
});
const headerSchema = z.object({
  format: z.literal(BAYES_CHECKPOINT_FORMAT),
  version: z.literal(BAYES_CHECKPOINT_VERSION),
  kind: z.enum(['bias', 'latent', 'genre']),
  dim: count,
  burnIn: count,
  thin: z.number().int().positive(),
  seed: z.number().int(),
  dataset: z
    .object({
      name: z.string(),
      dir: z.string(),
      fingerprint: z.string(),
      numUsers: count,
      numItems: count,
      scale: z.object({ min: finite, max: finite, step: finite }),
    })
    .nullable(),
  split: z
    .object({
      spec: z.string(),
      seed: z.number().int(),
      trainRatings: count,
      testRatings: count,
      testRatingsWithUnseenUser: count,
      testRatingsWithUnseenItem: count,
      usersWithoutTrainingRatings: count,
    })
    .nullable(),
  scale: z.object({ min: finite, max: finite }).passthrough().nullable(),
  numUsers: count,
  numItems: count,
  numGenres: count,
  globalMean: finite,
  kernel: z.string(),
  threads: z.number().int().positive(),
  createdAt: z.string(),
  samplesDone: count,
  alpha: z.number().positive(),
  predictiveCount: count,
  inverseAlphaSum: z.number().nonnegative(),
  stored: z.array(z.object({ sample: z.number().int().positive(), alpha: z.number().positive() })),
  metrics: z.array(
    z.object({
      sample: z.number().int().positive(),
      trainRmse: finite,
      alpha: z.number().positive(),
      validationRmse: finite.nullable(),
      elapsedMs: z.number().nonnegative(),
    }),
  ),
  genreNames: z.array(z.string()).nullable().default(null),
  payloadBytes: count,
  arrays: z.array(arrayEntry),
});
type Header = z.infer<typeof headerSchema>;

/** The arrays of a checkpoint, named, in file order. */
function arraysOf(c: BayesCheckpoint): Array<[string, StoredArray]> {
  const { chain, predictive, storedSamples } = c.run;
  const m = chain.model;
  const out: Array<[string, StoredArray]> = [
    ['chain.userFactors', m.userFactors],
    ['chain.userBias', m.userBias],
    ['chain.itemFactors', m.itemFactors],
    ['chain.itemBias', m.itemBias],
    ['chain.genreFactors', m.genreFactors],
    ['chain.userPrior.mean', chain.userPrior.mean],
    ['chain.userPrior.precision', chain.userPrior.precision],
    ['chain.itemPrior.mean', chain.itemPrior.mean],
    ['chain.itemPrior.precision', chain.itemPrior.precision],
    ['chain.genrePrecision', chain.genrePrecision],
    ['predictive.sum', predictive.sum],
    ['predictive.sumSquares', predictive.sumSquares],
    ['predictive.clampedSum', predictive.clampedSum],
  ];
  storedSamples.forEach((s, i) => {
    out.push(
      [`sample${i}.userFactors`, s.userFactors],
      [`sample${i}.userBias`, s.userBias],
      [`sample${i}.itemFactors`, s.itemFactors],
    );
    out.push([`sample${i}.itemBias`, s.itemBias], [`sample${i}.genreFactors`, s.genreFactors]);
    out.push(
      [`sample${i}.userPrior.mean`, s.userPriorMean],
      [`sample${i}.userPrior.precision`, s.userPriorPrecision],
    );
    out.push(
      [`sample${i}.itemPrior.mean`, s.itemPriorMean],
      [`sample${i}.itemPrior.precision`, s.itemPriorPrecision],
    );
  });
  const l = c.listing;
  if (l) {
    const titles = encodeStrings(l.catalog.titles);
    out.push(
      ['userIds', l.userIds],
      ['itemIds', l.itemIds],
      ['titleOffsets', titles.offsets],
      ['titleBytes', titles.bytes],
      ['years', l.catalog.years],
    );
    out.push(
      ['genreOffsets', l.catalog.genreOffsets],
      ['genreIds', l.catalog.genreIds],
      ['itemTrainCounts', l.itemTrainCounts],
    );
    out.push(
      ['trainItemOffsets', l.trainItemsByUser.offsets],
      ['trainItems', l.trainItemsByUser.items],
    );
  }
  return out;
}

/** Writes a Bayesian checkpoint atomically (writeFileAtomic), SHA-256 trailer included. */
export function writeBayesCheckpoint(file: string, c: BayesCheckpoint): void {
  const arrays = arraysOf(c);
  const { table, payloadBytes } = layOutArrays(arrays);
  const { chain, predictive, storedSamples, metrics } = c.run;
  const header: Header = {
    format: BAYES_CHECKPOINT_FORMAT,
    version: BAYES_CHECKPOINT_VERSION,
    kind: c.kind,
    dim: c.dim,
    burnIn: c.burnIn,
    thin: c.thin,
    seed: c.seed,
    dataset: c.dataset === null ? null : { ...c.dataset, scale: { ...c.dataset.scale } },
    split: c.split === null ? null : { ...c.split },
    scale: c.scale === null ? null : { ...c.scale },
    numUsers: chain.model.numUsers,
    numItems: chain.model.numItems,
    numGenres: c.numGenres,
    globalMean: chain.model.globalMean,
    kernel: c.kernel,
    threads: c.threads,
    createdAt: c.createdAt,
    samplesDone: chain.samplesDone,
    alpha: chain.alpha,
    predictiveCount: predictive.count,
    inverseAlphaSum: predictive.inverseAlphaSum,
    stored: storedSamples.map((s) => ({ sample: s.sample, alpha: s.alpha })),
    metrics: metrics.map((m) => ({ ...m })),
    genreNames: c.listing ? c.listing.catalog.genreNames : null,
    payloadBytes,
    arrays: table,
  };
  const checked = headerSchema.safeParse(header);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new AlsError(
      `cannot write checkpoint ${file}: ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  writeFramedFile(file, MAGIC, BAYES_CHECKPOINT_VERSION, header, arrays);
}

/** Whether a file starts with the Bayesian checkpoint magic (so a reader can pick the right format). */
export function isBayesCheckpoint(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Reads and verifies a Bayesian checkpoint. Every failure is a one-line AlsError naming the file:
 * missing, not a Bayesian checkpoint, unsupported version, truncated, corrupted, or trained on
 * another data set (`expectFingerprint`).
 */
export function readBayesCheckpoint(
  file: string,
  options: { expectFingerprint?: string } = {},
): BayesCheckpoint {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AlsError(`${file}: no such checkpoint (train one with 'als train --method gibbs')`);
    throw fileSystemError(error, { path: file });
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new AlsError(`${file}: not a checkpoint file (it is a folder)`);
    return readOpenBayesCheckpoint(fd, stats.size, file, options);
  } catch (error) {
    throw fileSystemError(error, { path: file });
  } finally {
    closeSync(fd);
  }
}

/** The Bayesian checkpoint's magic, version, header schema and wording for ./framed-file.ts. */
function bayesFraming(file: string): FramedFormat<Header> {
  return {
    magic: MAGIC,
    version: BAYES_CHECKPOINT_VERSION,
    parseHeader: (headerBuffer) => {
      try {
        const parsed = headerSchema.safeParse(JSON.parse(headerBuffer.toString('utf8')));
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new AlsError(
            `${file}: corrupted Bayesian checkpoint header (${issue.path.join('.')}: ${issue.message})`,
          );
        }
        return parsed.data;
      } catch (error) {
        if (error instanceof AlsError) throw error;
        throw new AlsError(`${file}: corrupted Bayesian checkpoint header (not JSON)`);
      }
    },
    notThisFormat: () => new AlsError(`${file}: not a Bayesian checkpoint (wrong magic bytes)`),
    truncated: (detail) =>
      new AlsError(
        `${file}: truncated Bayesian checkpoint${detail === undefined ? '' : ` (${detail})`}`,
      ),
    corrupted: (what) => new AlsError(`${file}: corrupted Bayesian checkpoint (${what})`),
    unsupportedVersion: (version) =>
      new AlsError(
        `${file}: Bayesian checkpoint version ${version} is not supported (this build reads ${BAYES_CHECKPOINT_VERSION})`,
      ),
    trailingBytes: (extraBytes) => `${extraBytes} bytes past the end`,
    trailerRoomFirst: true,
  };
}

function readOpenBayesCheckpoint(
  fd: number,
  fileBytes: number,
  file: string,
  options: { expectFingerprint?: string },
): BayesCheckpoint {
  const framing = bayesFraming(file);
  const { corrupted } = framing;
  const framed = readFramedHeader(fd, fileBytes, framing);
  const { header } = framed;
  // Sizes implied by the counts, checked against the table before any payload is read.
  if (header.dim > MAX_DIM) throw corrupted(`dim ${header.dim}, at most ${MAX_DIM} is supported`);
  if (header.numUsers > MAX_ROWS || header.numItems > MAX_ROWS)
    throw corrupted(`${header.numUsers} users, ${header.numItems} movies`);
  if (header.stored.length > MAX_STORED_SAMPLES)
    throw corrupted(`${header.stored.length} stored samples`);
  for (const entry of header.arrays)
    if (!isInsidePayload(entry, header.payloadBytes))
      throw corrupted(`array ${entry.name.slice(0, 40)} outside the payload`);
  const payload = readFramedPayload(fd, framed, { shrank: () => framing.truncated(), corrupted });
  if (
    options.expectFingerprint !== undefined &&
    header.dataset !== null &&
    header.dataset.fingerprint !== options.expectFingerprint
  ) {
    throw new AlsError(
      `${file}: trained on another data set (fingerprint ${header.dataset.fingerprint}, this data ${options.expectFingerprint})`,
    );
  }

  const table = new Map(header.arrays.map((a) => [a.name, a]));
  const K = header.dim;
  const U = header.numUsers;
  const N = header.numItems;
  const n = K + 1;
  const take = <T extends StoredArray>(
    name: string,
    type: StoredArrayType,
    length: number | null,
  ): T => {
    const entry = table.get(name);
    if (entry === undefined || entry.type !== type || (length !== null && entry.length !== length))
      throw corrupted(`array ${name} missing or of the wrong size`);
    const n = entry.length;
    const bytesPer = ELEMENT_BYTES[type];
    // A copy of its own, so that each array owns its buffer (not a view of the whole payload).
    const start = entry.byteOffset;
    const copy = new Uint8Array(payload.subarray(start, start + n * bytesPer));
    if (type === 'f64') return new Float64Array(copy.buffer) as T;
    if (type === 'f32') return new Float32Array(copy.buffer) as T;
    if (type === 'i32') return new Int32Array(copy.buffer) as T;
    return copy as T;
  };
  const numTest = header.split?.testRatings ?? table.get('predictive.sum')?.length ?? 0;
  const G = header.kind === 'genre' ? header.numGenres : 0;
  const genreDim = G > 0 ? K : 0;
  const run: GibbsResumePoint = {
    chain: {
      samplesDone: header.samplesDone,
      alpha: header.alpha,
      model: {
        hyper: {
          kind: header.kind,
          dim: K,
          lambda: 1,
          tau: 0,
          gamma: 0,
          genreTau: 0,
          weightedRegularization: false,
          weightedBiasRegularization: false,
        },
        numUsers: U,
        numItems: N,
        globalMean: header.globalMean,
        userFactors: take('chain.userFactors', 'f64', U * K),
        userBias: take('chain.userBias', 'f64', U),
        itemFactors: take('chain.itemFactors', 'f64', N * K),
        itemBias: take('chain.itemBias', 'f64', N),
        genreFactors: take('chain.genreFactors', 'f64', G * K),
      },
      userPrior: {
        mean: take('chain.userPrior.mean', 'f64', n),
        precision: take('chain.userPrior.precision', 'f64', n),
      },
      itemPrior: {
        mean: take('chain.itemPrior.mean', 'f64', n),
        precision: take('chain.itemPrior.precision', 'f64', n),
      },
      genrePrecision: take('chain.genrePrecision', 'f64', genreDim),
    },
    predictive: {
      sum: take('predictive.sum', 'f64', numTest),
      sumSquares: take('predictive.sumSquares', 'f64', numTest),
      clampedSum: take('predictive.clampedSum', 'f64', numTest),
      count: header.predictiveCount,
      inverseAlphaSum: header.inverseAlphaSum,
    },
    storedSamples: header.stored.map((s, i) => ({
      sample: s.sample,
      alpha: s.alpha,
      userFactors: take(`sample${i}.userFactors`, 'f32', U * K),
      userBias: take(`sample${i}.userBias`, 'f32', U),
      itemFactors: take(`sample${i}.itemFactors`, 'f32', N * K),
      itemBias: take(`sample${i}.itemBias`, 'f32', N),
      genreFactors: take(`sample${i}.genreFactors`, 'f32', G * K),
      userPriorMean: take(`sample${i}.userPrior.mean`, 'f64', n),
      userPriorPrecision: take(`sample${i}.userPrior.precision`, 'f64', n),
      itemPriorMean: take(`sample${i}.itemPrior.mean`, 'f64', n),
      itemPriorPrecision: take(`sample${i}.itemPrior.precision`, 'f64', n),
    })),
    metrics: header.metrics,
  };
  return {
    kind: header.kind,
    dim: K,
    burnIn: header.burnIn,
    thin: header.thin,
    seed: header.seed,
    dataset: header.dataset,
    split: header.split,
    scale: header.scale,
    numGenres: header.numGenres,
    kernel: header.kernel,
    threads: header.threads,
    createdAt: header.createdAt,
    run,
    listing: readListing(file, header, take),
  };
}

/** The listing arrays, checked for the ranges a reader indexes with (offsets monotone, ids in range). */
function readListing(
  file: string,
  header: Header,
  take: <T extends StoredArray>(name: string, type: StoredArrayType, length: number | null) => T,
): BayesListing | null {
  if (header.genreNames === null) return null;
  const U = header.numUsers;
  const N = header.numItems;
  const corrupted = (what: string): AlsError =>
    new AlsError(`${file}: corrupted Bayesian checkpoint (${what})`);
  const offsets = (name: string, rows: number, entries: number): Int32Array => {
    const o = take<Int32Array>(name, 'i32', rows + 1);
    if (o[0] !== 0 || o[rows] !== entries) throw corrupted(`${name} do not span their array`);
    for (let i = 0; i < rows; i++) if (o[i + 1]! < o[i]!) throw corrupted(`${name} not increasing`);
    return o;
  };
  const inRange = (name: string, a: Int32Array, bound: number): Int32Array => {
    for (let i = 0; i < a.length; i++)
      if (a[i]! < 0 || a[i]! >= bound) throw corrupted(`${name} out of range`);
    return a;
  };
  const titleBytes = take<Uint8Array>('titleBytes', 'u8', null);
  const genreIds = inRange(
    'genreIds',
    take<Int32Array>('genreIds', 'i32', null),
    header.genreNames.length,
  );
  const trainItems = inRange('trainItems', take<Int32Array>('trainItems', 'i32', null), N);
  return {
    userIds: take<Int32Array>('userIds', 'i32', U),
    itemIds: take<Int32Array>('itemIds', 'i32', N),
    catalog: {
      titles: decodeStrings(offsets('titleOffsets', N, titleBytes.length), titleBytes),
      years: take<Int32Array>('years', 'i32', N),
      genreNames: header.genreNames,
      genreOffsets: offsets('genreOffsets', N, genreIds.length),
      genreIds,
    },
    itemTrainCounts: take<Int32Array>('itemTrainCounts', 'i32', N),
    trainItemsByUser: {
      offsets: offsets('trainItemOffsets', U, trainItems.length),
      items: trainItems,
    },
  };
}

/** A checkpoint as the reading commands see it: ALS-shaped, plus the Bayesian file when it is one. */
export type AnyCheckpoint = Checkpoint & { bayes?: BayesCheckpoint };

/**
 * The ALS-shaped view of a Bayesian checkpoint that eval, recommend, similar and report read: the
 * posterior-mean parameters (the average of the stored samples: what `similar` compares and what
 * ranking metrics rank by), the listing, and the per-sample history as "epochs" (epoch = sample,
 * loss not defined: NaN, left out of charts). Predictions with uncertainty use `bayes` itself.
 */
export function posteriorMeanCheckpoint(
  file: string,
  b: BayesCheckpoint,
): AnyCheckpoint & { bayes: BayesCheckpoint } {
  if (b.dataset === null || b.split === null || !b.listing)
    throw new AlsError(
      `${file}: this Bayesian checkpoint has no data set or catalogue (trained on bare matrices): the CLI cannot read it`,
    );
  const samples = b.run.storedSamples;
  if (samples.length === 0)
    throw new AlsError(
      `${file}: the Bayesian checkpoint holds no stored sample yet (the chain is still in burn-in): continue it with 'als train --method gibbs --resume --out ${file} --samples <n>'`,
    );
  const m = b.run.chain.model;
  const mean = (
    pick: (s: (typeof samples)[number]) => Float32Array,
    length: number,
  ): Float64Array => {
    const out = new Float64Array(length);
    for (const s of samples) {
      const a = pick(s);
      for (let i = 0; i < length; i++) out[i]! += a[i]!;
    }
    for (let i = 0; i < length; i++) out[i]! /= samples.length;
    return out;
  };
  const K = b.kind === 'bias' ? 0 : b.dim;
  const G = b.kind === 'genre' ? b.numGenres : 0;
  const state: ModelState = {
    // Only kind and dim mean anything for a sampled model (as bayesModelHyper in ../core/gibbs.ts).
    hyper: {
      kind: b.kind,
      dim: K,
      lambda: 1,
      tau: 0,
      gamma: 0,
      genreTau: 0,
      weightedRegularization: false,
      weightedBiasRegularization: false,
    },
    numUsers: m.numUsers,
    numItems: m.numItems,
    globalMean: m.globalMean,
    userFactors: mean((s) => s.userFactors, m.numUsers * K),
    userBias: mean((s) => s.userBias, m.numUsers),
    itemFactors: mean((s) => s.itemFactors, m.numItems * K),
    itemBias: mean((s) => s.itemBias, m.numItems),
    genreFactors: mean((s) => s.genreFactors, G * K),
  };
  return {
    seed: b.seed,
    dataset: b.dataset,
    split: b.split,
    epochsDone: b.run.chain.samplesDone,
    metrics: sampleHistoryAsEpochs(b.run.metrics),
    bestEpoch: null,
    kernel: b.kernel,
    threads: b.threads,
    createdAt: b.createdAt,
    state,
    userIds: b.listing.userIds,
    itemIds: b.listing.itemIds,
    catalog: b.listing.catalog,
    itemTrainCounts: b.listing.itemTrainCounts,
    trainItemsByUser: b.listing.trainItemsByUser,
    bayes: b,
  };
}

/** The sample history in the shape of an epoch history (loss NaN: a sampler minimises nothing). */
export function sampleHistoryAsEpochs(metrics: readonly SampleMetrics[]): EpochMetrics[] {
  return metrics.map((m) => ({
    epoch: m.sample,
    loss: Number.NaN,
    trainRmse: m.trainRmse,
    validationRmse: m.validationRmse,
    elapsedMs: m.elapsedMs,
  }));
}

/** Reads an ALS or a Bayesian checkpoint, told apart by the magic bytes. */
export function readAnyCheckpoint(
  file: string,
  options: { expectFingerprint?: string } = {},
): AnyCheckpoint {
  let first = Buffer.alloc(0);
  try {
    const fd = openSync(file, 'r');
    try {
      first = Buffer.alloc(MAGIC.length);
      first = first.subarray(0, readAt(fd, first, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    // Missing or unreadable: readCheckpoint says so in its own words.
  }
  if (isBayesCheckpoint(first))
    return posteriorMeanCheckpoint(file, readBayesCheckpoint(file, options));
  return readCheckpoint(file, options);
}
