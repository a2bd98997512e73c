/**
 * Cross-validation folds: a fold number per rating, so that every configuration compared on a
 * data set is scored on exactly the same train/test pairs (paired comparison).
 *
 * A `Folds` value assigns each rating, addressed by its CSR position k as in ./splits.ts, a fold
 * foldOf[k] ∈ {0 … k−1}, or −1 when the rating is in no fold (the outer test part of a nested
 * selection, which must never be trained on or scored). Schemes:
 * - `ml100k`: ML-100K's official u1…u5 (fold f holds out exactly u{f+1}.test); k = 5.
 * - `random:K`: the pool's ratings shuffled (Fisher–Yates, seeded) and dealt round-robin, so fold
 *   sizes differ by at most one.
 * - `user:K`: each user's ratings shuffled and dealt round-robin from a random first fold, so
 *   every user with ≥ K ratings is in every fold's test part and in its training part.
 * - `temporal:K`: rolling origin. The pool's ratings sorted by (timestamp, position) are cut into
 *   K + 1 equal blocks B_0 … B_K; fold f trains on B_0 … B_f and tests on B_(f+1), so a model
 *   never sees ratings later than the ones it predicts. B_0 is never a test block.
 * For every scheme but temporal, fold f trains on the pool minus fold f: test parts are disjoint
 * and together cover the pool, and each rating is trained on in K − 1 folds.
 */
import { Random } from '../core/random.js';
import { AlsError } from '../errors.js';
import { describeSplit, filterMatrix, holdOutMl100kFold, selectHeldOut } from './splits.js';
import type { Dataset, Split } from './types.js';

export type FoldScheme = 'ml100k' | 'random' | 'user' | 'temporal';

export interface FoldSpec {
  scheme: FoldScheme;
  /** Number of folds (train/test pairs). */
  k: number;
}

export interface Folds {
  /** The spec as given, e.g. "random:5" (recorded with every run scored on these folds). */
  spec: string;
  scheme: FoldScheme;
  seed: number;
  k: number;
  /**
   * Fold per CSR position: 0 … k−1, or −1 outside every fold. For temporal folds this is the
   * time block 0 … k (block b is fold b−1's test part).
   */
  foldOf: Int8Array;
}

export const FOLD_FORMS = 'ml100k, random:K, user:K, temporal:K (2 ≤ K ≤ 100)';

/** Parses "ml100k", "random:5", "user:5" or "temporal:4"; anything else is a one-line AlsError. */
export function parseFoldSpec(spec: string): FoldSpec {
  const bad = (why: string): AlsError =>
    new AlsError(`bad folds "${spec}": ${why}; valid forms: ${FOLD_FORMS}`, 2);
  if (spec === 'ml100k') return { scheme: 'ml100k', k: 5 };
  const colon = spec.indexOf(':');
  if (colon < 0) throw bad('unknown form');
  const scheme = spec.slice(0, colon);
  const arg = spec.slice(colon + 1);
  if (scheme !== 'random' && scheme !== 'user' && scheme !== 'temporal')
    throw bad(`unknown scheme "${scheme}"`);
  const k = Number(arg);
  if (!/^\d+$/.test(arg) || k < 2 || k > 100)
    throw bad('the number of folds must be an integer from 2 to 100');
  return { scheme, k };
}

/**
 * Assigns folds, deterministically from `seed`. `pool` (1 = eligible, by CSR position) restricts
 * the folds to part of the data, e.g. the training part of an outer split; ratings outside it get
 * fold −1. The official ML-100K folds cover the whole set and cannot be restricted.
 */
