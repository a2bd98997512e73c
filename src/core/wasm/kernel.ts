// AssemblyScript (compiled by `asc` to dist/core/kernel.wasm, not by tsc): the WebAssembly SIMD
// implementation of the half-epoch kernel whose contract is documented in src/core/kernel.ts.
//
// Every array argument is a byte offset into the imported shared memory. `scratch` is this call's
// private work area (see scratchBytes); the caller (src/core/kernel-wasm.ts) gives each concurrent
// call its own. Nothing is allocated: the module has no heap, no globals and no data segments, so
// any number of instances (one per worker thread) can run over one shared memory.
//
// Per row r with ratings e = (r, j_e, v_e), n = K + 1 unknowns x̃ = [x_r; b_r]:
//   z_e = [y_(j_e); 1]                 (gathered, zero-padded to an even length)
//   t_e = v_e − μ − c_(j_e)            (the residual the row explains)
//   G   = Σ_e z_e z_eᵀ                  (upper triangle only, f64x2 SIMD, 4 ratings per pass,
//                                       z gathered 16 at a time, factor rows touched 16 ahead)
//   g   = Σ_e t_e z_e
//   A   = λ G + diag(τ_r, …, τ_r, γ_r),  rhs = λ g + [τ_r p_r; 0],   τ_r = τ s_r, γ_r = γ s'_r,
//   s_r = max(1, n_r) with ALS-WR weighting (`weighted`), else 1; s'_r likewise with `weightedBias`
//   (the caller resolves an unset bias flag to `weighted`).
// Then A = Uᵀ U (Cholesky, right-looking, row updates in SIMD), Uᵀ w = rhs, U x̃ = w.

/** Ratings accumulated per pass: each Gram entry is loaded/stored once per 4 ratings. */
const BATCH: i32 = 4;
/**
 * Ratings gathered per block. The factor rows y_j are fetched from random places (most of them
 * cache misses): copying 16 at once keeps many misses in flight together instead of waiting for
 * each batch of 4 in turn (measured: the Gram ran at half speed when y did not fit in cache).
 */
const GATHER: i32 = 16;
/** How far ahead (in ratings) the cache lines of coming factor rows are touched. */
const LOOKAHEAD: i32 = 16;

/** Bytes of scratch one call needs at latent dimension `dim`: Gram, rhs, gathered vectors and residuals. */
export function scratchBytes(dim: i32): i32 {
  const npad = (dim + 2) & ~1;
  return (npad * npad + npad + GATHER * npad + GATHER + 1) << 3;
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
  rows(dim, offsets, indices, values, otherFactors, otherBias, rowFactors, rowBias, priorMeans, globalMean, lambda, tau, gamma, weighted, weightedBias, rowStart, rowEnd, scratch, true, 0, 0, 0);
}

/**
 * Gibbs sampling (src/core/kernel.ts, SamplingArgs): the same Gram accumulation as solveRows, then
 * A = α G + diag(π), rhs = α g + π (μ̃ + [p_r; 0]) and one draw x̃ = A⁻¹ rhs + U⁻¹ z per row, with
 * z = the row's K+1 numbers of `normals`. `lambda` is the noise precision α; τ, γ are unused.
 */
