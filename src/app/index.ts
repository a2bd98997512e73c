/**
 * The application layer: training runs, evaluations, recommendations, similar movies, reports
 * and charts as functions returning plain data and reporting progress through callbacks. It never
 * prints and never reads the environment; the CLI (src/cli) and library users call it.
 */
export * from './defaults.js';
export * from './data.js';
export * from './train.js';
export * from './evaluate.js';
export * from './listing.js';
export * from './recommend.js';
export * from './similar.js';
export * from './report.js';
export * from './plot.js';
export * from './recommender.js';