export function makeFolds(dataset: Dataset, spec: string, seed: number, pool?: Uint8Array): Folds {
  const { scheme, k } = parseFoldSpec(spec);
  const matrix = dataset.matrix;
  const n = matrix.numRatings;
  if (pool !== undefined && pool.length !== n)
    throw new RangeError(`pool covers ${pool.length} ratings, the data set ${n}`);
  const foldOf = new Int8Array(n).fill(-1);
  const rng = new Random(seed);
  const inPool = (p: number): boolean => pool === undefined || pool[p] === 1;

  switch (scheme) {
    case 'ml100k': {
      if (pool !== undefined)
        throw new AlsError(
          'folds "ml100k": the official folds cover the whole data set; use random:K or user:K for nested folds',
          2,
        );
      const keep = new Uint8Array(n);
      for (let f = 0; f < k; f++) {
        keep.fill(1);
        holdOutMl100kFold(dataset, keep, `u${f + 1}` as 'u1');
        for (let p = 0; p < n; p++) {
          if (keep[p] === 1) continue;
          if (foldOf[p] !== -1)
            throw new AlsError(
              `folds "ml100k": a rating is in u${foldOf[p]! + 1}.test and u${f + 1}.test`,
            );
          foldOf[p] = f;
        }
      }
      break;
    }
    case 'random': {
      const order = poolPositions(n, inPool);
      shuffle(order, 0, order.length, rng);
      for (let j = 0; j < order.length; j++) foldOf[order[j]!] = j % k;
      break;
    }
    case 'user': {
      const offsets = matrix.ratingsByUser.offsets;
      const scratch = new Int32Array(n);
      for (let u = 0; u < matrix.numUsers; u++) {
        let size = 0;
        for (let p = offsets[u]!; p < offsets[u + 1]!; p++) if (inPool(p)) scratch[size++] = p;
        shuffle(scratch, 0, size, rng);
        const first = rng.nextInt(k);
        for (let j = 0; j < size; j++) foldOf[scratch[j]!] = (first + j) % k;
      }
      break;
    }
    case 'temporal': {
      const times = dataset.timestampsByUser;
      if (times === null)
        throw new AlsError(`folds "${spec}" need timestamps, and ${dataset.info.name} has none`, 2);
      const order = Array.from(poolPositions(n, inPool));
      order.sort((a, b) => times[a]! - times[b]! || a - b);
      const blocks = k + 1;
      for (let j = 0; j < order.length; j++)
        foldOf[order[j]!] = Math.floor((j * blocks) / order.length);
      break;
    }
  }
  return { spec, scheme, seed, k, foldOf };
}

function poolPositions(n: number, inPool: (p: number) => boolean): Int32Array {
  let size = 0;
  for (let p = 0; p < n; p++) if (inPool(p)) size++;
  const order = new Int32Array(size);
  let j = 0;
  for (let p = 0; p < n; p++) if (inPool(p)) order[j++] = p;
  return order;
}

/** Fisher–Yates over order[start, end). */
function shuffle(order: Int32Array, start: number, end: number, rng: Random): void {
  for (let p = end - 1; p > start; p--) {
    const q = start + rng.nextInt(p - start + 1);
    const t = order[q]!;
    order[q] = order[p]!;
    order[p] = t;
  }
}

/**
 * Masks of fold f: train[p] = 1 for the ratings fold f trains on, test[p] = 0 for the ratings it
 * is scored on (the convention of ./splits.ts, where 0 means held out). Outside-fold ratings
 * (foldOf −1) are in neither.
 */
export function foldMasks(folds: Folds, fold: number): { train: Uint8Array; test: Uint8Array } {
  if (!Number.isInteger(fold) || fold < 0 || fold >= folds.k)
    throw new RangeError(`fold ${fold} of ${folds.k}`);
  const n = folds.foldOf.length;
  const train = new Uint8Array(n);
  const test = new Uint8Array(n).fill(1);
  const temporal = folds.scheme === 'temporal';
  for (let p = 0; p < n; p++) {
    const f = folds.foldOf[p]!;
    if (f < 0) continue;
    if (temporal) {
      if (f <= fold) train[p] = 1;
      else if (f === fold + 1) test[p] = 0;
    } else if (f === fold) test[p] = 0;
    else train[p] = 1;
  }
  return { train, test };
}

/** The train/test split of fold f (0-based), in the data set's index space. */
export function foldSplit(dataset: Dataset, folds: Folds, fold: number): Split {
  const masks = foldMasks(folds, fold);
  const { train, trainTimestamps } = filterMatrix(
    dataset.matrix,
    dataset.timestampsByUser,
    masks.train,
  );
  const test = selectHeldOut(dataset.matrix, dataset.timestampsByUser, masks.test);
  const report = describeSplit(
    dataset.matrix,
    train,
    test,
    `${folds.spec}#${fold + 1}`,
    folds.seed,
  );
  return { train, trainTimestamps, test, report };
}
