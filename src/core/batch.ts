/**
 * Top-N for many users at once (offline evaluation: `als recommend --all-users`).
 *
 * Scores are r̂(u, i) = μ + b_u + c_i + u·v_i over the eligible movies only (the filter is applied
 * once, by compacting the item side). The work is the dense product U·Vᵀ; it is blocked so that a
 * block of item factors stays in cache while a block of users streams over it, and each user keeps
 * a fixed-size min-heap whose root is the score to beat, so almost every score costs one compare.
 * Movies a user rated in training are skipped by a binary search in their sorted CSR row, done
 * only when a score would enter the heap (rare after the first few hundred movies).
 *
 * Pure function over typed arrays: the worker pool (batch-pool.ts) runs it on user ranges.
 */

export interface BatchArgs {
  dim: number;
  /** Number of eligible movies E. */
  numEligible: number;
  /** E × dim item factors of the eligible movies, row-major. */
  eligibleFactors: Float64Array;
  /** c_i of the eligible movies. */
  eligibleBias: Float64Array;
  /** Original item index of each eligible movie, ascending. */
  eligibleItems: Int32Array;
  /** numUsers × dim. */
  userFactors: Float64Array;
  /** μ + b_u per user. */
  userBase: Float64Array;
  /** CSR of the movies each user rated (sorted within a row): excluded. Empty offsets = none. */
  excludeOffsets: Int32Array;
  excludeIndices: Int32Array;
  /** N. */
  topN: number;
  /** Output, numUsers × N: item indexes best first (−1 past the end of a short list) and scores. */
  outItems: Int32Array;
  outScores: Float64Array;
}

const USER_BLOCK = 32;
const ITEM_BLOCK = 512;

/** Fills the output rows of users [userStart, userEnd). */
export function batchTopNRange(args: BatchArgs, userStart: number, userEnd: number): void {
  const {
    dim,
    numEligible,
    eligibleFactors,
    eligibleBias,
    eligibleItems,
    userFactors,
    userBase,
    topN,
  } = args;
  const { excludeOffsets, excludeIndices, outItems, outScores } = args;
  const hasExclusions = excludeOffsets.length > 0;
  if (topN === 0) return;
  // Per-user heaps for one user block: flat arrays, (score, item) min-heaps of capacity N.
  const heapScores = new Float64Array(USER_BLOCK * topN);
  const heapItems = new Int32Array(USER_BLOCK * topN);
  const heapSize = new Int32Array(USER_BLOCK);
  const threshold = new Float64Array(USER_BLOCK);

  for (let blockStart = userStart; blockStart < userEnd; blockStart += USER_BLOCK) {
    const blockEnd = Math.min(userEnd, blockStart + USER_BLOCK);
    heapSize.fill(0);
    threshold.fill(-Infinity);
    for (let itemStart = 0; itemStart < numEligible; itemStart += ITEM_BLOCK) {
      const itemEnd = Math.min(numEligible, itemStart + ITEM_BLOCK);
      for (let user = blockStart; user < blockEnd; user++) {
        const slot = user - blockStart;
        const userOffset = user * dim;
        const base = userBase[user]!;
        let beat = threshold[slot]!;
        for (let e = itemStart; e < itemEnd; e++) {
          // u·v_e summed in k order, then (μ + b_u + c_e) + u·v_e: the same operations in the same
          // order as the WebAssembly kernel (src/core/wasm/topn.ts), so both give identical lists.
          const itemOffset = e * dim;
          let dot = 0;
          for (let k = 0; k < dim; k++)
            dot += userFactors[userOffset + k]! * eligibleFactors[itemOffset + k]!;
          const score = base + eligibleBias[e]! + dot;
          if (!(score > beat)) continue;
          const item = eligibleItems[e]!;
          if (
            hasExclusions &&
            rowContains(excludeIndices, excludeOffsets[user]!, excludeOffsets[user + 1]!, item)
          )
            continue;
          heapPush(heapScores, heapItems, slot * topN, heapSize, slot, topN, score, item);
          if (heapSize[slot] === topN) beat = heapScores[slot * topN]!;
        }
        threshold[slot] = beat;
      }
    }
    for (let user = blockStart; user < blockEnd; user++) {
      const slot = user - blockStart;
      writeSorted(
        heapScores,
        heapItems,
        slot * topN,
        heapSize[slot]!,
        topN,
        outItems,
        outScores,
        user * topN,
      );
    }
  }
}

