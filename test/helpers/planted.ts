import { buildRatingMatrix } from '../../src/data/matrix.js';
import type { RatingList, RatingMatrix } from '../../src/data/types.js';
import { Random } from '../../src/core/random.js';

/** Dense Gaussian elimination with partial pivoting: the independent reference solve. */
export function denseSolve(matrix: number[][], rhs: number[]): number[] {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = a[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= a[r]![k]! * x[k]!;
    x[r] = s / a[r]![r]!;
  }
  return x;
}

export interface Planted {
  train: RatingMatrix;
  test: RatingList;
  noiseStd: number;
  numUsers: number;
  numItems: number;
}

/**
 * Ratings r = μ + b_m + c_n + u_m·v_n + ε with known rank, biases and noise ε ~ N(0, noiseStd²);
 * each (user, item) pair is observed with probability `density`, a fraction `testFraction` held out.
 */
export function plantedProblem(opts: {
  numUsers: number;
  numItems: number;
  rank: number;
  density: number;
  noiseStd: number;
  seed: number;
  testFraction?: number;
  emptyItems?: number;
}): Planted {
  const { numUsers, numItems, rank, density, noiseStd } = opts;
  const rng = new Random(opts.seed);
  const U = Array.from({ length: numUsers * rank }, () => rng.nextGaussian() * 0.7);
  const V = Array.from({ length: numItems * rank }, () => rng.nextGaussian() * 0.7);
  const b = Array.from({ length: numUsers }, () => rng.nextGaussian() * 0.3);
  const c = Array.from({ length: numItems }, () => rng.nextGaussian() * 0.3);
  const users: number[] = [];
  const items: number[] = [];
  const values: number[] = [];
  const isTest: number[] = [];
  const emptyItems = opts.emptyItems ?? 0;
  for (let m = 0; m < numUsers; m++) {
    for (let n = 0; n < numItems - emptyItems; n++) {
      if (rng.nextFloat() >= density) continue;
      let r = 3.5 + b[m]! + c[n]!;
      for (let k = 0; k < rank; k++) r += U[m * rank + k]! * V[n * rank + k]!;
      r += noiseStd * rng.nextGaussian();
      users.push(m);
      items.push(n);
      values.push(r);
      isTest.push(rng.nextFloat() < (opts.testFraction ?? 0) ? 1 : 0);
    }
  }
  const all: RatingList = {
    length: users.length,
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    values: Float32Array.from(values),
    timestamps: null,
  };
  const keep = Uint8Array.from(isTest, (t) => 1 - t);
  const train = buildRatingMatrix(numUsers, numItems, all, keep).matrix;
  const testIdx = isTest.flatMap((t, k) => (t ? [k] : []));
  const test: RatingList = {
    length: testIdx.length,
    users: Int32Array.from(testIdx, (k) => users[k]!),
    items: Int32Array.from(testIdx, (k) => items[k]!),
    values: Float32Array.from(testIdx, (k) => values[k]!),
    timestamps: null,
  };
  return { train, test, noiseStd, numUsers, numItems };
}
