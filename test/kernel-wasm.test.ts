import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { type HalfEpochArgs, packedRowWidth, packRows } from '../src/core/kernel.js';
import { tsKernel } from '../src/core/kernel-ts.js';
import { squaredErrorSum } from '../src/core/als.js';
import { MAX_WASM_DIM, wasmKernel } from '../src/core/kernel-wasm.js';
import { Random } from '../src/core/random.js';
import { createTrainer } from '../src/core/trainer.js';
import type { Hyperparameters, ModelKind, ModelState } from '../src/core/types.js';
import { plantedProblem } from './helpers/planted.js';
import {
  createHalfEpochProblem,
  halfEpochProblemBytes,
  type HalfEpochProblemSpec,
  kernelWorkerData,
  splitRowsByRatings,
} from '../src/bench/half-epoch-problem.js';

/**
 * The textbook solve of one row, independent of both kernels: build the dense (K+1)×(K+1) normal
 * equations of src/core/kernel.ts term by term and solve them by Gaussian elimination with
 * partial pivoting.
 */
function referenceRow(args: HalfEpochArgs, r: number): { factor: number[]; bias: number } {
  const K = args.dim;
  const n = K + 1;
  const start = args.offsets[r]!;
  const end = args.offsets[r + 1]!;
  const count = end - start;
  const prior = (a: number): number => (args.priorMeans ? args.priorMeans[r * K + a]! : 0);
  if (count === 0) return { factor: Array.from({ length: K }, (_, a) => prior(a)), bias: 0 };
  const weight = Math.max(1, count) ** (args.weightExponent ?? 1); // s = n^a, ALS-WR a = 1
  const s = args.weightedRegularization ? weight : 1;
  // γ is count-scaled when the bias flag says so; unset, exactly when τ is.
  const sBias = (args.weightedBiasRegularization ?? args.weightedRegularization) ? weight : 1;
  const A = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0)); // augmented [A | rhs]
  for (let e = start; e < end; e++) {
    const j = args.indices[e]!;
    const y = (a: number): number => (a < K ? args.otherFactors[j * K + a]! : 1);
    const t = args.values[e]! - args.globalMean - args.otherBias[j]!;
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) A[a]![b]! += args.lambda * y(a) * y(b);
      A[a]![n]! += args.lambda * y(a) * t;
    }
  }
  for (let a = 0; a < K; a++) {
    A[a]![a]! += args.tau * s;
    A[a]![n]! += args.tau * s * prior(a);
  }
  A[K]![K]! += args.gamma * sBias;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(A[i]![c]!) > Math.abs(A[p]![c]!)) p = i;
    [A[c], A[p]] = [A[p]!, A[c]!];
    for (let i = c + 1; i < n; i++) {
      const f = A[i]![c]! / A[c]![c]!;
      for (let k = c; k <= n; k++) A[i]![k]! -= f * A[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = A[i]![n]!;
    for (let k = i + 1; k < n; k++) sum -= A[i]![k]! * x[k]!;
    x[i] = sum / A[i]![i]!;
  }
  return { factor: x.slice(0, K), bias: x[K]! };
}

/**
 * How closely the wasm kernel matches an exact float64 solve. It forms the Gram matrix Σ z zᵀ from
 * the factors rounded to float32 (unit round-off 6e-8) and sums at most one gathered block of
 * products in float32 before adding it to the float64 triangle, so on these well-conditioned
 * problems (cond(A) < 10) the solution agrees to ~1e-7 relative (worst seen 3.5e-7), not to 1e-12
 * as a float64 Gram would. The bias model (dim 0) has no Gram and stays exact.
 */
const F32_GRAM_TOLERANCE = 2e-6;

