/**
 * The report of a checkpoint: one self-contained HTML page about a trained model: the data set
 * (summary, activity and rating charts), training (hyperparameters, timings, curves), evaluation
 * on the held-out ratings of the checkpoint's own split (RMSE/MAE by segment, top-k ranking), and
 * the lists a new user who liked "Toy Story" or "Saw" would get. What `als report` and
 * `als train --report` call.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { evaluateRanking, evaluateRatings, type TrainingIndex } from '../core/evaluate.js';
import { writeTextFileAtomic } from '../data/atomic.js';
import type { Checkpoint } from '../data/checkpoint.js';
import { readAnyCheckpoint } from '../data/bayes-checkpoint.js';
import { dataHome } from '../data/home.js';
import { loadDataset } from '../data/load.js';
import { makeSplit } from '../data/splits.js';
import { computeStats } from '../data/stats.js';
import { buildTitleIndex, resolveTitle } from '../data/titles.js';
import type { Dataset } from '../data/types.js';
import { AlsError } from '../errors.js';
import {
  buildReportContent,
  formatDuration,
  rankingMetricsTable,
  ratingMetricsTable,
} from '../report/content.js';
import { renderReportHtml, type Cell, type ReportTable } from '../report/html.js';
import {
  checkOutputFolder,
  checkSameDataset,
  openDataset,
  type DataEvents,
  type DataSource,
} from './data.js';
import { evaluateBayesian } from './bayes-use.js';
import { RUN_DEFAULTS } from './defaults.js';
import { recommendForNewUser } from './recommend.js';

/** The titles of the write-up's sanity check: a new user who liked only this movie. */
export const LIKED_TITLES = ['Toy Story', 'Saw'] as const;

/** Where `als train --report` puts the report: beside the checkpoint, like its metrics files. */
export function reportPathFor(checkpointFile: string): string {
  return `${checkpointFile}.report.html`;
}

export interface WriteReportOptions {
  /** Checkpoint file (as the user gave it; shown on the page). */
  checkpointFile: string;
  /** HTML file to write. */
  out: string;
  /** The checkpoint already in memory (als train), else it is read from checkpointFile. */
  checkpoint?: Checkpoint;
  /** The data set already in memory (als train), else it is found (see findDataset). */
  dataset?: Dataset;
  /** --data and friends; `data` set when the user named the data set explicitly. */
  data?: DataSource;
  /** Length of the ranked lists (default RUN_DEFAULTS.k). */
  k?: number;
  /** Rank for at most this many users, evenly spaced (default RUN_DEFAULTS.maxRankingUsers). */
  maxUsers?: number;
  /** Warnings and download progress while the data set is found. */
  events?: DataEvents;
}

export interface WriteReportResult {
  out: string;
  bytes: number;
  elapsedMs: number;
}

/**
 * The checkpoint's data set: --data when given; else the folder recorded in the checkpoint, or
 * its name in the data home. Missing → null and a sentence saying so (the page still shows the
 * training history). A different data set (fingerprint) is an error: its numbers would be wrong.
 */
async function findDataset(
  checkpoint: Checkpoint,
  options: WriteReportOptions,
): Promise<{ dataset: Dataset | null; note?: string }> {
  const warn = options.events?.onWarning ?? (() => {});
  let dataset: Dataset | null = options.dataset ?? null;
  if (!dataset) {
    if (options.data?.data !== undefined) {
      dataset = await openDataset(options.data, options.events);
    } else {
      const candidates = [
        checkpoint.dataset.dir,
        path.join(dataHome(options.data?.dataHome), checkpoint.dataset.name),
      ];
      const dir = candidates.find((candidate) => existsSync(candidate));
      if (dir === undefined) {
        return {
          dataset: null,
          note: `The data set ${checkpoint.dataset.name} was not found (looked in ${candidates.join(' and ')}); pass --data to include its summary, charts and the evaluation.`,
        };
      }
      dataset = await loadDataset(dir, {
        dedupe: options.data?.dedupe,
        cache: options.data?.cache,
        warn,
      });
    }
  }
  checkSameDataset(options.checkpointFile, checkpoint, dataset);
  return { dataset };
}

