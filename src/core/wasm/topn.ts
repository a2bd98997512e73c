// AssemblyScript (compiled by `asc` to dist/core/topn.wasm, not by tsc): the WebAssembly SIMD
// version of batchTopNRange in src/core/batch.ts. It returns exactly the lists of the TypeScript
// path: scores are screened in f32 (four users per f32x4 lane group, 16 users per pass), and every
// score that might enter a top-N list is recomputed in f64 with the TypeScript path's operations in
// the same order: r̂(u, e) = (μ + b_u + c_e) + Σ_k u_k v_ek. Only that exact score is compared and
// kept.
//
// Why the screen is safe: the f32 score differs from the f64 one by at most
//   (dim + 4) · 2⁻²³ · (|μ + b_u| + |c_e| + ‖u‖ ‖v_e‖)
// (rounding of the inputs, of each product and of each addition), so with the margin
//   m_u = (dim + 8) · 2⁻²² · (|μ + b_u| + max|c| + ‖u‖ · max‖v‖)
// a score whose exact value beats the threshold t_u always passes s32 > t_u − m_u.
//
// A score enters user u's top-N min-heap only when it beats the heap's root, and only then is the
// user's sorted training row binary-searched to leave out movies they rated. Every array argument
// is a byte offset into this module's own memory (the caller copies the data in); nothing is
// allocated here.

const BLOCK: i32 = 16;

/** Bytes of scratch at dimension `dim` and list length `topN`. */
export function scratchBytes(dim: i32, topN: i32): i32 {
  // transposed f32 block + f32 bases + f32 screens + f64 thresholds + f64 margins + heap scores/items + sizes
  return dim * BLOCK * 4 + BLOCK * 4 + BLOCK * 4 + BLOCK * 8 + BLOCK * 8 + BLOCK * topN * 8 + BLOCK * topN * 4 + BLOCK * 4 + BLOCK * 4;
}

