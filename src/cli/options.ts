/**
 * The option registry: every option of every subcommand, declared once — its flag, its zod schema
 * (the value as typed → the value the app layer receives), its default and its help text. A
 * subcommand lists the keys it takes (`addOptions`) and reads them back validated (`readOptions`).
 * The help line of an option with a default always ends in "(default: …)", generated here from
 * the declaration, so help and behaviour cannot drift apart (test/cli-options.test.ts walks this
 * registry and every subcommand's --help).
 *
 * Adding an option is one entry in OPTIONS (plus its key in the subcommand's list). Defaults are
 * the app layer's (src/app/defaults.ts, which takes the hyperparameters from src/core/defaults.ts).
 */
import { Option, type Command } from 'commander';
import { z } from 'zod';
import {
  DEFAULT_HYPERPARAMETERS,
  DEFAULT_MODEL_KIND,
  defaultHyperparameters,
} from '../core/defaults.js';
import { biasRidgeWeighted } from '../core/kernel.js';
import { MODEL_KINDS } from '../core/types.js';
import { DEFAULT_DATASET } from '../data/home.js';
import { DEFAULT_BAYESIAN_OPTIONS } from '../app/bayes.js';
import { RUN_DEFAULTS } from '../app/defaults.js';
import { SYNTH_DEFAULTS } from '../data/synth.js';
import { UsageError } from '../errors.js';
import { parseFoldSpec } from '../data/folds.js';

/** One option. `schema` receives what commander parsed: a string, a boolean, or string[] (repeatable). */
export interface OptionSpec {
  /** Commander flags, e.g. '--dim <n>'. The key in OPTIONS is commander's attribute name for it. */
  flags: string;
  help: string;
  schema: z.ZodType;
  /** A fixed default, applied when the option is absent and shown in the help. */
  default?: unknown;
  /** The default as the help states it, when it is not one fixed value (e.g. "all cores"). */
  defaultText?: string;
  /** Repeatable: every occurrence is collected into a string[]. */
  repeatable?: boolean;
  /** A `--no-…` counterpart (help text): the value is true, false, or absent when neither is given. */
  negation?: { flags: string; help: string };
  /** Older spellings still accepted, not shown in the help (so the README's commands still run). */
  aliases?: string[];
}

// Value schemas. Messages start with what is wrong; readOptions prefixes the flag ("--dim: ...").
const toNumber = (v: unknown): unknown =>
  v === undefined ? undefined : typeof v === 'string' && v.trim() === '' ? Number.NaN : Number(v);
export const integer = (what: string, min: 0 | 1) =>
  z.preprocess(
    toNumber,
    z
      .number({ error: `must be a number (${what})` })
      .int({ error: `must be an integer (${what})` })
      .min(min, { error: min === 1 ? 'must be a positive whole number' : 'must not be negative' }),
  );
export const positiveNumber = (what: string) =>
  z.preprocess(
    toNumber,
    z
      .number({ error: `${what} must be a number` })
      .refine(Number.isFinite, { error: `${what} must be a finite number` })
      .refine((x) => x > 0, { error: `${what} must be positive` }),
  );
export const text = (what = 'a value') =>
  z.string().min(1, { error: `must not be empty (${what})` });
const year = z.preprocess(
  toNumber,
  z.number({ error: 'must be a year' }).int({ error: 'must be a year' }),
);
const flag = z.boolean();
const texts = z.array(z.string().min(1, { error: 'must not be empty' }));

const count = (what: string, max = Number.MAX_SAFE_INTEGER, maxMessage = 'is too large') =>
  z.preprocess(
    toNumber,
    z
      .number({ error: `must be a number (${what})` })
      .int('must be a whole number')
      .positive('must be positive')
      .max(max, maxMessage),
  );
const exponent = z.preprocess(
  toNumber,
  z.number({ error: 'must be a number' }).min(0, 'must be ≥ 0').max(10, 'must be ≤ 10'),
);

