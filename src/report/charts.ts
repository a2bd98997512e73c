/**
 * Charts as Vega-Lite specifications, compiled by vega-lite and rendered to SVG by Vega's headless
 * `View.toSVG()` (renderer "none": no browser, no canvas). The SVG text is Vega's own output;
 * nothing here assembles SVG by hand.
 *
 * Each chart comes in two steps so it can be tested and reused: `xxxSpec(...)` builds the Vega-Lite
 * spec from plain data (pure), `xxxSvg(...)` renders it. Without node-canvas, Vega estimates text
 * widths from the font size (≈ 0.8 em per character average for the default sans-serif) instead of
 * measuring them; labels are short, and the layouts leave room for the estimate's error.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { EpochMetrics } from '../core/types.js';
import type { DatasetStats } from '../data/types.js';
import { observedCcdf, powerLawCcdfLine, thinForLogAxis } from './powerlaw.js';

/** A training run to draw: its label in the legend and its per-epoch history. */
export interface CurveRun {
  label: string;
  history: readonly EpochMetrics[];
}

/** Layout options shared by the charts (pixels of the plotting area, not of the whole SVG). */
export interface ChartSize {
  width?: number;
  height?: number;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Common look: readable font sizes, no outer frame, white background (SVGs are also opened alone). */
const CONFIG = {
  background: 'white',
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal' as const,
    grid: true,
    gridColor: '#eee',
  },
  legend: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal' as const,
    labelLimit: 360,
  },
  title: { fontSize: 14, fontWeight: 'bold' as const, anchor: 'start' as const },
};

/**
 * Compiles a Vega-Lite spec and renders it headless to a standalone SVG document (string).
 * vega and vega-lite are imported on first use: every `als` command loads this module through the
 * CLI, and they would add a few hundred milliseconds to the start of commands that draw nothing.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const vegaSpec = compile(spec).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Runs that have at least one epoch; a run without history draws nothing. */
function runsWithHistory(runs: readonly CurveRun[]): CurveRun[] {
  return runs.filter((run) => run.history.length > 0);
}

/**
 * Training curves: the loss per epoch (top) and train / validation RMSE per epoch (bottom), one
 * colour per run, solid = train and dashed = validation. The loss axis is logarithmic when the
 * losses span more than a factor 20 (the first epoch from random factors is far above the rest,
 * and a bias-only run sits far above a latent one); the RMSE axis is linear and need not start at 0.
 * Gibbs runs (src/app/bayes-run.ts) have no loss (a sampler minimises nothing: NaN, null in their
 * metrics files) and count samples, not epochs: when every run plotted is one, the x axis says
 * "Sample" and only the RMSE panel is drawn (train RMSE of each draw, held-out RMSE of the running
 * average). Throws when no run has any epoch: callers say "no metrics history" instead of drawing
 * empty axes.
 */