export function topNRange(
  dim: i32,
  numEligible: i32,
  eligibleFactors: usize, // f64, numEligible × dim (exact scores)
  eligibleFactors32: usize, // f32, the same rounded (screening)
  eligibleBias: usize, // f64
  eligibleItems: usize, // i32
  maxAbsBias: f64, // max |c_e|
  maxNorm: f64, // max ‖v_e‖
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
  const base32 = transposed + <usize>(dim * BLOCK * 4);
  const screen = base32 + <usize>(BLOCK * 4);
  const threshold = screen + <usize>(BLOCK * 4);
  const margin = threshold + <usize>(BLOCK * 8);
  const heapScores = margin + <usize>(BLOCK * 8);
  const heapItems = heapScores + <usize>(BLOCK * topN * 8);
  const heapSize = heapItems + <usize>(BLOCK * topN * 4);
  const laneMask = heapSize + <usize>(BLOCK * 4);
  const rowBytes64 = <usize>dim << 3;
  const rowBytes32 = <usize>dim << 2;
  const errorScale: f64 = <f64>(dim + 8) * 2.384185791015625e-7; // (dim + 8) · 2⁻²²

  for (let blockStart = 0; blockStart < numUsers; blockStart += BLOCK) {
    const inBlock = min(BLOCK, numUsers - blockStart);
    for (let j = 0; j < BLOCK; j++) {
      const user = blockStart + j;
      let normSquared: f64 = 0;
      for (let k = 0; k < dim; k++) {
        const value = j < inBlock ? load<f64>(userFactors + <usize>user * rowBytes64 + (<usize>k << 3)) : 0.0;
        normSquared += value * value;
        store<f32>(transposed + (<usize>(k * BLOCK + j) << 2), <f32>value);
      }
      const base = j < inBlock ? load<f64>(userBase + (<usize>user << 3)) : 0.0;
      store<f32>(base32 + (<usize>j << 2), <f32>base);
      store<f64>(margin + (<usize>j << 3), errorScale * (Math.abs(base) + maxAbsBias + Math.sqrt(normSquared) * maxNorm));
      store<f64>(threshold + (<usize>j << 3), -Infinity);
      // Lanes past the last user never pass the screen.
      store<f32>(screen + (<usize>j << 2), j < inBlock ? -Infinity : Infinity);
      store<i32>(heapSize + (<usize>j << 2), 0);
    }
    const b0 = v128.load(base32);
    const b1 = v128.load(base32, 16);
    const b2 = v128.load(base32, 32);
    const b3 = v128.load(base32, 48);
    let s0 = v128.load(screen);
    let s1 = v128.load(screen, 16);
    let s2 = v128.load(screen, 32);
    let s3 = v128.load(screen, 48);

    // Two movies per pass: each user factor loaded from the block feeds 2 × 4 accumulators.
    for (let e = 0; e < numEligible; e += 2) {
      const pair = e + 1 < numEligible;
      const row = eligibleFactors32 + <usize>e * rowBytes32;
      const row2 = pair ? row + rowBytes32 : row;
      let a0 = f32x4.splat(0.0);
      let a1 = f32x4.splat(0.0);
      let a2 = f32x4.splat(0.0);
      let a3 = f32x4.splat(0.0);
      let c0 = f32x4.splat(0.0);
      let c1 = f32x4.splat(0.0);
      let c2 = f32x4.splat(0.0);
      let c3 = f32x4.splat(0.0);
      let t = transposed;
      for (let k = 0; k < dim; k++) {
        const v = v128.load32_splat(row + (<usize>k << 2));
        const w = v128.load32_splat(row2 + (<usize>k << 2));
        const u0 = v128.load(t);
        const u1 = v128.load(t, 16);
        const u2 = v128.load(t, 32);
        const u3 = v128.load(t, 48);
        a0 = f32x4.add(a0, f32x4.mul(u0, v));
        a1 = f32x4.add(a1, f32x4.mul(u1, v));
        a2 = f32x4.add(a2, f32x4.mul(u2, v));
        a3 = f32x4.add(a3, f32x4.mul(u3, v));
        c0 = f32x4.add(c0, f32x4.mul(u0, w));
        c1 = f32x4.add(c1, f32x4.mul(u1, w));
        c2 = f32x4.add(c2, f32x4.mul(u2, w));
        c3 = f32x4.add(c3, f32x4.mul(u3, w));
        t += 64;
      }
      for (let q = 0; q < 2; q++) {
        if (q == 1 && !pair) break;
        const item = e + q;
        const c = f32x4.splat(<f32>load<f64>(eligibleBias + (<usize>item << 3)));
        const m0 = f32x4.gt(f32x4.add(f32x4.add(b0, c), q == 0 ? a0 : c0), s0);
        const m1 = f32x4.gt(f32x4.add(f32x4.add(b1, c), q == 0 ? a1 : c1), s1);
        const m2 = f32x4.gt(f32x4.add(f32x4.add(b2, c), q == 0 ? a2 : c2), s2);
        const m3 = f32x4.gt(f32x4.add(f32x4.add(b3, c), q == 0 ? a3 : c3), s3);
        if (!v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) continue;
        v128.store(laneMask, m0);
        v128.store(laneMask, m1, 16);
        v128.store(laneMask, m2, 32);
        v128.store(laneMask, m3, 48);
        // Rare: some user's list may take this movie (the screen of the second movie of a pair may
        // be a little low after the first one raised it: that only costs an extra exact score).
        if (considerItem(
          item, inBlock, blockStart, dim, eligibleFactors, eligibleBias, eligibleItems, userFactors, userBase,
          excludeOffsets, excludeIndices, topN, threshold, margin, screen, heapScores, heapItems, heapSize, laneMask,
        )) {
          s0 = v128.load(screen);
          s1 = v128.load(screen, 16);
          s2 = v128.load(screen, 32);
          s3 = v128.load(screen, 48);
        }
      }
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

/**
 * Exact f64 scores of one movie for the users whose lane passed the screen; pushes those that beat
 * their threshold (and were not rated in training). Returns true when a screen value changed.
 */
function considerItem(
  e: i32, inBlock: i32, blockStart: i32, dim: i32,
  eligibleFactors: usize, eligibleBias: usize, eligibleItems: usize, userFactors: usize, userBase: usize,
  excludeOffsets: usize, excludeIndices: usize, topN: i32,
  threshold: usize, margin: usize, screen: usize, heapScores: usize, heapItems: usize, heapSize: usize, laneMask: usize,
): bool {
  const rowBytes64 = <usize>dim << 3;
  const item = load<i32>(eligibleItems + (<usize>e << 2));
  const row64 = eligibleFactors + <usize>e * rowBytes64;
  const bias = load<f64>(eligibleBias + (<usize>e << 3));
  let changed = false;
  for (let j = 0; j < inBlock; j++) {
    if (load<i32>(laneMask + (<usize>j << 2)) == 0) continue;
    const user = blockStart + j;
    const urow = userFactors + <usize>user * rowBytes64;
    let dot: f64 = 0;
    for (let k = 0; k < dim; k++) dot += load<f64>(urow + (<usize>k << 3)) * load<f64>(row64 + (<usize>k << 3));
    const score = load<f64>(userBase + (<usize>user << 3)) + bias + dot;
    if (!(score > load<f64>(threshold + (<usize>j << 3)))) continue;
    if (excludeOffsets != 0) {
      const start = load<i32>(excludeOffsets + (<usize>user << 2));
      const end = load<i32>(excludeOffsets + (<usize>(user + 1) << 2));
      if (rowContains(excludeIndices, start, end, item)) continue;
    }
    const heapBase = <usize>(j * topN);
    const newSize = heapPush(heapScores, heapItems, heapBase, load<i32>(heapSize + (<usize>j << 2)), topN, score, item);
    store<i32>(heapSize + (<usize>j << 2), newSize);
    if (newSize == topN) {
      const exact = load<f64>(heapScores + (heapBase << 3));
      store<f64>(threshold + (<usize>j << 3), exact);
      // Screen value: t − m, and one f32 step lower for the rounding of the comparison.
      const lowered = exact - load<f64>(margin + (<usize>j << 3));
      store<f32>(screen + (<usize>j << 2), <f32>(lowered - Math.abs(lowered) * 1.1920928955078125e-7));
      changed = true;
    }
  }
  return changed;
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
