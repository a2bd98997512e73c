/**
 * The small dense linear algebra of ALS: a symmetric (K+1)×(K+1) system A x = b built one
 * rating at a time, and its Cholesky solve.
 *
 * Storage. A is symmetric, so only one triangle is kept: the packed upper triangle in column
 * order (LAPACK "UP" layout), entry (i, j) with i ≤ j at j(j+1)/2 + i. Column j of the upper
 * triangle is therefore contiguous: A[0..j, j]. Read the same numbers row by row and they are the
 * lower triangle L[j, 0..j] (row j of the lower triangle = column j of the upper one), which is
 * what the Cholesky factorisation below walks: every inner loop is a dot product of two
 * contiguous runs. (n(n+1)/2 doubles instead of n²: half the memory traffic, half the flops.)
 *
 * Nothing here allocates after construction.
 */

/** Number of doubles in the packed triangle of an n×n symmetric matrix. */
export function packedLength(n: number): number {
  return (n * (n + 1)) / 2;
}

/** Position of entry (i, j), i ≤ j, in the packed upper triangle (= (j, i) of the lower one). */
export function packedIndex(i: number, j: number): number {
  return i <= j ? (j * (j + 1)) / 2 + i : (i * (i + 1)) / 2 + j;
}

/**
 * Accumulates the normal equations of a weighted least-squares problem
 *   minimise Σ_e w_e (t_e − aᵀ_e x)²   ⇒   (Σ_e w_e a_e a_eᵀ) x = Σ_e w_e t_e a_e
 * one observation (a_e, w_e, t_e) at a time: `triangle` holds Σ w a aᵀ (packed), `rhs` Σ w t a.
 * Accumulators over disjoint observations can be merged (sum), as a distributed ALS does.
 */
export class NormalEquations {
  readonly size: number;
  readonly triangle: Float64Array;
  readonly rhs: Float64Array;

  constructor(size: number) {
    this.size = size;
    this.triangle = new Float64Array(packedLength(size));
    this.rhs = new Float64Array(size);
  }

  /** A += w·a·aᵀ (upper triangle only), b += w·t·a. `vector` must hold at least `size` values from `offset`. */
  add(vector: ArrayLike<number>, weight: number, target: number, offset = 0): void {
    const n = this.size;
    const tri = this.triangle;
    const rhs = this.rhs;
    let p = 0;
    for (let j = 0; j < n; j++) {
      const wj = weight * vector[offset + j]!;
      for (let i = 0; i <= j; i++) tri[p++]! += wj * vector[offset + i]!;
      rhs[j]! += wj * target;
    }
  }

  /** Adds another accumulator of the same size (its observations join this one's). */
  merge(other: NormalEquations): void {
    if (other.size !== this.size)
      throw new RangeError(`cannot merge size ${other.size} into ${this.size}`);
    const tri = this.triangle;
    const otherTri = other.triangle;
    for (let p = 0; p < tri.length; p++) tri[p]! += otherTri[p]!;
    for (let j = 0; j < this.size; j++) this.rhs[j]! += other.rhs[j]!;
  }

  reset(): void {
    this.triangle.fill(0);
    this.rhs.fill(0);
  }

  /** Adds `value` to the diagonal entries [from, to): the ridge term. */
  addToDiagonal(value: number, from = 0, to = this.size): void {
    for (let j = from; j < to; j++) this.triangle[(j * (j + 3)) / 2]! += value;
  }
}

/**
 * In-place Cholesky factorisation A = L Lᵀ of the packed triangle `tri` (n×n, layout above):
 * afterwards row i of L occupies the same slots as column i of A did.
 *
 *   L_ij = (A_ij − Σ_(k<j) L_ik L_jk) / L_jj   for j < i,
 *   L_ii = √(A_ii − Σ_(k<i) L_ik²).
 *
 * `inverseDiagonal` (length ≥ n) receives 1/L_ii, so that the n(n−1)/2 divisions become
 * multiplications here and in `choleskySolve` (a division costs several multiplications).
 * The dot products are unrolled by two with two accumulators.
 *
 * Returns false (leaving `tri` partly overwritten) when a pivot is not positive or not finite,
 * i.e. A is not (numerically) positive definite.
 */
export function choleskyFactor(
  tri: Float64Array,
  n: number,
  inverseDiagonal: Float64Array = new Float64Array(n),
): boolean {
  for (let i = 0; i < n; i++) {
    const rowI = (i * (i + 1)) / 2;
    for (let j = 0; j < i; j++) {
      const rowJ = (j * (j + 1)) / 2;
      let s0 = tri[rowI + j]!;
      let s1 = 0;
      let k = 0;
      for (; k + 1 < j; k += 2) {
        s0 -= tri[rowI + k]! * tri[rowJ + k]!;
        s1 -= tri[rowI + k + 1]! * tri[rowJ + k + 1]!;
      }
      if (k < j) s0 -= tri[rowI + k]! * tri[rowJ + k]!;
      tri[rowI + j] = (s0 + s1) * inverseDiagonal[j]!;
    }
    let d0 = tri[rowI + i]!;
    let d1 = 0;
    let k = 0;
    for (; k + 1 < i; k += 2) {
      const l0 = tri[rowI + k]!;
      const l1 = tri[rowI + k + 1]!;
      d0 -= l0 * l0;
      d1 -= l1 * l1;
    }
    if (k < i) d0 -= tri[rowI + k]! * tri[rowI + k]!;
    const d = d0 + d1;
    if (!(d > 0) || d === Infinity) return false;
    const l = Math.sqrt(d);
    tri[rowI + i] = l;
    inverseDiagonal[i] = 1 / l;
  }
  return true;
}

/**
 * Solves L Lᵀ x = b given the factor from `choleskyFactor` and its `inverseDiagonal`; `x` holds
 * b on entry and x on exit. Forward substitution L z = b row by row, then back substitution
 * Lᵀ x = z column by column (x_i = z_i / L_ii, then z_k −= L_ik x_i for k < i), so both walk
 * rows of L contiguously. Without `inverseDiagonal` the diagonal of `tri` is divided by.
 */
export function choleskySolve(
  tri: Float64Array,
  n: number,
  x: Float64Array,
  inverseDiagonal: Float64Array | null = null,
): void {
  for (let i = 0; i < n; i++) {
    const rowI = (i * (i + 1)) / 2;
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= tri[rowI + k]! * x[k]!;
    x[i] = inverseDiagonal === null ? s / tri[rowI + i]! : s * inverseDiagonal[i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    const rowI = (i * (i + 1)) / 2;
    const xi = inverseDiagonal === null ? x[i]! / tri[rowI + i]! : x[i]! * inverseDiagonal[i]!;
    x[i] = xi;
    for (let k = 0; k < i; k++) x[k]! -= tri[rowI + k]! * xi;
  }
}
