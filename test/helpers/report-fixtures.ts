import type { EpochMetrics } from '../../src/core/types.js';
import type { DatasetStats, Quantiles } from '../../src/data/types.js';

/**
 * Small hand-made inputs for the report and chart tests, so they do not depend on the loader or
 * the trainer: a data set whose count distributions follow an exact power law, and training
 * histories shaped like real ones.
 */

/** frequency(c) = round(scale · c^(−alpha)) for c = 1..maxCount, zero frequencies dropped. */
export function powerLawDistribution(
  alpha: number,
  scale: number,
  maxCount: number,
): { count: number; frequency: number }[] {
  const rows: { count: number; frequency: number }[] = [];
  for (let c = 1; c <= maxCount; c++) {
    const frequency = Math.round(scale * c ** -alpha);
    if (frequency > 0) rows.push({ count: c, frequency });
  }
  return rows;
}

function quantiles(min: number, median: number, max: number): Quantiles {
  return { min, p10: min, p25: min, median, p75: median, p90: max, p99: max, max, mean: median };
}

export function fixtureStats(): DatasetStats {
  const users = powerLawDistribution(1.8, 400, 300);
  const items = powerLawDistribution(2.1, 3000, 200);
  const histogram = [
    { value: 1, count: 600 },
    { value: 2, count: 1100 },
    { value: 3, count: 2700 },
    { value: 4, count: 3400 },
    { value: 5, count: 2200 },
  ];
  const numRatings = histogram.reduce((s, h) => s + h.count, 0);
  return {
    name: 'fixture-set',
    layout: 'ml-csv',
    numRatings,
    numUsers: users.reduce((s, d) => s + d.frequency, 0),
    numItemsListed: 5000,
    numItemsRated: items.reduce((s, d) => s + d.frequency, 0),
    density: 0.012,
    meanRating: histogram.reduce((s, h) => s + h.value * h.count, 0) / numRatings,
    ratingHistogram: histogram,
    userActivity: quantiles(1, 3, 300),
    itemPopularity: quantiles(1, 2, 200),
    topItemShare: { top1Percent: 0.21, top10Percent: 0.55 },
    gini: { users: 0.61, items: 0.72 },
    powerLaw: { users: { alpha: 1.8, xMin: 3 }, items: { alpha: 2.1, xMin: 2 } },
    userActivityDistribution: users,
    itemPopularityDistribution: items,
  };
}

/** A history that decays like a real run: loss and RMSEs fall geometrically towards a floor. */
export function fixtureHistory(
  epochs: number,
  floorRmse: number,
  withValidation = true,
): EpochMetrics[] {
  return Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1,
    loss: 20_000 + 80_000 * Math.exp(-i),
    trainRmse: floorRmse + 0.4 * Math.exp(-i / 2),
    validationRmse: withValidation ? floorRmse + 0.05 + 0.3 * Math.exp(-i / 3) : null,
    elapsedMs: 12 + i,
  }));
}
