import { describe, expect, it } from 'vitest';
import { createTsSolveRows } from '../src/core/kernel-ts.js';
import type { HalfEpochArgs } from '../src/core/kernel.js';
import {
  NormalEquations,
  choleskyFactor,
  choleskySolve,
  packedIndex,
} from '../src/core/normal-equations.js';
import { Random } from '../src/core/random.js';
import { denseSolve } from './helpers/planted.js';

/** How τ and γ are scaled: τ count-scaled or not × γ count-scaled, constant, or unset (follows τ). */
interface RidgeMode {
  name: string;
  weightedRegularization: boolean;
  weightedBiasRegularization?: boolean;
  weightExponent?: number;
}
const RIDGE_MODES: RidgeMode[] = [
  { name: 'plain', weightedRegularization: false },
  { name: 'ALS-WR', weightedRegularization: true },
  {
    name: 'ALS-WR with constant γ',
    weightedRegularization: true,
    weightedBiasRegularization: false,
  },
  {
    name: 'plain τ, count-scaled γ',
    weightedRegularization: false,
    weightedBiasRegularization: true,
  },
  {
    name: 'τ and γ scaled by n^0.5',
    weightedRegularization: true,
    weightedBiasRegularization: true,
    weightExponent: 0.5,
  },
  {
    name: 'τ scaled by n^0.3, constant γ',
    weightedRegularization: true,
    weightedBiasRegularization: false,
    weightExponent: 0.3,
  },
];

/** A random sparse half-epoch problem: `rows` rows over `others` columns, some rows empty. */
function randomProblem(
  rng: Random,
  dim: number,
  rows: number,
  others: number,
  withPrior: boolean,
  mode: RidgeMode,
): HalfEpochArgs {
  const offsets = new Int32Array(rows + 1);
  const indices: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    const count = r % 4 === 1 ? 0 : r === 2 ? others : r === 3 ? 12 : rng.nextInt(others + 1); // every fourth row empty; a full row and a row of 12 (8 + 4)
    const cols = Array.from({ length: others }, (_, j) => j);
    rng.shuffle(cols);
    const chosen = cols.slice(0, count).sort((a, b) => a - b);
    for (const j of chosen) {
      indices.push(j);
      values.push(1 + rng.nextInt(9) / 2);
    }
    offsets[r + 1] = indices.length;
  }
  const gauss = (n: number): Float64Array =>
    Float64Array.from({ length: n }, () => rng.nextGaussian());
  return {
    dim,
    offsets,
    indices: Int32Array.from(indices),
    values: Float32Array.from(values),
    otherFactors: gauss(others * dim),
    otherBias: gauss(others),
    rowFactors: gauss(rows * dim),
    rowBias: gauss(rows),
    priorMeans: withPrior ? gauss(rows * dim) : null,
    globalMean: 3.3,
    lambda: 0.7,
    tau: 2.5,
    gamma: 1.5,
    weightedRegularization: mode.weightedRegularization,
    ...(mode.weightedBiasRegularization === undefined
      ? {}
      : { weightedBiasRegularization: mode.weightedBiasRegularization }),
    ...(mode.weightExponent === undefined ? {} : { weightExponent: mode.weightExponent }),
  };
}

/** The contract's system for row r, written out densely and solved by Gaussian elimination. */
function referenceRow(a: HalfEpochArgs, r: number): { x: number[]; b: number } {
  const K = a.dim;
  const n = K + 1;
  const count = a.offsets[r + 1]! - a.offsets[r]!;
  const prior = (k: number): number => (a.priorMeans === null ? 0 : a.priorMeans[r * K + k]!);
  if (count === 0) return { x: Array.from({ length: K }, (_, k) => prior(k)), b: 0 };
  // τ_r = τ s_r, γ_r = γ s'_r; an unset bias flag means γ is scaled exactly when τ is.
  // s = n^a with a = weightExponent (unset: 1, ALS-WR).
  const weight = count ** (a.weightExponent ?? 1);
  const s = a.weightedRegularization ? weight : 1;
  const sBias = (a.weightedBiasRegularization ?? a.weightedRegularization) ? weight : 1;
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const rhs = new Array<number>(n).fill(0);
  for (let e = a.offsets[r]!; e < a.offsets[r + 1]!; e++) {
    const j = a.indices[e]!;
    const y = [...Array.from({ length: K }, (_, k) => a.otherFactors[j * K + k]!), 1];
    const t = a.values[e]! - a.globalMean - a.otherBias[j]!;
    for (let p = 0; p < n; p++) {
      rhs[p]! += a.lambda * t * y[p]!;
      for (let q = 0; q < n; q++) A[p]![q]! += a.lambda * y[p]! * y[q]!;
    }
  }
  for (let k = 0; k < K; k++) {
    A[k]![k]! += a.tau * s;
    rhs[k]! += a.tau * s * prior(k);
  }
  A[K]![K]! += a.gamma * sBias;
  const sol = denseSolve(A, rhs);
  return { x: sol.slice(0, K), b: sol[K]! };
}

