import type { Command } from 'commander';
import { datasetStats } from '../app/data.js';
import type { DatasetStats, Quantiles } from '../data/types.js';
import { dataEvents, dataSourceOf } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';

const STATS_OPTIONS = ['json', ...DATA_OPTIONS] as const satisfies readonly OptionKey[];

/** `als stats`: counts, rating histogram, activity/popularity distributions, concentration, power laws. */
export function registerStats(program: Command): void {
  const command = program
    .command('stats')
    .description(
      'describe a data set: counts, density, rating histogram, activity and popularity distributions',
    );
  addOptions(command, STATS_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, STATS_OPTIONS);
    const stats = await datasetStats(dataSourceOf(o), dataEvents());
    process.stdout.write(o.json ? `${JSON.stringify(stats, null, 2)}\n` : formatStats(stats));
  });
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = (digits: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const percent = (x: number, digits = 1): string => `${decimal(digits).format(100 * x)}%`;
const countOrDecimal = (x: number): string =>
  Number.isInteger(x) ? integer.format(x) : decimal(1).format(x);

/** The readable table `als stats` prints by default. */
export function formatStats(stats: DatasetStats): string {
  const lines: string[] = [];
  const row = (label: string, value: string): void => {
    lines.push(`${label.padEnd(22)}${value}`);
  };
  row('data set', `${stats.name} (${stats.layout})`);
  row('ratings', integer.format(stats.numRatings));
  row('users', integer.format(stats.numUsers));
  row('movies listed', integer.format(stats.numItemsListed));
  row('movies rated', integer.format(stats.numItemsRated));
  row('density', percent(stats.density, 2));
  row('mean rating', decimal(3).format(stats.meanRating));
  lines.push('');
  lines.push('rating histogram');
  const maxCount = Math.max(...stats.ratingHistogram.map((h) => h.count));
  const countWidth = Math.max(...stats.ratingHistogram.map((h) => integer.format(h.count).length));
  for (const { value, count } of stats.ratingHistogram) {
    const bar = '#'.repeat(Math.round((40 * count) / maxCount));
    lines.push(
      `  ${String(value).padStart(4)}  ${integer.format(count).padStart(countWidth)}  ${percent(count / stats.numRatings).padStart(6)}  ${bar}`,
    );
  }
  lines.push('');
  const columns: (keyof Quantiles)[] = [
    'min',
    'p10',
    'p25',
    'median',
    'p75',
    'p90',
    'p99',
    'max',
    'mean',
  ];
  const table = [
    ['', ...columns],
    ['ratings per user', ...columns.map((c) => countOrDecimal(stats.userActivity[c]))],
    ['ratings per movie', ...columns.map((c) => countOrDecimal(stats.itemPopularity[c]))],
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const r of table)
    lines.push(
      r
        .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]! + 2)))
        .join('')
        .trimEnd(),
    );
  lines.push('');
  row('top 1% of movies', `${percent(stats.topItemShare.top1Percent)} of ratings`);
  row('top 10% of movies', `${percent(stats.topItemShare.top10Percent)} of ratings`);
  row(
    'Gini',
    `users ${decimal(3).format(stats.gini.users)}, movies ${decimal(3).format(stats.gini.items)}`,
  );
  const fit = (f: { alpha: number; xMin: number }): string =>
    Number.isNaN(f.alpha)
      ? 'n/a'
      : `alpha ${decimal(2).format(f.alpha)} for x >= ${integer.format(f.xMin)}`;
  row('power law, users', fit(stats.powerLaw.users));
  row('power law, movies', fit(stats.powerLaw.items));
  return `${lines.join('\n')}\n`;
}
