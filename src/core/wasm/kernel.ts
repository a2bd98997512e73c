// AssemblyScript (compiled by `asc` to dist/core/kernel.wasm, not by tsc): the WebAssembly SIMD
// implementation of the half-epoch kernel whose contract is documented in src/core/kernel.ts.
//
// Every array argument is a byte offset into the imported shared memory. `scratch` is this call's
// private work area (see scratchBytes); the caller (src/core/kernel-wasm.ts) gives each concurrent
// call its own. Nothing is allocated: the module has no heap, no globals and no data segments, so
// any number of instances (one per worker thread) can run over one shared memory.
//
// Per row r with ratings e = (r, j_e, v_e), n = K + 1 unknowns x̃ = [x_r; b_r]:
//   z_e = [y_(j_e); 1]                 (gathered as float32, zero-padded to W = n rounded up to 8)
//   t_e = v_e − μ − c_(j_e)            (the residual the row explains, float64)
//   G   = Σ_e z_e z_eᵀ                  (upper triangle; see below)
//   g   = Σ_e t_e z_e                   (float64, from the float64 factors, while gathering)
//   A   = λ G + diag(τ_r, …, τ_r, γ_r),  rhs = λ g + [τ_r p_r; 0],   τ_r = τ s_r, γ_r = γ s'_r,
//   s_r = max(1, n_r) with ALS-WR weighting (`weighted`), else 1; s'_r likewise with `weightedBias`
//   (the caller resolves an unset bias flag to `weighted`).
// Then A = Uᵀ U (Cholesky in float64, right-looking, row updates in SIMD), Uᵀ w = rhs, U x̃ = w.
//
// The Gram sum is the O(n_r K²) part and is register-tiled: the row's ratings are gathered block
// by block (up to blockRatings(W) of them) into a contiguous float32 buffer, then for every 4 × 8
// tile of the triangle (4 Gram rows a..a+3, 8 columns b..b+7, b from the multiple of 8 at or left
// of a) eight f32x4 accumulators stay in locals while the whole block streams through them: per
// rating 2 vector loads and 4 load-splats feed 32 multiply-adds, and the triangle in memory
// (float64) is touched once per tile per block, not once per rating. float32 gives f32x4 lanes:
// twice the arithmetic per instruction of f64x2. The error this costs: z is y rounded to float32
// (relative 6e-8) and a tile sums at most one block of products in float32 before it is added to
// the float64 triangle, so G is exact to ~1e-7 relative; g, the Cholesky and the solves stay in
// float64. Held-out RMSE moves by < 1e-5 on MovieLens (test/kernel-wasm.test.ts checks it).

/** How far ahead (in ratings) the cache lines of coming factor rows are touched. */
const LOOKAHEAD: i32 = 32;
/** Bytes of the gathered float32 block: small enough to stay in L1 while every tile streams it. */
const BLOCK_BYTES: i32 = 16384;

/** Gathered vector width W: n = dim + 1 rounded up to a multiple of 8 (one tile's columns). */
@inline
function gatherWidth(dim: i32): i32 {
  return (dim + 1 + 7) & ~7;
}

/** Ratings per gathered block at width W (at least 8, at most 128). */
@inline
function blockRatings(width: i32): i32 {
  return min(128, max(8, BLOCK_BYTES / (width << 2)));
}

/** Bytes of scratch one call needs at latent dimension `dim`: Gram (W × W f64), rhs, the gathered block. */
export function scratchBytes(dim: i32): i32 {
  const width = gatherWidth(dim);
  return ((width * width + width) << 3) + blockRatings(width) * (width << 2) + 16;
}

/** Solves rows [rowStart, rowEnd); see the header comment and src/core/kernel.ts. */
export function solveRows(
  dim: i32,
  offsets: usize,
  indices: usize,
  values: usize,
  otherFactors: usize,
  otherBias: usize,
  rowFactors: usize,
  rowBias: usize,
  priorMeans: usize, // 0: no prior (p_r = 0)
  globalMean: f64,
  lambda: f64,
  tau: f64,
  gamma: f64,
  weighted: i32,
  weightedBias: i32,
  rowStart: i32,
  rowEnd: i32,
  scratch: usize,
): void {
  rows(dim, offsets, indices, values, otherFactors, otherBias, rowFactors, rowBias, priorMeans, globalMean, lambda, tau, gamma, weighted, weightedBias, rowStart, rowEnd, scratch, true);
}

