// AssemblyScript (compiled by `asc` to dist/core/kernel.wasm, not by tsc): the WebAssembly SIMD
// implementation of the half-epoch kernel whose contract is documented in src/core/kernel.ts.
//
// Every array argument is a byte offset into the imported shared memory. `scratch` is this call's
// private work area (see scratchBytes); the caller (src/core/kernel-wasm.ts) gives each concurrent
// call its own. Nothing is allocated: the module has no heap, no globals and no data segments, so
// any number of instances (one per worker thread) can run over one shared memory.
//
// Per row r with ratings e = (r, j_e, v_e), n = K + 1 unknowns x̃ = [x_r; b_r]:
//   t_e = v_e − μ − c_(j_e)            (the residual the row explains)
//   z_e = [y_(j_e); 1; t_e]             (gathered as float32, zero-padded to W, a multiple of 8)
//   Z   = Σ_e z_e z_eᵀ                  (upper triangle, register-tiled, see below)
//   G   = Z[0..n, 0..n],  g = Z[0..n, n] (column n of the same sum: the right-hand side comes free)
//   A   = λ G + diag(τ_r, …, τ_r, γ_r),  rhs = λ g + [τ_r p_r; 0],   τ_r = τ s_r, γ_r = γ s'_r,
//   s_r = max(1, n_r)^a with count weighting (`weighted`; a = `weightExponent`, 1 for ALS-WR), else 1;
//   s'_r likewise with `weightedBias`
//   (the caller resolves an unset bias flag to `weighted`).
// Then A = Uᵀ U (Cholesky in float64, left-looking, sums in SIMD locals), Uᵀ w = rhs, U x̃ = w.
// A row with at most about (K+1)/2 ratings (an ALS solve, not a Gibbs draw) skips the Gram: it is
// solved in the space of its c ratings, a c × c system (shortRow, Woodbury's identity).
//
// The sum Z is the O(n_r K²) part. The ratings are gathered, block by block (at most
// blockRatings(W) per block, never across a row's end), into a contiguous float32 buffer; for
// every tile of the triangle (4 rows a..a+3 × 8 columns b..b+7, or 4 × 4 on the diagonal when a is
// not a multiple of 8) the tile's sums stay in f32x4 locals while the whole block streams through
// them: per rating 1–2 vector loads and 4 load-splats feed 16–32 multiply-adds, and the float64
// triangle in memory is touched once per tile per block, not once per rating. f32x4 lanes do twice
// the arithmetic per instruction of f64x2. The factor rows come from the other side's packed
// float32 rows (src/core/kernel.ts packRows: already z's layout, half the bytes of the float64
// row), at random places in memory and mostly cache misses: their cache lines are touched up to
// LOOKAHEAD ratings ahead, independent loads whose misses overlap instead of stalling the copy.
// Precision: z is y, t rounded to float32 (relative 6e-8) and a tile sums at most one block of
// products in float32 before it is added to the float64 triangle, so G and g are good to ~1e-7
// relative; the Cholesky and the solves are float64. Held-out RMSE moves by < 0.0005 on MovieLens
// (test/kernel-f32-real.test.ts).

/** Bytes of the gathered float32 block: small enough to stay in L1 while every tile streams it. */
const BLOCK_BYTES: i32 = 16384;
/** How far ahead (in ratings) the cache lines of coming factor rows are touched. */
const LOOKAHEAD: i32 = 32;

/** Gathered vector width W: n + 1 = dim + 2 (room for t) rounded up to a multiple of 8 (one tile's columns). */
@inline
function gatherWidth(dim: i32): i32 {
  return (dim + 2 + 7) & ~7;
}

/** Ratings per gathered block at width W (at least 8, at most 128). */
@inline
function blockRatings(width: i32): i32 {
  return min(128, max(8, BLOCK_BYTES / (width << 2)));
}

/**
 * A call's arguments, written by the caller (src/core/kernel-wasm.ts, which mirrors these byte
 * offsets) at the start of its scratch slot: the mode, the integers, the arrays (byte offsets into
 * the memory, 0 = absent) and the scalars. One entry point reads them, so the four kinds of call
 * share one argument list instead of four.
 */