/** Binary search for `item` in indices[start, end) (sorted ascending). */
function rowContains(indices: Int32Array, start: number, end: number, item: number): boolean {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const value = indices[mid]!;
    if (value === item) return true;
    if (value < item) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Pushes into the min-heap at [base, base+capacity). Entries arrive in ascending item order and
 * only when strictly better than the root, so ties keep the lower item index.
 */
function heapPush(
  scores: Float64Array,
  items: Int32Array,
  base: number,
  sizes: Int32Array,
  slot: number,
  capacity: number,
  score: number,
  item: number,
): void {
  const size = sizes[slot]!;
  if (size < capacity) {
    let i = size;
    sizes[slot] = size + 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      // The newcomer has the highest index so far: on a tied score it is the worse one and rises.
      if (scores[base + parent]! < score) break;
      scores[base + i] = scores[base + parent]!;
      items[base + i] = items[base + parent]!;
      i = parent;
    }
    scores[base + i] = score;
    items[base + i] = item;
    return;
  }
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= capacity) break;
    let child = left;
    const right = left + 1;
    if (right < capacity && lessInHeap(scores, items, base + right, base + left)) child = right;
    if (!(scores[base + child]! < score)) break;
    scores[base + i] = scores[base + child]!;
    items[base + i] = items[base + child]!;
    i = child;
  }
  scores[base + i] = score;
  items[base + i] = item;
}

/** Heap order: lower score first; on equal scores the higher item index is the worse one. */
function lessInHeap(scores: Float64Array, items: Int32Array, a: number, b: number): boolean {
  return scores[a]! < scores[b]! || (scores[a] === scores[b] && items[a]! > items[b]!);
}

/** Writes a heap's entries best first (score descending, then item ascending), padding with −1. */
function writeSorted(
  scores: Float64Array,
  items: Int32Array,
  base: number,
  size: number,
  capacity: number,
  outItems: Int32Array,
  outScores: Float64Array,
  outBase: number,
): void {
  // Insertion sort: N is small (10–100).
  for (let a = 1; a < size; a++) {
    const score = scores[base + a]!;
    const item = items[base + a]!;
    let b = a - 1;
    while (
      b >= 0 &&
      (scores[base + b]! < score || (scores[base + b] === score && items[base + b]! > item))
    ) {
      scores[base + b + 1] = scores[base + b]!;
      items[base + b + 1] = items[base + b]!;
      b--;
    }
    scores[base + b + 1] = score;
    items[base + b + 1] = item;
  }
  for (let k = 0; k < capacity; k++) {
    outItems[outBase + k] = k < size ? items[base + k]! : -1;
    outScores[outBase + k] = k < size ? scores[base + k]! : Number.NaN;
  }
}

/** The eligible movies' factors and biases packed contiguously (what batchTopNRange scans). */
export function compactEligible(
  model: {
    hyper: { dim: number };
    numItems: number;
    itemFactors: Float64Array;
    itemBias: Float64Array;
  },
  eligible: Uint8Array,
): {
  numEligible: number;
  eligibleFactors: Float64Array;
  eligibleBias: Float64Array;
  eligibleItems: Int32Array;
} {
  const dim = model.hyper.dim;
  let numEligible = 0;
  for (let item = 0; item < model.numItems; item++) numEligible += eligible[item]!;
  const eligibleFactors = new Float64Array(numEligible * dim);
  const eligibleBias = new Float64Array(numEligible);
  const eligibleItems = new Int32Array(numEligible);
  let e = 0;
  for (let item = 0; item < model.numItems; item++) {
    if (eligible[item] === 0) continue;
    eligibleFactors.set(model.itemFactors.subarray(item * dim, (item + 1) * dim), e * dim);
    eligibleBias[e] = model.itemBias[item]!;
    eligibleItems[e++] = item;
  }
  return { numEligible, eligibleFactors, eligibleBias, eligibleItems };
}
