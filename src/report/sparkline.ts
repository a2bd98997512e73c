/** Eight block heights, lowest first: one character per value in a terminal line. */
const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * A one-line text sparkline of a series (e.g. validation RMSE per epoch) for terminal summaries.
 * Each value v maps to block ⌊(v − min) / (max − min) × 7.999⌋ of "▁▂▃▄▅▆▇█", so the lowest value
 * is "▁" and the highest "█"; a flat series is all "▁". Non-finite values (no validation set in
 * that epoch) are a space. Series longer than `maxWidth` are shortened to `maxWidth` characters by
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
  let min = Infinity;
  let max = -Infinity;
  for (const v of series) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  let line = '';
  for (const v of series) {
    if (!Number.isFinite(v)) line += ' ';
    else if (!(range > 0)) line += BLOCKS[0];
    else line += BLOCKS[Math.min(7, Math.floor(((v - min) / range) * 8))];
  }
  return line;
}