const P_MODE: usize = 0; // SOLVE (an ALS solve, or a Gibbs draw when priorPrecision ≠ 0), ACCUMULATE, GATHER_ONLY, SQUARED_ERRORS
const P_DIM: usize = 4;
const P_ROW_START: usize = 8;
const P_ROW_END: usize = 12;
const P_WEIGHTED: usize = 16; // τ count-scaled (1) or not (0)
const P_WEIGHTED_BIAS: usize = 20; // γ count-scaled (the caller resolves an unset flag)
const P_OFFSETS: usize = 24;
const P_INDICES: usize = 28;
const P_VALUES: usize = 32;
const P_OTHER_FACTORS: usize = 36;
const P_OTHER_BIAS: usize = 40;
const P_ROW_FACTORS: usize = 44;
const P_ROW_BIAS: usize = 48;
const P_PRIOR_MEANS: usize = 52; // 0: p_r = 0
const P_OTHER_PACKED: usize = 56; // 0: gather from the float64 factors
const P_ROW_PACKED: usize = 60; // 0: do not write packed rows
const P_PRIOR_PRECISION: usize = 64; // Gibbs: π (K+1 doubles); 0: ALS
const P_PRIOR_MEAN: usize = 68; // Gibbs: μ̃ (K+1 doubles)
const P_NORMALS: usize = 72; // Gibbs: numRows × (K+1) standard normals
const P_GLOBAL_MEAN: usize = 80;
const P_LAMBDA: usize = 88; // λ, or the noise precision α of a Gibbs draw
const P_TAU: usize = 96;
const P_GAMMA: usize = 104;
const P_WEIGHT_EXPONENT: usize = 112; // a in s_r = max(1, n_r)^a (1: ALS-WR)
const P_RESULT: usize = 120; // SQUARED_ERRORS writes its sum here
/** Bytes of the argument block; the call's work area follows it. */
const PARAM_BYTES: usize = 128;

/** The argument block's size, for the caller to check its layout against. */
export function paramBytes(): i32 {
  return <i32>PARAM_BYTES;
}

/** Bytes of scratch one call needs at latent dimension `dim`: the arguments, the W × W float64 triangle, rhs, the gathered block. */
export function scratchBytes(dim: i32): i32 {
  const width = gatherWidth(dim);
  return <i32>PARAM_BYTES + ((width * width + width) << 3) + blockRatings(width) * (width << 2) + 16;
}

/**
 * Runs one call whose arguments are at `block` (see P_MODE …): SOLVE solves rows [rowStart,
 * rowEnd) (see the header comment and src/core/kernel.ts) or, with priorPrecision set, draws them
 * (Gibbs sampling, src/core/kernel.ts SamplingArgs: the same Gram accumulation, then
 * A = α G + diag(π), rhs = α g + π (μ̃ + [p_r; 0]) and one draw x̃ = A⁻¹ rhs + U⁻¹ z per row, with
 * z = the row's K+1 numbers of `normals`; τ, γ unused). Benchmarks only: ACCUMULATE accumulates
 * every row's G and g and stops before the factorisation, GATHER_ONLY gathers every row's vectors
 * z_e and stops there; neither writes anything.
 */
export function run(block: usize): void {
  const mode = load<i32>(block + P_MODE);
  const dim = load<i32>(block + P_DIM);
  const offsets = load<u32>(block + P_OFFSETS);
  const indices = load<u32>(block + P_INDICES);
  const values = load<u32>(block + P_VALUES);
  const otherFactors = load<u32>(block + P_OTHER_FACTORS);
  const otherBias = load<u32>(block + P_OTHER_BIAS);
  const rowFactors = load<u32>(block + P_ROW_FACTORS);
  const rowBias = load<u32>(block + P_ROW_BIAS);
  const otherPacked = load<u32>(block + P_OTHER_PACKED);
  const globalMean = load<f64>(block + P_GLOBAL_MEAN);
  const rowStart = load<i32>(block + P_ROW_START);
  const rowEnd = load<i32>(block + P_ROW_END);
  if (mode == SQUARED_ERRORS) {
    store<f64>(block + P_RESULT, squaredErrors(dim, offsets, indices, values, otherFactors, otherBias, rowFactors, rowBias, otherPacked, globalMean, rowStart, rowEnd));
    return;
  }
  rows(
    dim,
    offsets,
    indices,
    values,
    otherFactors,
    otherBias,
    rowFactors,
    rowBias,
    load<u32>(block + P_PRIOR_MEANS),
    globalMean,
    load<f64>(block + P_LAMBDA),
    load<f64>(block + P_TAU),
    load<f64>(block + P_GAMMA),
    load<i32>(block + P_WEIGHTED),
    load<i32>(block + P_WEIGHTED_BIAS),
    load<f64>(block + P_WEIGHT_EXPONENT),
    rowStart,
    rowEnd,
    block + PARAM_BYTES,
    mode,
    load<u32>(block + P_PRIOR_PRECISION),
    load<u32>(block + P_PRIOR_MEAN),
    load<u32>(block + P_NORMALS),
    otherPacked,
    load<u32>(block + P_ROW_PACKED),
  );
}

/** s = n^a of a row with n ≥ 1 ratings when `weighted`, else 1; a = 1 (ALS-WR) is exactly n. */
@inline
function countScale(count: f64, weighted: i32, exponent: f64): f64 {
  if (weighted == 0) return 1.0;
  return exponent == 1.0 ? count : Math.pow(count, exponent);
}