export function sampleRows(
  dim: i32,
  offsets: usize,
  indices: usize,
  values: usize,
  otherFactors: usize,
  otherBias: usize,
  rowFactors: usize,
  rowBias: usize,
  priorMeans: usize, // 0: no per-row prior (p_r = 0)
  globalMean: f64,
  lambda: f64,
  rowStart: i32,
  rowEnd: i32,
  scratch: usize,
  priorPrecision: usize,
  priorMean: usize,
  normals: usize,
): void {
  rows(dim, offsets, indices, values, otherFactors, otherBias, rowFactors, rowBias, priorMeans, globalMean, lambda, 0.0, 0.0, 0, 0, rowStart, rowEnd, scratch, true, priorPrecision, priorMean, normals);
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
  rows(dim, offsets, indices, values, otherFactors, otherBias, rowFactors, rowBias, priorMeans, globalMean, lambda, tau, gamma, weighted, weightedBias, rowStart, rowEnd, scratch, false, 0, 0, 0);
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
  priorPrecision: usize, // Gibbs sampling (sampleRows): π, K+1 doubles; 0 = ALS solve
  priorMean: usize, // Gibbs: shared prior mean μ̃, K+1 doubles
  normals: usize, // Gibbs: numRows × (K+1) standard normals
): void {
  const n = dim + 1;
  const npad = (n + 1) & ~1;
  const stride = <usize>npad << 3; // bytes per Gram row (row-major, full width, upper part used)
  const gram = scratch;
  const rhs = gram + <usize>npad * stride;
  const gathered = rhs + stride; // GATHER vectors z_e, one per stride
  const residuals = gathered + <usize>GATHER * stride; // GATHER values t_e
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
      continue;
    }
    if (count == 0) {
      // No ratings: the minimiser of the prior term alone.
      for (let a = 0; a < dim; a++) {
        store<f64>(out + (<usize>a << 3), prior != 0 ? load<f64>(prior + (<usize>a << 3)) : 0.0);
      }
      store<f64>(rowBias + (<usize>r << 3), 0.0);
      continue;
    }

    // Zero the upper triangle (row pairs from the even column at or left of the diagonal) and g.
    const zero = f64x2.splat(0.0);
    for (let a = 0; a < npad; a++) {
      const row = gram + <usize>a * stride;
      for (let b = a & ~1; b < npad; b += 2) v128.store(row + (<usize>b << 3), zero);
    }
    for (let b = 0; b < npad; b += 2) v128.store(rhs + (<usize>b << 3), zero);

    for (let block = start; block < end; block += GATHER) {
      // Gather up to 16 ratings, padded with zero vectors (t = 0) to whole batches of 4.
      const gatherEnd = min(block + GATHER, end);
      const paddedEnd = block + ((gatherEnd - block + BATCH - 1) & ~(BATCH - 1));
      // Touch one word per cache line of every y_j (and c_j) up to LOOKAHEAD ratings past this block,
      // across row boundaries: these loads are independent and few, so the misses of coming blocks
      // overlap each other and the arithmetic of this one before the copy needs their data.
      const touchEnd = min(gatherEnd + LOOKAHEAD, rangeEnd);
      for (; touchedUpTo < touchEnd; touchedUpTo++) {
        const j = <usize>load<i32>(indices + (<usize>touchedUpTo << 2));
        const y = otherFactors + j * rowBytes;
        for (let off: usize = 0; off < rowBytes; off += 64) touched ^= load<i32>(y + off);
        touched ^= load<i32>(otherBias + (j << 3));
      }
      for (let e = block; e < paddedEnd; e++) {
        const t = gather(e, gatherEnd, dim, npad, indices, values, otherFactors, otherBias, globalMean, gathered + <usize>(e - block) * stride);
        store<f64>(residuals + (<usize>(e - block) << 3), t);
      }
      for (let e = block; e < paddedEnd; e += BATCH) {
        const z0 = gathered + <usize>(e - block) * stride;
        const z1 = z0 + stride;
        const z2 = z1 + stride;
        const z3 = z2 + stride;
        const tq = residuals + (<usize>(e - block) << 3);
        const t0 = load<f64>(tq);
        const t1 = load<f64>(tq, 8);
        const t2 = load<f64>(tq, 16);
        const t3 = load<f64>(tq, 24);

        // G += Σ_q z_q z_qᵀ, two Gram rows (a, a+1) at a time so every z_q[b..b+1] load feeds 2 multiply-adds per Gram row.
        // Row a+1 also gets column a (below the diagonal): harmless, never read as U.
        for (let a = 0; a < npad; a += 2) {
          const ao = <usize>a << 3;
          const p0 = f64x2.splat(load<f64>(z0 + ao));
          const p1 = f64x2.splat(load<f64>(z1 + ao));
          const p2 = f64x2.splat(load<f64>(z2 + ao));
          const p3 = f64x2.splat(load<f64>(z3 + ao));
          const q0 = f64x2.splat(load<f64>(z0 + ao, 8));
          const q1 = f64x2.splat(load<f64>(z1 + ao, 8));
          const q2 = f64x2.splat(load<f64>(z2 + ao, 8));
          const q3 = f64x2.splat(load<f64>(z3 + ao, 8));
          const rowA = gram + <usize>a * stride;
          const rowB = rowA + stride;
          for (let b = a; b < npad; b += 2) {
            const bo = <usize>b << 3;
            const v0 = v128.load(z0 + bo);
            const v1 = v128.load(z1 + bo);
            const v2 = v128.load(z2 + bo);
            const v3 = v128.load(z3 + bo);
            let ga = v128.load(rowA + bo);
            let gb = v128.load(rowB + bo);
            ga = f64x2.add(ga, f64x2.add(f64x2.add(f64x2.mul(p0, v0), f64x2.mul(p1, v1)), f64x2.add(f64x2.mul(p2, v2), f64x2.mul(p3, v3))));
            gb = f64x2.add(gb, f64x2.add(f64x2.add(f64x2.mul(q0, v0), f64x2.mul(q1, v1)), f64x2.add(f64x2.mul(q2, v2), f64x2.mul(q3, v3))));
            v128.store(rowA + bo, ga);
            v128.store(rowB + bo, gb);
          }
        }
        // g += Σ_q t_q z_q
        const s0 = f64x2.splat(t0);
        const s1 = f64x2.splat(t1);
        const s2 = f64x2.splat(t2);
        const s3 = f64x2.splat(t3);
        for (let b = 0; b < npad; b += 2) {
          const bo = <usize>b << 3;
          const acc = f64x2.add(
            f64x2.add(f64x2.mul(s0, v128.load(z0 + bo)), f64x2.mul(s1, v128.load(z1 + bo))),
            f64x2.add(f64x2.mul(s2, v128.load(z2 + bo)), f64x2.mul(s3, v128.load(z3 + bo))),
          );
          v128.store(rhs + bo, f64x2.add(v128.load(rhs + bo), acc));
        }
      }
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
      const ra = rhs + (<usize>a << 3);
      if (priorPrecision != 0) {
        // Gibbs: A = α G + diag(π), rhs = α g + π (μ̃ + [p_r; 0]) (α is passed as λ).
        const pi = load<f64>(priorPrecision + (<usize>a << 3));
        let m = load<f64>(priorMean + (<usize>a << 3));
        if (a < dim && prior != 0) m += load<f64>(prior + (<usize>a << 3));
        store<f64>(diag, load<f64>(diag) + pi);
        store<f64>(ra, lambda * load<f64>(ra) + pi * m);
        continue;
      }
      store<f64>(diag, load<f64>(diag) + (a < dim ? tauR : gammaR));
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
  }
  store<i32>(residuals + (<usize>GATHER << 3), touched);
}