/**
 * For each title of LIKED_TITLES found exactly in the catalogue: the top 10 for a new user who
 * rated only that movie, at the top of the scale, folded in against the trained movies, with the
 * default popularity floor: the list `als recommend --user-likes "<title>"` prints (tested).
 */
export function likedLists(checkpoint: Checkpoint): { tables: ReportTable[]; missing: string[] } {
  const index = buildTitleIndex(checkpoint.catalog, checkpoint.itemTrainCounts);
  const tables: ReportTable[] = [];
  const missing: string[] = [];
  for (const title of LIKED_TITLES) {
    let exact: string;
    try {
      const match = resolveTitle(index, title);
      if (match.how !== 'exact') throw new AlsError('not exact');
      exact = match.query;
    } catch (error) {
      if (!(error instanceof AlsError)) throw error;
      missing.push(title);
      continue;
    }
    // Ranked as `als recommend --user-likes` ranks a new user (taste match, or the predicted
    // rating for the bias-only model), with the default filters: movies nobody rated only with
    // --include-unrated.
    const result = recommendForNewUser(checkpoint, { likes: [exact] }, { top: 10 });
    tables.push({
      caption: `Liked “${result.resolved[0]!.title}”`,
      columns: ['#', 'Title', 'Year', 'Genres', 'Ratings', 'Predicted (stars)'],
      align: ['right', 'left', 'right', 'left', 'right', 'right'],
      rows: result.recommendations.map((r) => [
        r.rank,
        r.title + (r.neverRated ? ' (never rated)' : ''),
        r.year === null ? '–' : String(r.year),
        r.genres.join(', '),
        r.ratings.toLocaleString('en-US'),
        r.score.toFixed(2),
      ]),
    });
  }
  return { tables, missing };
}