export function curvesSpec(runs: readonly CurveRun[], size: ChartSize = {}): TopLevelSpec {
  const drawn = runsWithHistory(runs);
  if (drawn.length === 0) throw new Error('curvesSpec: no run has a metrics history');
  const width = size.width ?? 520;
  const height = size.height ?? 200;
  const lossRows: { run: string; epoch: number; loss: number }[] = [];
  const rmseRows: { run: string; epoch: number; split: string; rmse: number }[] = [];
  let minLoss = Infinity;
  let maxLoss = -Infinity;
  let maxEpochs = 0;
  for (const run of drawn) {
    maxEpochs = Math.max(maxEpochs, run.history.length);
    for (const m of run.history) {
      if (Number.isFinite(m.loss) && m.loss > 0) {
        lossRows.push({ run: run.label, epoch: m.epoch, loss: m.loss });
        minLoss = Math.min(minLoss, m.loss);
        maxLoss = Math.max(maxLoss, m.loss);
      }
      if (Number.isFinite(m.trainRmse))
        rmseRows.push({ run: run.label, epoch: m.epoch, split: 'train', rmse: m.trainRmse });
      if (m.validationRmse !== null && Number.isFinite(m.validationRmse)) {
        rmseRows.push({
          run: run.label,
          epoch: m.epoch,
          split: 'validation',
          rmse: m.validationRmse,
        });
      }
    }
  }
  const sampled = drawn.every((run) => run.history.every((m) => !Number.isFinite(m.loss)));
  const logLoss = maxLoss / minLoss > 20;
  // Points on the lines help when there are only a few epochs (a bias-only run converges in 2–3).
  const point = maxEpochs <= 30 ? { size: 18, filled: true } : false;
  const runOrder = drawn.map((run) => run.label);
  const color = {
    field: 'run',
    type: 'nominal' as const,
    title: 'Run',
    sort: runOrder,
    scale: { scheme: 'category10' },
  };
  const colorStroke = { ...color, legend: { symbolType: 'stroke', symbolStrokeWidth: 3 } };
  const epochAxis = {
    field: 'epoch',
    type: 'quantitative' as const,
    title: sampled
      ? 'Sample (Gibbs sweeps over users and movies)'
      : 'Epoch (full passes over users and movies)',
    axis: { tickMinStep: 1 },
  };
  return {
    $schema: SCHEMA,
    config: CONFIG,
    vconcat: [
      ...(sampled
        ? []
        : [
            {
              title: 'Training loss per epoch',
              width,
              height,
              data: { values: lossRows },
              mark: { type: 'line', point, strokeWidth: 2 },
              encoding: {
                x: epochAxis,
                y: {
                  field: 'loss',
                  type: 'quantitative',
                  title: logLoss ? 'Loss L (stars², log scale)' : 'Loss L (stars²)',
                  scale: logLoss ? { type: 'log' } : { zero: false },
                  axis: { format: '~s' },
                },
                color: colorStroke,
              },
            },
          ]),
      {
        title: sampled
          ? 'RMSE per sample (solid: train, of each draw; dashed: validation, of the running average)'
          : 'RMSE per epoch (solid: train, dashed: validation)',
        width,
        height,
        data: { values: rmseRows },
        mark: { type: 'line', point, strokeWidth: 2 },
        encoding: {
          x: epochAxis,
          y: { field: 'rmse', type: 'quantitative', title: 'RMSE (stars)', scale: { zero: false } },
          color: colorStroke,
          strokeDash: {
            field: 'split',
            type: 'nominal',
            title: 'RMSE on',
            // Vega-Lite leaves the dash symbols without a stroke colour (they would be invisible): set one.
            legend: {
              symbolType: 'stroke',
              symbolStrokeWidth: 2,
              symbolSize: 300,
              symbolStrokeColor: '#333',
              encode: { symbols: { update: { stroke: { value: '#333' } } } },
            },
            scale: {
              domain: ['train', 'validation'],
              range: [
                [1, 0],
                [6, 4],
              ],
            },
          },
          detail: { field: 'split', type: 'nominal' },
        },
      },
    ],
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

/** Renders {@link curvesSpec} to SVG. */
export function curvesSvg(runs: readonly CurveRun[], size?: ChartSize): Promise<string> {
  return renderSvg(curvesSpec(runs, size));
}

/** Formats a power-law fit for a legend: "power law fit: α = 1.52, x ≥ 23". */
function fitLabel(alpha: number, xMin: number): string {
  return `power-law fit: α = ${alpha.toFixed(2)}, x ≥ ${xMin}`;
}

/**
 * One log-log panel: the observed complementary cumulative distribution "how many users (movies)
 * have at least x ratings" as points, and the fitted discrete power law over its tail x ≥ xMin as
 * a line (see powerLawCcdfLine). The cumulative form is used rather than raw frequencies because
 * in the tail nearly every count occurs once, which draws a flat row of 1s that no line can be
 * compared with; the cumulative curve keeps every user and shows the tail's slope (1 − α).
 */
function activityPanel(
  title: string,
  noun: string,
  distribution: readonly { count: number; frequency: number }[],
  fit: { alpha: number; xMin: number },
  width: number,
  height: number,
) {
  const observed = 'observed';
  const line = powerLawCcdfLine(distribution, fit);
  const fitted = line.length > 0 ? fitLabel(fit.alpha, fit.xMin) : null;
  const domain = fitted ? [observed, fitted] : [observed];
  const colors = fitted ? ['#4c78a8', '#e45756'] : ['#4c78a8'];
  const x = {
    field: 'count',
    type: 'quantitative' as const,
    title: `x = ratings per ${noun} (count, log)`,
    scale: { type: 'log' as const },
  };
  // The domain stops at ½ (the fitted line is cut there) rather than at the next power of ten below.
  const y = {
    field: 'atLeast',
    type: 'quantitative' as const,
    title: `${noun[0]!.toUpperCase()}${noun.slice(1)}s with ≥ x ratings (log)`,
    scale: { type: 'log' as const, domainMin: 0.5, nice: false },
  };
  const colorEncoding = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: { domain, range: colors },
    legend: { orient: 'bottom' as const, direction: 'vertical' as const },
  };
  const layer: object[] = [
    {
      data: {
        values: thinForLogAxis(observedCcdf(distribution)).map((p) => ({
          count: p.count,
          atLeast: p.atLeast,
          series: observed,
        })),
      },
      // aria: false drops a per-point aria-label (which would double the SVG's size for no reader's gain).
      mark: { type: 'circle', size: 16, opacity: 0.7, aria: false },
      encoding: { x, y, color: colorEncoding },
    },
  ];
  if (fitted) {
    layer.push({
      data: { values: line.map((p) => ({ count: p.count, atLeast: p.atLeast, series: fitted })) },
      mark: { type: 'line', strokeWidth: 2 },
      encoding: { x, y, color: colorEncoding },
    });
  }
  return { title, width, height, layer, resolve: { scale: { color: 'shared' } } };
}

/**
 * Activity: log-log distributions of ratings per user and ratings per movie (the power law behind
 * collaborative filtering: a few users and movies hold most ratings), each with its fitted power law.
 */
export function activitySpec(stats: DatasetStats, size: ChartSize = {}): TopLevelSpec {
  // Without canvas, Vega estimates a rotated axis title's length; taller than it, the plot keeps
  // its title close instead of pushing it up.
  const width = size.width ?? 300;
  const height = size.height ?? 270;
  return {
    $schema: SCHEMA,
    config: CONFIG,
    hconcat: [
      activityPanel(
        `User activity (${stats.numUsers.toLocaleString('en-US')} users)`,
        'user',
        stats.userActivityDistribution,
        stats.powerLaw.users,
        width,
        height,
      ),
      activityPanel(
        `Movie popularity (${stats.numItemsRated.toLocaleString('en-US')} rated movies)`,
        'movie',
        stats.itemPopularityDistribution,
        stats.powerLaw.items,
        width,
        height,
      ),
    ],
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  } as TopLevelSpec;
}

/** Renders {@link activitySpec} to SVG. */
export function activitySvg(stats: DatasetStats, size?: ChartSize): Promise<string> {
  return renderSvg(activitySpec(stats, size));
}

/** Rating histogram: number of ratings at each value of the scale (whole or half stars). */
export function ratingsSpec(stats: DatasetStats, size: ChartSize = {}): TopLevelSpec {
  const rows = [...stats.ratingHistogram].sort((a, b) => a.value - b.value);
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: `Rating histogram (${stats.numRatings.toLocaleString('en-US')} ratings, mean ${stats.meanRating.toFixed(2)})`,
    width: size.width ?? 480,
    height: size.height ?? 220,
    data: { values: rows },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: {
        field: 'value',
        type: 'ordinal',
        title: 'Rating (stars)',
        sort: rows.map((r) => r.value),
        axis: { labelAngle: 0 },
      },
      y: {
        field: 'count',
        type: 'quantitative',
        title: 'Number of ratings',
        axis: { format: ',d' },
      },
    },
  };
}

/** Renders {@link ratingsSpec} to SVG. */
export function ratingsSvg(stats: DatasetStats, size?: ChartSize): Promise<string> {
  return renderSvg(ratingsSpec(stats, size));
}