/** Largest |got − want| / (1 + |want|) over every factor entry and bias of rows [from, to). */
function maxRelativeError(args: HalfEpochArgs, from: number, to: number): number {
  let worst = 0;
  for (let r = from; r < to; r++) {
    const want = referenceRow(args, r);
    for (let a = 0; a < args.dim; a++) {
      const got = args.rowFactors[r * args.dim + a]!;
      worst = Math.max(
        worst,
        Number.isFinite(got)
          ? Math.abs(got - want.factor[a]!) / (1 + Math.abs(want.factor[a]!))
          : Infinity,
      );
    }
    const got = args.rowBias[r]!;
    worst = Math.max(
      worst,
      Number.isFinite(got) ? Math.abs(got - want.bias) / (1 + Math.abs(want.bias)) : Infinity,
    );
  }
  return worst;
}

/** Small problem: 40 rows with 0…60 ratings (every 7th row empty) over 25 other rows. */
function smallSpec(
  dim: number,
  rng: Random,
  weighted: boolean,
  withPrior: boolean,
  weightedBias?: boolean,
  weightExponent?: number,
): HalfEpochProblemSpec {
  const counts = new Int32Array(40);
  for (let r = 0; r < counts.length; r++) counts[r] = r % 7 === 3 ? 0 : 1 + rng.nextInt(60);
  return {
    dim,
    counts,
    numOther: 25,
    withPrior,
    weightedRegularization: weighted,
    ...(weightedBias === undefined ? {} : { weightedBiasRegularization: weightedBias }),
    ...(weightExponent === undefined ? {} : { weightExponent }),
    lambda: 0.5 + rng.nextFloat(),
    tau: 0.1 + rng.nextFloat() * 10,
    gamma: 0.1 + rng.nextFloat() * 10,
  };
}

