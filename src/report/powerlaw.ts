import { hurwitzZeta } from '../data/stats.js';
import type { PowerLawFit } from '../data/types.js';

// ζ(α, q) = Σ_{k≥0} (q + k)^(−α) (Hurwitz zeta) comes from the statistics module that fits α.

/** One point of a complementary cumulative distribution: how many have at least `count` ratings. */
export interface CcdfPoint {
  count: number;
  atLeast: number;
}

/**
 * The observed complementary cumulative distribution N(≥c) = Σ_{c' ≥ c} frequency(c'), at every
 * distinct count c, from a distribution {count c: how many users (movies) have exactly c ratings}.
 * Plotted log-log, a power-law tail is a straight line; unlike the raw frequencies, the tail is not
 * a flat row of 1s (most large counts occur once), so the fit can be judged by eye (Clauset et al.).
 */
export function observedCcdf(
  distribution: readonly { count: number; frequency: number }[],
): CcdfPoint[] {
  const sorted = [...distribution].filter((d) => d.frequency > 0).sort((a, b) => a.count - b.count);
  let remaining = sorted.reduce((sum, d) => sum + d.frequency, 0);
  const points: CcdfPoint[] = [];
  for (const { count, frequency } of sorted) {
    points.push({ count, atLeast: remaining });
    remaining -= frequency;
  }
  return points;
}

/**
 * The fitted discrete power law P(x) = x^(−α) / ζ(α, xMin), x ≥ xMin, as the same kind of curve:
 *   N̂(≥c) = N_tail · ζ(α, c) / ζ(α, xMin),   N_tail = Σ_{c ≥ xMin} frequency(c),
 * so the line starts on the observed point at xMin. Sampled at `samples` log-spaced whole counts
 * from xMin to the largest observed count, stopping where fewer than `minAtLeast` users (movies)
 * are expected (below half a user a point means nothing on a log axis).
 * Returns [] when there is no normalisable fit (α ≤ 1) or no tail.
 */
export function powerLawCcdfLine(
  distribution: readonly { count: number; frequency: number }[],
  fit: PowerLawFit,
  samples = 40,
  minAtLeast = 0.5,
): CcdfPoint[] {
  const { alpha, xMin } = fit;
  if (!(alpha > 1) || !(xMin >= 1) || distribution.length === 0) return [];
  let tail = 0;
  let maxCount = 0;
  for (const { count, frequency } of distribution) {
    if (count >= xMin) tail += frequency;
    if (count > maxCount) maxCount = count;
  }
  if (tail === 0 || maxCount < xMin) return [];
  const normaliser = hurwitzZeta(alpha, xMin);
  const points: CcdfPoint[] = [];
  const logFrom = Math.log(xMin);
  const logTo = Math.log(maxCount);
  let previous = -1;
  for (let s = 0; s < samples; s++) {
    const count = Math.round(
      Math.exp(logFrom + ((logTo - logFrom) * s) / Math.max(1, samples - 1)),
    );
    if (count === previous) continue;
    previous = count;
    const atLeast = (tail * hurwitzZeta(alpha, count)) / normaliser;
    if (atLeast < minAtLeast) break;
    points.push({ count, atLeast });
  }
  return points;
}

/**
 * Thins points for drawing on a log x axis: keeps the first and last point and, in between, a
 * point only when its log(count) is at least (log(last) − log(first)) / maxPoints past the last
 * kept one, so at most about maxPoints + 1 points remain. Small counts (far apart on a log axis)
 * are all kept; only the crowded tail of a large data set (thousands of distinct counts within a
 * few pixels) is thinned. Keeps the SVG of a 32M-rating set small without changing its look.
 */
export function thinForLogAxis<T extends { count: number }>(
  points: readonly T[],
  maxPoints = 500,
): T[] {
  if (points.length <= maxPoints) return [...points];
  const first = Math.log(points[0]!.count);
  const last = Math.log(points[points.length - 1]!.count);
  const step = (last - first) / maxPoints;
  const kept: T[] = [points[0]!];
  let lastKept = first;
  for (let i = 1; i < points.length - 1; i++) {
    const position = Math.log(points[i]!.count);
    if (position - lastKept >= step) {
      kept.push(points[i]!);
      lastKept = position;
    }
  }
  kept.push(points[points.length - 1]!);
  return kept;
}
