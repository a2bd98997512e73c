/**
 * The contract of a half-epoch kernel: the one place where the K×K (here (K+1)×(K+1)) normal
 * equations are accumulated and solved. Two implementations share it: the plain TypeScript
 * reference (`--kernel ts`) and a WebAssembly SIMD one (`--kernel wasm`). Both must give the same
 * result to floating-point round-off.
 *
 * For every row r in [rowStart, rowEnd) of `offsets/indices/values` (CSR by user for the user
 * side, CSC by item for the item side), the kernel minimises the loss over the row's factor x_r
 * and bias b_r jointly, holding the other side (factors y, biases c) fixed. With x̃ = [x_r; b_r]
 * and ỹ_e = [y_(j_e); 1] for each rating e = (r, j_e, r_e) of the row, the minimiser solves
 *
 *   (λ Σ_e ỹ_e ỹ_eᵀ + diag(τ_r, …, τ_r, γ_r)) x̃ = λ Σ_e ỹ_e (r_e − μ − c_(j_e)) + [τ_r p_r; 0]
 *
 * where p_r is the row's prior mean (zero unless `priorMeans` is given: the genre model's item
 * side), τ_r = τ·s_r with s_r = max(1, n_r)^a under weighted regularisation (ALS-WR is a = 1;
 * a = `weightExponent`, unset 1), else s_r = 1, and γ_r = γ·s'_r with s'_r = max(1, n_r)^a when
 * the bias ridge is weighted too, else s'_r = 1 (`weightedBiasRegularization`; unset means "same
 * as `weightedRegularization`", the behaviour before the flag existed). With 0 < a < 1 the ridge
 * of a heavily rated row grows slower than its data (λ n_r), so its shrinkage towards p_r fades
 * as n_r grows, as a Bayesian posterior's does; under ALS-WR it stays the same for every n_r. A constant γ shrinks the bias of a row with few ratings more than one
 * with many (b_r ≈ λ Σ t / (λ n_r + γ)), as classic baselines do; a count-scaled γ shrinks every
 * bias by the same factor 1/(1 + γ/λ), so a movie with one 5-star rating keeps almost all of it.
 * The system is symmetric positive definite (τ_r, γ_r > 0), solved by Cholesky.
 * A row with no ratings gets x_r = p_r, b_r = 0. For the bias model (dim 0) this is the closed
 * form b_r = λ Σ_e (r_e − μ − c_(j_e)) / (λ n_r + γ_r).
 *
 * Solving bias and factor jointly is exact block-coordinate descent on (x_r, b_r): one pass
 * over the row's ratings, and the loss can only go down.
 */
export interface HalfEpochArgs {
  /** K, the latent dimension (0 for the bias model). */
  dim: number;
  /** The sparse index over the rows being solved. */
  offsets: Int32Array;
  indices: Int32Array;
  values: Float32Array;
  /** The other side's factors (numOther × dim, row-major) and biases: held fixed. */
  otherFactors: Float64Array;
  otherBias: Float64Array;
  /** Output: this side's factors (numRows × dim) and biases, overwritten for rows in range. */
  rowFactors: Float64Array;
  rowBias: Float64Array;
  /** Prior means p_r (numRows × dim) or null for zero. */
  priorMeans: Float64Array | null;
  /**
   * The other side's factors again, packed (see packRows): numOther rows of packedRowWidth(dim)
   * float32. A kernel may read y_j from here instead of `otherFactors` (the wasm kernel does: half
   * the bytes of a random read, already in the float32 it computes with); it must hold
   * f32(otherFactors) row for row. Null or absent: read `otherFactors`.
   */
  otherPacked?: Float32Array | null;
  /** Output: when given, every row the kernel writes is packed here too (numRows × packedRowWidth(dim)). */
  rowPacked?: Float32Array | null;
  globalMean: number;
  lambda: number;
  tau: number;
  gamma: number;
  /** ALS-WR: scale τ (and, unless `weightedBiasRegularization` is false, γ) by the row's count. */
  weightedRegularization: boolean;
  /** Scale γ by the row's count; unset: same as `weightedRegularization` (see biasRidgeWeighted). */
  weightedBiasRegularization?: boolean;
  /** a in s_r = max(1, n_r)^a (see countScale); unset: 1 (ALS-WR). */
  weightExponent?: number;
  /**
   * Gibbs sampling instead of the ALS solve (./gibbs.ts): null or absent for ALS. When set, `lambda`
   * is the noise precision α, τ and γ are ignored, and each row gets one draw from its conditional
   * posterior (see SamplingArgs).
   */
  sampling?: SamplingArgs | null;
}

/**
 * The Bayesian variant of the row system (Gibbs sampling, ./gibbs.ts). With the per-coordinate
 * prior x̃_r ~ N(m̃_r, diag(π)⁻¹), m̃_r = [μ + p_r; μ_b], and ratings r_e ~ N(μ₀ + c_j + x̃_r·ỹ_e, α⁻¹),
 * the conditional posterior of x̃_r is Gaussian with
 *
 *   precision A = α Σ_e ỹ_e ỹ_eᵀ + diag(π)          (the ALS Gram with α for λ, π for the ridge)
 *   mean      m = A⁻¹ (α Σ_e t_e ỹ_e + diag(π) m̃_r)
 *
 * and one draw is x̃_r = m + L⁻ᵀ z for A = L Lᵀ (= m + U⁻¹ z with U = Lᵀ) and z the row's K+1
 * standard normals: Cov(L⁻ᵀ z) = L⁻ᵀ L⁻¹ = A⁻¹. Computed as forward solve L w = rhs, w += z, back
 * solve Lᵀ x̃ = w. A row with no ratings draws from its prior: x̃ = m̃ + z/√π.
 */