/** A fold spec, checked with the data layer's parser; a bare K means random:K. */
const foldSpec = (nested: boolean) =>
  z.string().transform((v, ctx) => {
    const spec = /^\d+$/.test(v.trim()) ? `random:${v.trim()}` : v.trim();
    try {
      parseFoldSpec(spec);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
    if (nested && spec === 'ml100k') {
      ctx.addIssue({
        code: 'custom',
        message:
          'the official ml100k folds cover the whole data set; inner folds must be random:K, user:K or temporal:K',
      });
      return z.NEVER;
    }
    return spec;
  });

/**
 * A rating scale `min-max[:step]` ("1-10", "0.5-5:0.5", "1..5"). Without a step: 1 when both ends
 * are whole, 0.5 when both are halves, else 0 (any value in the range).
 */
const ratingScale = z.string().transform((v, ctx) => {
  const m =
    /^\s*(-?\d+(?:\.\d+)?)\s*(?:-|\.\.|–)\s*(-?\d+(?:\.\d+)?)\s*(?::\s*(\d+(?:\.\d+)?))?\s*$/.exec(
      v,
    );
  if (m === null) {
    ctx.addIssue({
      code: 'custom',
      message: `must be min-max or min-max:step, e.g. 1-10 or 0.5-5:0.5 (got ${JSON.stringify(v.slice(0, 40))})`,
    });
    return z.NEVER;
  }
  const min = Number(m[1]);
  const max = Number(m[2]);
  if (!(min < max)) {
    ctx.addIssue({
      code: 'custom',
      message: `the lowest rating must be below the highest (got ${min}-${max})`,
    });
    return z.NEVER;
  }
  const whole = (x: number): boolean => Number.isInteger(x);
  const step =
    m[3] !== undefined
      ? Number(m[3])
      : whole(min) && whole(max)
        ? 1
        : whole(2 * min) && whole(2 * max)
          ? 0.5
          : 0;
  return { min, max, step };
});

const onOff = (x: boolean): string => (x ? 'on' : 'off');
const bias = defaultHyperparameters('bias');

/** Every option of the CLI. */
export const OPTIONS = {
  // Where the data is (every command that reads a data set, or finds a checkpoint by data set).
  data: {
    flags: '--data <folder-or-name>',
    help: 'data set: a folder, or a name inside the data home (downloaded on first use)',
    schema: text('the data set'),
    defaultText: `${DEFAULT_DATASET}; eval and report: the checkpoint's own; runs: every data set`,
  },
  dataHome: {
    flags: '--data-home <folder>',
    help: 'where data set names resolve, and where models/ and the cache live',
    schema: text('the data home'),
    defaultText: '$ALS_DATA_HOME or ./data',
  },
  offline: {
    flags: '--offline',
    help: 'never download; fail if the data set is missing',
    schema: flag,
  },
  mirror: {
    flags: '--mirror <url-or-folder>',
    help: 'fetch data sets from this URL (serving <name>.zip + .md5) or folder of extracted sets instead of GroupLens',
    schema: text('the mirror'),
    defaultText: '$ALS_MIRROR',
  },
  dedupe: {
    flags: '--dedupe <mode>',
    help: 'repeated (user, movie) pairs: error or last (keep the last one)',
    schema: z.enum(['error', 'last'], { error: 'must be error or last' }),
    default: 'error',
  },
  ratingScale: {
    flags: '--rating-scale <min-max>',
    help: 'allowed ratings of a plain user,movie,rating file, e.g. 1-10 or 0.5-5:0.5 (min-max:step); MovieLens layouts have their own',
    schema: ratingScale,
    defaultText: 'inferred from the ratings, with a warning when unusual',
  },
  // A lone --no-x: commander's value is true unless it is given.
  cache: { flags: '--no-cache', help: 'do not read or write the binary cache', schema: flag },

  // The model file.
  checkpoint: {
    flags: '--checkpoint <file>',
    help: "checkpoint written by 'als train'",
    schema: text('the checkpoint file'),
    defaultText: `<data home>/models/<data set>-${DEFAULT_MODEL_KIND}.als, where 'als train' writes by default`,
    aliases: ['--model <file>'],
  },

  // Training.
  kind: {
    flags: '--kind <kind>',
    help: `model kind: ${MODEL_KINDS.join(' | ')}`,
    schema: z.enum(MODEL_KINDS, { error: `must be one of ${MODEL_KINDS.join(', ')}` }),
    // Shown, not applied here: with --resume an absent kind means the checkpoint's.
    defaultText: DEFAULT_MODEL_KIND,
    aliases: ['--model <kind>'],
  },
  dim: {
    flags: '--dim <n>',
    help: 'latent dimension K; 0 only with --kind bias (which has no factors and ignores it)',
    schema: integer('the dimension', 0),
    defaultText: `${DEFAULT_HYPERPARAMETERS.dim}; --method gibbs ${DEFAULT_BAYESIAN_OPTIONS.dim}; bias model 0`,
  },
  method: {
    flags: '--method <name>',
    help: 'fitting method: als (alternating least squares) | gibbs (Bayesian ALS by Gibbs sampling: learns its precisions, predicts mean ± sd)',
    schema: z.enum(['als', 'gibbs'], { error: 'must be als or gibbs' }),
    default: 'als',
  },
  samples: {
    flags: '--samples <n>',
    help: '--method gibbs: sweeps of the sampler to run now (with --resume, added to the chain)',
    schema: integer('the number of samples', 1),
    defaultText: String(DEFAULT_BAYESIAN_OPTIONS.samples),
  },
  burnIn: {
    flags: '--burn-in <n>',
    help: '--method gibbs: first samples of the chain left out of the average (must be below the chain length)',
    schema: integer('the burn-in', 0),
    defaultText: `${DEFAULT_BAYESIAN_OPTIONS.burnIn}; with --resume the checkpoint's`,
  },
  thin: {
    flags: '--thin <n>',
    help: '--method gibbs: store every n-th post-burn-in sample in the checkpoint (the average during training uses all)',
    schema: integer('the thinning interval', 1),
    defaultText: `${DEFAULT_BAYESIAN_OPTIONS.thin}; with --resume the checkpoint's`,
  },
  epochs: {
    flags: '--epochs <n>',
    help: 'epochs to run now (with --resume, added to those done)',
    schema: integer('the number of epochs', 1),
    default: RUN_DEFAULTS.epochs,
  },
  lambda: {
    flags: '--lambda <x>',
    help: 'λ, weight of the squared errors',
    schema: positiveNumber('λ'),
    defaultText: String(DEFAULT_HYPERPARAMETERS.lambda),
  },
  tau: {
    flags: '--tau <x>',
    help: 'τ, ridge on the factors',
    schema: positiveNumber('τ'),
    defaultText: String(DEFAULT_HYPERPARAMETERS.tau),
  },
  gamma: {
    flags: '--gamma <x>',
    help: 'γ, ridge on the biases',
    schema: positiveNumber('γ'),
    defaultText: `${DEFAULT_HYPERPARAMETERS.gamma}; bias model ${bias.gamma}`,
  },
  genreTau: {
    flags: '--genre-tau <x>',
    help: 'τ_g, ridge on the genre embeddings',
    schema: positiveNumber('τ_g'),
    defaultText: String(DEFAULT_HYPERPARAMETERS.genreTau),
  },
  weighted: {
    flags: '--weighted',
    help: "ALS-WR: scale τ by each row's rating count (γ too with --weighted-bias)",
    schema: flag,
    defaultText: `${onOff(DEFAULT_HYPERPARAMETERS.weightedRegularization)} for latent and genre, ${onOff(bias.weightedRegularization)} for bias`,
    negation: { flags: '--no-weighted', help: 'plain ridge, the same τ for every row' },
  },
  weightedBias: {
    flags: '--weighted-bias',
    help: "scale the bias ridge γ by each row's rating count too, like τ under ALS-WR (the earlier behaviour)",
    schema: flag,
    defaultText: onOff(biasRidgeWeighted(DEFAULT_HYPERPARAMETERS)),
    negation: {
      flags: '--no-weighted-bias',
      help: 'the same bias ridge γ for every row: a bias from few ratings is shrunk hard (n/(n + γ/λ))',
    },
  },
  weightExponent: {
    flags: '--weight-exponent <a>',
    help: 'a in the count weighting: τ (and a weighted γ) of a row with n ratings scaled by n^a; 1 is ALS-WR, 0 a plain ridge',
    schema: z.preprocess(
      toNumber,
      z
        .number({ error: 'must be a number (the exponent a)' })
        .min(0, { error: 'must be ≥ 0' })
        .max(1, { error: 'must be ≤ 1' }),
    ),
    defaultText: String(DEFAULT_HYPERPARAMETERS.weightExponent ?? 1),
  },
  seed: {
    flags: '--seed <n>',
    help: 'seed of the split and the initial factors',
    schema: integer('the seed', 0),
    defaultText: `${RUN_DEFAULTS.seed}; with --resume the checkpoint's`,
  },
  split: {
    flags: '--split <spec>',
    help: 'held-out part: random:F, user:F, temporal:F, cold-items:F, ml100k:u1, file:<path>, none',
    schema: text('the split'),
    defaultText: `${RUN_DEFAULTS.split}; with --resume the checkpoint's`,
  },
  threads: {
    flags: '--threads <n>',
    help: 'worker threads',
    schema: integer('the thread count', 1),
    defaultText: 'all cores',
  },
  kernel: {
    flags: '--kernel <name>',
    help: 'ts | wasm',
    schema: z.enum(['ts', 'wasm'], { error: 'must be ts or wasm' }),
    defaultText: 'wasm if it loads, else ts',
  },
  checkpointEvery: {
    flags: '--checkpoint-every <n>',
    help: 'also write the checkpoint every n epochs (0: only at the end)',
    schema: integer('the interval', 0),
    default: 0,
  },
  resume: { flags: '--resume', help: 'continue training the checkpoint at --out', schema: flag },
  earlyStop: {
    flags: '--early-stop <patience>',
    help: 'stop after this many epochs without a better validation RMSE; keep the best model',
    schema: integer('the patience', 1),
  },
  quiet: { flags: '--quiet', help: 'print only the summary', schema: flag },
  report: {
    flags: '--report',
    help: 'also write an HTML report next to the checkpoint (<checkpoint>.report.html)',
    schema: flag,
  },

  // Evaluation.
  evalSplit: {
    flags: '--split <spec>',
    help: "evaluate on this split instead of the checkpoint's (same forms as als train)",
    schema: text('the split'),
    defaultText: "the checkpoint's",
  },
  evalSeed: {
    flags: '--seed <n>',
    help: 'seed of --split',
    schema: integer('the seed', 0),
    defaultText: "the checkpoint's",
  },
  test: {
    flags: '--test <file>',
    help: 'evaluate on exactly the ratings listed in this file (as --split file:<file>)',
    schema: text('the test file'),
  },
  k: {
    flags: '--k <n>',
    help: 'length of the ranked lists',
    schema: integer('k', 1),
    default: RUN_DEFAULTS.k,
  },
  maxUsers: {
    flags: '--max-users <n>',
    help: 'rank for at most this many users, evenly spaced (ranking costs users × movies × dim)',
    schema: integer('the number of users', 1),
    default: RUN_DEFAULTS.maxRankingUsers,
  },
  evalMinRatings: {
    flags: '--min-ratings <n>',
    help: 'rank only movies with at least n training ratings (popularity floor)',
    schema: integer('the popularity floor', 0),
    default: 0,
  },
  json: { flags: '--json', help: 'print JSON instead of a table', schema: flag },

  // Listings (recommend, similar).
  top: {
    flags: '--top <n>',
    help: 'how many movies to list',
    schema: integer('the list length', 1),
    default: RUN_DEFAULTS.top,
  },
  minRatings: {
    flags: '--min-ratings <n>',
    help: 'leave out movies with fewer training ratings (0 keeps all)',
    schema: integer('the popularity floor', 0),
    default: RUN_DEFAULTS.minRatings,
  },
  genre: {
    flags: '--genre <name>',
    help: 'only movies of this genre (repeatable: any of them)',
    schema: texts,
    repeatable: true,
  },
  excludeGenre: {
    flags: '--exclude-genre <name>',
    help: 'leave out movies of this genre (repeatable)',
    schema: texts,
    repeatable: true,
  },
  yearFrom: {
    flags: '--year-from <year>',
    help: 'only movies released in or after this year',
    schema: year,
  },
  yearTo: {
    flags: '--year-to <year>',
    help: 'only movies released in or before this year',
    schema: year,
  },
  includeUnrated: {
    flags: '--include-unrated',
    help: 'genre model: also list movies nobody rated (scored from their genres), despite --min-ratings',
    schema: flag,
  },
  movieId: {
    flags: '--movie-id <id>',
    help: 'a movie by its MovieLens id instead of a title (recommend: a liked movie, repeatable; id=rating gives a rating)',
    schema: texts,
    repeatable: true,
  },
  userLikes: {
    flags: '--user-likes <title>',
    help: 'a movie the new user likes (repeatable); counts as the top rating of the scale',
    schema: texts,
    repeatable: true,
  },
  userDislikes: {
    flags: '--user-dislikes <title>',
    help: 'a movie the new user dislikes (repeatable); counts as the bottom rating',
    schema: texts,
    repeatable: true,
  },
  rate: {
    flags: '--rate <title=rating>',
    help: 'an explicit rating, e.g. "Toy Story=4.5" (repeatable)',
    schema: texts,
    repeatable: true,
  },
  user: {
    flags: '--user <id>',
    help: 'a user of the training data: their stored factors; movies they rated are left out',
    schema: z.preprocess(
      toNumber,
      z.number({ error: 'must be a user id' }).int({ error: 'must be a whole-number user id' }),
    ),
  },
  allUsers: {
    flags: '--all-users',
    help: 'top-N for every training user, written as CSV to --out',
    schema: flag,
  },
  rankBy: {
    flags: '--rank-by <how>',
    help: 'rating: predicted rating μ + b + c + u·v; taste: match of taste vectors u·v/‖v‖; Bayesian checkpoints: taste ((u − μ_U)·v/‖v‖ averaged over the samples, μ_U the average taste), mean (predictive mean), lower / upper (mean ∓ 1.28 sd, the ends of the central 80 % interval: cautious / exploratory lists)',
    schema: z.enum(['rating', 'taste', 'mean', 'lower', 'upper'], {
      error: 'must be rating, taste, mean, lower or upper',
    }),
    defaultText:
      'rating for --user/--all-users, taste for titles; Bayesian checkpoint: mean for --user/--all-users, taste for titles',
  },

  // Output files (one meaning: the file to write; its kind depends on the command).
  trainOut: {
    flags: '--out <checkpoint>',
    help: 'checkpoint to write',
    schema: text('the output file'),
    defaultText:
      '<data home>/models/<data set>-<kind>.als; --method gibbs <data set>-<kind>-gibbs.als',
  },
  csvOut: {
    flags: '--out <file.csv>',
    help: 'output of --all-users',
    schema: text('the output file'),
  },
  htmlOut: {
    flags: '--out <file.html>',
    help: 'HTML file to write',
    schema: text('the output file'),
    defaultText: '<checkpoint>.report.html',
  },
  svgOut: {
    flags: '--out <file.svg>',
    help: 'SVG file to write (required)',
    schema: text('the output file'),
  },
  stats: {
    flags: '--stats <file.json>',
    help: "read the statistics printed by 'als stats --json' instead of loading --data",
    schema: text('the stats file'),
  },
  label: {
    flags: '--label <name>',
    help: 'legend label of each run, in order (repeatable)',
    schema: texts,
    repeatable: true,
    defaultText: 'model and dim',
  },
  width: {
    flags: '--width <px>',
    help: 'width of each plot area in pixels',
    schema: z.preprocess(
      toNumber,
      z
        .number({ error: 'must be a number' })
        .int({ error: 'must be a whole number of pixels' })
        .min(200, { error: 'must be at least 200' })
        .max(4000, { error: 'must be at most 4000' }),
    ),
    default: RUN_DEFAULTS.plotWidth,
  },

  // Recording (train, eval, cv, tune): <data home>/runs.sqlite.
  record: {
    flags: '--no-record',
    help: 'do not record this run in <data home>/runs.sqlite',
    schema: flag,
  },

  // Cross-validation and tuning.
  folds: {
    flags: '--folds <spec>',
    help: 'folds: ml100k (the official u1–u5), random:K, user:K, temporal:K, or K for random:K',
    schema: foldSpec(false),
    default: 'random:5',
  },
  config: {
    flags: '--config <settings>',
    help: "another configuration to compare with the model options, e.g. 'dim=50 tau=0.1' (repeatable; paired on the same folds)",
    schema: texts,
    repeatable: true,
  },
  tuneSplit: {
    flags: '--split <spec>',
    help: 'outer held-out part, never used to choose (same forms as als train; none: tune on every rating)',
    schema: text('the split'),
    default: RUN_DEFAULTS.split,
  },
  tuneFolds: {
    flags: '--folds <spec>',
    help: 'inner folds over the training part of --split: random:K, user:K, temporal:K, or K for random:K',
    schema: foldSpec(true),
    default: 'random:5',
  },
  space: {
    flags: '--space <name=values>',
    help: "one dimension of the search space, e.g. 'dim=10,30,50', 'tau=0.03..0.3:log' (repeatable)",
    schema: texts,
    repeatable: true,
  },
  spaceFile: {
    flags: '--space-file <file.json>',
    help: 'search space as JSON, e.g. {"dim": [10, 30], "tau": "0.03..0.3:log"}',
    schema: text('the space file'),
  },
  strategy: {
    flags: '--strategy <name>',
    help: 'grid: every combination; random: --trials seeded draws',
    schema: z.enum(['grid', 'random'], { error: 'must be grid or random' }),
    default: 'random',
  },
  trials: {
    flags: '--trials <n>',
    help: 'configurations drawn by --strategy random',
    schema: integer('the number of trials', 1),
    default: 20,
  },
  gridPoints: {
    flags: '--grid-points <n>',
    help: 'points per range with --strategy grid',
    schema: integer('the number of points', 1),
    default: 5,
  },
  halving: {
    flags: '--halving <epochs>',
    help: 'successive halving: epoch milestones, e.g. 5,15,40 (one milestone: no halving)',
    schema: z
      .string()
      .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, { error: 'must be epoch milestones such as 5,15,40' })
      .transform((v) => v.split(',').map((x) => Number(x.trim())))
      .refine((m) => m.every((x) => x >= 1), { error: 'milestones must be positive' })
      .refine((m) => m.every((x, i) => i === 0 || x > m[i - 1]!), {
        error: 'milestones must increase',
      }),
    default: '5,15,40',
  },
  reduction: {
    flags: '--reduction <eta>',
    help: 'η of the halving: one trial in η goes on to the next milestone',
    schema: z.preprocess(
      toNumber,
      z.number({ error: 'must be a number' }).min(2, { error: 'must be at least 2' }),
    ),
    default: 3,
  },
  metric: {
    flags: '--metric <name>',
    help: 'objective: rmse, mae, precision@K, recall@K, ndcg@K or map@K',
    schema: text('the metric'),
    default: 'rmse',
  },
  refit: {
    flags: '--refit',
    help: 'then train the best configuration on the training part of --split (as the printed als train command)',
    schema: flag,
  },

  tune: {
    flags: '--tune <id>',
    help: 'instead of a checkpoint, the page of a recorded tune: its charts and trials (--out default tune-<id>.html)',
    schema: integer('the tune id', 1),
  },

  // Listing recorded runs (als runs).
  since: {
    flags: '--since <when>',
    help: 'only runs started since then: a date (2026-12-01, ISO time) or an age (90m, 12h, 7d)',
    schema: z.string().transform((v, ctx) => {
      const age = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(v.trim());
      if (age) {
        const unitMs = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[
          age[2] as 's' | 'm' | 'h' | 'd' | 'w'
        ];
        return new Date(Date.now() - Number(age[1]) * unitMs);
      }
      const date = new Date(v);
      if (v.trim() === '' || Number.isNaN(date.getTime())) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a date (2026-12-01) or an age (90m, 12h, 7d)',
        });
        return z.NEVER;
      }
      return date;
    }),
  },
  best: {
    flags: '--best <metric>',
    help: 'sort by this final metric, best first (rmse, mae: lowest; others: highest)',
    schema: text('the metric'),
  },
  runCommand: {
    flags: '--command <name>',
    help: 'only runs of this command: train, eval, cv or tune',
    schema: z.enum(['train', 'eval', 'cv', 'tune'], { error: 'must be train, eval, cv or tune' }),
  },
  runsKind: {
    flags: '--kind <kind>',
    help: `only runs of this model kind: ${MODEL_KINDS.join(' | ')}`,
    schema: z.enum(MODEL_KINDS, { error: `must be one of ${MODEL_KINDS.join(', ')}` }),
  },
  allRuns: { flags: '--all', help: 'also list the per-fold runs of cv and tune', schema: flag },
  limit: {
    flags: '--limit <n>',
    help: 'list at most this many runs',
    schema: integer('the number of runs', 1),
    default: 50,
  },

  // Interop (als export, als import, als spark-job): src/app/interop.ts.
  exportFormat: {
    flags: '--format <format>',
    help: 'spark (an ALSModel directory) | parquet (the ratings of --data) | npz | npy (factors and id maps) (required)',
    schema: z.enum(['spark', 'parquet', 'npz', 'npy'], {
      error: 'must be spark, parquet, npz or npy',
    }),
  },
  importFormat: {
    flags: '--format <format>',
    help: 'spark: a directory written by ALSModel.save (required)',
    schema: z.literal('spark', { error: 'must be spark' }),
  },
  exportOut: {
    flags: '--out <path>',
    help: 'output directory (spark, parquet, npy) or file (npz); must not exist (required)',
    schema: text('the output'),
  },
  exportSplit: {
    flags: '--split <spec>',
    help: "parquet: write the train and test parts of this split (as 'als train --split') instead of all ratings",
    schema: text('the split'),
  },
  compression: {
    flags: '--compression <codec>',
    help: 'parquet: none (fastest) or snappy (about half the size)',
    schema: z.enum(['none', 'snappy'], { error: 'must be none or snappy' }),
    default: 'none',
  },
  importOut: {
    flags: '--out <checkpoint>',
    help: 'checkpoint to write',
    schema: text('the output file'),
    defaultText: '<data home>/models/<data set>-spark.als',
  },
  jobOut: {
    flags: '--out <file.py>',
    help: 'the PySpark program to write (must not exist; required)',
    schema: text('the output file'),
  },
  parquet: {
    flags: '--parquet <dir>',
    help: "folder of train.parquet and test.parquet ('als export --format parquet --split …')",
    schema: text('the Parquet folder'),
    default: 'ratings-parquet',
  },
  modelOut: {
    flags: '--model-out <dir>',
    help: 'where the job saves the Spark model',
    schema: text('the model folder'),
    default: 'spark-model',
  },
  jobEpochs: {
    flags: '--epochs <n>',
    help: 'Spark maxIter',
    schema: integer('the number of epochs', 1),
    defaultText: `the checkpoint's epochs, else ${RUN_DEFAULTS.epochs}`,
  },
  jobSplit: {
    flags: '--split <spec>',
    help: 'the split the Parquet holds, for the printed import command',
    schema: text('the split'),
    defaultText: `the checkpoint's, else ${RUN_DEFAULTS.split}`,
  },
  jobSeed: {
    flags: '--seed <n>',
    help: "seed of the split, also Spark's seed",
    schema: integer('the seed', 0),
    defaultText: `the checkpoint's, else ${RUN_DEFAULTS.seed}`,
  },

  // Synthetic data (als synth); its defaults are the generator's (src/data/synth.ts).
  synthOut: {
    flags: '--out <folder>',
    help: 'folder to create (must not exist; required)',
    schema: text('the output folder'),
  },
  users: { flags: '--users <n>', help: 'number of users (required)', schema: count('users') },
  movies: { flags: '--movies <n>', help: 'number of movies (required)', schema: count('movies') },
  ratings: {
    flags: '--ratings <n>',
    help: 'number of ratings (required)',
    schema: count('ratings', 2 ** 31 - 1, 'must be below 2^31'),
  },
  rank: {
    flags: '--rank <k>',
    help: 'rank of the planted factors',
    schema: count('rank', 1000, 'must be at most 1000'),
    default: SYNTH_DEFAULTS.rank,
  },
  noise: {
    flags: '--noise <sigma>',
    help: 'σ of the Gaussian noise added before rounding to half stars',
    schema: z.preprocess(
      toNumber,
      z.number({ error: 'must be a number' }).min(0, 'must be ≥ 0').max(5, 'must be ≤ 5'),
    ),
    default: SYNTH_DEFAULTS.noise,
  },
  synthSeed: {
    flags: '--seed <n>',
    help: 'random seed of the generator',
    schema: z.preprocess(
      toNumber,
      z
        .number({ error: 'must be a number' })
        .int('must be a whole number')
        .min(0, 'must be ≥ 0')
        .max(2 ** 32 - 1),
    ),
    default: SYNTH_DEFAULTS.seed,
  },
  minPerUser: {
    flags: '--min-per-user <n>',
    help: 'every user has at least this many ratings',
    schema: count('ratings per user'),
    default: SYNTH_DEFAULTS.minPerUser,
  },
  activityExponent: {
    flags: '--activity-exponent <a>',
    help: 'Lomax (shifted Pareto) shape of user activity; smaller = heavier tail; 0 = equal',
    schema: exponent,
    defaultText: `${SYNTH_DEFAULTS.activityExponent}; 0 with --dense`,
  },
  popularityExponent: {
    flags: '--popularity-exponent <s>',
    help: 'Zipf exponent of movie popularity; 0 = uniform',
    schema: exponent,
    defaultText: `${SYNTH_DEFAULTS.popularityExponent}; 0 with --dense`,
  },
  dense: {
    flags: '--dense',
    help: 'equal activity and uniform popularity (both exponents 0): every movie gets about ratings/movies ratings',
    schema: flag,
  },
} satisfies Record<string, OptionSpec>;