/** What rows() does (P_MODE): everything, or (benchmarks) stop after the Gram accumulation or after the gather. */
const SOLVE: i32 = 0;
const ACCUMULATE: i32 = 1;
const GATHER_ONLY: i32 = 2;
/** Not a solve: Σ (v − r̂)² over the rows' ratings with the current factors (squaredErrors). */
const SQUARED_ERRORS: i32 = 3;

/**
 * Σ_e (v_e − μ − b_r − c_j − x_r·y_j)² over the ratings of rows [rowStart, rowEnd): the loss's
 * error term, as src/core/als.ts squaredErrorSum computes it, with y_j read from the packed
 * float32 rows when given (half the bytes of a random read; exact in float64, so only y's own
 * rounding to float32, ~6e-8 relative, moves the sum) and the products and sums in float64.
 */
function squaredErrors(dim: i32, offsets: usize, indices: usize, values: usize, otherFactors: usize, otherBias: usize, rowFactors: usize, rowBias: usize, otherPacked: usize, globalMean: f64, rowStart: i32, rowEnd: i32): f64 {
  const packedBytes = <usize>gatherWidth(dim) << 2;
  const rowBytes = <usize>dim << 3;
  const quads = dim & ~3;
  let sum = 0.0;
  for (let r = rowStart; r < rowEnd; r++) {
    const start = load<i32>(offsets + (<usize>r << 2));
    const end = load<i32>(offsets + (<usize>(r + 1) << 2));
    const base = globalMean + load<f64>(rowBias + (<usize>r << 3));
    const x = rowFactors + <usize>r * rowBytes;
    for (let e = start; e < end; e++) {
      const j = <usize>load<i32>(indices + (<usize>e << 2));
      let acc = f64x2.splat(0.0);
      let dot = 0.0;
      if (otherPacked != 0) {
        const y = otherPacked + j * packedBytes;
        for (let a = 0; a < quads; a += 4) {
          const v = v128.load(y + (<usize>a << 2));
          const xo = x + (<usize>a << 3);
          acc = f64x2.add(acc, f64x2.mul(v128.load(xo), f64x2.promote_low_f32x4(v)));
          acc = f64x2.add(acc, f64x2.mul(v128.load(xo, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3))));
        }
        for (let a = quads; a < dim; a++) dot += load<f64>(x + (<usize>a << 3)) * <f64>load<f32>(y + (<usize>a << 2));
      } else {
        const y = otherFactors + j * rowBytes;
        for (let a = 0; a < quads; a += 4) {
          const ao = <usize>a << 3;
          acc = f64x2.add(acc, f64x2.mul(v128.load(x + ao), v128.load(y + ao)));
          acc = f64x2.add(acc, f64x2.mul(v128.load(x + ao, 16), v128.load(y + ao, 16)));
        }
        for (let a = quads; a < dim; a++) dot += load<f64>(x + (<usize>a << 3)) * load<f64>(y + (<usize>a << 3));
      }
      dot += f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
      const d = <f64>load<f32>(values + (<usize>e << 2)) - (base + load<f64>(otherBias + (j << 3)) + dot);
      sum += d * d;
    }
  }
  return sum;
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
  weightExponent: f64, // a in s_r = max(1, n_r)^a (1: ALS-WR)
  rowStart: i32,
  rowEnd: i32,
  scratch: usize,
  mode: i32,
  priorPrecision: usize, // Gibbs sampling: π, K+1 doubles; 0 = ALS solve
  priorMean: usize, // Gibbs: shared prior mean μ̃, K+1 doubles
  normals: usize, // Gibbs: numRows × (K+1) standard normals
  otherPacked: usize, // the other side's packed float32 rows (see packRow), or 0: convert otherFactors
  rowPacked: usize, // where to write this side's packed rows as they are solved, or 0
): void {
  const solve = mode == SOLVE;
  if (dim == 0) {
    biasRows(offsets, indices, values, otherBias, rowBias, globalMean, lambda, gamma, weightedBias, weightExponent, rowStart, rowEnd, solve, priorPrecision, priorMean, normals);
    return;
  }
  const n = dim + 1;
  const npad = (n + 1) & ~1; // the Cholesky works on column pairs up to npad
  const width = gatherWidth(dim);
  const stride = <usize>width << 3; // bytes per triangle row (row-major, full width, upper part used)
  const zBytes = <usize>width << 2; // bytes per gathered float32 vector
  const maxBlock = blockRatings(width);
  const gram = scratch;
  const rhs = gram + <usize>width * stride;
  const gathered = rhs + stride; // the block being accumulated, maxBlock vectors zBytes apart
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

    if (count == 0 && priorPrecision != 0) {
      // Gibbs, no ratings: a draw from the prior, x̃ = μ̃ + [p_r; 0] + z/√π.
      const z = normals + <usize>r * (<usize>n << 3);
      for (let a = 0; a < n; a++) {
        const ao = <usize>a << 3;
        let m = load<f64>(priorMean + ao);
        if (a < dim && prior != 0) m += load<f64>(prior + ao);
        const x = m + load<f64>(z + ao) / Math.sqrt(load<f64>(priorPrecision + ao));
        if (a < dim) store<f64>(out + ao, x);
        else store<f64>(rowBias + (<usize>r << 3), x);
      }
      if (rowPacked != 0) packRow(out, dim, width, rowPacked + <usize>r * zBytes);
      continue;
    }
    if (count == 0) {
      // No ratings: the minimiser of the prior term alone.
      for (let a = 0; a < dim; a++) {
        store<f64>(out + (<usize>a << 3), prior != 0 ? load<f64>(prior + (<usize>a << 3)) : 0.0);
      }
      store<f64>(rowBias + (<usize>r << 3), 0.0);
      if (rowPacked != 0) packRow(out, dim, width, rowPacked + <usize>r * zBytes);
      continue;
    }

    // τ_r = τ s_r, γ_r = γ s'_r, s_r = n_r^a when weighted, else 1 (and n_r ≥ 1 here).
    const tauR = tau * countScale(<f64>count, weighted, weightExponent);
    const gammaR = gamma * countScale(<f64>count, weightedBias, weightExponent);
    // A row with fewer ratings than about half its unknowns is solved in the ratings' space
    // (shortRow, below) instead of by the Gram and a Cholesky of order K + 1. It needs all its
    // ratings in one gathered block.
    const short = solve && priorPrecision == 0 && count <= min(shortRowMax(n), maxBlock) && tauR > 0.0 && gammaR > 0.0;

    for (let block = start; block < end; block += maxBlock) {
      const blockEnd = min(block + maxBlock, end);
      // Touch one word per cache line of every y_j (and c_j) up to LOOKAHEAD ratings past this
      // block, across row boundaries: independent loads, so the misses of the next block start
      // before the copy of this one needs its own data.
      const touchEnd = min(blockEnd + LOOKAHEAD, rangeEnd);
      for (; touchedUpTo < touchEnd; touchedUpTo++) {
        const j = <usize>load<i32>(indices + (<usize>touchedUpTo << 2));
        if (otherPacked != 0) {
          const y = otherPacked + j * zBytes;
          for (let off: usize = 0; off < zBytes; off += 64) touched ^= load<i32>(y + off);
        } else {
          const y = otherFactors + j * rowBytes;
          for (let off: usize = 0; off < rowBytes; off += 64) touched ^= load<i32>(y + off);
        }
        touched ^= load<i32>(otherBias + (j << 3));
      }
      if (otherPacked != 0) {
        for (let e = block; e < blockEnd; e++) {
          gatherPacked(e, dim, width, indices, values, otherPacked, otherBias, globalMean, gathered + <usize>(e - block) * zBytes);
        }
      } else {
        for (let e = block; e < blockEnd; e++) {
          gather(e, dim, width, indices, values, otherFactors, otherBias, globalMean, gathered + <usize>(e - block) * zBytes);
        }
      }
      if (mode == GATHER_ONLY || short) continue;
      const first = block == start;
      const pairEnd = gathered + <usize>((blockEnd - block) & ~1) * zBytes;
      const blockBytesEnd = gathered + <usize>(blockEnd - block) * zBytes;
      for (let a = 0; a < n; a += 4) {
        const ao = <usize>a << 2;
        let b = a & ~7;
        if ((a & 4) != 0) {
          // a ≡ 4 (mod 8): the 8-wide tile from a − 4 would be half below the diagonal; 4 wide instead.
          accumulateTile4(gathered, pairEnd, blockBytesEnd, zBytes, ao, gram + <usize>a * stride + (<usize>a << 3), stride, first);
          b = a + 4;
        }
        for (; b < width; b += 8) {
          accumulateTile8(gathered, blockBytesEnd, zBytes, ao, <usize>b << 2, gram + <usize>a * stride + (<usize>b << 3), stride, first);
        }
      }
    }

    if (!solve) continue;
    if (short) {
      shortRow(count, dim, gathered, zBytes, prior, lambda, tauR, gammaR, gram, rhs, out, rowBias + (<usize>r << 3));
      if (rowPacked != 0) packRow(out, dim, width, rowPacked + <usize>r * zBytes);
      continue;
    }

    // A = λ G + diag(τ_r, …, τ_r, γ_r); rhs = λ g + [τ_r p_r; 0], g = column n of the sum.
    const lam = f64x2.splat(lambda);
    for (let a = 0; a < n; a++) {
      const row = gram + <usize>a * stride;
      // The right-hand side first: when n is odd, column n (g) is scaled by the λ loop below.
      // Gibbs: A = α G + diag(π), rhs = α g + π (μ̃ + [p_r; 0]) (α is passed as λ).
      let ridge = a < dim ? tauR : gammaR;
      let priorTerm = a < dim && prior != 0 ? tauR * load<f64>(prior + (<usize>a << 3)) : 0.0;
      if (priorPrecision != 0) {
        ridge = load<f64>(priorPrecision + (<usize>a << 3));
        let m = load<f64>(priorMean + (<usize>a << 3));
        if (a < dim && prior != 0) m += load<f64>(prior + (<usize>a << 3));
        priorTerm = ridge * m;
      }
      store<f64>(rhs + (<usize>a << 3), lambda * load<f64>(row + (<usize>n << 3)) + priorTerm);
      for (let b = a & ~1; b < npad; b += 2) {
        v128.store(row + (<usize>b << 3), f64x2.mul(lam, v128.load(row + (<usize>b << 3))));
      }
      const diag = row + (<usize>a << 3);
      store<f64>(diag, load<f64>(diag) + ridge);
    }

    // Cholesky A = Uᵀ U, U overwriting the upper triangle, row by row ("left-looking"): row i of U
    // is U_ij = (A_ij − Σ_{k<i} U_ki U_kj) / U_ii for j ≥ i, U_ii = √(A_ii − Σ_{k<i} U_ki²). The
    // sums over k run in f64x2 locals, four column pairs at a time, so the inner loop loads one
    // pair of U per multiply-subtract and stores nothing (the Schur-complement form read and
    // wrote a pair of A for each). Pairs start at the even column ≤ i (column i − 1 of row i lies
    // below the diagonal and is never read); when n is odd, column n rides along the same way.
    for (let i = 0; i < n; i++) {
      const rowI = gram + <usize>i * stride;
      const io = <usize>i << 3;
      let j = i & ~1;
      for (; j + 8 <= npad; j += 8) {
        const jo = <usize>j << 3;
        let a0 = v128.load(rowI + jo);
        let a1 = v128.load(rowI + jo, 16);
        let a2 = v128.load(rowI + jo, 32);
        let a3 = v128.load(rowI + jo, 48);
        let rowK = gram;
        for (let k = 0; k < i; k++, rowK += stride) {
          const f = v128.load64_splat(rowK + io);
          a0 = f64x2.sub(a0, f64x2.mul(f, v128.load(rowK + jo)));
          a1 = f64x2.sub(a1, f64x2.mul(f, v128.load(rowK + jo, 16)));
          a2 = f64x2.sub(a2, f64x2.mul(f, v128.load(rowK + jo, 32)));
          a3 = f64x2.sub(a3, f64x2.mul(f, v128.load(rowK + jo, 48)));
        }
        v128.store(rowI + jo, a0);
        v128.store(rowI + jo, a1, 16);
        v128.store(rowI + jo, a2, 32);
        v128.store(rowI + jo, a3, 48);
      }
      for (; j < npad; j += 2) {
        const jo = <usize>j << 3;
        let a0 = v128.load(rowI + jo);
        let rowK = gram;
        for (let k = 0; k < i; k++, rowK += stride) {
          a0 = f64x2.sub(a0, f64x2.mul(v128.load64_splat(rowK + io), v128.load(rowK + jo)));
        }
        v128.store(rowI + jo, a0);
      }
      const pivot = Math.sqrt(load<f64>(rowI + io));
      const inv = f64x2.splat(1.0 / pivot);
      for (j = i & ~1; j < npad; j += 2) {
        v128.store(rowI + (<usize>j << 3), f64x2.mul(inv, v128.load(rowI + (<usize>j << 3))));
      }
      store<f64>(rowI + io, pivot);
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
    // Gibbs: w += z, so the back solve gives x̃ = U⁻¹(U⁻ᵀ rhs + z) = mean + U⁻¹ z, Cov = A⁻¹.
    if (priorPrecision != 0) {
      const z = normals + <usize>r * (<usize>n << 3);
      for (let i = 0; i < n; i++) {
        const io = <usize>i << 3;
        store<f64>(rhs + io, load<f64>(rhs + io) + load<f64>(z + io));
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
    if (rowPacked != 0) packRow(out, dim, width, rowPacked + <usize>r * zBytes);
  }
  store<i32>(gathered + <usize>maxBlock * zBytes, touched);
}

/**
 * Most ratings a row may have to be solved by shortRow: below about half the unknowns its c × c
 * system costs less than the Gram and the (K+1) × (K+1) Cholesky.
 */
@inline
function shortRowMax(n: i32): i32 {
  return n >> 1;
}

/**
 * The ALS solve of a row with few ratings (c ≤ shortRowMax), in the ratings' space. With
 * Y = the c × (K+1) matrix of the rows ỹ_e = [y_e; 1], D = diag(τ_r, …, τ_r, γ_r), p̃ = [p_r; 0],
 * the system (λ YᵀY + D) x̃ = λ Yᵀ t + D p̃ has (Woodbury) the solution
 *
 *   x̃ = p̃ + D⁻¹ Yᵀ s,   (Y D⁻¹ Yᵀ + I/λ) s = t − Y p̃,
 *
 * (multiply out: (λYᵀY + D)(p̃ + D⁻¹Yᵀs) = D p̃ + λYᵀ(Y p̃ + (Y D⁻¹Yᵀ + I/λ) s) = D p̃ + λ Yᵀ t).
 * Entry (e, f) of the c × c matrix is y_e·y_f / τ_r + 1/γ_r (+ 1/λ on the diagonal); it is
 * symmetric positive definite with eigenvalues ≥ 1/λ, solved by Cholesky in float64. The dot
 * products read the gathered float32 vectors (y_e = the first K entries, t_e = entry K + 1) and
 * multiply in float64, where a product of two float32 is exact. Cost ~c²K/2 + c³/6 instead of
 * ~cK²/2 + K³/6. `work` holds the c × c matrix (row stride c), `vec` the c-vector r, then s.
 */
@inline
function shortRow(count: i32, dim: i32, gathered: usize, zBytes: usize, prior: usize, lambda: f64, tauR: f64, gammaR: f64, work: usize, vec: usize, out: usize, biasOut: usize): void {
  const c = <usize>count;
  const invTau = 1.0 / tauR;
  const base = 1.0 / gammaR;
  const quads = dim & ~3;
  for (let e: usize = 0; e < c; e++) {
    const ze = gathered + e * zBytes;
    for (let f: usize = e; f < c; f++) {
      const zf = gathered + f * zBytes;
      let acc = f64x2.splat(0.0);
      for (let a = 0; a < quads; a += 4) {
        const ao = <usize>a << 2;
        const ve = v128.load(ze + ao);
        const vf = v128.load(zf + ao);
        acc = f64x2.add(acc, f64x2.mul(f64x2.promote_low_f32x4(ve), f64x2.promote_low_f32x4(vf)));
        acc = f64x2.add(acc, f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(ve, ve, 2, 3, 2, 3)), f64x2.promote_low_f32x4(i32x4.shuffle(vf, vf, 2, 3, 2, 3))));
      }
      let dot = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
      for (let a = quads; a < dim; a++) dot += <f64>load<f32>(ze + (<usize>a << 2)) * <f64>load<f32>(zf + (<usize>a << 2));
      let v = dot * invTau + base;
      if (f == e) v += 1.0 / lambda;
      store<f64>(work + ((e * c + f) << 3), v);
    }
    // r_e = t_e − y_e·p_r.
    let residual = <f64>load<f32>(ze + (<usize>(dim + 1) << 2));
    if (prior != 0) {
      for (let a = 0; a < dim; a++) residual -= <f64>load<f32>(ze + (<usize>a << 2)) * load<f64>(prior + (<usize>a << 3));
    }
    store<f64>(vec + (e << 3), residual);
  }
  // Cholesky S = Uᵀ U in the upper triangle (row-major, stride c), then Uᵀ w = r, U s = w.
  for (let i: usize = 0; i < c; i++) {
    const rowI = work + ((i * c) << 3);
    const pivot = Math.sqrt(load<f64>(rowI + (i << 3)));
    const inv = 1.0 / pivot;
    store<f64>(rowI + (i << 3), pivot);
    for (let j = i + 1; j < c; j++) store<f64>(rowI + (j << 3), load<f64>(rowI + (j << 3)) * inv);
    for (let k = i + 1; k < c; k++) {
      const u = load<f64>(rowI + (k << 3));
      const rowK = work + ((k * c) << 3);
      for (let j = k; j < c; j++) store<f64>(rowK + (j << 3), load<f64>(rowK + (j << 3)) - u * load<f64>(rowI + (j << 3)));
    }
  }
  for (let i: usize = 0; i < c; i++) {
    const rowI = work + ((i * c) << 3);
    const w = load<f64>(vec + (i << 3)) / load<f64>(rowI + (i << 3));
    store<f64>(vec + (i << 3), w);
    for (let j = i + 1; j < c; j++) store<f64>(vec + (j << 3), load<f64>(vec + (j << 3)) - load<f64>(rowI + (j << 3)) * w);
  }
  for (let i = <isize>c - 1; i >= 0; i--) {
    const rowI = work + ((<usize>i * c) << 3);
    let sum = load<f64>(vec + (<usize>i << 3));
    for (let j = <usize>i + 1; j < c; j++) sum -= load<f64>(rowI + (j << 3)) * load<f64>(vec + (j << 3));
    store<f64>(vec + (<usize>i << 3), sum / load<f64>(rowI + (<usize>i << 3)));
  }
  // x_r = p_r + Σ_e s_e y_e / τ_r, b_r = Σ_e s_e / γ_r.
  let sumS = 0.0;
  for (let e: usize = 0; e < c; e++) sumS += load<f64>(vec + (e << 3));
  for (let a = 0; a < dim; a++) {
    let sum = 0.0;
    for (let e: usize = 0; e < c; e++) sum += load<f64>(vec + (e << 3)) * <f64>load<f32>(gathered + e * zBytes + (<usize>a << 2));
    store<f64>(out + (<usize>a << 3), (prior != 0 ? load<f64>(prior + (<usize>a << 3)) : 0.0) + sum * invTau);
  }
  store<f64>(biasOut, sumS * base);
}

