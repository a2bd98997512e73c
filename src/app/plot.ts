/**
 * Standalone SVG charts: training curves of one or more runs, and a data set's activity
 * distributions and rating histogram. Each function checks the output folder first (before any
 * slow work), writes the file atomically and says what it wrote.
 */
import path from 'node:path';
import { writeTextFileAtomic } from '../data/atomic.js';
import { readRunFile, readStatsFile, type RunFile } from '../data/run-files.js';
import { computeStats } from '../data/stats.js';
import type { DatasetStats } from '../data/types.js';
import { AlsError } from '../errors.js';
import { activitySvg, curvesSvg, ratingsSvg, type CurveRun } from '../report/charts.js';
import { modelLabel } from '../report/content.js';
import { checkOutputFolder, openDataset, type DataEvents, type DataSource } from './data.js';
import { RUN_DEFAULTS } from './defaults.js';

export interface ChartWritten {
  out: string;
  bytes: number;
  /** What is drawn: "2 runs", or the data set's name. */
  what: string;
  /** Runs left out because they have no metrics history. */
  skipped: string[];
}

/**
 * Legend labels: the given ones in order, else "latent model, dim 30"-style names from the
 * hyperparameters, with the file name added where two runs would otherwise share a label.
 */
export function runLabels(runs: readonly RunFile[], given: readonly string[]): string[] {
  const base = runs.map(
    (run, i) => given[i] ?? (run.hyper ? modelLabel(run.hyper) : path.basename(run.file)),
  );
  return base.map((label, i) => {
    if (given[i] !== undefined || base.filter((other) => other === label).length === 1)
      return label;
    return `${label} (${path.basename(runs[i]!.file)})`;
  });
}

function write(out: string, svg: string, what: string, skipped: string[] = []): ChartWritten {
  writeTextFileAtomic(out, svg);
  return { out, bytes: Buffer.byteLength(svg), what, skipped };
}

/** Loss and train/validation RMSE per epoch of checkpoints or their .metrics.json files, overlaid. */
export async function plotCurves(
  files: string[],
  out: string,
  options: { labels?: string[]; width?: number } = {},
): Promise<ChartWritten> {
  const labelsGiven = options.labels ?? [];
  if (labelsGiven.length > files.length)
    throw new AlsError(`--label: ${labelsGiven.length} labels for ${files.length} runs`, 2);
  checkOutputFolder(out);
  const runs = files.map(readRunFile);
  const empty = runs.filter((run) => run.history.length === 0).map((run) => run.file);
  if (empty.length === runs.length)
    throw new AlsError(
      `${empty.join(', ')}: no metrics history (no epoch recorded): nothing to plot`,
    );
  const labels = runLabels(runs, labelsGiven);
  const drawn: CurveRun[] = runs
    .map((run, i) => ({ label: labels[i]!, history: run.history }))
    .filter((run) => run.history.length > 0);
  const svg = await curvesSvg(drawn, { width: options.width ?? RUN_DEFAULTS.plotWidth });
  return write(out, svg, `${drawn.length} run${drawn.length === 1 ? '' : 's'}`, empty);
}

/** Where a data-set chart's statistics come from: a stats JSON file, or a data set loaded. */
export type StatsSource = { statsFile: string } | { source: DataSource };

async function statsFrom(from: StatsSource, events: DataEvents): Promise<DatasetStats> {
  const stats =
    'statsFile' in from
      ? readStatsFile(from.statsFile)
      : computeStats(await openDataset(from.source, events));
  if (stats.numRatings === 0) throw new AlsError(`${stats.name} has no ratings: nothing to plot`);
  return stats;
}

/** Log-log ratings per user and per movie with the fitted power laws. */
export async function plotActivity(
  from: StatsSource,
  out: string,
  events: DataEvents = {},
): Promise<ChartWritten> {
  checkOutputFolder(out);
  const stats = await statsFrom(from, events);
  return write(out, await activitySvg(stats), stats.name);
}

/** The rating histogram. */
export async function plotRatings(
  from: StatsSource,
  out: string,
  events: DataEvents = {},
): Promise<ChartWritten> {
  checkOutputFolder(out);
  const stats = await statsFrom(from, events);
  return write(out, await ratingsSvg(stats), stats.name);
}
