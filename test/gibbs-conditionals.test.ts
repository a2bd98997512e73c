/**
 * The Gibbs sampler's conditional draws against their closed forms: one row's (factor, bias)
 * draw on both kernels against the analytic Gaussian posterior (direct solve and inverse), the
 * Gamma, Normal–Gamma, noise-precision and genre-column draws against their moments.
 */
import { describe, expect, it } from 'vitest';
import { sampleRowRange } from '../src/core/gibbs.js';
import {
  DEFAULT_HYPERPRIOR,
  genreGram,
  normalGammaPosterior,
  sampleGamma,
  sampleGenreFactors,
  sampleNoisePrecision,
  sampleSideHyperparameters,
} from '../src/core/gibbs-conditionals.js';
import type { HalfEpochArgs, KernelProvider } from '../src/core/kernel.js';
import { tsKernel } from '../src/core/kernel-ts.js';
import { wasmKernel } from '../src/core/kernel-wasm.js';
import { Random, streamGaussians, streamKey } from '../src/core/random.js';
import { denseSolve } from './helpers/planted.js';

const DRAWS = 4000;

/** Inverse of a small SPD matrix, column by column with the reference solve. */
function inverse(a: number[][]): number[][] {
  const n = a.length;
  const cols = Array.from({ length: n }, (_, j) =>
    denseSolve(
      a,
      Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)),
    ),
  );
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => cols[j]![i]!));
}

/** Sample mean and covariance of `draws` (each a vector). */
function moments(draws: number[][]): { mean: number[]; cov: number[][] } {
  const n = draws[0]!.length;
  const mean = new Array<number>(n).fill(0);
  for (const d of draws) for (let i = 0; i < n; i++) mean[i]! += d[i]! / draws.length;
  const cov = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const d of draws)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        cov[i]![j]! += ((d[i]! - mean[i]!) * (d[j]! - mean[j]!)) / (draws.length - 1);
  return { mean, cov };
}

describe.each([
  ['ts', tsKernel],
  ['wasm', wasmKernel],
] as Array<[string, KernelProvider]>)('row draw on the %s kernel', (_name, kernel) => {
  it('matches the analytic posterior N(A⁻¹ rhs, A⁻¹) of one row with the other side fixed', async () => {
    // One user (row 0) with 6 ratings of 6 movies, K = 3, α = 2; row 1 has no ratings (prior draw).
    const K = 3;
    const n = K + 1;
    const numItems = 6;
    const rng = new Random(5);
    const arena = kernel.createArena(1 << 16);
    const Y = arena.allocFloat64(numItems * K);
    for (let i = 0; i < Y.length; i++) Y[i] = rng.nextGaussian();
    const c = arena.allocFloat64(numItems);
    for (let i = 0; i < numItems; i++) c[i] = 0.3 * rng.nextGaussian();
    const offsets = arena.allocInt32(3);
    offsets.set([0, numItems, numItems]);
    const indices = arena.allocInt32(numItems);
    indices.set([0, 1, 2, 3, 4, 5]);
    const values = arena.allocFloat32(numItems);
    values.set([4, 3, 5, 2, 4, 1]);
    const priorPrecision = arena.allocFloat64(n);
    priorPrecision.set([1.5, 0.7, 2.0, 0.9]);
    const priorMean = arena.allocFloat64(n);
    priorMean.set([0.1, -0.2, 0.3, 0.4]);
    const normals = arena.allocFloat64(2 * n);
    const rowFactors = arena.allocFloat64(2 * K);
    const rowBias = arena.allocFloat64(2);
    const mu0 = 3.2;
    const alpha = 2;
    const args: HalfEpochArgs = {
      dim: K,
      offsets,
      indices,
      values,
      otherFactors: Y,
      otherBias: c,
      rowFactors,
      rowBias,
      priorMeans: null,
      globalMean: mu0,
      lambda: alpha,
      tau: 0,
      gamma: 0,
      weightedRegularization: false,
      sampling: { priorPrecision, priorMean, normals },
    };
    const solve = await kernel.createSolver(arena.buffer, arena.memory);

    // The analytic posterior: A = α Σ ỹỹᵀ + diag(π), rhs = α Σ t ỹ + π∘μ.
    const A = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => (i === j ? priorPrecision[i]! : 0)),
    );
    const rhs = Array.from({ length: n }, (_, i) => priorPrecision[i]! * priorMean[i]!);
    for (let e = 0; e < numItems; e++) {
      const y = [...Y.subarray(e * K, e * K + K), 1];
      const t = values[e]! - mu0 - c[e]!;
      for (let i = 0; i < n; i++) {
        rhs[i]! += alpha * t * y[i]!;
        for (let j = 0; j < n; j++) A[i]![j]! += alpha * y[i]! * y[j]!;
      }
    }
    const mean = denseSolve(A, rhs);
    const cov = inverse(A);

    const draws: number[][] = [];
    const priorDraws: number[][] = [];
    for (let s = 1; s <= DRAWS; s++) {
      sampleRowRange(solve, args, args.sampling!, 11, s, 0, 0, 2);
      draws.push([...rowFactors.subarray(0, K), rowBias[0]!]);
      priorDraws.push([...rowFactors.subarray(K, 2 * K), rowBias[1]!]);
    }
    const m = moments(draws);
    for (let i = 0; i < n; i++) {
      // Mean within 4 standard errors; variances within 10 % (the sd of a variance estimate over 4000 draws is ≈ 2.2 %).
      expect(Math.abs(m.mean[i]! - mean[i]!)).toBeLessThan(4 * Math.sqrt(cov[i]![i]! / DRAWS));
      for (let j = 0; j < n; j++) {
        const scale = Math.sqrt(cov[i]![i]! * cov[j]![j]!);
        expect(Math.abs(m.cov[i]![j]! - cov[i]![j]!)).toBeLessThan(0.1 * scale);
      }
    }
    // The empty row: its prior N(μ, diag(π)⁻¹).
    const p = moments(priorDraws);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(p.mean[i]! - priorMean[i]!)).toBeLessThan(
        4 * Math.sqrt(1 / priorPrecision[i]! / DRAWS),
      );
      expect(Math.abs(p.cov[i]![i]! * priorPrecision[i]! - 1)).toBeLessThan(0.1);
    }
  });
});