export interface SamplingArgs {
  /** π: prior precision per coordinate, K factor coordinates then the bias (length K + 1). */
  priorPrecision: Float64Array;
  /** μ: shared prior mean per coordinate, K then the bias (length K + 1); p_r is added to the first K. */
  priorMean: Float64Array;
  /** numRows × (K + 1) standard normals: row r's z at [r(K+1), (r+1)(K+1)). */
  normals: Float64Array;
}

/**
 * Whether the bias ridge γ is multiplied by each row's rating count. Unset means it follows
 * `weightedRegularization`, which is what every model and checkpoint did before the flag existed.
 */
export function biasRidgeWeighted(h: {
  weightedRegularization: boolean;
  weightedBiasRegularization?: boolean | undefined;
}): boolean {
  return h.weightedBiasRegularization ?? h.weightedRegularization;
}

/**
 * The count weight s = max(1, n)^a of a row with n ratings, or 1 when not weighted. a = 1 is
 * ALS-WR (and returns max(1, n) exactly); unset a means 1.
 */
export function countScale(count: number, weighted: boolean, exponent: number | undefined): number {
  if (!weighted) return 1;
  const n = Math.max(1, count);
  return exponent === undefined || exponent === 1 ? n : n ** exponent;
}

/**
 * Floats per packed factor row: dim + 2 rounded up to a multiple of 8 (32 for dim 30, 128 bytes).
 * The layout is the wasm kernel's gathered vector (./wasm/kernel.ts): [f32(x); 1; 0; 0 … 0], where
 * the kernel puts the rating's residual into the first 0.
 */
export function packedRowWidth(dim: number): number {
  return (dim + 2 + 7) & ~7;
}

/** Writes the packed rows [rowStart, rowEnd) of `factors` (rows × dim float64) into `packed`. */
export function packRows(
  factors: Float64Array,
  dim: number,
  packed: Float32Array,
  rowStart: number,
  rowEnd: number,
): void {
  const width = packedRowWidth(dim);
  for (let r = rowStart; r < rowEnd; r++) {
    const x = r * dim;
    const p = r * width;
    for (let k = 0; k < dim; k++) packed[p + k] = factors[x + k]!;
    packed[p + dim] = 1;
    packed.fill(0, p + dim + 1, p + width);
  }
}

/**
 * A packed copy of `factors` (rows × dim) in the arena, 64-byte aligned so that a row of 32 floats
 * spans two cache lines, not three.
 */
export function allocPackedRows(
  arena: import('./arena.js').SharedArena,
  factors: Float64Array,
  dim: number,
  rows: number,
): Float32Array {
  const width = packedRowWidth(dim);
  const block = arena.allocFloat32(rows * width + 16);
  const skip = ((64 - (block.byteOffset % 64)) % 64) / 4;
  const packed = block.subarray(skip, skip + rows * width);
  packRows(factors, dim, packed, 0, rows);
  return packed;
}

/** Σ (r − r̂)² over the ratings of rows [rowStart, rowEnd) (see KernelProvider.createSquaredErrors). */
export type SquaredErrors = (args: HalfEpochArgs, rowStart: number, rowEnd: number) => number;

/** Solves rows [rowStart, rowEnd) in place. Must not allocate per row. */
export type SolveRows = (args: HalfEpochArgs, rowStart: number, rowEnd: number) => void;

/**
 * A kernel implementation: `ts` (plain TypeScript, the tested reference and fallback) or `wasm`
 * (AssemblyScript compiled to WebAssembly SIMD). The trainer allocates every array the kernel
 * reads or writes in the provider's arena, so that worker threads and the kernel share them.
 */
export interface KernelProvider {
  readonly name: 'ts' | 'wasm';
  /** Whether the kernel reads `otherPacked` (so the caller should keep packed rows for it). */
  readonly readsPackedRows: boolean;
  /** The arena the trainer allocates its shared arrays in (at least `byteLength` usable bytes). */
  createArena(byteLength: number): import('./arena.js').SharedArena;
  /** Called once per thread: a solver over arrays living in the arena's buffer/memory. */
  createSolver(buffer: SharedArrayBuffer, memory: WebAssembly.Memory | null): Promise<SolveRows>;
  /**
   * Optional, once per thread: the loss's error term over rows of a half-epoch's arrays, as
   * ./als.ts squaredErrorSum computes it (which a caller uses when a kernel has none). The wasm
   * kernel's reads y_j from `otherPacked`, so it agrees with squaredErrorSum to float32 rounding
   * of y (~1e-7 relative), not bit for bit.
   */
  createSquaredErrors?(
    buffer: SharedArrayBuffer,
    memory: WebAssembly.Memory | null,
  ): Promise<SquaredErrors>;
}