describe('wasm kernel', () => {
  for (const dim of [0, 1, 3, 8, 30]) {
    // γ count-scaled like τ (the flag unset), or constant under ALS-WR, or count-scaled under a plain τ.
    // Count weights n^0.5 (τ and γ, or τ only) as well as ALS-WR's n.
    for (const [weighted, weightedBias, exponent] of [
      [false, undefined, undefined],
      [true, undefined, undefined],
      [true, false, undefined],
      [false, true, undefined],
      [true, true, 0.5],
      [true, false, 0.5],
    ] as const) {
      const ridge = `${weighted ? 'weighted' : 'plain'} τ, ${(weightedBias ?? weighted) ? 'weighted' : 'constant'} γ${exponent === undefined ? '' : `, n^${exponent}`}`;
      for (const withPrior of dim > 0 ? [false, true] : [false]) {
        it(`solves every row like a dense direct solve (dim ${dim}, ${ridge}, ${withPrior ? 'prior means' : 'no prior'})`, async () => {
          const rng = new Random(
            1000 +
              dim * 8 +
              (weighted ? 4 : 0) +
              (weightedBias === undefined ? 0 : 2) +
              (withPrior ? 1 : 0) +
              (exponent === undefined ? 0 : 500),
          );
          const spec = smallSpec(dim, rng, weighted, withPrior, weightedBias, exponent);
          const arena = wasmKernel.createArena(halfEpochProblemBytes(spec));
          const args = createHalfEpochProblem(arena, spec, rng);
          const solve = await wasmKernel.createSolver(arena.buffer, arena.memory);
          // Two calls over a split range, as threads would make them.
          solve(args, 0, 17);
          expect(args.rowBias[17]).toBeNaN(); // rows outside the range are left alone
          solve(args, 17, 40);
          const tolerance = dim === 0 ? 1e-10 : F32_GRAM_TOLERANCE;
          expect(maxRelativeError(args, 0, 40)).toBeLessThan(tolerance);
          // And like the TypeScript reference kernel on the same arrays.
          const wasmFactors = args.rowFactors.slice();
          const wasmBias = args.rowBias.slice();
          const solveTs = await tsKernel.createSolver(arena.buffer, arena.memory);
          solveTs(args, 0, 40);
          for (let i = 0; i < wasmFactors.length; i++) {
            expect(Math.abs(wasmFactors[i]! - args.rowFactors[i]!)).toBeLessThan(
              tolerance * (1 + Math.abs(args.rowFactors[i]!)),
            );
          }
          for (let r = 0; r < 40; r++) {
            expect(Math.abs(wasmBias[r]! - args.rowBias[r]!)).toBeLessThan(
              tolerance * (1 + Math.abs(args.rowBias[r]!)),
            );
          }
          // Empty rows: x = p (or 0), b = 0.
          const emptyRow = 3;
          expect(args.offsets[emptyRow + 1]! - args.offsets[emptyRow]!).toBe(0);
          expect(args.rowBias[emptyRow]).toBe(0);
          for (let a = 0; a < dim; a++) {
            expect(args.rowFactors[emptyRow * dim + a]).toBe(
              withPrior ? args.priorMeans![emptyRow * dim + a] : 0,
            );
          }
        });
      }
    }
  }

  it(`solves at the largest dimension its scratch slots hold (${MAX_WASM_DIM})`, async () => {
    const rng = new Random(9);
    const spec = {
      ...smallSpec(MAX_WASM_DIM, rng, true, true),
      counts: Int32Array.from([0, 1, 17, 40]),
    };
    const arena = wasmKernel.createArena(halfEpochProblemBytes(spec));
    const args = createHalfEpochProblem(arena, spec, rng);
    const solve = await wasmKernel.createSolver(arena.buffer, arena.memory);
    solve(args, 0, 4);
    expect(maxRelativeError(args, 0, 4)).toBeLessThan(F32_GRAM_TOLERANCE);
  });

  it('gives the same rows bit for bit from the packed float32 rows as from the float64 factors, and packs what it writes', async () => {
    for (const sample of [false, true]) {
      const rng = new Random(sample ? 78 : 77);
      const dim = 13; // packed width 16: a row of two 8-float tiles, and padding after t
      const spec = smallSpec(dim, rng, true, true, false, 0.5);
      const arena = wasmKernel.createArena(halfEpochProblemBytes(spec) + 40 * 64 * 8);
      const args = createHalfEpochProblem(arena, spec, rng);
      if (sample) {
        const n = dim + 1;
        const normals = arena.allocFloat64(40 * n);
        for (let i = 0; i < normals.length; i++) normals[i] = rng.nextGaussian();
        const priorPrecision = arena.allocFloat64(n).fill(2);
        const priorMean = arena.allocFloat64(n).fill(0.1);
        args.sampling = { priorPrecision, priorMean, normals };
      }
      const width = packedRowWidth(dim);
      expect(args.otherPacked!.length).toBe(25 * width);
      expect(args.otherPacked!.byteOffset % 64).toBe(0);
      const solve = await wasmKernel.createSolver(arena.buffer, arena.memory);
      solve({ ...args, otherPacked: null, rowPacked: null }, 0, 40);
      const fromFloat64 = args.rowFactors.slice();
      const biasFromFloat64 = args.rowBias.slice();
      args.rowFactors.fill(Number.NaN);
      args.rowPacked!.fill(Number.NaN);
      solve(args, 0, 40);
      expect(args.rowFactors).toEqual(fromFloat64);
      expect(args.rowBias).toEqual(biasFromFloat64);
      // Every row, empty ones included, packed as [f32(x); 1; 0 …].
      const want = new Float32Array(40 * width);
      packRows(args.rowFactors, dim, want, 0, 40);
      expect(args.rowPacked).toEqual(want);
      expect(args.rowPacked![width + dim]).toBe(1);
      expect(args.rowPacked![width + dim + 1]).toBe(0);
      // The ts kernel keeps the packed rows in step too (it reads the float64 factors).
      args.rowPacked!.fill(Number.NaN);
      const solveTs = await tsKernel.createSolver(arena.buffer, arena.memory);
      solveTs(args, 0, 40);
      packRows(args.rowFactors, dim, want, 0, 40);
      expect(args.rowPacked).toEqual(want);
    }
  });

  it('sums the squared errors as squaredErrorSum does, from the packed rows to float32 rounding and from the float64 rows to round-off', async () => {
    for (const dim of [0, 3, 13, 30]) {
      const rng = new Random(300 + dim);
      const spec = smallSpec(dim, rng, true, false);
      const arena = wasmKernel.createArena(halfEpochProblemBytes(spec));
      const args = createHalfEpochProblem(arena, spec, rng);
      const solve = await wasmKernel.createSolver(arena.buffer, arena.memory);
      solve(args, 0, 40); // a solved model, so that the errors are of a realistic size
      const squaredErrors = await wasmKernel.createSquaredErrors!(arena.buffer, arena.memory);
      const want = squaredErrorSum(args, 5, 40);
      expect(want).toBeGreaterThan(0);
      const unpacked = squaredErrors({ ...args, otherPacked: null }, 5, 40);
      expect(Math.abs(unpacked - want)).toBeLessThan(1e-12 * want);
      const packed = squaredErrors(args, 5, 40);
      expect(Math.abs(packed - want)).toBeLessThan(dim === 0 ? 1e-12 * want : 1e-7 * want);
      expect(squaredErrors(args, 7, 7)).toBe(0);
    }
  });

  it('gives the closed-form bias for dim 0', async () => {
    // Row 0: ratings 4 and 5 against other biases 0.5 and −0.5, μ = 3.5: Σ t = 0 + 2 = 2.
    const arena = wasmKernel.createArena(4096);
    const offsets = arena.allocInt32(2);
    offsets.set([0, 2]);
    const indices = arena.allocInt32(2);
    indices.set([0, 1]);
    const values = arena.allocFloat32(2);
    values.set([4, 5]);
    const otherBias = arena.allocFloat64(2);
    otherBias.set([0.5, -0.5]);
    const rowBias = arena.allocFloat64(1);
    const args: HalfEpochArgs = {
      dim: 0,
      offsets,
      indices,
      values,
      otherFactors: arena.allocFloat64(0),
      otherBias,
      rowFactors: arena.allocFloat64(0),
      rowBias,
      priorMeans: null,
      globalMean: 3.5,
      lambda: 2,
      tau: 10,
      gamma: 3,
      weightedRegularization: true,
    };
    const solve = await wasmKernel.createSolver(arena.buffer, arena.memory);
    solve(args, 0, 1);
    // b = λ Σ t / (λ n + γ n) = 2·2 / (2·2 + 3·2)
    expect(rowBias[0]).toBeCloseTo(4 / 10, 14);
    // A constant bias ridge: b = λ Σ t / (λ n + γ) = 2·2 / (2·2 + 3)
    solve({ ...args, weightedBiasRegularization: false }, 0, 1);
    expect(rowBias[0]).toBeCloseTo(4 / 7, 14);
  });

  it('refuses arrays outside its memory and dimensions beyond its scratch', async () => {
    const rng = new Random(5);
    const spec = smallSpec(3, rng, true, false);
    const arena = wasmKernel.createArena(halfEpochProblemBytes(spec));
    const args = createHalfEpochProblem(arena, spec, rng);
    const solve = await wasmKernel.createSolver(arena.buffer, arena.memory);
    expect(() => solve({ ...args, otherBias: new Float64Array(args.otherBias) }, 0, 40)).toThrow(
      /otherBias does not live/,
    );
    expect(() => solve({ ...args, dim: MAX_WASM_DIM + 1 }, 0, 40)).toThrow(/supports dim/);
    expect(() => solve(args, 0, 41)).toThrow(RangeError);
    const other = wasmKernel.createArena(1024);
    await expect(wasmKernel.createSolver(other.buffer, arena.memory)).rejects.toThrow(
      /not the buffer/,
    );
  });

  it('gives the same rows from 2 worker threads over one shared memory as from one thread', async () => {
    const rng = new Random(77);
    const counts = new Int32Array(3000);
    // Power-law activity: a few heavy rows, many light ones, some empty.
    for (let r = 0; r < counts.length; r++)
      counts[r] = r % 50 === 0 ? 0 : Math.floor(5 / (rng.nextFloat() + 1e-3) ** 0.7);
    const spec: HalfEpochProblemSpec = {
      dim: 8,
      counts,
      numOther: 500,
      withPrior: true,
      weightedRegularization: true,
      lambda: 1,
      tau: 5,
      gamma: 2,
    };
    const arena = wasmKernel.createArena(halfEpochProblemBytes(spec));
    const args = createHalfEpochProblem(arena, spec, rng);
    const solve = await wasmKernel.createSolver(arena.buffer, arena.memory);
    solve(args, 0, counts.length);
    const oneThreadFactors = args.rowFactors.slice();
    const oneThreadBias = args.rowBias.slice();
    args.rowFactors.fill(Number.NaN);
    args.rowBias.fill(Number.NaN);

    const bounds = splitRowsByRatings(args.offsets, 2);
    const workers = [0, 1].map(
      () =>
        new Worker(new URL('../dist/bench/kernel-worker.js', import.meta.url), {
          workerData: kernelWorkerData('wasm', arena, args),
        }),
    );
    try {
      await Promise.all(
        workers.map(
          (worker, w) =>
            new Promise<void>((resolve, reject) => {
              worker.once('error', reject);
              worker.on('message', (message: unknown) => {
                if (message === 'ready')
                  worker.postMessage({ rowStart: bounds[w]!, rowEnd: bounds[w + 1]! });
                else resolve();
              });
            }),
        ),
      );
    } finally {
      await Promise.all(workers.map((worker) => worker.terminate()));
    }
    expect(bounds[1]).toBeGreaterThan(0);
    expect(bounds[1]).toBeLessThan(counts.length);
    // Same code, same order of operations per row: bit-identical.
    expect(Array.from(args.rowFactors)).toEqual(Array.from(oneThreadFactors));
    expect(Array.from(args.rowBias)).toEqual(Array.from(oneThreadBias));
  });
});

