/**
 * What the report says, built from the numbers the other layers produce (data set statistics,
 * the checkpoint's metrics history and hyperparameters, evaluation tables, recommendation lists).
 * No I/O here: the CLI gathers the inputs, this turns them into tables, sentences and charts.
 */
import type { RankingMetrics, RatingMetrics } from '../core/evaluate.js';
import type { EpochMetrics, Hyperparameters } from '../core/types.js';
import type { DatasetStats } from '../data/types.js';
import { activitySvg, curvesSvg, ratingsSvg, type CurveRun } from './charts.js';
import type { Cell, ReportChart, ReportContent, ReportSection, ReportTable } from './html.js';

/** Everything a report is made of; absent parts are stated as absent on the page. */
export interface ReportInput {
  /** Path of the checkpoint as the user gave it. */
  checkpointPath: string;
  /** 'gibbs' for a Bayesian checkpoint: no λ/τ/γ (the sampler learns its precisions), the history counts samples. */
  method?: 'als' | 'gibbs';
  generatedAt: Date;
  /** Data set name (e.g. "ml-latest-small"). */
  datasetName: string;
  /** Statistics of the data set; null when the data could not be read (the page says why). */
  stats: DatasetStats | null;
  statsNote?: string;
  hyper: Hyperparameters;
  /** Other settings worth showing: seed, split, threads… */
  settings?: [string, Cell][];
  /** The checkpoint's metrics history (may be empty). */
  history: readonly EpochMetrics[];
  /** Timings measured outside the history (data load, evaluation, report). */
  timings?: [string, Cell][];
  /** Evaluation tables (RMSE/MAE, segments, ranking); empty with a note when there is no held-out set. */
  evaluation: ReportTable[];
  evaluationNote?: string;
  /** "Liked Toy Story"-style lists, one table each. */
  recommendations: ReportTable[];
  recommendationsNote?: string;
}

/** Describes a model in a few words: "latent model, dim 30". */
export function modelLabel(hyper: Pick<Hyperparameters, 'kind' | 'dim'>): string {
  return hyper.kind === 'bias' ? 'bias-only model' : `${hyper.kind} model, dim ${hyper.dim}`;
}

const integer = (n: number): string => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits = 4): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const percent = (share: number): string => `${(share * 100).toFixed(1)} %`;

/** Formats milliseconds for people: "850 ms", "12.3 s", "4 min 05 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** The data set in numbers (what `als stats` prints, in one table). */
export function datasetTable(stats: DatasetStats): ReportTable {
  const u = stats.userActivity;
  const m = stats.itemPopularity;
  return {
    caption: `Data set: ${stats.name}`,
    columns: [],
    rows: [
      ['Ratings', integer(stats.numRatings)],
      ['Users', integer(stats.numUsers)],
      [
        'Movies rated (listed)',
        `${integer(stats.numItemsRated)} (${integer(stats.numItemsListed)})`,
      ],
      ['Density', percent(stats.density)],
      ['Mean rating', `${fixed(stats.meanRating, 3)} stars`],
      [
        'Ratings per user: median / p90 / max',
        `${integer(u.median)} / ${integer(u.p90)} / ${integer(u.max)}`,
      ],
      [
        'Ratings per movie: median / p90 / max',
        `${integer(m.median)} / ${integer(m.p90)} / ${integer(m.max)}`,
      ],
      [
        'Share of ratings on the top 1 % / 10 % of movies',
        `${percent(stats.topItemShare.top1Percent)} / ${percent(stats.topItemShare.top10Percent)}`,
      ],
      [
        'Gini of user activity / movie popularity',
        `${fixed(stats.gini.users, 3)} / ${fixed(stats.gini.items, 3)}`,
      ],
      [
        'Power-law exponent α, users (x ≥ xmin)',
        `${fixed(stats.powerLaw.users.alpha, 2)} (x ≥ ${stats.powerLaw.users.xMin})`,
      ],
      [
        'Power-law exponent α, movies (x ≥ xmin)',
        `${fixed(stats.powerLaw.items.alpha, 2)} (x ≥ ${stats.powerLaw.items.xMin})`,
      ],
    ],
  };
}

