/** Eight block heights, lowest first: one character per value in a terminal line. */
const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * A one-line text sparkline of a series (e.g. validation RMSE per epoch) for terminal summaries:
 * one of "▁▂▃▄▅▆▇█" per value, "▁" at the minimum and "█" at the maximum, order preserved.
 *
 * Heights follow the logarithm of the distance above the minimum, e = v − min:
 *   h(v) = ln(1 + e/δ) / ln(1 + e_max/δ),  δ = e_max / 50,  block = min(7, ⌊8 h⌋).
 * On a linear scale the first epoch (from random factors, ~0.03 above the rest on ml-latest-small)
 * squeezes every later epoch into "▁" and hides both the end of the descent and a late rise
 * (overfitting); the log scale keeps a 0.001 rise visible next to a 0.035 drop. A series whose
 * spread is below 0.01 % of its minimum is round-off and drawn flat ("▁").
 * Non-finite values (no validation set in that epoch) are a space. Series longer than `maxWidth`
 * are shortened to `maxWidth` characters by averaging consecutive runs of values
 * (bucket k covers values [⌊k·n/w⌋, ⌊(k+1)·n/w⌋)), so the line fits a terminal.
 */
export function sparkline(values: readonly number[], maxWidth = 60): string {
  const width = Math.max(1, Math.floor(maxWidth));
  let series: number[] = [...values];
  if (series.length > width) {
    const buckets: number[] = [];
    for (let k = 0; k < width; k++) {
      const from = Math.floor((k * values.length) / width);
      const to = Math.floor(((k + 1) * values.length) / width);
      let sum = 0;
      let n = 0;
      for (let j = from; j < to; j++) {
        const v = values[j]!;
        if (Number.isFinite(v)) {
          sum += v;
          n++;
        }
      }
      buckets.push(n > 0 ? sum / n : Number.NaN);
    }
    series = buckets;
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of series) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const spread = max - min;
  const flat = !(spread > 1e-4 * Math.abs(min)) || !(spread > 0);
  const delta = spread / 50;
  const top = Math.log1p(spread / delta);
  let line = '';
  for (const v of series) {
    if (!Number.isFinite(v)) line += ' ';
    else if (flat) line += BLOCKS[0];
    else line += BLOCKS[Math.min(7, Math.floor((Math.log1p((v - min) / delta) / top) * 8))];
  }
  return line;
}
