/**
 * The plain TypeScript half-epoch kernel: the tested reference every other kernel is compared to.
 * The contract (the system solved per row) is in ./kernel.ts; this file is how it is computed.
 *
 * For one row r (a user on the user side, a movie on the item side) with ratings e = (j_e, r_e):
 *
 *   ỹ_e = [y_(j_e); 1]                     the other side's factor, with a 1 appended for the bias
 *   t_e = r_e − μ − c_(j_e)                 what x_r·y + b_r has to explain
 *   A   = λ Σ_e ỹ_e ỹ_eᵀ + diag(τ_r … τ_r, γ_r)
 *   rhs = λ Σ_e t_e ỹ_e + [τ_r p_r; 0]
 *   [x_r; b_r] = A⁻¹ rhs                     by Cholesky (A is symmetric positive definite)
 *
 * Setting the gradient of L with respect to (x_r, b_r) to zero gives exactly this system, so the
 * update is the exact minimiser of the loss over that row with everything else fixed.
 *
 * Speed (the Gram sum Σ ỹ ỹᵀ is the O(n_r K²) part): only the upper triangle is accumulated, and
 * eight ratings are folded in per pass over the triangle (then four, then one), so each triangle
 * entry is loaded and stored once per eight ratings and the eight y_j values of a column stay in
 * registers (measured: 20 % less CPU per half-epoch than four per pass, `node dist/bench/kernel.js`). The
 * "1" coordinate of ỹ is not stored: the bias column of A is Σ y (plus the count in the corner).
 * Scratch (triangle, right-hand side) is allocated once per solver, never per row.
 */
import { SharedArena } from './arena.js';
import {
  biasRidgeWeighted,
  countScale,
  type HalfEpochArgs,
  type KernelProvider,
  packRows,
  type SolveRows,
} from './kernel.js';
import { choleskyFactor, choleskySolve, packedLength } from './normal-equations.js';