/** Hyperparameters (with the symbols of the loss in src/core/types.ts) and other settings. */
export function hyperparameterTable(
  hyper: Hyperparameters,
  settings: [string, Cell][] = [],
  method: 'als' | 'gibbs' = 'als',
): ReportTable {
  if (method === 'gibbs') {
    const rows: Cell[][] = [
      ['Model', `${hyper.kind}, Bayesian (Gibbs sampling; precisions learned, no ridge to set)`],
      ['Latent dimension K', hyper.dim],
      ...settings,
    ];
    return { caption: 'Hyperparameters and settings', columns: [], rows };
  }
  const rows: Cell[][] = [
    ['Model', hyper.kind],
    ['Latent dimension K', hyper.dim],
    ['λ (weight of squared errors)', String(hyper.lambda)],
    ['τ (factor ridge)', String(hyper.tau)],
    ['γ (bias ridge)', String(hyper.gamma)],
  ];
  if (hyper.kind === 'genre') rows.push(['τ_g (genre embedding ridge)', String(hyper.genreTau)]);
  rows.push(['Ridge scaled by rating count (ALS-WR)', hyper.weightedRegularization ? 'yes' : 'no']);
  // Unset: a = 1 (checkpoints written before the exponent existed).
  if (hyper.weightedRegularization)
    rows.push(['Count weight n^a, a', String(hyper.weightExponent ?? 1)]);
  // Unset: γ followed τ's weighting (checkpoints written before the flag existed).
  rows.push([
    'Bias ridge γ scaled by rating count',
    (hyper.weightedBiasRegularization ?? hyper.weightedRegularization) ? 'yes' : 'no',
  ]);
  for (const [name, value] of settings) rows.push([name, value]);
  return { caption: 'Hyperparameters and settings', columns: [], rows };
}

/** Summary of the training history: epochs, final and best RMSEs, time per epoch. */
export function trainingTable(
  history: readonly EpochMetrics[],
  timings: [string, Cell][] = [],
  step = 'epoch',
): ReportTable {
  const rows: Cell[][] = [];
  if (history.length > 0) {
    const last = history[history.length - 1]!;
    let totalMs = 0;
    let best: EpochMetrics | null = null;
    for (const m of history) {
      totalMs += m.elapsedMs;
      if (
        m.validationRmse !== null &&
        Number.isFinite(m.validationRmse) &&
        (best === null || m.validationRmse < best.validationRmse!)
      )
        best = m;
    }
    rows.push([`${step[0]!.toUpperCase()}${step.slice(1)}s`, history.length]);
    if (Number.isFinite(last.loss)) rows.push(['Final loss L', fixed(last.loss, 1)]);
    rows.push(['Final train RMSE', `${fixed(last.trainRmse)} stars`]);
    rows.push([
      'Final validation RMSE',
      last.validationRmse === null ? 'no held-out ratings' : `${fixed(last.validationRmse)} stars`,
    ]);
    if (best)
      rows.push([
        'Best validation RMSE',
        `${fixed(best.validationRmse!)} stars (${step} ${best.epoch})`,
      ]);
    rows.push(['Training time (updates only)', formatDuration(totalMs)]);
    rows.push([`Mean time per ${step}`, formatDuration(totalMs / history.length)]);
  }
  for (const [name, value] of timings) rows.push([name, value]);
  return { caption: 'Training and timings', columns: [], rows };
}

const stars = (x: number | null): string => (x === null ? '–' : x.toFixed(4));
const share = (x: number): string => x.toFixed(4);

/** RMSE/MAE by segment, as a table. */
export function ratingMetricsTable(metrics: RatingMetrics, kind: string): ReportTable {
  const rows: Cell[][] = [
    [
      'All held-out ratings',
      metrics.all.count.toLocaleString('en-US'),
      stars(metrics.all.rmse),
      stars(metrics.all.mae),
    ],
    [
      'User unseen in training',
      metrics.unseenUser.count.toLocaleString('en-US'),
      stars(metrics.unseenUser.rmse),
      stars(metrics.unseenUser.mae),
    ],
    [
      'Movie unseen in training',
      metrics.unseenItem.count.toLocaleString('en-US'),
      stars(metrics.unseenItem.rmse),
      stars(metrics.unseenItem.mae),
    ],
    ...metrics.userActivity.map((b) => [
      `Users with ${b.label} training ratings`,
      b.count.toLocaleString('en-US'),
      stars(b.rmse),
      stars(b.mae),
    ]),
  ];
  const f = metrics.fallbacks;
  const itemFallback =
    kind === 'genre'
      ? `μ + user bias + genre prior (${f.genrePrior} through genres)`
      : 'μ + user bias';
  return {
    caption: 'Rating prediction error',
    columns: ['Segment', 'Ratings', 'RMSE (stars)', 'MAE (stars)'],
    rows,
    note: `Never NaN: ${f.unseenUser} predictions for unseen users use μ + movie bias, ${f.unseenItem} for unseen movies use ${itemFallback}, ${f.both} with both unseen use μ.`,
  };
}