describe('closed-form conditionals', () => {
  it('Gamma(shape, rate) draws have mean a/b and variance a/b² (shape above and below 1)', () => {
    const rng = new Random(3);
    for (const [a, b] of [
      [3.5, 2],
      [0.6, 0.5],
      [500, 40],
    ] as const) {
      const xs = Array.from({ length: 20000 }, () => sampleGamma(a, b, rng));
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
      expect(Math.abs(mean - a / b)).toBeLessThan(4 * Math.sqrt(a / b ** 2 / xs.length));
      expect(Math.abs(variance / (a / b ** 2) - 1)).toBeLessThan(0.06);
    }
  });

  it('the Normal–Gamma posterior is the textbook update, and its draws have its moments', () => {
    const prior = DEFAULT_HYPERPRIOR;
    const xs = [0.5, 1.5, 2.0, -0.5, 1.0];
    const N = xs.length;
    const sum = xs.reduce((s, x) => s + x, 0);
    const mean = sum / N;
    const scatter = xs.reduce((s, x) => s + (x - mean) ** 2, 0);
    const post = normalGammaPosterior(
      N,
      sum,
      xs.reduce((s, x) => s + x * x, 0),
      prior,
    );
    expect(post.kappa).toBe(prior.kappa0 + N);
    expect(post.mean).toBeCloseTo((prior.kappa0 * prior.m0 + N * mean) / (prior.kappa0 + N), 12);
    expect(post.shape).toBe(prior.a0 + N / 2);
    expect(post.rate).toBeCloseTo(
      prior.b0 +
        scatter / 2 +
        (prior.kappa0 * N * (mean - prior.m0) ** 2) / (2 * (prior.kappa0 + N)),
      12,
    );

    // sampleSideHyperparameters draws (μ, π) of each coordinate from that posterior: K = 1, so
    // coordinate 0 is the factor and coordinate 1 the bias; rows are xs and 2·xs respectively.
    const factors = Float64Array.from(xs);
    const bias = Float64Array.from(xs, (x) => 2 * x);
    const rng = new Random(8);
    const m = new Float64Array(2);
    const p = new Float64Array(2);
    const draws = 20000;
    let piSum = 0;
    let muSum = 0;
    let biasPiSum = 0;
    for (let s = 0; s < draws; s++) {
      sampleSideHyperparameters(
        factors,
        bias,
        null,
        N,
        1,
        prior,
        rng,
        m,
        p,
        new Float64Array(2),
        new Float64Array(2),
      );
      piSum += p[0]!;
      muSum += m[0]!;
      biasPiSum += p[1]!;
    }
    expect(Math.abs(piSum / draws - post.shape / post.rate)).toBeLessThan(
      0.03 * (post.shape / post.rate),
    );
    expect(Math.abs(muSum / draws - post.mean)).toBeLessThan(0.02);
    const biasPost = normalGammaPosterior(N, 2 * sum, 4 * xs.reduce((s, x) => s + x * x, 0), prior);
    expect(Math.abs(biasPiSum / draws - biasPost.shape / biasPost.rate)).toBeLessThan(
      0.03 * (biasPost.shape / biasPost.rate),
    );
  });

  it('α | rest has mean (a0 + n/2)/(b0 + SSE/2)', () => {
    const rng = new Random(9);
    const n = 1000;
    const sse = 640;
    const xs = Array.from({ length: 5000 }, () =>
      sampleNoisePrecision(sse, n, DEFAULT_HYPERPRIOR, rng),
    );
    const expected = (DEFAULT_HYPERPRIOR.a0 + n / 2) / (DEFAULT_HYPERPRIOR.b0 + sse / 2);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(DEFAULT_HYPERPRIOR.a0 + n / 2) / (DEFAULT_HYPERPRIOR.b0 + sse / 2);
    expect(Math.abs(mean - expected)).toBeLessThan((4 * sd) / Math.sqrt(xs.length));
  });

  it('a genre column F_{·k} is drawn from N(A⁻¹ π_V Wᵀ(v − μ_V), A⁻¹), A = π_V WᵀW + π_F I', () => {
    // 3 genres, 4 movies, K = 1.
    const itemGenres = {
      offsets: Int32Array.of(0, 1, 3, 5, 6),
      ids: Int32Array.of(0, 0, 1, 1, 2, 2),
      numGenres: 3,
    };
    const V = Float64Array.of(0.8, 0.2, -0.5, 0.4);
    const muV = Float64Array.of(0.1, 0);
    const piV = Float64Array.of(3, 1);
    const piF = Float64Array.of(0.5);
    const W = [
      [1, 0, 0],
      [Math.SQRT1_2, Math.SQRT1_2, 0],
      [0, Math.SQRT1_2, Math.SQRT1_2],
      [0, 0, 1],
    ];
    const A = [0, 1, 2].map((g) =>
      [0, 1, 2].map(
        (h) => piV[0]! * W.reduce((s, w) => s + w[g]! * w[h]!, 0) + (g === h ? piF[0]! : 0),
      ),
    );
    const rhs = [0, 1, 2].map(
      (g) => piV[0]! * W.reduce((s, w, n) => s + w[g]! * (V[n]! - muV[0]!), 0),
    );
    const mean = denseSolve(A, rhs);
    const cov = inverse(A);
    const gram = genreGram(itemGenres);
    const F = new Float64Array(3);
    const draws: number[][] = [];
    for (let s = 1; s <= DRAWS; s++) {
      sampleGenreFactors(
        V,
        1,
        itemGenres,
        gram,
        muV,
        piV,
        piF,
        (k, out) => streamGaussians(streamKey(1, s, 2, k), out, 0, out.length),
        F,
      );
      draws.push([...F]);
    }
    const m = moments(draws);
    for (let g = 0; g < 3; g++) {
      expect(Math.abs(m.mean[g]! - mean[g]!)).toBeLessThan(4 * Math.sqrt(cov[g]![g]! / DRAWS));
      for (let h = 0; h < 3; h++)
        expect(Math.abs(m.cov[g]![h]! - cov[g]![h]!)).toBeLessThan(
          0.1 * Math.sqrt(cov[g]![g]! * cov[h]![h]!),
        );
    }
  });

  it('counter-based streams are standard normal and differ per key', () => {
    const out = new Float64Array(20001);
    streamGaussians(streamKey(1, 2, 3, 4), out, 0, out.length);
    const mean = out.reduce((s, x) => s + x, 0) / out.length;
    const variance = out.reduce((s, x) => s + (x - mean) ** 2, 0) / out.length;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(out.length));
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
    const other = new Float64Array(4);
    streamGaussians(streamKey(1, 2, 3, 5), other, 0, 4);
    expect([...other]).not.toEqual([...out.subarray(0, 4)]);
    const again = new Float64Array(4);
    streamGaussians(streamKey(1, 2, 3, 4), again, 0, 4);
    expect([...again]).toEqual([...out.subarray(0, 4)]);
  });
});
