import { describe, expect, it } from 'vitest';
import { activitySvg, curvesSpec, curvesSvg, ratingsSvg } from '../src/report/charts.js';
import { hurwitzZeta } from '../src/data/stats.js';
import { observedCcdf, powerLawCcdfLine, thinForLogAxis } from '../src/report/powerlaw.js';
import { fixtureHistory, fixtureStats, powerLawDistribution } from './helpers/report-fixtures.js';

/** The text content of every <text> element of an SVG, in document order. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!
      .replace(/&amp;/g, '&')
      .replace(/&#(\d+);/g, (_s, n: string) => String.fromCharCode(Number(n))),
  );
}

describe('hurwitzZeta (the fitted line depends on it)', () => {
  it('matches closed forms: ζ(2,1) = π²/6, ζ(4,1) = π⁴/90, ζ(2,10) = π²/6 − Σ_{k<10} 1/k²', () => {
    expect(hurwitzZeta(2, 1)).toBeCloseTo(Math.PI ** 2 / 6, 10);
    expect(hurwitzZeta(4, 1)).toBeCloseTo(Math.PI ** 4 / 90, 10);
    let head = 0;
    for (let k = 1; k < 10; k++) head += 1 / (k * k);
    expect(hurwitzZeta(2, 10)).toBeCloseTo(Math.PI ** 2 / 6 - head, 10);
  });
});

describe('observedCcdf', () => {
  it('counts, at each distinct count, how many have at least that many ratings', () => {
    const ccdf = observedCcdf([
      { count: 3, frequency: 1 },
      { count: 1, frequency: 5 },
      { count: 2, frequency: 2 },
    ]);
    expect(ccdf).toEqual([
      { count: 1, atLeast: 8 },
      { count: 2, atLeast: 3 },
      { count: 3, atLeast: 1 },
    ]);
  });
});

describe('powerLawCcdfLine', () => {
  const distribution = powerLawDistribution(2, 10_000, 400);
  const tail = (xMin: number) =>
    distribution.filter((d) => d.count >= xMin).reduce((s, d) => s + d.frequency, 0);
  it('starts on the observed tail size at xMin and follows N_tail·ζ(α,x)/ζ(α,xMin)', () => {
    const line = powerLawCcdfLine(distribution, { alpha: 2, xMin: 5 });
    expect(line[0]).toEqual({ count: 5, atLeast: tail(5) });
    for (const p of line)
      expect(p.atLeast).toBeCloseTo((tail(5) * hurwitzZeta(2, p.count)) / hurwitzZeta(2, 5), 8);
    // Whole counts, increasing; the expected number decreasing.
    for (let i = 1; i < line.length; i++) {
      expect(Number.isInteger(line[i]!.count) && line[i]!.count > line[i - 1]!.count).toBe(true);
      expect(line[i]!.atLeast).toBeLessThan(line[i - 1]!.atLeast);
    }
  });
  it('lies close to the observed curve for data drawn from that power law', () => {
    // Exact (unrounded) frequencies 10⁴·c^(−2) up to c = 10⁵: the truncated tail holds 0.1 of 200+ users.
    const exact = Array.from({ length: 100_000 }, (_, i) => ({
      count: i + 1,
      frequency: 10_000 * (i + 1) ** -2,
    }));
    const observed = new Map(observedCcdf(exact).map((p) => [p.count, p.atLeast]));
    const line = powerLawCcdfLine(exact, { alpha: 2, xMin: 5 });
    expect(line.length).toBeGreaterThan(10);
    for (const p of line.filter((q) => q.count <= 50)) {
      expect(Math.abs(p.atLeast - observed.get(p.count)!) / observed.get(p.count)!).toBeLessThan(
        0.002,
      );
    }
  });
  it('stops where fewer than half a user is expected, and is empty without a usable fit', () => {
    const line = powerLawCcdfLine(
      [
        { count: 1, frequency: 100 },
        { count: 100_000, frequency: 1 },
      ],
      { alpha: 3, xMin: 1 },
    );
    expect(line[line.length - 1]!.atLeast).toBeGreaterThanOrEqual(0.5);
    expect(line[line.length - 1]!.count).toBeLessThan(100_000);
    expect(powerLawCcdfLine(distribution, { alpha: 0.9, xMin: 5 })).toEqual([]);
    expect(powerLawCcdfLine([], { alpha: 2, xMin: 1 })).toEqual([]);
    expect(powerLawCcdfLine(distribution, { alpha: 2, xMin: 10_000 })).toEqual([]);
  });
});

describe('thinForLogAxis', () => {
  it('keeps small inputs, both ends, every small count, and at most about maxPoints points', () => {
    const few = [{ count: 1 }, { count: 2 }];
    expect(thinForLogAxis(few, 10)).toEqual(few);
    const many = Array.from({ length: 100_000 }, (_, i) => ({ count: i + 1 }));
    const thinned = thinForLogAxis(many, 200);
    expect(thinned.length).toBeLessThanOrEqual(201);
    expect(thinned.length).toBeGreaterThan(150);
    expect(thinned[0]!.count).toBe(1);
    expect(thinned[thinned.length - 1]!.count).toBe(100_000);
    // log(100000)/200 ≈ 0.058: every count up to 17 is further than that from its neighbour.
    expect(thinned.slice(0, 17).map((p) => p.count)).toEqual(
      Array.from({ length: 17 }, (_, i) => i + 1),
    );
  });
});

describe('curves chart', () => {
  it('draws loss and train/validation RMSE for several runs, with axis titles, units and a legend', async () => {
    const svg = await curvesSvg([
      { label: 'bias', history: fixtureHistory(4, 0.88) },
      { label: 'latent dim 30', history: fixtureHistory(12, 0.6) },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    const texts = svgTexts(svg);
    expect(texts).toContain('RMSE (stars)');
    expect(texts.some((t) => t.startsWith('Loss L (stars²'))).toBe(true);
    expect(texts.filter((t) => t.startsWith('Epoch (')).length).toBe(2);
    for (const label of ['bias', 'latent dim 30', 'train', 'validation', 'Run'])
      expect(texts).toContain(label);
    // Two runs × (loss + train RMSE + validation RMSE) lines.
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(6);
  });
  it('uses a log loss axis only when the losses span more than a factor 20', () => {
    const spread = fixtureHistory(10, 0.6).map((m, i) => ({ ...m, loss: 1e6 / (i + 1) ** 2 }));
    const lossScale = (runs: Parameters<typeof curvesSpec>[0]) =>
      JSON.stringify(
        (curvesSpec(runs) as { vconcat: { encoding: { y: unknown } }[] }).vconcat[0]!.encoding.y,
      );
    expect(lossScale([{ label: 'a', history: spread }])).toContain('"log"');
    expect(lossScale([{ label: 'a', history: fixtureHistory(10, 0.6) }])).not.toContain('"log"');
  });
  it('draws only train RMSE when there are no held-out ratings', async () => {
    const svg = await curvesSvg([{ label: 'no split', history: fixtureHistory(5, 0.7, false) }]);
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(2);
  });
  it('labels the x axis "Sample" and draws no loss panel when every run is a Gibbs run (no loss)', async () => {
    // A Gibbs history as its metrics file reads (loss null → NaN): validation only after burn-in.
    const sampled = fixtureHistory(8, 0.9).map((m) => ({
      ...m,
      loss: Number.NaN,
      validationRmse: m.epoch <= 2 ? null : m.validationRmse,
    }));
    const svg = await curvesSvg([
      { label: 'gibbs a', history: sampled },
      { label: 'gibbs b', history: sampled.map((m) => ({ ...m, trainRmse: m.trainRmse + 0.1 })) },
    ]);
    const texts = svgTexts(svg);
    expect(texts.filter((t) => t.startsWith('Sample (')).length).toBe(1);
    expect(texts.some((t) => t.startsWith('Epoch ('))).toBe(false);
    expect(texts.some((t) => t.startsWith('Loss L'))).toBe(false);
    expect(texts.some((t) => t.startsWith('RMSE per sample'))).toBe(true);
    // Two runs × (train + validation RMSE) lines, no loss line.
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(4);
    // One ALS run among them: the epoch axis and the loss panel are back.
    const mixed = svgTexts(
      await curvesSvg([
        { label: 'gibbs', history: sampled },
        { label: 'als', history: fixtureHistory(4, 0.88) },
      ]),
    );
    expect(mixed.filter((t) => t.startsWith('Epoch (')).length).toBe(2);
    expect(mixed.some((t) => t.startsWith('Loss L'))).toBe(true);
  });
  it('refuses to draw an empty chart', () => {
    expect(() => curvesSpec([{ label: 'empty', history: [] }])).toThrow(
      /no run has a metrics history/,
    );
  });
});

describe('activity and ratings charts', () => {
  it('activity: two log-log panels with observed points and the fitted power law in the legend', async () => {
    const stats = fixtureStats();
    const svg = await activitySvg(stats);
    const texts = svgTexts(svg);
    for (const title of [
      'x = ratings per user (count, log)',
      'Users with ≥ x ratings (log)',
      'x = ratings per movie (count, log)',
      'Movies with ≥ x ratings (log)',
    ]) {
      expect(texts).toContain(title);
    }
    expect(texts).toContain('power-law fit: α = 1.80, x ≥ 3');
    expect(texts).toContain('power-law fit: α = 2.10, x ≥ 2');
    // Points are the paths of the data (not legend) symbol groups.
    const groups = [...svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)].map(
      (m) => m[1]!,
    );
    const points = groups.reduce((n, g) => n + (g.match(/<path/g)?.length ?? 0), 0);
    expect(points).toBe(
      stats.userActivityDistribution.length + stats.itemPopularityDistribution.length,
    );
  });
  it('activity of a large data set (tens of thousands of distinct counts) stays small', async () => {
    const stats = fixtureStats();
    const wide = Array.from({ length: 30_000 }, (_, i) => ({
      count: i + 1,
      frequency: 1 + (i % 3),
    }));
    const svg = await activitySvg({
      ...stats,
      userActivityDistribution: wide,
      itemPopularityDistribution: wide,
    });
    expect(Buffer.byteLength(svg)).toBeLessThan(250_000);
  });
  it('ratings: one bar per rating value, labelled on the rating axis', async () => {
    const stats = fixtureStats();
    const svg = await ratingsSvg(stats);
    const texts = svgTexts(svg);
    expect(texts).toContain('Rating (stars)');
    expect(texts).toContain('Number of ratings');
    for (const { value } of stats.ratingHistogram) expect(texts).toContain(String(value));
    expect(svg.match(/aria-roledescription="bar"/g)?.length).toBe(stats.ratingHistogram.length);
  });
});
