// AssemblyScript (compiled by `asc` to dist/core/topn.wasm, not by tsc): the WebAssembly SIMD
// version of batchTopNRange in src/core/batch.ts, with the same contract and the same arithmetic
// (f64, the same order of additions, no fused multiply-add), so it returns identical lists.
//
// Scores r̂(u, e) = (μ + b_u + c_e) + Σ_k u_k v_ek for 8 users at a time: the block's factors are
// transposed so that lane j of a f64x2 pair holds user j, each item factor v_ek is splatted once
// and multiplied into 4 accumulators (8 users). A score enters user j's top-N min-heap only when
// it beats the heap's root (all 8 compared with one SIMD test), and only then is the user's
// sorted training row binary-searched to leave out movies they rated.
//
// Every array argument is a byte offset into this module's own memory (the caller copies the data
// in and grows the memory as needed); nothing is allocated here.

const BLOCK: i32 = 8;

/** Bytes of scratch at dimension `dim` and list length `topN`. */
export function scratchBytes(dim: i32, topN: i32): i32 {
  // transposed block + base + thresholds + heap scores + heap items + heap sizes
  return dim * BLOCK * 8 + BLOCK * 8 + BLOCK * 8 + BLOCK * topN * 8 + BLOCK * topN * 4 + BLOCK * 4;
}

export function topNRange(
  dim: i32,
  numEligible: i32,
  eligibleFactors: usize, // f64, numEligible × dim
  eligibleBias: usize, // f64
  eligibleItems: usize, // i32
  numUsers: i32,
  userFactors: usize, // f64, numUsers × dim
  userBase: usize, // f64, μ + b_u
  excludeOffsets: usize, // i32, numUsers + 1 (rebased to this range), 0 = none
  excludeIndices: usize, // i32
  topN: i32,
  outItems: usize, // i32, numUsers × topN
  outScores: usize, // f64, numUsers × topN
  scratch: usize,
): void {
  if (topN == 0) return;
  const transposed = scratch;
  const base = transposed + <usize>(dim * BLOCK * 8);
  const threshold = base + <usize>(BLOCK * 8);
  const heapScores = threshold + <usize>(BLOCK * 8);
  const heapItems = heapScores + <usize>(BLOCK * topN * 8);
  const heapSize = heapItems + <usize>(BLOCK * topN * 4);
  const rowBytes = <usize>dim << 3;

  for (let blockStart = 0; blockStart < numUsers; blockStart += BLOCK) {
    const inBlock = min(BLOCK, numUsers - blockStart);
    for (let j = 0; j < BLOCK; j++) {
      const user = blockStart + j;
      for (let k = 0; k < dim; k++) {
        const value = j < inBlock ? load<f64>(userFactors + <usize>user * rowBytes + (<usize>k << 3)) : 0.0;
        store<f64>(transposed + (<usize>(k * BLOCK + j) << 3), value);
      }
      store<f64>(base + (<usize>j << 3), j < inBlock ? load<f64>(userBase + (<usize>user << 3)) : 0.0);
      // Lanes past the last user never accept anything.
      store<f64>(threshold + (<usize>j << 3), j < inBlock ? -Infinity : Infinity);
      store<i32>(heapSize + (<usize>j << 2), 0);
    }
    const base01 = v128.load(base);
    const base23 = v128.load(base + 16);
    const base45 = v128.load(base + 32);
    const base67 = v128.load(base + 48);
    let thr01 = v128.load(threshold);
    let thr23 = v128.load(threshold + 16);
    let thr45 = v128.load(threshold + 32);
    let thr67 = v128.load(threshold + 48);

    for (let e = 0; e < numEligible; e++) {
      const row = eligibleFactors + <usize>e * rowBytes;
      let a01 = f64x2.splat(0.0);
      let a23 = f64x2.splat(0.0);
      let a45 = f64x2.splat(0.0);
      let a67 = f64x2.splat(0.0);
      let t = transposed;
      for (let k = 0; k < dim; k++) {
        const v = f64x2.splat(load<f64>(row + (<usize>k << 3)));
        a01 = f64x2.add(a01, f64x2.mul(v128.load(t), v));
        a23 = f64x2.add(a23, f64x2.mul(v128.load(t, 16), v));
        a45 = f64x2.add(a45, f64x2.mul(v128.load(t, 32), v));
        a67 = f64x2.add(a67, f64x2.mul(v128.load(t, 48), v));
        t += 64;
      }
      const c = f64x2.splat(load<f64>(eligibleBias + (<usize>e << 3)));
      const s01 = f64x2.add(f64x2.add(base01, c), a01);
      const s23 = f64x2.add(f64x2.add(base23, c), a23);
      const s45 = f64x2.add(f64x2.add(base45, c), a45);
      const s67 = f64x2.add(f64x2.add(base67, c), a67);
      const beats = v128.or(
        v128.or(f64x2.gt(s01, thr01), f64x2.gt(s23, thr23)),
        v128.or(f64x2.gt(s45, thr45), f64x2.gt(s67, thr67)),
      );
      if (!v128.any_true(beats)) continue;
      // Rare: at least one user's heap takes this movie.
      const item = load<i32>(eligibleItems + (<usize>e << 2));
      for (let j = 0; j < inBlock; j++) {
        let score: f64;
        switch (j) {
          case 0: score = f64x2.extract_lane(s01, 0); break;
          case 1: score = f64x2.extract_lane(s01, 1); break;
          case 2: score = f64x2.extract_lane(s23, 0); break;
          case 3: score = f64x2.extract_lane(s23, 1); break;
          case 4: score = f64x2.extract_lane(s45, 0); break;
          case 5: score = f64x2.extract_lane(s45, 1); break;
          case 6: score = f64x2.extract_lane(s67, 0); break;
          default: score = f64x2.extract_lane(s67, 1); break;
        }
        if (!(score > load<f64>(threshold + (<usize>j << 3)))) continue;
        const user = blockStart + j;
        if (excludeOffsets != 0) {
          const start = load<i32>(excludeOffsets + (<usize>user << 2));
          const end = load<i32>(excludeOffsets + (<usize>(user + 1) << 2));
          if (rowContains(excludeIndices, start, end, item)) continue;
        }
        const heapBase = <usize>(j * topN);
        const newSize = heapPush(heapScores, heapItems, heapBase, load<i32>(heapSize + (<usize>j << 2)), topN, score, item);
        store<i32>(heapSize + (<usize>j << 2), newSize);
        if (newSize == topN) store<f64>(threshold + (<usize>j << 3), load<f64>(heapScores + (heapBase << 3)));
      }
      thr01 = v128.load(threshold);
      thr23 = v128.load(threshold + 16);
      thr45 = v128.load(threshold + 32);
      thr67 = v128.load(threshold + 48);
    }

    for (let j = 0; j < inBlock; j++) {
      const user = blockStart + j;
      writeSorted(
        heapScores, heapItems, <usize>(j * topN), load<i32>(heapSize + (<usize>j << 2)), topN,
        outItems, outScores, <usize>user * <usize>topN,
      );
    }
  }
}

