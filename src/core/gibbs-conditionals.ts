/**
 * The closed-form conditional draws of the Gibbs sampler (./gibbs.ts) that are not per-row kernel
 * work: the Normal–Gamma hyperparameters of each side, the genre embeddings' Gamma precision and
 * Gaussian columns, and the noise precision α. Pure functions over typed arrays; every random
 * number comes from the Random passed in (keyed by the caller on seed and sample).
 *
 * Gamma(a, b) below has shape a and rate b (mean a/b).
 */
import { choleskyFactor, packedLength } from './normal-equations.js';
import { sampleFromFactor } from './kernel-ts.js';
import type { Random } from './random.js';

/**
 * The fixed constants of the hyperpriors: for every prior coordinate k, π_k ~ Gamma(a0, b0) and
 * μ_k | π_k ~ N(m0, (κ0 π_k)⁻¹); α ~ Gamma(a0, b0); each genre precision π_F,k ~ Gamma(a0, b0).
 *
 * libFM's MCMC uses a0 = b0 = κ0 = 1, m0 = 0 (Rendle 2012). The default here is b0 = 0.1. b0 acts
 * as 2·b0 of extra scatter in the precision posterior Gamma(a0 + n/2, b0 + ½ Σ x²). With factors
 * of size ~0.1 that scatter is not negligible: b0 = 1 pulls the prior variance up and
 * under-shrinks. Measured with `node dist/bench/gibbs.js --no-als --b0 <x>` (300 samples,
 * burn-in 60, dim 32):
 *   ML-100K u1 genre    b0 1: 0.8992 (seed 2: 0.8991)   0.1: 0.8971   0.01: 0.8968 (seed 2: 0.8975)   10: 0.9140
 *   ML-100K u1 latent   b0 1: 0.9060 / 0.9079 / 0.9078 (seeds 1–3)   0.1: 0.9025 / 0.9028 / 0.9018   0.01: 0.9085 / 0.9088
 *   ML-100K u1–u5 genre mean   b0 0.1: 0.8886   0.01: 0.8890 (b0 1: 0.8931 in phase 1)
 *   ml-latest-small genre   random:0.1  b0 1: 0.8145, 0.1: 0.8115;  cold-items:0.1  b0 1: 0.9082, 0.1: 0.9089 (ALS 0.9127)
 * Giving the genre precisions alone b0 = 0.01 did not help (u1 genre 0.9004): the rows' priors
 * are what matter. Calibration stayed within a point of nominal in every run above.
 */
export interface HyperpriorConstants {
  a0: number;
  b0: number;
  kappa0: number;
  m0: number;
}

export const DEFAULT_HYPERPRIOR: Readonly<HyperpriorConstants> = Object.freeze({
  a0: 1,
  b0: 0.1,
  kappa0: 1,
  m0: 0,
});

/**
 * Gamma(shape, rate) by Marsaglia & Tsang (2000): for shape ≥ 1, d = shape − 1/3, c = 1/√(9d),
 * repeat x ~ N(0,1), v = (1 + c x)³ until log U < x²/2 + d − d v + d log v; return d v / rate.
 * Shape < 1 uses Gamma(shape + 1) · U^(1/shape).
 */
export function sampleGamma(shape: number, rate: number, rng: Random): number {
  if (!(shape > 0) || !(rate > 0))
    throw new RangeError(`Gamma(${shape}, ${rate}) needs a positive shape and rate`);
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng.nextFloat();
    return sampleGamma(shape + 1, rate, rng) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.nextGaussian();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.nextFloat();
    if (u < 1 - 0.0331 * x * x * x * x) return (d * v) / rate;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return (d * v) / rate;
  }
}

/** The Normal–Gamma posterior of one coordinate: π ~ Gamma(shape, rate), μ | π ~ N(mean, (kappa π)⁻¹). */
export interface NormalGammaPosterior {
  kappa: number;
  mean: number;
  shape: number;
  rate: number;
}

/**
 * Conjugate update of N(μ, π⁻¹) observations x_1..x_N under the Normal–Gamma prior:
 *   κ = κ0 + N,  m = (κ0 m0 + N x̄)/κ,  a = a0 + N/2,
 *   b = b0 + ½ Σ (x_i − x̄)² + κ0 N (x̄ − m0)² / (2κ).
 * `count`, `sum` and `sumSquares` are N, Σ x and Σ x² (the caller accumulates them).
 */
export function normalGammaPosterior(
  count: number,
  sum: number,
  sumSquares: number,
  prior: HyperpriorConstants,
): NormalGammaPosterior {
  const kappa = prior.kappa0 + count;
  const mean = count > 0 ? sum / count : 0;
  const scatter = Math.max(0, sumSquares - count * mean * mean);
  const shift = mean - prior.m0;
  return {
    kappa,
    mean: (prior.kappa0 * prior.m0 + sum) / kappa,
    shape: prior.a0 + count / 2,
    rate: prior.b0 + 0.5 * scatter + (prior.kappa0 * count * shift * shift) / (2 * kappa),
  };
}

/**
 * Draws (μ_k, π_k) for every coordinate k of a side from the rows' current values: coordinate
 * k < K of row r is rowFactors[r K + k] − (offsets ? offsets[r K + k] : 0) (the genre model's
 * movies are centred on p_n), coordinate K is the bias. Writes `mean` and `precision` (K + 1).
 */