/** A fresh SolveRows with its own scratch (one per thread; it is not reentrant). */
export function createTsSolveRows(): SolveRows {
  let scratchDim = -1;
  let tri = new Float64Array(0);
  let rhs = new Float64Array(0);
  let inverseDiagonal = new Float64Array(0);

  return function solveRows(args: HalfEpochArgs, rowStart: number, rowEnd: number): void {
    const K = args.dim;
    if (K === 0) {
      solveBiasRows(args, rowStart, rowEnd);
      return;
    }
    if (K !== scratchDim) {
      // Once per solver and dimension, not per row.
      scratchDim = K;
      tri = new Float64Array(packedLength(K + 1));
      rhs = new Float64Array(K + 1);
      inverseDiagonal = new Float64Array(K + 1);
    }
    const n = K + 1;
    const biasColumn = (K * (K + 1)) / 2; // start of column K (the bias) in the packed triangle
    const {
      offsets,
      indices,
      values,
      otherFactors: Y,
      otherBias,
      rowFactors,
      rowBias,
      priorMeans,
    } = args;
    const { globalMean, lambda, tau, gamma, weightedRegularization, weightExponent } = args;
    const weightedBias = biasRidgeWeighted(args);
    const sampling = args.sampling ?? null;
    const precision = sampling?.priorPrecision;
    const priorMean = sampling?.priorMean;
    const normals = sampling?.normals;

    for (let r = rowStart; r < rowEnd; r++) {
      const start = offsets[r]!;
      const end = offsets[r + 1]!;
      const count = end - start;
      const out = r * K;
      if (count === 0 && sampling) {
        // No ratings: a draw from the prior, x̃ = m̃_r + z/√π.
        const z = r * n;
        for (let k = 0; k < K; k++) {
          rowFactors[out + k] =
            priorMean![k]! +
            (priorMeans === null ? 0 : priorMeans[out + k]!) +
            normals![z + k]! / Math.sqrt(precision![k]!);
        }
        rowBias[r] = priorMean![K]! + normals![z + K]! / Math.sqrt(precision![K]!);
        continue;
      }
      if (count === 0) {
        // No ratings: the loss over (x_r, b_r) is only the ridge, minimised at x_r = p_r, b_r = 0.
        if (priorMeans === null) rowFactors.fill(0, out, out + K);
        else for (let k = 0; k < K; k++) rowFactors[out + k] = priorMeans[out + k]!;
        rowBias[r] = 0;
        continue;
      }
      tri.fill(0);
      rhs.fill(0);

      // Σ ỹ ỹᵀ and Σ t ỹ, eight ratings per pass, then four, then one at a time.
      let e = start;
      for (; e + 8 <= end; e += 8) {
        const o1 = indices[e]! * K;
        const o2 = indices[e + 1]! * K;
        const o3 = indices[e + 2]! * K;
        const o4 = indices[e + 3]! * K;
        const o5 = indices[e + 4]! * K;
        const o6 = indices[e + 5]! * K;
        const o7 = indices[e + 6]! * K;
        const o8 = indices[e + 7]! * K;
        const t1 = values[e]! - globalMean - otherBias[indices[e]!]!;
        const t2 = values[e + 1]! - globalMean - otherBias[indices[e + 1]!]!;
        const t3 = values[e + 2]! - globalMean - otherBias[indices[e + 2]!]!;
        const t4 = values[e + 3]! - globalMean - otherBias[indices[e + 3]!]!;
        const t5 = values[e + 4]! - globalMean - otherBias[indices[e + 4]!]!;
        const t6 = values[e + 5]! - globalMean - otherBias[indices[e + 5]!]!;
        const t7 = values[e + 6]! - globalMean - otherBias[indices[e + 6]!]!;
        const t8 = values[e + 7]! - globalMean - otherBias[indices[e + 7]!]!;
        let col = 0;
        for (let j = 0; j < K; j++) {
          const a1 = Y[o1 + j]!;
          const a2 = Y[o2 + j]!;
          const a3 = Y[o3 + j]!;
          const a4 = Y[o4 + j]!;
          const a5 = Y[o5 + j]!;
          const a6 = Y[o6 + j]!;
          const a7 = Y[o7 + j]!;
          const a8 = Y[o8 + j]!;
          for (let i = 0; i <= j; i++) {
            tri[col + i]! +=
              a1 * Y[o1 + i]! +
              a2 * Y[o2 + i]! +
              a3 * Y[o3 + i]! +
              a4 * Y[o4 + i]! +
              (a5 * Y[o5 + i]! + a6 * Y[o6 + i]! + a7 * Y[o7 + i]! + a8 * Y[o8 + i]!);
          }
          col += j + 1;
          rhs[j]! +=
            a1 * t1 + a2 * t2 + a3 * t3 + a4 * t4 + (a5 * t5 + a6 * t6 + a7 * t7 + a8 * t8);
          tri[biasColumn + j]! += a1 + a2 + a3 + a4 + (a5 + a6 + a7 + a8);
        }
        rhs[K]! += t1 + t2 + t3 + t4 + (t5 + t6 + t7 + t8);
      }
      for (; e + 4 <= end; e += 4) {
        const o1 = indices[e]! * K;
        const o2 = indices[e + 1]! * K;
        const o3 = indices[e + 2]! * K;
        const o4 = indices[e + 3]! * K;
        const t1 = values[e]! - globalMean - otherBias[indices[e]!]!;
        const t2 = values[e + 1]! - globalMean - otherBias[indices[e + 1]!]!;
        const t3 = values[e + 2]! - globalMean - otherBias[indices[e + 2]!]!;
        const t4 = values[e + 3]! - globalMean - otherBias[indices[e + 3]!]!;
        let col = 0;
        for (let j = 0; j < K; j++) {
          const a1 = Y[o1 + j]!;
          const a2 = Y[o2 + j]!;
          const a3 = Y[o3 + j]!;
          const a4 = Y[o4 + j]!;
          for (let i = 0; i <= j; i++) {
            tri[col + i]! += a1 * Y[o1 + i]! + a2 * Y[o2 + i]! + a3 * Y[o3 + i]! + a4 * Y[o4 + i]!;
          }
          col += j + 1;
          rhs[j]! += a1 * t1 + a2 * t2 + a3 * t3 + a4 * t4;
          // Bias column: entry (j, K) of Σ ỹ ỹᵀ is Σ y_j · 1.
          tri[biasColumn + j]! += a1 + a2 + a3 + a4;
        }
        rhs[K]! += t1 + t2 + t3 + t4;
      }
      for (; e < end; e++) {
        const o1 = indices[e]! * K;
        const t1 = values[e]! - globalMean - otherBias[indices[e]!]!;
        let col = 0;
        for (let j = 0; j < K; j++) {
          const a1 = Y[o1 + j]!;
          for (let i = 0; i <= j; i++) tri[col + i]! += a1 * Y[o1 + i]!;
          col += j + 1;
          rhs[j]! += a1 * t1;
          tri[biasColumn + j]! += a1;
        }
        rhs[K]! += t1;
      }
      tri[biasColumn + K] = count; // Σ 1·1

      if (sampling) {
        // Gibbs draw (SamplingArgs in ./kernel.ts): A = α G + diag(π), rhs = α g + diag(π) m̃_r,
        // x̃ = A⁻¹ rhs + L⁻ᵀ z.
        for (let p = 0; p < tri.length; p++) tri[p]! *= lambda;
        for (let j = 0; j <= K; j++) {
          tri[(j * (j + 3)) / 2]! += precision![j]!;
          const m = priorMean![j]! + (j < K && priorMeans !== null ? priorMeans[out + j]! : 0);
          rhs[j] = lambda * rhs[j]! + precision![j]! * m;
        }
        if (!choleskyFactor(tri, n, inverseDiagonal)) {
          rowFactors.fill(NaN, out, out + K);
          rowBias[r] = NaN;
          continue;
        }
        sampleFromFactor(tri, n, rhs, inverseDiagonal, normals!, r * n);
        for (let k = 0; k < K; k++) rowFactors[out + k] = rhs[k]!;
        rowBias[r] = rhs[K]!;
        continue;
      }

      // A = λ Σ ỹỹᵀ + diag(τ_r, …, τ_r, γ_r);  rhs = λ Σ t ỹ + [τ_r p_r; 0].
      // τ_r = τ s_r, γ_r = γ s'_r (each count-scaled, s = n_r^a, or not); count ≥ 1 here.
      const tauR = tau * countScale(count, weightedRegularization, weightExponent);
      const gammaR = gamma * countScale(count, weightedBias, weightExponent);
      for (let p = 0; p < tri.length; p++) tri[p]! *= lambda;
      for (let j = 0; j < K; j++) tri[(j * (j + 3)) / 2]! += tauR;
      tri[biasColumn + K]! += gammaR;
      for (let j = 0; j <= K; j++) rhs[j]! *= lambda;
      if (priorMeans !== null) for (let j = 0; j < K; j++) rhs[j]! += tauR * priorMeans[out + j]!;

      if (!choleskyFactor(tri, n, inverseDiagonal)) {
        // Not positive definite (e.g. τ = 0 with fewer ratings than dimensions, or non-finite
        // inputs): mark the row so the loss becomes NaN and the trainer reports divergence.
        rowFactors.fill(NaN, out, out + K);
        rowBias[r] = NaN;
        continue;
      }
      choleskySolve(tri, n, rhs, inverseDiagonal);
      for (let k = 0; k < K; k++) rowFactors[out + k] = rhs[k]!;
      rowBias[r] = rhs[K]!;
    }
    // This kernel reads `otherFactors` (float64) and ignores `otherPacked`, but keeps `rowPacked`
    // in step for a caller that asks for it.
    if (args.rowPacked != null) packRows(rowFactors, K, args.rowPacked, rowStart, rowEnd);
  };
}