function rowContains(indices: usize, start: i32, end: i32, item: i32): bool {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const value = load<i32>(indices + (<usize>mid << 2));
    if (value == item) return true;
    if (value < item) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Min-heap push (see batch.ts heapPush): returns the new size. Indices are element indices. */
function heapPush(scores: usize, items: usize, base: usize, size: i32, capacity: i32, score: f64, item: i32): i32 {
  if (size < capacity) {
    let i = size;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentScore = load<f64>(scores + ((base + <usize>parent) << 3));
      if (parentScore < score) break;
      store<f64>(scores + ((base + <usize>i) << 3), parentScore);
      store<i32>(items + ((base + <usize>i) << 2), load<i32>(items + ((base + <usize>parent) << 2)));
      i = parent;
    }
    store<f64>(scores + ((base + <usize>i) << 3), score);
    store<i32>(items + ((base + <usize>i) << 2), item);
    return size + 1;
  }
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= capacity) break;
    let child = left;
    const right = left + 1;
    if (right < capacity) {
      const rs = load<f64>(scores + ((base + <usize>right) << 3));
      const ls = load<f64>(scores + ((base + <usize>left) << 3));
      if (rs < ls || (rs == ls && load<i32>(items + ((base + <usize>right) << 2)) > load<i32>(items + ((base + <usize>left) << 2)))) {
        child = right;
      }
    }
    const childScore = load<f64>(scores + ((base + <usize>child) << 3));
    if (!(childScore < score)) break;
    store<f64>(scores + ((base + <usize>i) << 3), childScore);
    store<i32>(items + ((base + <usize>i) << 2), load<i32>(items + ((base + <usize>child) << 2)));
    i = child;
  }
  store<f64>(scores + ((base + <usize>i) << 3), score);
  store<i32>(items + ((base + <usize>i) << 2), item);
  return capacity;
}

/** Best first (score descending, item ascending), padded with −1 / NaN. */
function writeSorted(
  scores: usize, items: usize, base: usize, size: i32, capacity: i32,
  outItems: usize, outScores: usize, outBase: usize,
): void {
  for (let a = 1; a < size; a++) {
    const score = load<f64>(scores + ((base + <usize>a) << 3));
    const item = load<i32>(items + ((base + <usize>a) << 2));
    let b = a - 1;
    while (b >= 0) {
      const bs = load<f64>(scores + ((base + <usize>b) << 3));
      const bi = load<i32>(items + ((base + <usize>b) << 2));
      if (!(bs < score || (bs == score && bi > item))) break;
      store<f64>(scores + ((base + <usize>(b + 1)) << 3), bs);
      store<i32>(items + ((base + <usize>(b + 1)) << 2), bi);
      b--;
    }
    store<f64>(scores + ((base + <usize>(b + 1)) << 3), score);
    store<i32>(items + ((base + <usize>(b + 1)) << 2), item);
  }
  for (let k = 0; k < capacity; k++) {
    const inList = k < size;
    store<i32>(outItems + ((outBase + <usize>k) << 2), inList ? load<i32>(items + ((base + <usize>k) << 2)) : -1);
    store<f64>(outScores + ((outBase + <usize>k) << 3), inList ? load<f64>(scores + ((base + <usize>k) << 3)) : NaN);
  }
}