/**
 * Benchmark only: accumulates every row's G and g exactly as solveRows does, then skips the
 * factorisation and writes nothing, so the Gram accumulation can be timed on its own.
 */
export function accumulateRows(
  dim: i32,
  offsets: usize,
  indices: usize,
  values: usize,
  otherFactors: usize,
  otherBias: usize,
  rowFactors: usize,
  rowBias: usize,
  priorMeans: usize, // 0: no prior (p_r = 0)
  globalMean: f64,
  lambda: f64,
  tau: f64,
  gamma: f64,
  weighted: i32,
  weightedBias: i32,
  rowStart: i32,
  rowEnd: i32,
  scratch: usize,
): void {
  rows(dim, offsets, indices, values, otherFactors, otherBias, rowFactors, rowBias, priorMeans, globalMean, lambda, tau, gamma, weighted, weightedBias, rowStart, rowEnd, scratch, false);
}

@inline
function rows(
  dim: i32,
  offsets: usize,
  indices: usize,
  values: usize,
  otherFactors: usize,
  otherBias: usize,
  rowFactors: usize,
  rowBias: usize,
  priorMeans: usize, // 0: no prior (p_r = 0)
  globalMean: f64,
  lambda: f64,
  tau: f64,
  gamma: f64,
  weighted: i32,
  weightedBias: i32,
  rowStart: i32,
  rowEnd: i32,
  scratch: usize,
  solve: bool,
): void {
  const n = dim + 1;
  const npad = (n + 1) & ~1; // the Cholesky works on column pairs up to npad
  const width = gatherWidth(dim);
  const stride = <usize>width << 3; // bytes per Gram row (row-major, full width, upper part used)
  const zBytes = <usize>width << 2; // bytes per gathered float32 vector
  const maxBlock = blockRatings(width);
  const gram = scratch;
  const rhs = gram + <usize>width * stride;
  const gathered = rhs + stride; // maxBlock vectors z_e, zBytes apart
  const touchedOut = gathered + <usize>maxBlock * zBytes;
  const rowBytes = <usize>dim << 3; // one factor row
  const rangeEnd = load<i32>(offsets + (<usize>rowEnd << 2)); // end of the last row's ratings
  let touchedUpTo = load<i32>(offsets + (<usize>rowStart << 2)); // ratings whose y_j was touched
  let touched: i32 = 0; // xor of the touched words, stored at the end so the loads are kept
  for (let r = rowStart; r < rowEnd; r++) {
    const start = load<i32>(offsets + (<usize>r << 2));
    const end = load<i32>(offsets + (<usize>(r + 1) << 2));
    const count = end - start;
    const out = rowFactors + <usize>r * rowBytes;
    const prior = priorMeans != 0 ? priorMeans + <usize>r * rowBytes : 0;

    if (count == 0) {
      // No ratings: the minimiser of the prior term alone.
      for (let a = 0; a < dim; a++) {
        store<f64>(out + (<usize>a << 3), prior != 0 ? load<f64>(prior + (<usize>a << 3)) : 0.0);
      }
      store<f64>(rowBias + (<usize>r << 3), 0.0);
      continue;
    }

    const zero = f64x2.splat(0.0);
    for (let b = 0; b < width; b += 2) v128.store(rhs + (<usize>b << 3), zero);

    for (let block = start; block < end; block += maxBlock) {
      const blockEnd = min(block + maxBlock, end);
      // Touch one word per cache line of every y_j (and c_j) up to LOOKAHEAD ratings past this block,
      // across row boundaries: these loads are independent and few, so the misses of coming blocks
      // overlap each other and the arithmetic of this one before the gather needs their data.
      const touchEnd = min(blockEnd + LOOKAHEAD, rangeEnd);
      for (; touchedUpTo < touchEnd; touchedUpTo++) {
        const j = <usize>load<i32>(indices + (<usize>touchedUpTo << 2));
        const y = otherFactors + j * rowBytes;
        for (let off: usize = 0; off < rowBytes; off += 64) touched ^= load<i32>(y + off);
        touched ^= load<i32>(otherBias + (j << 3));
      }
      for (let e = block; e < blockEnd; e++) {
        gather(e, dim, width, indices, values, otherFactors, otherBias, globalMean, gathered + <usize>(e - block) * zBytes, rhs);
      }
      accumulateTiles(n, width, gathered, zBytes, blockEnd - block, gram, stride, block == start);
    }

    if (!solve) continue;

    // A = λ G + diag(τ_r, …, τ_r, γ_r); rhs = λ g + [τ_r p_r; 0].
    // s_r = max(1, n_r) when weighted, else 1 (and n_r ≥ 1 here); likewise s'_r for γ.
    const tauR = tau * (weighted != 0 ? <f64>count : 1.0);
    const gammaR = gamma * (weightedBias != 0 ? <f64>count : 1.0);
    const lam = f64x2.splat(lambda);
    for (let a = 0; a < n; a++) {
      const row = gram + <usize>a * stride;
      for (let b = a & ~1; b < npad; b += 2) {
        v128.store(row + (<usize>b << 3), f64x2.mul(lam, v128.load(row + (<usize>b << 3))));
      }
      const diag = row + (<usize>a << 3);
      store<f64>(diag, load<f64>(diag) + (a < dim ? tauR : gammaR));
      const ra = rhs + (<usize>a << 3);
      store<f64>(ra, lambda * load<f64>(ra) + (a < dim && prior != 0 ? tauR * load<f64>(prior + (<usize>a << 3)) : 0.0));
    }

    // Cholesky A = Uᵀ U, U overwriting the upper triangle. Step i: U_ii = √A_ii, U_ij = A_ij / U_ii,
    // then A_kj −= U_ik U_ij for i < k ≤ j (the Schur complement, one SIMD row update per k).
    for (let i = 0; i < n; i++) {
      const rowI = gram + <usize>i * stride;
      const pivot = Math.sqrt(load<f64>(rowI + (<usize>i << 3)));
      const inv = f64x2.splat(1.0 / pivot);
      for (let j = i & ~1; j < npad; j += 2) {
        v128.store(rowI + (<usize>j << 3), f64x2.mul(inv, v128.load(rowI + (<usize>j << 3))));
      }
      store<f64>(rowI + (<usize>i << 3), pivot);
      for (let k = i + 1; k < n; k++) {
        const f = f64x2.splat(load<f64>(rowI + (<usize>k << 3)));
        const rowK = gram + <usize>k * stride;
        // Starts at the even column ≤ k: column k−1 of row k lies below the diagonal (unused).
        for (let j = k & ~1; j < npad; j += 2) {
          const jo = <usize>j << 3;
          v128.store(rowK + jo, f64x2.sub(v128.load(rowK + jo), f64x2.mul(f, v128.load(rowI + jo))));
        }
      }
    }

    // Uᵀ w = rhs (forward, column-oriented so U is read by rows), w overwriting rhs.
    for (let i = 0; i < n; i++) {
      const rowI = gram + <usize>i * stride;
      const w = load<f64>(rhs + (<usize>i << 3)) / load<f64>(rowI + (<usize>i << 3));
      store<f64>(rhs + (<usize>i << 3), w);
      for (let j = i + 1; j < n; j++) {
        const jo = <usize>j << 3;
        store<f64>(rhs + jo, load<f64>(rhs + jo) - load<f64>(rowI + jo) * w);
      }
    }
    // U x̃ = w (backward, row dot products), x̃ overwriting rhs.
    for (let i = n - 1; i >= 0; i--) {
      const rowI = gram + <usize>i * stride;
      let sum = load<f64>(rhs + (<usize>i << 3));
      for (let j = i + 1; j < n; j++) {
        const jo = <usize>j << 3;
        sum -= load<f64>(rowI + jo) * load<f64>(rhs + jo);
      }
      store<f64>(rhs + (<usize>i << 3), sum / load<f64>(rowI + (<usize>i << 3)));
    }

    for (let a = 0; a < dim; a++) store<f64>(out + (<usize>a << 3), load<f64>(rhs + (<usize>a << 3)));
    store<f64>(rowBias + (<usize>r << 3), load<f64>(rhs + (<usize>dim << 3)));
  }
  store<i32>(touchedOut, touched);
}