/** Builds the report of a checkpoint and writes it atomically to options.out. */
export async function writeReport(options: WriteReportOptions): Promise<WriteReportResult> {
  const startedMs = performance.now();
  checkOutputFolder(options.out);
  const checkpoint = options.checkpoint ?? readAnyCheckpoint(options.checkpointFile);
  const timings: [string, Cell][] = [];

  const loadStartMs = performance.now();
  const { dataset, note: datasetNote } = await findDataset(checkpoint, options);
  const stats = dataset ? computeStats(dataset) : null;
  if (dataset && !options.dataset)
    timings.push([
      'Report: data load and statistics',
      formatDuration(performance.now() - loadStartMs),
    ]);

  let evaluation: ReportTable[] = [];
  let evaluationNote: string | undefined;
  if (!dataset) {
    evaluationNote = datasetNote;
  } else {
    const evalStartMs = performance.now();
    const split = makeSplit(dataset, checkpoint.split.spec, checkpoint.split.seed, {
      trainTimestamps: false,
    });
    if (split.test.length === 0) {
      evaluationNote = `The split ${checkpoint.split.spec} holds out no ratings, so there is nothing to evaluate on.`;
    } else {
      const train: TrainingIndex = {
        offsets: checkpoint.trainItemsByUser.offsets,
        items: checkpoint.trainItemsByUser.items,
        itemCounts: checkpoint.itemTrainCounts,
      };
      const bayes = checkpoint.bayes
        ? evaluateBayesian({ ...checkpoint, bayes: checkpoint.bayes }, split.test, true)
        : null;
      const ratings = evaluateRatings(checkpoint.state, train, split.test, {
        genreOffsets: checkpoint.catalog.genreOffsets,
        ...(bayes ? { predictions: bayes.predictions } : {}),
      });
      const rankingOptions = {
        k: options.k ?? RUN_DEFAULTS.k,
        maxUsers: options.maxUsers ?? RUN_DEFAULTS.maxRankingUsers,
      };
      // Every movie (what als eval reports by default), and the popularity floor of als recommend.
      const rankings = [0, RUN_DEFAULTS.minRatings].map((minItemRatings) =>
        evaluateRanking(checkpoint.state, train, split.test, { ...rankingOptions, minItemRatings }),
      );
      evaluation = [
        ratingMetricsTable(ratings, checkpoint.state.hyper.kind),
        rankingMetricsTable(rankings),
      ];
      if (bayes) {
        evaluation.splice(1, 0, {
          caption: `Calibration: share of held-out ratings inside the central predictive intervals (average over ${bayes.summary.storedSamples} stored samples)`,
          columns: ['Central interval', 'Nominal', 'Measured'],
          rows: bayes.summary.calibration.map((c) => [
            `${Math.round(c.level * 100)} %`,
            `${(c.level * 100).toFixed(1)} %`,
            `${(c.share * 100).toFixed(1)} %`,
          ]),
        });
      }
      evaluationNote = `Split ${checkpoint.split.spec} (seed ${checkpoint.split.seed}), re-created from the data set: ${split.report.testRatings.toLocaleString('en-US')} held-out ratings the model never saw.`;
      timings.push(['Report: evaluation', formatDuration(performance.now() - evalStartMs)]);
    }
  }

  const liked = likedLists(checkpoint);
  const recommendationNotes = [
    `A new user who rated only this movie (${checkpoint.dataset.scale.max} stars), folded in against the trained movies; movies with fewer than ${RUN_DEFAULTS.minRatings} training ratings are left out. Predicted ratings are clipped to the scale.`,
  ];
  if (checkpoint.state.hyper.kind === 'bias') {
    recommendationNotes.push(
      'A bias-only model has no taste factors: every new user gets the movies with the highest movie bias, whatever they liked.',
    );
  }
  if (liked.missing.length > 0) {
    recommendationNotes.push(
      `${liked.missing.map((t) => `“${t}”`).join(' and ')} ${liked.missing.length === 1 ? 'is' : 'are'} not in this data set, so there is no list for ${liked.missing.length === 1 ? 'it' : 'them'}.`,
    );
  }
  const recommendationsNote = recommendationNotes.join(' ');

  const settings: [string, Cell][] = [
    ['Seed', checkpoint.seed],
    [
      'Split',
      `${checkpoint.split.spec}: ${checkpoint.split.trainRatings.toLocaleString('en-US')} train, ${checkpoint.split.testRatings.toLocaleString('en-US')} held out`,
    ],
    checkpoint.bayes
      ? [
          'Chain',
          `${checkpoint.epochsDone} samples, burn-in ${checkpoint.bayes.burnIn}, thin ${checkpoint.bayes.thin}: ${checkpoint.bayes.run.storedSamples.length} stored samples`,
        ]
      : ['Epochs behind the stored model', checkpoint.epochsDone],
  ];
  if (checkpoint.bestEpoch !== null)
    settings.push([
      'Stored model',
      `epoch ${checkpoint.bestEpoch} (best validation RMSE, early stopping)`,
    ]);
  settings.push(['Kernel, threads', `${checkpoint.kernel}, ${checkpoint.threads}`]);
  settings.push(['Checkpoint written', checkpoint.createdAt]);

  const content = await buildReportContent({
    checkpointPath: options.checkpointFile,
    method: checkpoint.bayes ? 'gibbs' : 'als',
    generatedAt: new Date(),
    datasetName: checkpoint.dataset.name,
    stats,
    statsNote: datasetNote,
    hyper: checkpoint.state.hyper,
    settings,
    history: checkpoint.metrics,
    timings,
    evaluation,
    evaluationNote,
    recommendations: liked.tables,
    recommendationsNote,
  });
  const html = renderReportHtml(content);
  writeTextFileAtomic(options.out, html);
  return {
    out: options.out,
    bytes: Buffer.byteLength(html),
    elapsedMs: performance.now() - startedMs,
  };
}