/**
 * The bias model (dim 0), in float64: the system is 1 × 1, b_r = λ Σ_e t_e / (λ n_r + γ_r), and an
 * empty row gets 0. (No Gram to tile; float32 would only cost precision here.)
 */
@inline
function biasRows(
  offsets: usize,
  indices: usize,
  values: usize,
  otherBias: usize,
  rowBias: usize,
  globalMean: f64,
  lambda: f64,
  gamma: f64,
  weightedBias: i32,
  weightExponent: f64,
  rowStart: i32,
  rowEnd: i32,
  solve: bool,
  priorPrecision: usize, // Gibbs: π and μ̃ of the bias (one double each), and one normal per row; 0 = ALS
  priorMean: usize,
  normals: usize,
): void {
  let sink = 0.0;
  for (let r = rowStart; r < rowEnd; r++) {
    const start = load<i32>(offsets + (<usize>r << 2));
    const end = load<i32>(offsets + (<usize>(r + 1) << 2));
    let sum = 0.0;
    for (let e = start; e < end; e++) {
      const j = <usize>load<i32>(indices + (<usize>e << 2));
      sum += <f64>load<f32>(values + (<usize>e << 2)) - globalMean - load<f64>(otherBias + (j << 3));
    }
    const count = <f64>(end - start);
    const gammaR = gamma * countScale(max(1.0, count), weightedBias, weightExponent);
    if (solve && priorPrecision != 0) {
      // Gibbs: b_r | rest ~ N((α Σ t + π μ̃) / (α n + π), 1 / (α n + π)) (α passed as λ).
      const pi = load<f64>(priorPrecision);
      const precision = lambda * count + pi;
      const z = load<f64>(normals + (<usize>r << 3));
      store<f64>(rowBias + (<usize>r << 3), (lambda * sum + pi * load<f64>(priorMean)) / precision + z / Math.sqrt(precision));
    } else if (solve) store<f64>(rowBias + (<usize>r << 3), end == start ? 0.0 : (lambda * sum) / (lambda * count + gammaR));
    else sink += sum;
  }
  if (!solve && sink != sink) store<f64>(rowBias, sink); // keeps the benchmark's sums from being optimised away (never true)
}