/**
 * A Gibbs draw from the Cholesky factor A = L Lᵀ (packed rows of L, see ./normal-equations.ts):
 * `x` holds rhs on entry and m + L⁻ᵀ z on exit, m = A⁻¹ rhs, z = normals[zOffset .. zOffset + n).
 * Forward L w = rhs, then w += z, then back Lᵀ x = w: x = L⁻ᵀ(L⁻¹ rhs + z) = m + L⁻ᵀ z.
 */
export function sampleFromFactor(
  tri: Float64Array,
  n: number,
  x: Float64Array,
  inverseDiagonal: Float64Array,
  normals: Float64Array,
  zOffset: number,
): void {
  for (let i = 0; i < n; i++) {
    const rowI = (i * (i + 1)) / 2;
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= tri[rowI + k]! * x[k]!;
    x[i] = s * inverseDiagonal[i]!;
  }
  // Only after the whole forward pass: it reads the earlier w_k, which must not include z yet.
  for (let i = 0; i < n; i++) x[i]! += normals[zOffset + i]!;
  for (let i = n - 1; i >= 0; i--) {
    const rowI = (i * (i + 1)) / 2;
    const xi = x[i]! * inverseDiagonal[i]!;
    x[i] = xi;
    for (let k = 0; k < i; k++) x[k]! -= tri[rowI + k]! * xi;
  }
}

/**
 * The bias model (K = 0): the system is 1×1, b_r = λ Σ_e t_e / (λ n_r + γ_r); an empty row gets 0.
 * Sampling: precision A = α n_r + π, b_r = (α Σ t + π μ_b)/A + z/√A.
 */
function solveBiasRows(args: HalfEpochArgs, rowStart: number, rowEnd: number): void {
  const { offsets, indices, values, otherBias, rowBias, globalMean, lambda, gamma } = args;
  const weightedBias = biasRidgeWeighted(args);
  const sampling = args.sampling ?? null;
  for (let r = rowStart; r < rowEnd; r++) {
    const start = offsets[r]!;
    const end = offsets[r + 1]!;
    const count = end - start;
    if (sampling) {
      let sum = 0;
      for (let e = start; e < end; e++) sum += values[e]! - globalMean - otherBias[indices[e]!]!;
      const pi = sampling.priorPrecision[0]!;
      const precision = lambda * count + pi;
      rowBias[r] =
        (lambda * sum + pi * sampling.priorMean[0]!) / precision +
        sampling.normals[r]! / Math.sqrt(precision);
      continue;
    }
    if (count === 0) {
      rowBias[r] = 0;
      continue;
    }
    let sum = 0;
    for (let e = start; e < end; e++) sum += values[e]! - globalMean - otherBias[indices[e]!]!;
    const gammaR = gamma * countScale(count, weightedBias, args.weightExponent);
    rowBias[r] = (lambda * sum) / (lambda * count + gammaR);
  }
}

/** The `ts` kernel: a plain SharedArrayBuffer arena and the solver above (the buffer needs no setup). */
export const tsKernel: KernelProvider = {
  name: 'ts',
  readsPackedRows: false,
  createArena(byteLength: number): SharedArena {
    return new SharedArena(byteLength);
  },
  async createSolver(): Promise<SolveRows> {
    return createTsSolveRows();
  },
};
