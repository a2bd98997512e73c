// The library entry point: what the CLI uses, importable as `import { … } from 'als'`.
// Layers: data (files → dataset → splits, checkpoints), core (ALS maths over typed arrays),
// app (training runs, evaluations, recommendations, reports: plain data and callbacks),
// report (charts and the HTML page). Nothing here comes from src/cli.
export * from './errors.js';

// Data: types, readers, the dataset, cache, splits, download, synthetic data, stats, checkpoints.
export * from './data/types.js';
export * from './data/matrix.js';
export * from './data/home.js';
export * from './data/load.js';
export * from './data/cache.js';
export * from './data/atomic.js';
export { detectLayout, WHOLE_STARS, HALF_STARS, type LayoutPlan } from './data/readers/detect.js';
export { scanRatingsFile } from './data/readers/scan.js';
export { splitTitleYear } from './data/readers/text.js';
export * from './data/stats.js';
export * from './data/splits.js';
export * from './data/download.js';
export * from './data/synth.js';
export * from './data/checkpoint.js';
export * from './data/titles.js';
export * from './data/run-files.js';

// Core: the model, kernels, trainer, evaluation and recommendation maths.
export * from './core/types.js';
export * from './core/kernel.js';
export * from './core/arena.js';
export * from './core/random.js';
export * from './core/normal-equations.js';
export * from './core/kernel-ts.js';
export { wasmKernel, MAX_WASM_DIM } from './core/kernel-wasm.js';
export * from './core/kernels.js';
export * from './core/als.js';
export * from './core/defaults.js';
export * from './core/limits.js';
export * from './core/trainer.js';
export * from './core/evaluate.js';
export * from './core/topk.js';
export * from './core/recommend.js';
export { batchTopN } from './core/batch-pool.js';
export * from './core/recommend-all.js';

// Presentation: charts (Vega-Lite rendered to SVG) and the report page.
export * from './report/charts.js';
export * from './report/sparkline.js';
export { renderReportHtml, type ReportContent } from './report/html.js';

// Application layer: what the CLI calls, callable in-process.
export * from './app/index.js';

// Model selection: cross-validation folds, the run registry (SQLite, driver loaded lazily),
// cross-validation and tuning (search spaces, successive halving).
export * from './data/folds.js';
export * from './registry/registry.js';
export { loadSqlite, type SqliteLoader } from './registry/driver.js';
export * from './app/fold-training.js';
export * from './app/cv.js';
export * from './app/tune-space.js';
export * from './app/asha.js';
export * from './app/tune.js';
export * from './app/selection.js';
export * from './app/record.js';
export * from './app/runs.js';
export * from './app/tune-report.js';