/**
 * Top-k ranking metrics, one column per candidate set (e.g. every movie, and movies above a
 * popularity floor: ranking by predicted rating over every movie favours movies with one or two
 * enthusiastic ratings, which held-out ratings rarely contain).
 */
export function rankingMetricsTable(rankings: readonly RankingMetrics[]): ReportTable {
  const first = rankings[0]!;
  const k = first.k;
  const candidates = (r: RankingMetrics): string =>
    r.minItemRatings > 0 ? `Movies with ≥ ${r.minItemRatings} ratings` : 'All movies';
  const row = (label: string, value: (r: RankingMetrics) => string): Cell[] => [
    label,
    ...rankings.map(value),
  ];
  return {
    caption: `Top-${k} ranking`,
    columns: ['Metric', ...rankings.map(candidates)],
    align: ['left', ...rankings.map(() => 'right' as const)],
    rows: [
      row(`Precision@${k}`, (r) => share(r.precision)),
      row(`Recall@${k}`, (r) => share(r.recall)),
      row(`nDCG@${k}`, (r) => share(r.ndcg)),
      row(`MAP@${k}`, (r) => share(r.map)),
      row('Catalogue coverage', (r) => share(r.coverage)),
      row('Users ranked', (r) => r.users.toLocaleString('en-US')),
    ],
    note:
      `Relevant: held-out ratings ≥ ${first.relevantFrom} stars. Candidates: every movie a user did not rate in training (in the column's set), ranked by predicted rating; relevant movies outside the set still count in recall.` +
      (first.usersSkipped > 0
        ? ` Ranked for an evenly spaced ${first.users.toLocaleString('en-US')} of the ${(first.users + first.usersSkipped).toLocaleString('en-US')} users with a relevant held-out movie (--max-users).`
        : ''),
  };
}

/**
 * Builds the whole page: data set summary and its two charts, training curves (or a sentence saying
 * the checkpoint has no metrics history), hyperparameters and timings, evaluation, recommendations.
 */
export async function buildReportContent(input: ReportInput): Promise<ReportContent> {
  const { hyper, stats } = input;
  const label = modelLabel(hyper);
  const sections: ReportSection[] = [];

  if (stats) {
    const [activity, ratings] = await Promise.all([activitySvg(stats), ratingsSvg(stats)]);
    sections.push({
      title: 'Data set',
      tables: [datasetTable(stats)],
      charts: [
        {
          caption: 'Ratings per user and per movie (log-log)',
          svg: activity,
          note: 'Each point: how many users (movies) have at least x ratings. The line is the maximum-likelihood discrete power law P(x) ∝ x^−α fitted to the tail x ≥ xmin, drawn the same way (it starts at the observed point at xmin); on log-log axes a power-law tail is a straight line of slope 1 − α.',
        },
        { caption: 'Rating histogram', svg: ratings },
      ],
    });
  } else {
    sections.push({
      title: 'Data set',
      paragraphs: [
        input.statsNote ??
          `The data set ${input.datasetName} could not be read, so its summary and charts are missing.`,
      ],
    });
  }

  const run: CurveRun = { label, history: input.history };
  const curves: ReportChart =
    input.history.length > 0
      ? {
          caption:
            input.method === 'gibbs'
              ? 'Sample curve: train RMSE of each draw, held-out RMSE of the running average (x axis: samples)'
              : 'Training curves',
          svg: await curvesSvg([run]),
        }
      : {
          caption: 'Training curves',
          svg: null,
          note: 'This checkpoint has no metrics history (no epoch was recorded), so there are no training curves to draw.',
        };
  sections.push({
    title: 'Training',
    tables: [
      hyperparameterTable(hyper, input.settings, input.method),
      trainingTable(input.history, input.timings, input.method === 'gibbs' ? 'sample' : 'epoch'),
    ],
    charts: [curves],
  });

  sections.push({
    title: 'Evaluation on the held-out ratings',
    paragraphs: input.evaluationNote ? [input.evaluationNote] : [],
    tables: input.evaluation,
  });

  sections.push({
    title: 'Recommendations for a new user',
    paragraphs: input.recommendationsNote ? [input.recommendationsNote] : [],
    tables: input.recommendations,
  });

  return {
    title: `ALS report: ${label} on ${input.datasetName}`,
    subtitle: [
      `Checkpoint: ${input.checkpointPath}`,
      `Generated ${input.generatedAt
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')}`,
    ],
    sections,
  };
}