/**
 * One 4 × 8 tile: rows a..a+3 (byte offset `ao` into each gathered vector) × columns b..b+7 (`bo`),
 * summed over the block's vectors [z0, blockBytesEnd) one at a time in eight f32x4 locals, then
 * widened to float64 and stored (`first`: the row's first block) or added at `g` (row a, column b).
 */
@inline
function accumulateTile8(z0: usize, blockBytesEnd: usize, zBytes: usize, ao: usize, bo: usize, g: usize, stride: usize, first: bool): void {
  let c00 = f32x4.splat(0.0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  // One rating per iteration: 8 sums + 2 row loads + the splats fit V8's 15 usable xmm registers
  // (unrolled over two ratings, its register allocator spilled half the sums every iteration).
  for (let z = z0; z < blockBytesEnd; z += zBytes) {
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
  foldRow8(g, c00, c01, first);
  foldRow8(g + stride, c10, c11, first);
  foldRow8(g + stride * 2, c20, c21, first);
  foldRow8(g + stride * 3, c30, c31, first);
}

/** One 4 × 4 tile on the diagonal: rows and columns a..a+3 (`ao`), like accumulateTile8. */
@inline
function accumulateTile4(z0: usize, pairEnd: usize, blockBytesEnd: usize, zBytes: usize, ao: usize, g: usize, stride: usize, first: bool): void {
  let c0 = f32x4.splat(0.0);
  let c1 = c0;
  let c2 = c0;
  let c3 = c0;
  let z = z0;
  for (; z < pairEnd; z += zBytes << 1) {
    const v = v128.load(z + ao);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(z + ao), v));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(z + ao, 4), v));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(z + ao, 8), v));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(z + ao, 12), v));
    const z2 = z + zBytes;
    const v2 = v128.load(z2 + ao);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(z2 + ao), v2));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(z2 + ao, 4), v2));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(z2 + ao, 8), v2));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(z2 + ao, 12), v2));
  }
  if (z < blockBytesEnd) {
    const v = v128.load(z + ao);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(z + ao), v));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(z + ao, 4), v));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(z + ao, 8), v));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(z + ao, 12), v));
  }
  foldRow4(g, c0, first);
  foldRow4(g + stride, c1, first);
  foldRow4(g + stride * 2, c2, first);
  foldRow4(g + stride * 3, c3, first);
}

