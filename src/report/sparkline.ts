/** Eight block heights, lowest first: one character per value in a terminal line. */
const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * A one-line text sparkline of a series (e.g. validation RMSE per epoch) for terminal summaries.
 * Each value v maps to block ⌊8 (v − min) / range⌋ (capped at 7) of "▁▂▃▄▅▆▇█": the lowest value
 * is "▁". The top of the scale is robust: top = min(max, median + 4 (median − min)), and values
 * above it are drawn "█" (clipped). Without this, the first epoch (from random factors, far above
 * the rest) squeezes every later epoch into "▁" and hides the late rise that shows overfitting.
 * The range is at least 0.1 % of |min|, so round-off wiggles of a converged run stay flat ("▁").
 * Non-finite values (no validation set in that epoch) are a space. Series longer than `maxWidth` are shortened to `maxWidth` characters by
 * averaging consecutive runs of values (bucket k covers values [⌊k·n/w⌋, ⌊(k+1)·n/w⌋)), so the
 * line fits a terminal whatever the number of epochs.
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
  const finite = series.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return ' '.repeat(series.length);
  const min = finite[0]!;
  const max = finite[finite.length - 1]!;
  const middle = finite.length >> 1;
  const median = finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
  const top = Math.min(max, median + 4 * (median - min));
  const range = Math.max(top - min, 1e-3 * Math.abs(min));
  let line = '';
  for (const v of series) {
    if (!Number.isFinite(v)) line += ' ';
    else if (!(range > 0)) line += BLOCKS[0];
    else line += BLOCKS[Math.max(0, Math.min(7, Math.floor(((v - min) / range) * 8)))];
  }
  return line;
}