describe('Cholesky on the packed triangle', () => {
  it('solves a system with a known solution', () => {
    // A = M Mᵀ + I for a fixed M, b = A x* for a known x*.
    const n = 6;
    const rng = new Random(3);
    const M = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.nextGaussian()));
    const A = M.map((row, i) =>
      M.map((other, j) => row.reduce((s, v, k) => s + v * other[k]!, 0) + (i === j ? 1 : 0)),
    );
    const xStar = [1, -2, 0.5, 3, 0, -1];
    const b = A.map((row) => row.reduce((s, v, k) => s + v * xStar[k]!, 0));
    const tri = new Float64Array((n * (n + 1)) / 2);
    for (let j = 0; j < n; j++) for (let i = 0; i <= j; i++) tri[packedIndex(i, j)] = A[i]![j]!;
    const inverseDiagonal = new Float64Array(n);
    expect(choleskyFactor(tri, n, inverseDiagonal)).toBe(true);
    for (let k = 0; k < n; k++)
      expect(inverseDiagonal[k]).toBeCloseTo(1 / tri[packedIndex(k, k)]!, 14);
    const x = Float64Array.from(b);
    choleskySolve(tri, n, x);
    for (let k = 0; k < n; k++) expect(x[k]).toBeCloseTo(xStar[k]!, 10);
    const y = Float64Array.from(b);
    choleskySolve(tri, n, y, inverseDiagonal);
    for (let k = 0; k < n; k++) expect(y[k]).toBeCloseTo(xStar[k]!, 10);
  });

  it('factors a diagonal matrix into square roots and refuses an indefinite one', () => {
    const tri = new Float64Array([4, 0, 9]);
    expect(choleskyFactor(tri, 2)).toBe(true);
    expect(Array.from(tri)).toEqual([2, 0, 3]);
    expect(choleskyFactor(new Float64Array([1, 2, 1]), 2)).toBe(false);
  });

  it('accumulates weighted observations whose merge equals one accumulator', () => {
    const rng = new Random(5);
    const all = new NormalEquations(4);
    const a = new NormalEquations(4);
    const b = new NormalEquations(4);
    for (let e = 0; e < 10; e++) {
      const v = [rng.nextGaussian(), rng.nextGaussian(), rng.nextGaussian(), 1];
      const w = rng.nextFloat();
      const t = rng.nextGaussian();
      all.add(v, w, t);
      (e % 2 === 0 ? a : b).add(v, w, t);
    }
    a.merge(b);
    for (let p = 0; p < all.triangle.length; p++)
      expect(a.triangle[p]).toBeCloseTo(all.triangle[p]!, 12);
    for (let p = 0; p < 4; p++) expect(a.rhs[p]).toBeCloseTo(all.rhs[p]!, 12);
    // Ridge + solve equals the dense least-squares solution.
    all.addToDiagonal(0.5);
    const dense = Array.from({ length: 4 }, (_, i) =>
      Array.from({ length: 4 }, (_, j) => all.triangle[packedIndex(i, j)]!),
    );
    const expected = denseSolve(dense, Array.from(all.rhs));
    const x = Float64Array.from(all.rhs);
    expect(choleskyFactor(all.triangle, 4)).toBe(true);
    choleskySolve(all.triangle, 4, x);
    for (let k = 0; k < 4; k++) expect(x[k]).toBeCloseTo(expected[k]!, 10);
    a.reset();
    expect(a.triangle.every((v) => v === 0) && a.rhs.every((v) => v === 0)).toBe(true);
  });
});