/** Widens 8 float32 sums (two f32x4) to float64 and stores them at `g` (`first`) or adds them. */
@inline
function foldRow8(g: usize, c0: v128, c1: v128, first: bool): void {
  foldRow4(g, c0, first);
  foldRow4(g + 32, c1, first);
}

/** Widens 4 float32 sums to float64 and stores them at `g` (`first`) or adds them. */
@inline
function foldRow4(g: usize, c: v128, first: bool): void {
  const w0 = f64x2.promote_low_f32x4(c);
  const w1 = f64x2.promote_low_f32x4(i32x4.shuffle(c, c, 2, 3, 2, 3));
  if (first) {
    v128.store(g, w0);
    v128.store(g, w1, 16);
  } else {
    v128.store(g, f64x2.add(v128.load(g), w0));
    v128.store(g, f64x2.add(v128.load(g, 16), w1), 16);
  }
}

/**
 * The packed float32 copy of one factor row x (dim float64 at `x`), at `packed`: [x; 1; 0; 0-pad
 * to W] (W = gatherWidth(dim) floats, the layout of src/core/kernel.ts packedRowWidth). It is what
 * gather writes for a rating of this row, less t: the other half-epoch copies it with v128 moves
 * from half the bytes of the float64 row.
 */
@inline
function packRow(x: usize, dim: i32, width: i32, packed: usize): void {
  let a = 0;
  for (; a + 3 < dim; a += 4) {
    const xo = x + (<usize>a << 3);
    v128.store(packed + (<usize>a << 2), i32x4.shuffle(f32x4.demote_f64x2_zero(v128.load(xo)), f32x4.demote_f64x2_zero(v128.load(xo, 16)), 0, 1, 4, 5));
  }
  for (; a < dim; a++) store<f32>(packed + (<usize>a << 2), <f32>load<f64>(x + (<usize>a << 3)));
  store<f32>(packed + (<usize>dim << 2), 1.0);
  for (a = dim + 1; a < width; a++) store<f32>(packed + (<usize>a << 2), 0.0);
}

