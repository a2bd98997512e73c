import type { Dataset, DatasetStats, PowerLawFit, Quantiles } from './types.js';

/**
 * Descriptive statistics of a data set (what `als stats` prints). Counts per user come from the
 * CSR offsets and counts per movie from the CSC offsets; movie distributions are over rated
 * movies (a listed movie nobody rated has no popularity to describe).
 */
export function computeStats(dataset: Dataset): DatasetStats {
  const { matrix } = dataset;
  const userCounts = rowCounts(matrix.ratingsByUser.offsets, false);
  const itemCounts = rowCounts(matrix.ratingsByItem.offsets, true);
  const numRatings = matrix.numRatings;
  const values = matrix.ratingsByUser.values;
  const histogram = ratingHistogram(values.subarray(0, numRatings));
  // On a half-star grid (every MovieLens set) the sum follows from the histogram, exactly as the
  // rating-by-rating float64 sum: every partial sum is a multiple of 0.5 below 2^52, so no sum
  // rounds either way. Otherwise the ratings are summed one by one.
  let sum = 0;
  if (histogram.every(({ value }) => value >= 0 && value <= 10 && Number.isInteger(2 * value)))
    for (const { value, count } of histogram) sum += value * count;
  else for (let k = 0; k < numRatings; k++) sum += values[k]!;

  userCounts.sort();
  itemCounts.sort();
  return {
    name: dataset.info.name,
    layout: dataset.info.layout,
    numRatings,
    numUsers: matrix.numUsers,
    numItemsListed: matrix.numItems,
    numItemsRated: itemCounts.length,
    density: numRatings / (matrix.numUsers * Math.max(1, itemCounts.length)),
    meanRating: numRatings > 0 ? sum / numRatings : 0,
    ratingHistogram: histogram,
    userActivity: quantiles(userCounts),
    itemPopularity: quantiles(itemCounts),
    topItemShare: {
      top1Percent: topShare(itemCounts, 0.01),
      top10Percent: topShare(itemCounts, 0.1),
    },
    gini: { users: gini(userCounts), items: gini(itemCounts) },
    powerLaw: { users: fitPowerLaw(userCounts), items: fitPowerLaw(itemCounts) },
    userActivityDistribution: countDistribution(userCounts),
    itemPopularityDistribution: countDistribution(itemCounts),
  };
}

/** Entries per row; with `skipEmpty`, rows without entries are left out. */
function rowCounts(offsets: Int32Array, skipEmpty: boolean): Float64Array {
  const rows = offsets.length - 1;
  const counts = new Float64Array(rows);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const c = offsets[r + 1]! - offsets[r]!;
    if (c > 0 || !skipEmpty) counts[n++] = c;
  }
  return counts.slice(0, n);
}

/** Distinct rating values with their counts, ascending. */
export function ratingHistogram(values: Float32Array): { value: number; count: number }[] {
  // Ratings are on a half-star grid in every MovieLens set. A float32 with at most 4 significant
  // bits (every half star up to 10, and more) is told by its top 13 bits (sign, exponent, 4
  // mantissa bits), the other 19 being 0: so ratings are first counted by those 13 bits, one
  // table increment each; each distinct value then goes to the grid (2·value an integer in
  // 0..20) or to a Map, as do the few values with more significant bits.
  // First without a branch per rating: every word counted by its top bits, and the other bits
  // of all words or-ed together; only when some value has more bits is it done per value.
  const words = new Int32Array(values.buffer, values.byteOffset, values.length);
  let byTopBits = new Float64Array(1 << 13);
  const other = new Map<number, number>();
  const bits = new Int32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  let lowBits = 0;
  for (let k = 0; k < words.length; k++) {
    const word = words[k]!;
    byTopBits[word >>> 19]!++;
    lowBits |= word;
  }
  if ((lowBits & 0x7ffff) !== 0) {
    byTopBits = new Float64Array(1 << 13);
    for (let k = 0; k < words.length; k++) {
      const word = words[k]!;
      if ((word & 0x7ffff) === 0) byTopBits[word >>> 19]!++;
      else other.set(values[k]!, (other.get(values[k]!) ?? 0) + 1);
    }
  }
  const grid = new Float64Array(2 * 10 + 1);
  for (let top = 0; top < byTopBits.length; top++) {
    const count = byTopBits[top]!;
    if (count === 0) continue;
    bits[0] = top << 19;
    const v = asFloat[0]!;
    const twice = v * 2;
    if (twice >= 0 && twice <= 20 && Number.isInteger(twice)) grid[twice]! += count;
    else other.set(v, (other.get(v) ?? 0) + count);
  }
  const histogram: { value: number; count: number }[] = [];
  for (let t = 0; t < grid.length; t++)
    if (grid[t]! > 0) histogram.push({ value: t / 2, count: grid[t]! });
  for (const [value, count] of other) histogram.push({ value, count });
  return histogram.sort((a, b) => a.value - b.value);
}

