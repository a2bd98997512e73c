/**
 * `als plot curves|activity|ratings`: options → one chart function (src/app/plot.ts) → one line.
 *   curves    loss and train/validation RMSE per epoch, from one or more checkpoints or their
 *             .metrics.json files (several runs are overlaid, one colour each)
 *   activity  log-log ratings per user and per movie with the fitted power laws (from --data,
 *             or from the JSON `als stats --json` printed, with --stats)
 *   ratings   rating histogram (same sources as activity)
 */
import type { Command } from 'commander';
import {
  plotActivity,
  plotCurves,
  plotRatings,
  type ChartWritten,
  type StatsSource,
} from '../app/plot.js';
import { AlsError, UsageError } from '../errors.js';
import { dataEvents, dataSourceOf, warn } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';

const CURVES_OPTIONS = ['svgOut', 'label', 'width'] as const satisfies readonly OptionKey[];
const STATS_CHART_OPTIONS = [
  'svgOut',
  'stats',
  ...DATA_OPTIONS,
] as const satisfies readonly OptionKey[];

function printWritten(written: ChartWritten): void {
  for (const file of written.skipped) warn(`${file} has no metrics history; left out`);
  process.stdout.write(
    `wrote ${written.out} (${written.what}, ${(written.bytes / 1024).toFixed(0)} KB)\n`,
  );
}

function requireOut(out: string | undefined): string {
  if (out === undefined) throw new UsageError('--out: is required (the SVG file to write)');
  return out;
}

function statsSourceOf(cmd: Command): { from: StatsSource; out: string } {
  const o = readOptions(cmd, STATS_CHART_OPTIONS);
  const out = requireOut(o.svgOut);
  if (o.stats !== undefined) {
    if (o.data !== undefined)
      throw new AlsError('--stats: give either --stats or --data, not both', 2);
    return { from: { statsFile: o.stats }, out };
  }
  return { from: { source: dataSourceOf(o) }, out };
}

export function registerPlot(program: Command): void {
  const plot = program
    .command('plot')
    .description('draw training curves, activity distributions or the rating histogram as SVG');

  const curves = plot
    .command('curves')
    .description(
      'loss and train/validation RMSE per epoch of one or more runs (checkpoints or .metrics.json files)',
    )
    .argument('<runs...>', 'checkpoints or their .metrics.json files; several are overlaid');
  addOptions(curves, CURVES_OPTIONS).action(
    async (files: string[], _options: unknown, cmd: Command) => {
      const o = readOptions(cmd, CURVES_OPTIONS);
      printWritten(
        await plotCurves(files, requireOut(o.svgOut), { labels: o.label, width: o.width }),
      );
    },
  );

  const activity = plot
    .command('activity')
    .description(
      'log-log distribution of ratings per user and per movie, with the fitted power laws',
    );
  addOptions(activity, STATS_CHART_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const { from, out } = statsSourceOf(cmd);
    printWritten(await plotActivity(from, out, dataEvents()));
  });

  const ratings = plot.command('ratings').description('rating histogram');
  addOptions(ratings, STATS_CHART_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const { from, out } = statsSourceOf(cmd);
    printWritten(await plotRatings(from, out, dataEvents()));
  });
}
