/**
 * The HTML page of a recorded tune (`als report --tune <id>`): what it searched and chose, the
 * objective against each hyperparameter and the halving rounds as charts, and the trials as a
 * table. Everything comes from the registry: the tune's spec and result and its trials' runs.
 */
import { writeTextFileAtomic } from '../data/atomic.js';
import { dataHome as resolveDataHome } from '../data/home.js';
import { UsageError } from '../errors.js';
import { openRegistry, registryPath, type RunSummary } from '../registry/registry.js';
import { renderReportHtml, type ReportTable } from '../report/html.js';
import { renderSvg } from '../report/charts.js';
import { tuneRoundsSpec, tuneScatterSpec, type TunePoint } from '../report/tune-charts.js';
import { checkOutputFolder } from './data.js';
import { TUNABLE, type SearchSpace } from './tune-space.js';

export interface TuneReportOptions {
  tuneId: number;
  out: string;
  dataHome?: string;
  /** The registry file itself (default <data home>/runs.sqlite). */
  file?: string;
}

/** Mean score per (trial, rung) over the inner folds of the tune's finished trial runs. */
export function tunePoints(
  runs: readonly RunSummary[],
  names: readonly string[],
  metric: string,
): TunePoint[] {
  const groups = new Map<string, RunSummary[]>();
  for (const run of runs) {
    const key = `${run.trial}:${run.rung}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const points: TunePoint[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const scores = group.map((r) => r.metrics[metric] ?? Number.NaN);
    const h = first.hyperparameters as Record<string, number | string | boolean>;
    points.push({
      trial: first.trial ?? 0,
      epochs: Number(h.epochs),
      score: scores.reduce((s, x) => s + x, 0) / scores.length,
      configuration: Object.fromEntries(names.map((n) => [n, h[TUNABLE[n]!.field]!])),
    });
  }
  return points.sort((a, b) => a.trial - b.trial || a.epochs - b.epochs);
}

export async function writeTuneReport(
  options: TuneReportOptions,
): Promise<{ out: string; bytes: number; elapsedMs: number }> {
  const t0 = performance.now();
  const file = options.file ?? registryPath(resolveDataHome(options.dataHome));
  checkOutputFolder(options.out);
  const registry = await openRegistry(file);
  let tune, runs;
  try {
    tune = registry.getTune(options.tuneId);
    if (tune === null)
      throw new UsageError(
        `--tune ${options.tuneId}: no such tune in ${file} (als runs --command tune lists the trials with their tune)`,
      );
    runs = registry.listRuns({ tuneId: options.tuneId, kind: 'tune-trial', status: 'finished' });
  } finally {
    registry.close();
  }
  const spec = tune.spec as {
    metric: string;
    space: SearchSpace;
    innerFolds: string;
    outer: { spec: string } | null;
  };
  const names = spec.space.dimensions.map((d) => d.name);
  const points = tunePoints(runs, names, spec.metric);
  const result = tune.result as {
    bestFlags?: string;
    best?: { trial: number; score: number; epochs: number };
  } | null;
  const table: ReportTable = {
    caption: `Trials (mean ${spec.metric} over the ${spec.innerFolds} inner folds)`,
    columns: ['trial', ...names, 'epochs', spec.metric],
    rows: points.map((p) => [
      p.trial + 1,
      ...names.map((n) => String(p.configuration[n])),
      p.epochs,
      Number.isFinite(p.score) ? p.score.toFixed(4) : 'diverged',
    ]),
  };
  const charts =
    points.length === 0
      ? [{ caption: 'No finished trial', svg: null, note: 'The tune has no finished trial yet.' }]
      : [
          {
            caption: `${spec.metric} against each hyperparameter (colour: epochs of the halving round)`,
            svg: await renderSvg(tuneScatterSpec(points, names, spec.metric)),
          },
          {
            caption: 'Halving rounds: each trial’s score at the milestones it reached',
            svg: await renderSvg(tuneRoundsSpec(points, spec.metric)),
          },
        ];
  const html = renderReportHtml({
    title: `als tune ${tune.id}`,
    subtitle: [`${file}`, `created ${tune.createdAt}, ${tune.status}`],
    sections: [
      {
        title: 'Search',
        paragraphs: [
          `Objective ${spec.metric}, scored by ${spec.innerFolds} folds ${spec.outer ? `inside the training part of ${spec.outer.spec}` : 'on every rating'}; space: ${names.join(', ')}.`,
          result?.best
            ? `Best: trial ${result.best.trial + 1}, ${result.bestFlags}: ${spec.metric} ${result.best.score.toFixed(4)}.`
            : 'The tune has not finished.',
        ],
        charts,
        tables: [table],
      },
    ],
  });
  writeTextFileAtomic(options.out, html);
  return { out: options.out, bytes: Buffer.byteLength(html), elapsedMs: performance.now() - t0 };
}