/**
 * gather from the packed rows: z = the packed row of j (already [f32(y_j); 1; 0; 0-pad]) with
 * t = v_e − μ − c_j (float64, then rounded) in slot dim + 1: bit for bit what gather writes.
 */
@inline
function gatherPacked(
  e: i32,
  dim: i32,
  width: i32,
  indices: usize,
  values: usize,
  otherPacked: usize,
  otherBias: usize,
  globalMean: f64,
  z: usize,
): void {
  const j = <usize>load<i32>(indices + (<usize>e << 2));
  const y = otherPacked + j * (<usize>width << 2);
  for (let a = 0; a < width; a += 8) {
    const o = <usize>a << 2;
    v128.store(z + o, v128.load(y + o));
    v128.store(z + o, v128.load(y + o, 16), 16);
  }
  const t = <f64>load<f32>(values + (<usize>e << 2)) - globalMean - load<f64>(otherBias + (j << 3));
  store<f32>(z + (<usize>(dim + 1) << 2), <f32>t);
}

/** Writes z = [y_j; 1; t; 0-pad to W] in float32 for rating e at `z`, where t = v_e − μ − c_j. */
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
): void {
  const j = <usize>load<i32>(indices + (<usize>e << 2));
  const y = otherFactors + j * (<usize>dim << 3);
  let a = 0;
  for (; a + 3 < dim; a += 4) {
    const yo = y + (<usize>a << 3);
    v128.store(z + (<usize>a << 2), i32x4.shuffle(f32x4.demote_f64x2_zero(v128.load(yo)), f32x4.demote_f64x2_zero(v128.load(yo, 16)), 0, 1, 4, 5));
  }
  for (; a < dim; a++) store<f32>(z + (<usize>a << 2), <f32>load<f64>(y + (<usize>a << 3)));
  const t = <f64>load<f32>(values + (<usize>e << 2)) - globalMean - load<f64>(otherBias + (j << 3));
  store<f32>(z + (<usize>dim << 2), 1.0);
  store<f32>(z + (<usize>(dim + 1) << 2), <f32>t);
  for (a = dim + 2; a < width; a++) store<f32>(z + (<usize>a << 2), 0.0);
}
