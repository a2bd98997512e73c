/**
 * The defaults of a run that are not hyperparameters (those are src/core/defaults.ts), declared
 * once: the app layer applies them when a caller leaves a field out, and the CLI's option
 * registry (src/cli/options.ts) shows them in the help.
 */
export const RUN_DEFAULTS = Object.freeze({
  /** Epochs of a training run (the write-up's 100; the default ALS-WR model plateaus well before). */
  epochs: 100,
  /** The held-out part of a training run. */
  split: 'random:0.1',
  /** Seed of the split and of the initial factors. */
  seed: 1,
  /** Length of the ranked lists of the ranking metrics (eval, report). */
  k: 10,
  /**
   * Ranking metrics score every movie for every evaluated user (users × movies × dim
   * multiply-adds): all users of ML-100K … ML-25M-sized sets up to this many; beyond it an evenly
   * spaced subset, and the result says how many were skipped. The same for `als eval` and
   * `als report` (the report used 2000 before; the two now agree).
   */
  maxRankingUsers: 20000,
  /** Length of a recommendation or similar-movies list. */
  top: 10,
  /**
   * Default popularity floor of the lists (training ratings per movie). Measured with
   * `--all-users` top-10 lists of the default model: with no floor, 87 % of all top-10 slots on
   * ml-latest-small (52 % on ml-100k) go to movies with fewer than 5 ratings, whose biases rest on
   * a rating or two. A floor of 10 still leaves 57 % of ml-latest-small slots to movies with 10–19
   * ratings; 20 gives lists whose median movie has 39 (ml-100k: 122) ratings, keeping 1,173 of
   * 9,742 movies (ml-100k: 909 of 1,682) recommendable.
   */
  minRatings: 20,
  /** Width of each plot area of `als plot curves`, in pixels. */
  plotWidth: 520,
});