describe('trainer with the wasm kernel', () => {
  const problem = plantedProblem({
    numUsers: 120,
    numItems: 80,
    rank: 3,
    density: 0.5,
    noiseStd: 0.3,
    seed: 3,
    testFraction: 0.1,
    emptyItems: 2,
  });
  const hyper = (kind: ModelKind, weightedBias: boolean): Hyperparameters => ({
    kind,
    dim: 5,
    lambda: 1,
    tau: 0.1,
    gamma: weightedBias ? 0.1 : 3,
    genreTau: 1,
    weightedRegularization: true,
    weightedBiasRegularization: weightedBias,
  });

  async function trainWith(
    kernel: typeof tsKernel,
    kind: ModelKind,
    threads: number,
    weightedBias: boolean,
  ): Promise<ModelState> {
    const trainer = await createTrainer({
      train: problem.train,
      validation: problem.test,
      itemGenres: null,
      hyper: hyper(kind, weightedBias),
      seed: 5,
      threads,
      kernel,
    });
    for (let e = 0; e < 5; e++) await trainer.epoch();
    const state = trainer.state();
    await trainer.close();
    return state;
  }

  function maxDifference(a: Float64Array, b: Float64Array): number {
    expect(a.length).toBe(b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++)
      worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
    return worst;
  }

  for (const kind of ['bias', 'latent'] as const) {
    for (const weightedBias of [true, false]) {
      it(`trains the same ${kind} model as the ts kernel, on 1 and 2 threads (γ ${weightedBias ? 'count-scaled' : 'constant'})`, async () => {
        const reference = await trainWith(tsKernel, kind, 1, weightedBias);
        for (const threads of [1, 2]) {
          const model = await trainWith(wasmKernel, kind, threads, weightedBias);
          // 5 epochs of the float32 Gram (see F32_GRAM_TOLERANCE): worst seen 3.6e-7 relative.
          const tolerance = kind === 'bias' ? 1e-9 : 10 * F32_GRAM_TOLERANCE;
          expect(maxDifference(model.userFactors, reference.userFactors)).toBeLessThan(tolerance);
          expect(maxDifference(model.itemFactors, reference.itemFactors)).toBeLessThan(tolerance);
          expect(maxDifference(model.userBias, reference.userBias)).toBeLessThan(tolerance);
          expect(maxDifference(model.itemBias, reference.itemBias)).toBeLessThan(tolerance);
        }
      });
    }
  }
});
