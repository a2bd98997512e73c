/**
 * `als recommend`: options → one app-layer call (src/app/recommend.ts) for a new user described by
 * titles they like, dislike or rate (folded in), a training user (their stored factors), or every
 * training user into a CSV → a table, --json, or a one-line summary.
 */
import type { Command } from 'commander';
import { openCheckpoint } from '../app/data.js';
import {
  recommendForAllUsers,
  recommendForNewUser,
  recommendForTrainingUser,
  type RecommendResult,
} from '../app/recommend.js';
import type { BayesListingRow } from '../app/bayes-use.js';
import type { ListingRow } from '../app/listing.js';
import { displayTitle } from '../data/titles.js';
import { AlsError } from '../errors.js';
import { dataSourceOf } from './common.js';
import { describeMatch, formatTable, listOptionsOf } from './listing.js';
import { addOptions, LISTING_OPTIONS, readOptions, type OptionKey } from './options.js';

export const RECOMMEND_OPTIONS = [
  'userLikes',
  'userDislikes',
  'rate',
  'movieId',
  'user',
  'allUsers',
  'csvOut',
  'threads',
  'rankBy',
  ...LISTING_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerRecommend(program: Command): void {
  const command = program
    .command('recommend')
    .description(
      'top movies for a new user (from liked/disliked/rated titles), a training user, or all users',
    );
  addOptions(command, RECOMMEND_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, RECOMMEND_OPTIONS);
    const describesNewUser =
      o.userLikes.length + o.userDislikes.length + o.rate.length + o.movieId.length > 0;
    const modes =
      Number(describesNewUser) + Number(o.user !== undefined) + Number(o.allUsers === true);
    if (modes === 0) {
      throw new AlsError(
        'say who to recommend for: --user-likes "Title" (repeatable), --rate "Title=4.5", --user <id> or --all-users --out recs.csv',
      );
    }
    if (modes > 1)
      throw new AlsError(
        'use one of: titles (--user-likes/--user-dislikes/--rate/--movie-id), --user <id>, --all-users',
      );
    if (o.allUsers && o.csvOut === undefined)
      throw new AlsError('--all-users needs --out <file.csv>');
    if (!o.allUsers && o.csvOut !== undefined) throw new AlsError('--out is for --all-users');

    const source = dataSourceOf(o);
    const { file, checkpoint } = openCheckpoint({
      checkpoint: o.checkpoint,
      data: source.data,
      dataHome: source.dataHome,
    });
    const options = { ...listOptionsOf(o), rankBy: o.rankBy };
    if (o.allUsers) {
      const r = await recommendForAllUsers(checkpoint, o.csvOut!, {
        ...options,
        threads: o.threads,
      });
      process.stderr.write(
        `wrote top ${r.top} for ${r.users} users to ${r.out} (${r.numEligible} eligible movies; scoring ${(r.scoringMs / 1000).toFixed(2)} s, total ${(r.totalMs / 1000).toFixed(2)} s)\n`,
      );
      return;
    }
    const result =
      o.user !== undefined
        ? recommendForTrainingUser(checkpoint, o.user, options)
        : recommendForNewUser(
            checkpoint,
            { likes: o.userLikes, dislikes: o.userDislikes, rates: o.rate, movieIds: o.movieId },
            options,
          );
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({ model: file, kind: result.kind, user: result.user, rankBy: result.rankBy, resolved: result.ratings, minRatings: result.minRatings, recommendations: result.recommendations }, null, 2)}\n`,
      );
      return;
    }
    const display = (item: number): string => displayTitle(checkpoint.catalog, item);
    const lines = headerLines(result, display);
    const table = result.bayes
      ? formatTable(
          result.recommendations,
          'mean ± sd',
          2,
          (r: ListingRow) => `${r.score.toFixed(2)} ± ${(r as BayesListingRow).sd.toFixed(2)}`,
        )
      : formatTable(result.recommendations, 'score', 2);
    process.stdout.write(`${lines.join('\n')}\n${table}`);
  });
}

/** What the titles became (or whose stored factors), then how the list is ranked. */
function headerLines(result: RecommendResult, display: (item: number) => string): string[] {
  const lines: string[] = [];
  if (result.user !== null)
    lines.push(`user ${result.user}: stored factors, ${result.excluded} training ratings left out`);
  for (const r of result.resolved)
    lines.push(`${r.how} ${describeMatch(r.match, display)}, rated ${r.rating}`);
  lines.push(result.bayes ? bayesRankingNote(result) : rankingNote(result.rankBy, result.biasOnly));
  return lines;
}

/** How a Bayesian list is ranked (the score column is always the predictive mean ± sd). */
function bayesRankingNote(result: RecommendResult): string {
  const b = result.bayes!;
  const level = `${Math.round(b.boundLevel * 100)} %`;
  const from = `posterior predictive of ${b.storedSamples} stored samples${result.user === null ? ', new user folded in per sample' : ''}`;
  if (result.rankBy === 'lower')
    return `ranked by the lower end of the central ${level} interval, mean − ${b.boundZ.toFixed(2)} sd (cautious); ${from}`;
  if (result.rankBy === 'upper')
    return `ranked by the upper end of the central ${level} interval, mean + ${b.boundZ.toFixed(2)} sd (exploratory); ${from}`;
  if (result.rankBy === 'taste')
    return `ranked by taste match (u − μ_U)·v/‖v‖ averaged over the samples (--rank-by mean|lower|upper for the predictive mean or its ${level} bounds); score = predictive mean; ${from}`;
  return `ranked by predictive mean (--rank-by lower|upper for the ${level} bounds); ${from}`;
}

/** Says how the list is ranked (the printed score is always the predicted rating). */
function rankingNote(rankBy: RecommendResult['rankBy'], biasOnly: boolean): string {
  if (biasOnly) return 'bias-only model: ranked by predicted rating, the same order for everyone';
  if (rankBy === 'rating') return 'ranked by predicted rating μ + b + c + u·v (the score column)';
  return 'ranked by taste match u·v/‖v‖ (--rank-by rating for predicted rating); score = predicted rating';
}
