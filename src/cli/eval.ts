/**
 * `als eval --model <checkpoint>`: rating-prediction error by segment and top-k ranking metrics
 * on held-out ratings. By default the split recorded in the checkpoint is re-created (same spec
 * and seed, so exactly the ratings the model never saw); `--split` or `--test <file>` evaluate on
 * another one, and the report then counts held-out ratings the model was trained on.
 *
 * "Unseen" and the activity buckets refer to the model's own training ratings (stored in the
 * checkpoint), and ranking never recommends a movie the user rated in the model's training set.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { evaluateRanking, evaluateRatings, type RankingMetrics, type RatingMetrics, type TrainingIndex } from '../core/evaluate.js';
import { biasRidgeWeighted } from '../core/kernel.js';
import { readCheckpoint, type Checkpoint } from '../data/checkpoint.js';
import { makeSplit } from '../data/splits.js';
import type { RatingList, SplitReport } from '../data/types.js';
import { AlsError } from '../errors.js';
import { addDataOptions, dataOptionsSchema, openDataset, parseOptions } from './common.js';

/**
 * Ranking scores every movie for every evaluated user (users × movies × dim multiply-adds): all
 * users of ML-100K … ML-25M-sized sets up to this many; beyond it an evenly spaced subset, and the
 * report says how many were skipped.
 */
export const DEFAULT_MAX_RANKING_USERS = 20000;

export const evalSchema = dataOptionsSchema.extend({
  model: z.string().min(1, { error: 'must name a checkpoint file' }),
  split: z.string().min(1).optional(),
  test: z.string().min(1).optional(),
  seed: z
    .preprocess((v) => (v === undefined ? undefined : Number(v)), z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).nonnegative({ error: 'must not be negative' }))
    .optional(),
  k: z.preprocess(
    (v) => (v === undefined ? undefined : Number(v)),
    z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).positive({ error: 'must be a positive integer' }),
  ),
  maxUsers: z
    .preprocess((v) => (v === undefined ? undefined : Number(v)), z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).positive({ error: 'must be a positive integer' }))
    .optional(),
  minRatings: z.preprocess(
    (v) => (v === undefined ? undefined : Number(v)),
    z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).nonnegative({ error: 'must not be negative' }),
  ),
  json: z.boolean().optional(),
});
type EvalOptions = z.infer<typeof evalSchema>;

export function registerEval(program: Command): void {
  const command = program
    .command('eval')
    .description(
      'evaluate a checkpoint: RMSE/MAE by segment and top-k ranking metrics on held-out ratings\n' +
        '(the data set is the folder recorded in the checkpoint unless --data is given; its fingerprint must match)',
    )
    .requiredOption('--model <checkpoint>', 'checkpoint written by als train')
    .option('--split <spec>', "evaluate on this split instead of the checkpoint's (same forms as als train)")
    .option('--test <file>', 'evaluate on exactly the ratings listed in this file (as --split file:<file>)')
    .option('--seed <n>', "seed of --split (default: the checkpoint's)")
    .option('--k <n>', 'length of the ranked lists', '10')
    .option('--max-users <n>', `rank for at most this many users, evenly spaced (default: ${DEFAULT_MAX_RANKING_USERS}; ranking costs users × movies × dim)`)
    .option('--min-ratings <n>', 'rank only movies with at least n training ratings (popularity floor)', '0')
    .option('--json', 'print the report as JSON');
  addDataOptions(command);
  command.action(async (_options: unknown, cmd: Command) => {
    const options = parseOptions(evalSchema, cmd.opts());
    // Without --data the checkpoint's own data set folder is used.
    const dataGiven = cmd.getOptionValueSource('data') === 'cli';
    process.exitCode = await runEval(options, dataGiven);
  });
}

/** What `als eval --json` prints. */
export interface EvalReport {
  checkpoint: string;
  model: Checkpoint['state']['hyper'];
  epochsDone: number;
  dataset: { name: string; fingerprint: string };
  split: SplitReport;
  /** True when the split is the one the model was trained on. */
  sameSplitAsTraining: boolean;
  /** Held-out ratings that were in the model's training set (0 for the training split). */
  heldOutRatingsSeenInTraining: number;
  ratings: RatingMetrics;
  ranking: RankingMetrics;
}

/** Counts test ratings whose (user, movie) is in the model's training rows (sorted: binary search). */
function countSeen(train: TrainingIndex, test: RatingList): number {
  let seen = 0;
  for (let t = 0; t < test.length; t++) {
    const u = test.users[t]!;
    const item = test.items[t]!;
    let lo = train.offsets[u]!;
    let hi = train.offsets[u + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = train.items[mid]!;
      if (v === item) {
        seen++;
        break;
      }
      if (v < item) lo = mid + 1;
      else hi = mid - 1;
    }
  }
  return seen;
}