/**
 * Writes z = [y_j; 1; 0-pad] for rating e of the row into `z` and returns t = v_e − μ − c_j;
 * past the row's end (e ≥ end) writes zeros and returns 0, so the batch adds nothing.
 */
@inline
function gather(
  e: i32,
  end: i32,
  dim: i32,
  npad: i32,
  indices: usize,
  values: usize,
  otherFactors: usize,
  otherBias: usize,
  globalMean: f64,
  z: usize,
): f64 {
  if (e >= end) {
    const zero = f64x2.splat(0.0);
    for (let b = 0; b < npad; b += 2) v128.store(z + (<usize>b << 3), zero);
    return 0.0;
  }
  const j = <usize>load<i32>(indices + (<usize>e << 2));
  const y = otherFactors + j * (<usize>dim << 3);
  let a = 0;
  for (; a + 1 < dim; a += 2) v128.store(z + (<usize>a << 3), v128.load(y + (<usize>a << 3)));
  if (a < dim) store<f64>(z + (<usize>a << 3), load<f64>(y + (<usize>a << 3)));
  store<f64>(z + (<usize>dim << 3), 1.0);
  if (npad > dim + 1) store<f64>(z + (<usize>(dim + 1) << 3), 0.0);
  return <f64>load<f32>(values + (<usize>e << 2)) - globalMean - load<f64>(otherBias + (j << 3));
}