/**
 * G (+)= Σ_e z_e z_eᵀ over `count` gathered float32 vectors, tile by tile: rows a..a+3 (a < n,
 * a multiple of 4) × columns b..b+7 (b from a rounded down to a multiple of 8, to W). The tile's
 * 4 × 8 sums are f32x4 locals while every vector of the block streams through, two at a time;
 * then they are widened to float64 and stored (`first`: the row's first block) or added into G.
 * Entries of a tile left of the diagonal are computed too: harmless, never read as U.
 */
@inline
function accumulateTiles(n: i32, width: i32, gathered: usize, zBytes: usize, count: i32, gram: usize, stride: usize, first: bool): void {
  const pairEnd = gathered + <usize>(count & ~1) * zBytes;
  const blockEnd = gathered + <usize>count * zBytes;
  for (let a = 0; a < n; a += 4) {
    const ao = <usize>a << 2;
    for (let b = a & ~7; b < width; b += 8) {
      const bo = <usize>b << 2;
      let c00 = f32x4.splat(0.0);
      let c01 = c00;
      let c10 = c00;
      let c11 = c00;
      let c20 = c00;
      let c21 = c00;
      let c30 = c00;
      let c31 = c00;
      let z = gathered;
      for (; z < pairEnd; z += zBytes << 1) {
        const lo = v128.load(z + bo);
        const hi = v128.load(z + bo, 16);
        let s = v128.load32_splat(z + ao);
        c00 = f32x4.add(c00, f32x4.mul(s, lo));
        c01 = f32x4.add(c01, f32x4.mul(s, hi));
        s = v128.load32_splat(z + ao, 4);
        c10 = f32x4.add(c10, f32x4.mul(s, lo));
        c11 = f32x4.add(c11, f32x4.mul(s, hi));
        s = v128.load32_splat(z + ao, 8);
        c20 = f32x4.add(c20, f32x4.mul(s, lo));
        c21 = f32x4.add(c21, f32x4.mul(s, hi));
        s = v128.load32_splat(z + ao, 12);
        c30 = f32x4.add(c30, f32x4.mul(s, lo));
        c31 = f32x4.add(c31, f32x4.mul(s, hi));
        const z2 = z + zBytes;
        const lo2 = v128.load(z2 + bo);
        const hi2 = v128.load(z2 + bo, 16);
        s = v128.load32_splat(z2 + ao);
        c00 = f32x4.add(c00, f32x4.mul(s, lo2));
        c01 = f32x4.add(c01, f32x4.mul(s, hi2));
        s = v128.load32_splat(z2 + ao, 4);
        c10 = f32x4.add(c10, f32x4.mul(s, lo2));
        c11 = f32x4.add(c11, f32x4.mul(s, hi2));
        s = v128.load32_splat(z2 + ao, 8);
        c20 = f32x4.add(c20, f32x4.mul(s, lo2));
        c21 = f32x4.add(c21, f32x4.mul(s, hi2));
        s = v128.load32_splat(z2 + ao, 12);
        c30 = f32x4.add(c30, f32x4.mul(s, lo2));
        c31 = f32x4.add(c31, f32x4.mul(s, hi2));
      }
      if (z < blockEnd) {
        const lo = v128.load(z + bo);
        const hi = v128.load(z + bo, 16);
        let s = v128.load32_splat(z + ao);
        c00 = f32x4.add(c00, f32x4.mul(s, lo));
        c01 = f32x4.add(c01, f32x4.mul(s, hi));
        s = v128.load32_splat(z + ao, 4);
        c10 = f32x4.add(c10, f32x4.mul(s, lo));
        c11 = f32x4.add(c11, f32x4.mul(s, hi));
        s = v128.load32_splat(z + ao, 8);
        c20 = f32x4.add(c20, f32x4.mul(s, lo));
        c21 = f32x4.add(c21, f32x4.mul(s, hi));
        s = v128.load32_splat(z + ao, 12);
        c30 = f32x4.add(c30, f32x4.mul(s, lo));
        c31 = f32x4.add(c31, f32x4.mul(s, hi));
      }
      const g0 = gram + <usize>a * stride + (<usize>b << 3);
      foldRow(g0, c00, c01, first);
      foldRow(g0 + stride, c10, c11, first);
      foldRow(g0 + stride * 2, c20, c21, first);
      foldRow(g0 + stride * 3, c30, c31, first);
    }
  }
}