export async function runEval(options: EvalOptions, dataGiven: boolean): Promise<number> {
  if (options.split !== undefined && options.test !== undefined) throw new AlsError('--test: give either --split or --test, not both', 2);
  const file = path.resolve(options.model);
  const checkpoint = readCheckpoint(file);
  const dataset = await openDataset(
    { ...options, data: dataGiven || options.data !== undefined ? options.data : checkpoint.dataset.dir },
    (w) => process.stderr.write(`als: warning: ${w}\n`),
  );
  if (dataset.info.fingerprint !== checkpoint.dataset.fingerprint) {
    throw new AlsError(
      `${options.model}: checkpoint was trained on another data set (${checkpoint.dataset.name}, fingerprint ${checkpoint.dataset.fingerprint.slice(0, 12)}; ${dataset.info.dir} is ${dataset.info.fingerprint.slice(0, 12)})`,
    );
  }
  const spec =
    options.test !== undefined
      ? `file:${path.resolve(options.test)}`
      : options.split !== undefined
        ? options.split.startsWith('file:')
          ? `file:${path.resolve(options.split.slice(5))}`
          : options.split
        : checkpoint.split.spec;
  const seed = options.seed ?? checkpoint.split.seed;
  const split = makeSplit(dataset, spec, seed);
  const sameSplit = spec === checkpoint.split.spec && seed === checkpoint.split.seed;
  const train: TrainingIndex = {
    offsets: checkpoint.trainItemsByUser.offsets,
    items: checkpoint.trainItemsByUser.items,
    itemCounts: checkpoint.itemTrainCounts,
  };
  const seenInTraining = sameSplit ? 0 : countSeen(train, split.test);
  if (split.test.length === 0) throw new AlsError(`split ${spec} holds out no ratings: nothing to evaluate`);

  const ratings = evaluateRatings(checkpoint.state, train, split.test, { genreOffsets: checkpoint.catalog.genreOffsets });
  const ranking = evaluateRanking(checkpoint.state, train, split.test, {
    k: options.k,
    maxUsers: options.maxUsers ?? DEFAULT_MAX_RANKING_USERS,
    minItemRatings: options.minRatings,
  });
  const report: EvalReport = {
    checkpoint: file,
    model: checkpoint.state.hyper,
    epochsDone: checkpoint.epochsDone,
    dataset: { name: dataset.info.name, fingerprint: dataset.info.fingerprint },
    split: split.report,
    sameSplitAsTraining: sameSplit,
    heldOutRatingsSeenInTraining: seenInTraining,
    ratings,
    ranking,
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(formatReport(report));
  return 0;
}

const num = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));

/** The human-readable report: a header, the error table, the fallbacks and the ranking metrics. */
export function formatReport(r: EvalReport): string {
  const h = r.model;
  const shape = h.kind === 'bias' ? 'bias' : `${h.kind}, dim ${h.dim}`;
  const lines: string[] = [];
  lines.push(`model     ${r.checkpoint}`);
  lines.push(
    `          ${shape}, λ ${h.lambda}, τ ${h.tau}, γ ${h.gamma}${h.kind === 'genre' ? `, τ_g ${h.genreTau}` : ''}, ALS-WR ${h.weightedRegularization ? 'on' : 'off'}, γ ${biasRidgeWeighted(h) ? 'count-scaled' : 'constant'}, ${r.epochsDone} epochs`,
  );
  lines.push(`data      ${r.dataset.name} (fingerprint ${r.dataset.fingerprint.slice(0, 12)})`);
  lines.push(
    `split     ${r.split.spec} (seed ${r.split.seed}): ${r.split.testRatings} held-out ratings${r.sameSplitAsTraining ? ', the training split' : ''}`,
  );
  if (!r.sameSplitAsTraining) {
    lines.push(
      `          not the training split: ${r.heldOutRatingsSeenInTraining} of the held-out ratings were in the model's training set (optimistic)`,
    );
  }
  lines.push('');
  const rows: [string, { count: number; rmse: number | null; mae: number | null }][] = [
    ['all held-out ratings', r.ratings.all],
    ['user unseen in training', r.ratings.unseenUser],
    ['movie unseen in training', r.ratings.unseenItem],
    ...r.ratings.userActivity.map((b) => [`users with ${b.label} ratings`, b] as [string, typeof b]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  lines.push(`${'segment'.padEnd(width)}  ${'ratings'.padStart(8)}  ${'RMSE'.padStart(7)}  ${'MAE'.padStart(7)}`);
  for (const [label, s] of rows) {
    lines.push(`${label.padEnd(width)}  ${String(s.count).padStart(8)}  ${num(s.rmse).padStart(7)}  ${num(s.mae).padStart(7)}`);
  }
  const f = r.ratings.fallbacks;
  const itemFallback = h.kind === 'genre' ? `μ + user bias + genre prior (${f.genrePrior} with genres)` : 'μ + user bias';
  lines.push('');
  lines.push('fallbacks (no NaN: unknown users and movies use what the model knows)');
  lines.push(`  ${f.unseenUser} predictions for unseen users: μ + movie bias`);
  lines.push(`  ${f.unseenItem} predictions for unseen movies: ${itemFallback}`);
  lines.push(`  ${f.both} with both unseen: μ`);
  lines.push('');
  const k = r.ranking.k;
  lines.push(
    `top-${k} ranking: ${r.ranking.users} users with a held-out rating ≥ ${r.ranking.relevantFrom}${r.ranking.usersSkipped > 0 ? ` (${r.ranking.usersSkipped} more skipped by --max-users)` : ''}; ranked: every movie they did not rate in training${r.ranking.minItemRatings > 0 ? ` with ≥ ${r.ranking.minItemRatings} training ratings` : ''}`,
  );
  const metrics: [string, number][] = [
    [`precision@${k}`, r.ranking.precision],
    [`recall@${k}`, r.ranking.recall],
    [`nDCG@${k}`, r.ranking.ndcg],
    [`MAP@${k}`, r.ranking.map],
    ['catalogue coverage', r.ranking.coverage],
  ];
  for (const [label, value] of metrics) lines.push(`  ${label.padEnd(20)} ${value.toFixed(4)}`);
  return `${lines.join('\n')}\n`;
}