export type OptionKey = keyof typeof OPTIONS;

/** The validated value of each option a command takes: defaulted ones are always there. */
type ValueOf<K extends OptionKey> = (typeof OPTIONS)[K] extends {
  schema: infer S extends z.ZodType;
}
  ? z.output<S>
  : never;
type HasDefault<K extends OptionKey> = (typeof OPTIONS)[K] extends { default: unknown }
  ? K
  : (typeof OPTIONS)[K] extends { repeatable: true }
    ? K
    : never;
export type OptionValues<K extends OptionKey> = {
  [P in K as P extends HasDefault<P> ? P : never]: ValueOf<P>;
} & {
  [P in K as P extends HasDefault<P> ? never : P]?: ValueOf<P>;
};

/** The long flag of a flags string: '--dim <n>' → '--dim'. */
const longFlag = (flags: string): string =>
  flags.split(/[ ,]+/).find((part) => part.startsWith('--'))!;
/** Commander's attribute name of a flags string: '--genre-tau <x>' → 'genreTau'. */
const attributeOf = (flags: string): string =>
  longFlag(flags)
    .replace(/^--(no-)?/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The help line of an option: its text, then its default. */
export function helpOf(spec: OptionSpec): string {
  const shown = spec.defaultText ?? (spec.default !== undefined ? String(spec.default) : undefined);
  return shown === undefined ? spec.help : `${spec.help} (default: ${shown})`;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds the options `keys` name to a command, their old spellings as hidden options. */
export function addOptions(command: Command, keys: readonly OptionKey[]): Command {
  for (const key of keys) {
    const spec: OptionSpec = OPTIONS[key];
    const option = new Option(spec.flags, helpOf(spec));
    if (spec.repeatable) option.argParser(collect);
    command.addOption(option);
    if (spec.negation) command.addOption(new Option(spec.negation.flags, spec.negation.help));
    for (const alias of spec.aliases ?? []) {
      const hidden = new Option(alias).hideHelp();
      if (spec.repeatable) hidden.argParser(collect);
      command.addOption(hidden);
    }
  }
  return command;
}

/**
 * Reads the options `keys` name back from a parsed command, validated: an absent option gets its
 * declared default (or stays undefined); the first problem becomes one line naming the flag as the
 * user typed it, e.g. "--dim: the dimension must not be negative" (exit 2).
 */
export function readOptions<const K extends OptionKey>(
  command: Command,
  keys: readonly K[],
): OptionValues<K> {
  const raw = command.opts();
  const given = (attribute: string): boolean => {
    const source = command.getOptionValueSource(attribute);
    return source === 'cli' || source === 'env';
  };
  const values: Record<string, unknown> = {};
  for (const key of keys) {
    const spec: OptionSpec = OPTIONS[key];
    const attribute = attributeOf(spec.flags);
    let typedAs = longFlag(spec.flags);
    // A --no-x counterpart makes commander default the value; only what the user typed counts.
    let value: unknown = spec.negation
      ? given(attribute)
        ? raw[attribute]
        : undefined
      : raw[attribute];
    for (const alias of spec.aliases ?? []) {
      const aliasValue = raw[attributeOf(alias)];
      if (aliasValue === undefined) continue;
      if (value !== undefined && JSON.stringify(value) !== JSON.stringify(aliasValue)) {
        throw new UsageError(
          `${longFlag(alias)}: the same as ${longFlag(spec.flags)}; give one of them`,
        );
      }
      value = aliasValue;
      typedAs = longFlag(alias);
    }
    if (value === undefined) value = spec.repeatable ? [] : spec.default;
    if (value === undefined) continue;
    const result = spec.schema.safeParse(value);
    if (!result.success) throw new UsageError(`${typedAs}: ${result.error.issues[0]!.message}`);
    values[key] = result.data;
  }
  return values as OptionValues<K>;
}

/** Validates a plain record of option values (as commander would give them) without a command: tests. */
export function parseOptionValues<const K extends OptionKey>(
  keys: readonly K[],
  raw: Record<string, unknown>,
): OptionValues<K> {
  const values: Record<string, unknown> = {};
  for (const key of keys) {
    const spec: OptionSpec = OPTIONS[key];
    let value = raw[attributeOf(spec.flags)] ?? (spec.repeatable ? [] : spec.default);
    if (value === undefined) continue;
    const result = spec.schema.safeParse(value);
    if (!result.success)
      throw new UsageError(`${longFlag(spec.flags)}: ${result.error.issues[0]!.message}`);
    values[key] = result.data;
    value = undefined;
  }
  return values as OptionValues<K>;
}

/** The data-set options every command that loads a data set takes. */
export const DATA_OPTIONS = [
  'data',
  'dataHome',
  'offline',
  'mirror',
  'dedupe',
  'cache',
  'ratingScale',
] as const satisfies readonly OptionKey[];
/** The options of the listing commands (recommend, similar). */
export const LISTING_OPTIONS = [
  'checkpoint',
  'data',
  'dataHome',
  'top',
  'minRatings',
  'genre',
  'excludeGenre',
  'yearFrom',
  'yearTo',
  'includeUnrated',
  'json',
] as const satisfies readonly OptionKey[];
