/**
 * Charts of a tune (Vega-Lite, rendered by ./charts.ts's renderSvg): the objective against each
 * hyperparameter of the search space (one point per trial and halving round, coloured by the
 * round's epochs, so the configurations that went on stand out), and the halving rounds (each
 * trial's score at every milestone it reached: a line per trial that ends where it was dropped).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartSize } from './charts.js';

/** One (trial, rung) of a tune: the configuration's values, the milestone and the mean score over the inner folds. */
export interface TunePoint {
  trial: number;
  epochs: number;
  score: number;
  configuration: Record<string, number | string | boolean>;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
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
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const },
  title: { fontSize: 14, fontWeight: 'bold' as const, anchor: 'start' as const },
};

/**
 * The objective against each hyperparameter, side by side. Numeric values spanning more than a
 * factor 20 get a log axis (the spaces' :log ranges); a list of strings or booleans is an ordinal
 * axis. Diverged points (NaN) are left out.
 */
export function tuneScatterSpec(
  points: readonly TunePoint[],
  names: readonly string[],
  metric: string,
  size: ChartSize = {},
): TopLevelSpec {
  const finite = points.filter((p) => Number.isFinite(p.score));
  const values = finite.map((p) => ({
    trial: p.trial + 1,
    epochs: p.epochs,
    score: p.score,
    ...Object.fromEntries(names.map((n) => [`v_${n}`, p.configuration[n]])),
  }));
  const panel = (name: string) => {
    const xs = finite
      .map((p) => p.configuration[name])
      .filter((v): v is number => typeof v === 'number');
    const numeric = xs.length === finite.length && xs.length > 0;
    const log = numeric && Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) > 20;
    return {
      width: size.width ?? 220,
      height: size.height ?? 200,
      mark: { type: 'point' as const, filled: true, size: 45, opacity: 0.8 },
      encoding: {
        x: {
          field: `v_${name}`,
          type: numeric ? ('quantitative' as const) : ('ordinal' as const),
          title: name,
          ...(numeric
            ? { scale: { type: log ? ('log' as const) : ('linear' as const), zero: false } }
            : {}),
        },
        y: {
          field: 'score',
          type: 'quantitative' as const,
          title: `${metric} (inner CV)`,
          scale: { zero: false },
        },
        color: {
          field: 'epochs',
          type: 'ordinal' as const,
          title: 'epochs',
          scale: { scheme: 'viridis' },
        },
        tooltip: [
          { field: 'trial', type: 'quantitative' as const },
          { field: 'score', type: 'quantitative' as const, format: '.4f' },
        ],
      },
    };
  };
  return {
    $schema: SCHEMA,
    config: CONFIG,
    data: { values },
    hconcat: names.map(panel),
  } as TopLevelSpec;
}

/** The halving rounds: each trial's score at each milestone it reached. */
export function tuneRoundsSpec(
  points: readonly TunePoint[],
  metric: string,
  size: ChartSize = {},
): TopLevelSpec {
  const values = points
    .filter((p) => Number.isFinite(p.score))
    .map((p) => ({ trial: `trial ${p.trial + 1}`, epochs: p.epochs, score: p.score }));
  return {
    $schema: SCHEMA,
    config: CONFIG,
    width: size.width ?? 480,
    height: size.height ?? 260,
    data: { values },
    mark: { type: 'line', point: true, opacity: 0.7 },
    encoding: {
      x: {
        field: 'epochs',
        type: 'quantitative',
        title: 'epochs (halving milestones)',
        scale: { type: 'log' },
      },
      y: {
        field: 'score',
        type: 'quantitative',
        title: `${metric} (inner CV)`,
        scale: { zero: false },
      },
      detail: { field: 'trial', type: 'nominal' },
      color: { value: '#4c78a8' },
    },
  } as TopLevelSpec;
}
