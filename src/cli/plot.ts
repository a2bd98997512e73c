/**
 * `als plot curves|activity|ratings`: standalone SVG charts.
 *   curves    loss and train/validation RMSE per epoch, from one or more checkpoints or their
 *             .metrics.json files (several runs are overlaid, one colour each)
 *   activity  log-log ratings per user and per movie with the fitted power laws (from --data,
 *             or from the JSON `als stats --json` printed, with --stats)
 *   ratings   rating histogram (same sources as activity)
 * Files are written atomically; a missing or unwritable output folder is a one-line error.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { writeTextFileAtomic } from '../data/checkpoint.js';
import { readRunFile, readStatsFile, type RunFile } from '../data/run-files.js';
import { computeStats } from '../data/stats.js';
import type { DatasetStats } from '../data/types.js';
import { AlsError } from '../errors.js';
import { activitySvg, curvesSvg, ratingsSvg, type CurveRun } from '../report/charts.js';
import { modelLabel } from '../report/content.js';
import { addDataOptions, dataOptionsSchema, openDataset, parseOptions } from './common.js';
import { collect } from './listing.js';

/**
 * Legend labels: the given ones in order, else "latent model, dim 30"-style names from the
 * hyperparameters, with the file name added where two runs would otherwise share a label.
 */
export function runLabels(runs: readonly RunFile[], given: readonly string[]): string[] {
  const base = runs.map((run, i) => given[i] ?? (run.hyper ? modelLabel(run.hyper) : path.basename(run.file)));
  return base.map((label, i) => {
    if (given[i] !== undefined || base.filter((other) => other === label).length === 1) return label;
    return `${label} (${path.basename(runs[i]!.file)})`;
  });
}

/** Fails early (before any slow work) when the output folder is missing or not a folder. */
export function checkOutputFolder(file: string): void {
  const dir = path.dirname(path.resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new AlsError(`cannot write ${file}: folder ${dir} does not exist`);
  }
  if (!isDir) throw new AlsError(`cannot write ${file}: ${dir} is not a folder`);
}

const outSchema = z.string({ error: 'is required (the SVG file to write)' }).min(1, { error: 'must not be empty' });

const curvesSchema = z.object({
  out: outSchema,
  label: z.array(z.string().min(1)).default([]),
  width: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be a whole number of pixels' }).min(200, { error: 'must be at least 200' }).max(4000, { error: 'must be at most 4000' }).optional(),
});

const statsChartSchema = dataOptionsSchema.extend({
  out: outSchema,
  stats: z.string().min(1).optional(),
});

/** Data set statistics from --stats (a JSON file) or by loading --data. */
async function statsFrom(options: z.infer<typeof statsChartSchema>): Promise<DatasetStats> {
  if (options.stats !== undefined) {
    if (options.data !== undefined) throw new AlsError('--stats: give either --stats or --data, not both', 2);
    return readStatsFile(options.stats);
  }
  const dataset = await openDataset(options, (w) => process.stderr.write(`als: warning: ${w}\n`));
  return computeStats(dataset);
}

async function writeChart(out: string, svg: string, what: string): Promise<void> {
  writeTextFileAtomic(out, svg);
  process.stdout.write(`wrote ${out} (${what}, ${(Buffer.byteLength(svg) / 1024).toFixed(0)} KB)\n`);
}

export function registerPlot(program: Command): void {
  const plot = program.command('plot').description('draw training curves, activity distributions or the rating histogram as SVG');

  plot
    .command('curves')
    .description('loss and train/validation RMSE per epoch of one or more runs (checkpoints or .metrics.json files)')
    .argument('<runs...>', 'checkpoints or their .metrics.json files; several are overlaid')
    .requiredOption('--out <file.svg>', 'SVG file to write')
    .option('--label <name>', 'legend label of each run, in order (repeatable; default: model and dim)', collect)
    .option('--width <px>', 'width of each plot area in pixels (default: 520)')
    .action(async (files: string[], raw: Record<string, unknown>) => {
      const options = parseOptions(curvesSchema, raw);
      if (options.label.length > files.length) throw new AlsError(`--label: ${options.label.length} labels for ${files.length} runs`, 2);
      checkOutputFolder(options.out);
      const runs = files.map(readRunFile);
      const empty = runs.filter((run) => run.history.length === 0).map((run) => run.file);
      if (empty.length === runs.length) throw new AlsError(`${empty.join(', ')}: no metrics history (no epoch recorded): nothing to plot`);
      for (const file of empty) process.stderr.write(`als: warning: ${file} has no metrics history; left out\n`);
      const labels = runLabels(runs, options.label);
      const drawn: CurveRun[] = runs.map((run, i) => ({ label: labels[i]!, history: run.history })).filter((run) => run.history.length > 0);
      const svg = await curvesSvg(drawn, options.width !== undefined ? { width: options.width } : {});
      await writeChart(options.out, svg, `${drawn.length} run${drawn.length === 1 ? '' : 's'}`);
    });

  const activity = plot
    .command('activity')
    .description('log-log distribution of ratings per user and per movie, with the fitted power laws')
    .requiredOption('--out <file.svg>', 'SVG file to write')
    .option('--stats <file.json>', "read the statistics printed by 'als stats --json' instead of loading --data");
  addDataOptions(activity).action(async (raw: Record<string, unknown>) => {
    const options = parseOptions(statsChartSchema, raw);
    checkOutputFolder(options.out);
    const stats = await statsFrom(options);
    if (stats.numRatings === 0) throw new AlsError(`${stats.name} has no ratings: nothing to plot`);
    await writeChart(options.out, await activitySvg(stats), stats.name);
  });

  const ratings = plot
    .command('ratings')
    .description('rating histogram')
    .requiredOption('--out <file.svg>', 'SVG file to write')
    .option('--stats <file.json>', "read the statistics printed by 'als stats --json' instead of loading --data");
  addDataOptions(ratings).action(async (raw: Record<string, unknown>) => {
    const options = parseOptions(statsChartSchema, raw);
    checkOutputFolder(options.out);
    const stats = await statsFrom(options);
    if (stats.numRatings === 0) throw new AlsError(`${stats.name} has no ratings: nothing to plot`);
    await writeChart(options.out, await ratingsSvg(stats), stats.name);
  });
}