/** Widens 8 float32 sums (two f32x4) to float64 and stores them at `g` (`first`) or adds them. */
@inline
function foldRow(g: usize, c0: v128, c1: v128, first: bool): void {
  const w0 = f64x2.promote_low_f32x4(c0);
  const w1 = f64x2.promote_low_f32x4(i32x4.shuffle(c0, c0, 2, 3, 2, 3));
  const w2 = f64x2.promote_low_f32x4(c1);
  const w3 = f64x2.promote_low_f32x4(i32x4.shuffle(c1, c1, 2, 3, 2, 3));
  if (first) {
    v128.store(g, w0);
    v128.store(g, w1, 16);
    v128.store(g, w2, 32);
    v128.store(g, w3, 48);
  } else {
    v128.store(g, f64x2.add(v128.load(g), w0));
    v128.store(g, f64x2.add(v128.load(g, 16), w1), 16);
    v128.store(g, f64x2.add(v128.load(g, 32), w2), 32);
    v128.store(g, f64x2.add(v128.load(g, 48), w3), 48);
  }
}

/**
 * Writes z = [y_j; 1; 0-pad to W] in float32 for rating e into `z` and adds t·[y_j; 1] (float64)
 * into g at `rhs`, where t = v_e − μ − c_j.
 */
@inline
function gather(
  e: i32,
  dim: i32,
  width: i32,
  indices: usize,
  values: usize,
  otherFactors: usize,
  otherBias: usize,
  globalMean: f64,
  z: usize,
  rhs: usize,
): void {
  const j = <usize>load<i32>(indices + (<usize>e << 2));
  const y = otherFactors + j * (<usize>dim << 3);
  const t = <f64>load<f32>(values + (<usize>e << 2)) - globalMean - load<f64>(otherBias + (j << 3));
  const tv = f64x2.splat(t);
  let a = 0;
  for (; a + 3 < dim; a += 4) {
    const yo = y + (<usize>a << 3);
    const g = rhs + (<usize>a << 3);
    const y01 = v128.load(yo);
    const y23 = v128.load(yo, 16);
    v128.store(g, f64x2.add(v128.load(g), f64x2.mul(tv, y01)));
    v128.store(g, f64x2.add(v128.load(g, 16), f64x2.mul(tv, y23)), 16);
    v128.store(z + (<usize>a << 2), i32x4.shuffle(f32x4.demote_f64x2_zero(y01), f32x4.demote_f64x2_zero(y23), 0, 1, 4, 5));
  }
  for (; a < dim; a++) {
    const ya = load<f64>(y + (<usize>a << 3));
    const g = rhs + (<usize>a << 3);
    store<f64>(g, load<f64>(g) + t * ya);
    store<f32>(z + (<usize>a << 2), <f32>ya);
  }
  store<f64>(rhs + (<usize>dim << 3), load<f64>(rhs + (<usize>dim << 3)) + t);
  store<f32>(z + (<usize>dim << 2), 1.0);
  for (a = dim + 1; a < width; a++) store<f32>(z + (<usize>a << 2), 0.0);
}
