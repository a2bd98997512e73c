/**
 * `als plot curves|activity|ratings`: standalone SVG charts.
 *   curves    loss and train/validation RMSE per epoch, from one or more checkpoints or their
 *             .metrics.json files (several runs are overlaid, one colour each)
 *   activity  log-log ratings per user and per movie with the fitted power laws (from --data,
 *             or from the JSON `als stats --json` printed, with --stats)
 *   ratings   rating histogram (same sources as activity)
 * Files are written atomically; a missing or unwritable output folder is a one-line error.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { EpochMetrics, Hyperparameters } from '../core/types.js';
import { readCheckpoint, writeTextFileAtomic } from '../data/checkpoint.js';
import { computeStats } from '../data/stats.js';
import type { DatasetStats } from '../data/types.js';
import { AlsError, DataError } from '../errors.js';
import { activitySvg, curvesSvg, ratingsSvg, type CurveRun } from '../report/charts.js';
import { modelLabel } from '../report/content.js';
import { addDataOptions, dataOptionsSchema, openDataset, parseOptions } from './common.js';
import { collect } from './listing.js';

const epochSchema = z.object({
  epoch: z.number().int().positive(),
  loss: z.number(),
  trainRmse: z.number(),
  validationRmse: z.number().nullable(),
  elapsedMs: z.number().nonnegative(),
});

/** The .metrics.json `als train` writes beside a checkpoint (only what the chart needs is checked). */
const metricsFileSchema = z.object({
  hyper: z.object({ kind: z.enum(['bias', 'latent', 'genre']), dim: z.number().int().nonnegative() }).passthrough().optional(),
  epochs: z.array(epochSchema),
});

/** A run read from a checkpoint or a metrics file, with what its default legend label is made of. */
export interface RunFile {
  file: string;
  hyper: Pick<Hyperparameters, 'kind' | 'dim'> | null;
  history: EpochMetrics[];
}

/** First zod issue as "path: message". */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}

/** Reads a JSON file, or says in one line which file is missing or not JSON. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AlsError(code === 'ENOENT' ? `${file}: no such file` : code === 'EISDIR' ? `${file}: is a folder` : `${file}: cannot read (${code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataError(file, undefined, `not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
}

/**
 * Reads the metrics history of a run: a `.json` file is read as the metrics file `als train`
 * writes (`{hyper, epochs: [...]}`, or a bare array of epochs); anything else as a checkpoint.
 */
export function readRunFile(file: string): RunFile {
  if (file.toLowerCase().endsWith('.json')) {
    const json = readJsonFile(file);
    const parsed = Array.isArray(json) ? z.array(epochSchema).safeParse(json) : metricsFileSchema.safeParse(json);
    if (!parsed.success) throw new DataError(file, undefined, `not a metrics history (${firstIssue(parsed.error)})`);
    const data = parsed.data;
    return Array.isArray(data) ? { file, hyper: null, history: data } : { file, hyper: data.hyper ?? null, history: data.epochs };
  }
  const checkpoint = readCheckpoint(file);
  return { file, hyper: checkpoint.state.hyper, history: checkpoint.metrics };
}

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

/** zod schema of DatasetStats as `als stats --json` prints it (what the charts read is checked). */
const countDistributionSchema = z.array(z.object({ count: z.number().positive(), frequency: z.number().nonnegative() }));
const statsSchema = z
  .object({
    name: z.string(),
    numRatings: z.number().nonnegative(),
    numUsers: z.number().nonnegative(),
    numItemsRated: z.number().nonnegative(),
    meanRating: z.number(),
    ratingHistogram: z.array(z.object({ value: z.number(), count: z.number().nonnegative() })),
    powerLaw: z.object({ users: z.object({ alpha: z.number(), xMin: z.number() }), items: z.object({ alpha: z.number(), xMin: z.number() }) }),
    userActivityDistribution: countDistributionSchema,
    itemPopularityDistribution: countDistributionSchema,
  })
  .passthrough();

/** Reads `als stats --json` output. */
export function readStatsFile(file: string): DatasetStats {
  const parsed = statsSchema.safeParse(readJsonFile(file));
  if (!parsed.success) throw new DataError(file, undefined, `not the output of 'als stats --json' (${firstIssue(parsed.error)})`);
  return parsed.data as unknown as DatasetStats;
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