/**
 * Quantiles of sorted values by linear interpolation between order statistics
 * (q-quantile at position q·(n−1), "type 7", as numpy and R default to).
 */
export function quantiles(sorted: Float64Array): Quantiles {
  const n = sorted.length;
  if (n === 0)
    return { min: 0, p10: 0, p25: 0, median: 0, p75: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const at = (q: number): number => {
    const position = q * (n - 1);
    const lo = Math.floor(position);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo]! + (position - lo) * (sorted[hi]! - sorted[lo]!);
  };
  let sum = 0;
  for (let k = 0; k < n; k++) sum += sorted[k]!;
  return {
    min: sorted[0]!,
    p10: at(0.1),
    p25: at(0.25),
    median: at(0.5),
    p75: at(0.75),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[n - 1]!,
    mean: sum / n,
  };
}

/** Share of the total held by the largest ⌈fraction·n⌉ values (sorted ascending). */
export function topShare(sorted: Float64Array, fraction: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const top = Math.max(1, Math.ceil(fraction * n));
  let total = 0;
  let topSum = 0;
  for (let k = 0; k < n; k++) {
    total += sorted[k]!;
    if (k >= n - top) topSum += sorted[k]!;
  }
  return total > 0 ? topSum / total : 0;
}

/**
 * Gini coefficient of sorted (ascending) non-negative values:
 * G = 2·Σᵢ i·x₍ᵢ₎ / (n·Σ x) − (n+1)/n, with i = 1..n. 0 = all equal, → 1 = one holds everything.
 */
export function gini(sorted: Float64Array): number {
  const n = sorted.length;
  let total = 0;
  let weighted = 0;
  for (let k = 0; k < n; k++) {
    total += sorted[k]!;
    weighted += (k + 1) * sorted[k]!;
  }
  if (n === 0 || total === 0) return 0;
  return (2 * weighted) / (n * total) - (n + 1) / n;
}

/** For each distinct value c (ascending): how many values equal c. */
export function countDistribution(sorted: Float64Array): { count: number; frequency: number }[] {
  const out: { count: number; frequency: number }[] = [];
  for (let k = 0; k < sorted.length; k++) {
    const last = out[out.length - 1];
    if (last !== undefined && last.count === sorted[k]) last.frequency++;
    else out.push({ count: sorted[k]!, frequency: 1 });
  }
  return out;
}

/** B_2j/(2j)! for j = 1..4, the Euler–Maclaurin corrections of hurwitzZeta (a constant: the
 * power-law fit calls it ~10^5 times). */
const BERNOULLI_TERMS = [1 / 12, -1 / 720, 1 / 30240, -1 / 1209600];

/**
 * Hurwitz zeta ζ(s, q) = Σ_{k≥0} (q+k)^(−s) for s > 1, q > 0: ten terms summed directly, the
 * rest by Euler–Maclaurin, ∫ + half the first term + Bernoulli corrections (B₂, B₄, B₆, B₈);
 * relative error < 1e-12 for the s and q used here.
 */
export function hurwitzZeta(s: number, q: number): number {
  const N = 10;
  let sum = 0;
  for (let k = 0; k < N; k++) sum += (q + k) ** -s;
  const a = q + N;
  const aPowS = a ** -s;
  sum += (a * aPowS) / (s - 1) + aPowS / 2;
  // Σ_j B_2j/(2j)! · s(s+1)…(s+2j−2) · a^(−s−2j+1)
  const a2 = a * a;
  let rising = s; // s(s+1)…(s+2j−2)
  let power = aPowS / a; // a^(−s−1)
  for (let j = 0; j < BERNOULLI_TERMS.length; j++) {
    sum += BERNOULLI_TERMS[j]! * rising * power;
    rising *= (s + 2 * j + 1) * (s + 2 * j + 2);
    power /= a2;
  }
  return sum;
}