export function sampleSideHyperparameters(
  rowFactors: Float64Array,
  rowBias: Float64Array,
  offsets: Float64Array | null,
  numRows: number,
  dim: number,
  prior: HyperpriorConstants,
  rng: Random,
  mean: Float64Array,
  precision: Float64Array,
  sums: Float64Array,
  sumSquares: Float64Array,
): void {
  sums.fill(0, 0, dim + 1);
  sumSquares.fill(0, 0, dim + 1);
  for (let r = 0; r < numRows; r++) {
    const o = r * dim;
    for (let k = 0; k < dim; k++) {
      const x = rowFactors[o + k]! - (offsets === null ? 0 : offsets[o + k]!);
      sums[k]! += x;
      sumSquares[k]! += x * x;
    }
    const b = rowBias[r]!;
    sums[dim]! += b;
    sumSquares[dim]! += b * b;
  }
  for (let k = 0; k <= dim; k++) {
    const post = normalGammaPosterior(numRows, sums[k]!, sumSquares[k]!, prior);
    const pi = sampleGamma(post.shape, post.rate, rng);
    precision[k] = pi;
    mean[k] = post.mean + rng.nextGaussian() / Math.sqrt(post.kappa * pi);
  }
}

/** α | rest ~ Gamma(a0 + n/2, b0 + ½ Σ (r − r̂)²) from the squared-error sum over n ratings. */
export function sampleNoisePrecision(
  squaredErrors: number,
  numRatings: number,
  prior: HyperpriorConstants,
  rng: Random,
): number {
  return sampleGamma(prior.a0 + numRatings / 2, prior.b0 + 0.5 * squaredErrors, rng);
}

/** π_F,k | F ~ Gamma(a0 + G/2, b0 + ½ Σ_g f_gk²) for every k (zero-mean genre prior). */
export function sampleGenrePrecision(
  genreFactors: Float64Array,
  numGenres: number,
  dim: number,
  prior: HyperpriorConstants,
  rng: Random,
  out: Float64Array,
): void {
  for (let k = 0; k < dim; k++) {
    let ss = 0;
    for (let g = 0; g < numGenres; g++) ss += genreFactors[g * dim + k]! ** 2;
    out[k] = sampleGamma(prior.a0 + numGenres / 2, prior.b0 + 0.5 * ss, rng);
  }
}

/** Movie → genres as a CSR (the same shape as ItemGenres in ./als.ts). */
interface GenreIndex {
  offsets: Int32Array;
  ids: Int32Array;
  numGenres: number;
}

/** WᵀW (packed upper triangle, G × G) for w_ng = 1/√|G_n| when g ∈ G_n: fixed for a data set. */
export function genreGram(itemGenres: GenreIndex): Float64Array {
  const G = itemGenres.numGenres;
  const tri = new Float64Array(packedLength(G));
  const { offsets, ids } = itemGenres;
  for (let n = 0; n + 1 < offsets.length; n++) {
    const start = offsets[n]!;
    const end = offsets[n + 1]!;
    if (end === start) continue;
    const ww = 1 / (end - start);
    for (let a = start; a < end; a++) {
      for (let b = start; b < end; b++) {
        const ga = ids[a]!;
        const gb = ids[b]!;
        if (ga <= gb) tri[(gb * (gb + 1)) / 2 + ga]! += ww;
      }
    }
  }
  return tri;
}

/**
 * Draws every genre embedding column F_{·k} from its conditional. With v_nk − μ_V,k =
 * Σ_g w_ng f_gk + ε, ε ~ N(0, π_V,k⁻¹) (the movie prior) and f_gk ~ N(0, π_F,k⁻¹), the column is
 * Gaussian with precision A_k = π_V,k WᵀW + π_F,k I and mean A_k⁻¹ π_V,k Wᵀ(V_{·k} − μ_V,k):
 * the dimensions are independent because both priors are diagonal. `normalsOf(k, out)` fills the
 * G standard normals of column k. Writes F (G × K).
 */
export function sampleGenreFactors(
  itemFactors: Float64Array,
  dim: number,
  itemGenres: GenreIndex,
  gram: Float64Array,
  itemMean: Float64Array,
  itemPrecision: Float64Array,
  genrePrecision: Float64Array,
  normalsOf: (k: number, out: Float64Array) => void,
  genreFactors: Float64Array,
): void {
  const G = itemGenres.numGenres;
  if (G === 0 || dim === 0) return;
  const { offsets, ids } = itemGenres;
  const numItems = offsets.length - 1;
  const wtv = new Float64Array(G * dim); // Wᵀ (V − μ_V), row g
  for (let n = 0; n < numItems; n++) {
    const start = offsets[n]!;
    const end = offsets[n + 1]!;
    if (end === start) continue;
    const w = 1 / Math.sqrt(end - start);
    for (let a = start; a < end; a++) {
      const row = ids[a]! * dim;
      for (let k = 0; k < dim; k++) wtv[row + k]! += w * (itemFactors[n * dim + k]! - itemMean[k]!);
    }
  }
  const tri = new Float64Array(gram.length);
  const inverseDiagonal = new Float64Array(G);
  const x = new Float64Array(G);
  const z = new Float64Array(G);
  for (let k = 0; k < dim; k++) {
    const piV = itemPrecision[k]!;
    for (let p = 0; p < tri.length; p++) tri[p] = piV * gram[p]!;
    for (let g = 0; g < G; g++) {
      tri[(g * (g + 3)) / 2]! += genrePrecision[k]!;
      x[g] = piV * wtv[g * dim + k]!;
    }
    if (!choleskyFactor(tri, G, inverseDiagonal)) {
      genreFactors.fill(NaN);
      return;
    }
    normalsOf(k, z);
    sampleFromFactor(tri, G, x, inverseDiagonal, z, 0);
    for (let g = 0; g < G; g++) genreFactors[g * dim + k] = x[g]!;
  }
}