describe('ts kernel (SolveRows)', () => {
  for (const dim of [0, 1, 3, 7]) {
    for (const withPrior of [false, true]) {
      for (const [modeIndex, mode] of RIDGE_MODES.entries()) {
        it(`matches a dense solve of the normal equations (dim ${dim}, prior ${withPrior}, ${mode.name})`, () => {
          const rng = new Random(100 + dim * 8 + (withPrior ? 4 : 0) + modeIndex);
          const args = randomProblem(rng, dim, 12, 15, withPrior && dim > 0, mode); // rows of 0–15 ratings: every unrolled path
          const solve = createTsSolveRows();
          // Solve in two ranges to check that row ranges are honoured.
          const untouched = args.rowBias[11]!;
          solve(args, 0, 5);
          solve(args, 5, 11);
          expect(args.rowBias[11]).toBe(untouched);
          for (let r = 0; r < 11; r++) {
            const ref = referenceRow(args, r);
            expect(args.rowBias[r]).toBeCloseTo(ref.b, 9);
            for (let k = 0; k < dim; k++)
              expect(args.rowFactors[r * dim + k]).toBeCloseTo(ref.x[k]!, 9);
          }
        });
      }
    }
  }

  it('shrinks a bias by γ/(λ n) with a constant bias ridge and by the same factor for every count when γ is count-scaled', () => {
    // One row of n ratings of 5 against other biases 0, μ = 3: Σ t = 2n. Factors are 0 (dim 2),
    // so b = λ·2n / (λ n + γ_r): constant γ gives 2n/(n + 4) (n = 1: 0.4; n = 16: 1.6), count-scaled
    // γ gives 2/(1 + 4) = 0.4 whatever n is.
    for (const n of [1, 16]) {
      for (const weightedBias of [false, true]) {
        const args: HalfEpochArgs = {
          dim: 2,
          offsets: Int32Array.of(0, n),
          indices: new Int32Array(n).map((_, e) => e),
          values: new Float32Array(n).fill(5),
          otherFactors: new Float64Array(2 * n),
          otherBias: new Float64Array(n),
          rowFactors: new Float64Array(2),
          rowBias: new Float64Array(1),
          priorMeans: null,
          globalMean: 3,
          lambda: 1,
          tau: 0.5,
          gamma: 4,
          weightedRegularization: true,
          weightedBiasRegularization: weightedBias,
        };
        createTsSolveRows()(args, 0, 1);
        expect(args.rowBias[0]).toBeCloseTo(weightedBias ? 0.4 : (2 * n) / (n + 4), 12);
        expect(Array.from(args.rowFactors)).toEqual([0, 0]);
      }
    }
  });

  it('scales the ridge by n^a: a = 0 is the plain ridge, a = 1 (and unset) ALS-WR, exactly', () => {
    for (const [weightExponent, same] of [
      [0, RIDGE_MODES[0]!],
      [1, RIDGE_MODES[1]!],
      [undefined, RIDGE_MODES[1]!],
    ] as const) {
      const weighted = randomProblem(new Random(21), 5, 12, 9, true, {
        ...RIDGE_MODES[1]!,
        ...(weightExponent === undefined ? {} : { weightExponent }),
      });
      const expected = randomProblem(new Random(21), 5, 12, 9, true, same);
      createTsSolveRows()(weighted, 0, 12);
      createTsSolveRows()(expected, 0, 12);
      expect(Array.from(weighted.rowFactors)).toEqual(Array.from(expected.rowFactors));
      expect(Array.from(weighted.rowBias)).toEqual(Array.from(expected.rowBias));
    }
    // In between, a heavy row is shrunk less than under ALS-WR: one rating direction, y = 1, t = 1
    // repeated n times gives x = λ n / (λ n + τ n^a) (dim 1, bias ridge huge so b ≈ 0).
    const n = 64;
    const row = (weightExponent: number): number => {
      const args: HalfEpochArgs = {
        dim: 1,
        offsets: Int32Array.of(0, n),
        indices: new Int32Array(n).map((_, e) => e),
        values: new Float32Array(n).fill(4),
        otherFactors: new Float64Array(n).fill(1),
        otherBias: new Float64Array(n),
        rowFactors: new Float64Array(1),
        rowBias: new Float64Array(1),
        priorMeans: null,
        globalMean: 3,
        lambda: 1,
        tau: 2,
        gamma: 1e12,
        weightedRegularization: true,
        weightedBiasRegularization: false,
        weightExponent,
      };
      createTsSolveRows()(args, 0, 1);
      return args.rowFactors[0]!;
    };
    expect(row(1)).toBeCloseTo(64 / (64 + 2 * 64), 9); // 1/3 whatever n is
    expect(row(0.5)).toBeCloseTo(64 / (64 + 2 * 8), 9); // 0.8
  });

  it('gives an empty row its prior mean and a zero bias exactly', () => {
    const rng = new Random(9);
    const args = randomProblem(rng, 4, 6, 5, true, RIDGE_MODES[1]!);
    createTsSolveRows()(args, 0, 6);
    const r = 1; // empty by construction
    expect(args.offsets[r + 1]).toBe(args.offsets[r]);
    expect(Array.from(args.rowFactors.subarray(r * 4, r * 4 + 4))).toEqual(
      Array.from(args.priorMeans!.subarray(r * 4, r * 4 + 4)),
    );
    expect(args.rowBias[r]).toBe(0);
  });
});