/**
 * Discrete power-law fit P(x) = x^(−α) / ζ(α, xMin) for x ≥ xMin (Clauset, Shalizi & Newman 2009).
 *
 * For a given xMin, α maximises the log-likelihood L(α) = −n·ln ζ(α, xMin) − α·Σ ln xᵢ over the
 * n values ≥ xMin (L is concave in α: golden-section search on [1.01, 10]).
 * xMin minimises the Kolmogorov–Smirnov distance D = max_x |S(x) − P(x)| between the empirical and
 * fitted tail distributions (S(x) = share of tail values ≥ x, P(x) = ζ(α, x)/ζ(α, xMin)).
 * Simplification (documented): candidates are at most 48 distinct values, spread evenly over the
 * distinct values that leave at least 50 observations and 10 distinct values in the tail, instead
 * of every distinct value.
 * Values must be sorted ascending and positive (zeros are skipped).
 */
export function fitPowerLaw(sorted: Float64Array): PowerLawFit {
  const distribution = countDistribution(sorted).filter((d) => d.count > 0);
  const m = distribution.length;
  if (m < 2) return { alpha: Number.NaN, xMin: distribution[0]?.count ?? 0 };
  // Suffix sums: tail size and Σ ln x for values ≥ distribution[j].count.
  const tailSize = new Float64Array(m + 1);
  const tailLogSum = new Float64Array(m + 1);
  for (let j = m - 1; j >= 0; j--) {
    tailSize[j] = tailSize[j + 1]! + distribution[j]!.frequency;
    tailLogSum[j] =
      tailLogSum[j + 1]! + distribution[j]!.frequency * Math.log(distribution[j]!.count);
  }
  // A tail must hold ≥ 50 observations and ≥ 10 distinct values: a tail of one repeated value
  // (e.g. a cap on activity) fits any steep power law with KS distance 0.
  const minTail = 50;
  const minDistinct = 10;
  let lastCandidate = 0;
  while (
    lastCandidate + 1 < m &&
    tailSize[lastCandidate + 1]! >= minTail &&
    m - (lastCandidate + 1) >= minDistinct
  )
    lastCandidate++;
  const candidateCount = Math.min(48, lastCandidate + 1);
  let best: PowerLawFit & { ks: number } = {
    alpha: Number.NaN,
    xMin: distribution[0]!.count,
    ks: Infinity,
  };
  let previous = -1;
  for (let c = 0; c < candidateCount; c++) {
    const j = candidateCount === 1 ? 0 : Math.round((c * lastCandidate) / (candidateCount - 1));
    if (j === previous) continue;
    previous = j;
    const xMin = distribution[j]!.count;
    const n = tailSize[j]!;
    const logSum = tailLogSum[j]!;
    const logLikelihood = (alpha: number): number =>
      -n * Math.log(hurwitzZeta(alpha, xMin)) - alpha * logSum;
    const alpha = goldenMax(logLikelihood, 1.01, 10);
    const norm = hurwitzZeta(alpha, xMin);
    // ζ(α, x) at each distinct value from the largest down: ζ(α, x) = Σ_{x ≤ y < x'} y^(−α) +
    // ζ(α, x') for the next distinct value x', a few powers where x' is close (most of them),
    // instead of a full evaluation each.
    let ks = 0;
    let zeta = 0;
    let above = -1;
    for (let t = m - 1; t >= j; t--) {
      const count = distribution[t]!.count;
      if (above < 0 || above - count > 8) zeta = hurwitzZeta(alpha, count);
      else for (let y = count; y < above; y++) zeta += y ** -alpha;
      above = count;
      const empirical = tailSize[t]! / n;
      ks = Math.max(ks, Math.abs(empirical - zeta / norm));
    }
    if (ks < best.ks) best = { alpha, xMin, ks };
  }
  return { alpha: best.alpha, xMin: best.xMin };
}

/** Maximiser of a unimodal function on [lo, hi] by golden-section search (to 1e-6). */
function goldenMax(f: (x: number) => number, lo: number, hi: number): number {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let x1 = b - ratio * (b - a);
  let x2 = a + ratio * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  while (b - a > 1e-6) {
    if (f1 < f2) {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + ratio * (b - a);
      f2 = f(x2);
    } else {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - ratio * (b - a);
      f1 = f(x1);
    }
  }
  return (a + b) / 2;
}
