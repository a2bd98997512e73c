import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { AlsError } from '../errors.js';
import type { Checkpoint } from '../data/checkpoint.js';
import type { RankBy } from '../core/recommend.js';
import {
  addListingOptions,
  collect,
  describeMatch,
  filterOf,
  formatTable,
  listingSchema,
  openCheckpoint,
  rowsOf,
} from './listing.js';
import { parseOptions } from './common.js';

/**
 * `als recommend`: a top-N list for a new user described by titles they like, dislike or rate
 * (their bias and factor solved in closed form against the trained movies: fold-in), for a
 * training user (their stored factors), or for every training user at once into a CSV.
 *
 * A liked title without a rating counts as the top of the scale (5 stars), a disliked one as the
 * bottom (0.5 or 1): "I like it" is the strongest statement a person makes about a movie, and on
 * MovieLens the top rating is also about the 90th percentile of all ratings (ml-latest-small:
 * 13 % of ratings are 5.0, 22 % are ≥ 4.5), so the like sits where enthusiastic ratings sit.
 * Use --rate "Title=4" for anything in between.
 */
const recommendSchema = listingSchema.extend({
  userLikes: z.array(z.string()).default([]),
  userDislikes: z.array(z.string()).default([]),
  rate: z.array(z.string()).default([]),
  movieId: z.array(z.string()).default([]),
  user: z.coerce.number({ message: 'must be a user id' }).int('must be a whole-number user id').optional(),
  allUsers: z.boolean().default(false),
  out: z.string().min(1).optional(),
  rankBy: z.enum(['rating', 'taste'], { message: 'must be rating or taste' }).optional(),
  threads: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').positive('must be ≥ 1').optional(),
});
type RecommendOptions = z.infer<typeof recommendSchema>;

export function registerRecommend(program: Command): void {
  const command = program
    .command('recommend')
    .description('top movies for a new user (from liked/disliked/rated titles), a training user, or all users')
    .option('--user-likes <title>', 'a movie the new user likes (repeatable); counts as the top rating of the scale', collect)
    .option('--user-dislikes <title>', 'a movie the new user dislikes (repeatable); counts as the bottom rating', collect)
    .option('--rate <title=rating>', 'an explicit rating, e.g. "Toy Story=4.5" (repeatable)', collect)
    .option('--movie-id <id[=rating]>', 'a liked movie by its MovieLens id, or id=rating (repeatable)', collect)
    .option('--user <id>', 'a user of the training data: their stored factors; movies they rated are left out')
    .option('--all-users', 'top-N for every training user, written as CSV to --out')
    .option('--out <file.csv>', 'output of --all-users')
    .option('--threads <n>', 'worker threads for --all-users (default: all cores)')
    .option(
      '--rank-by <how>',
      'rating: predicted rating μ + b + c + u·v (default for --user/--all-users); taste: match of taste vectors u·v/‖v‖ (default for titles)',
    );
  addListingOptions(command).action(async (raw: Record<string, unknown>) => {
    const options = parseOptions(recommendSchema, raw);
    await runRecommend(options);
  });
}

async function runRecommend(options: RecommendOptions): Promise<void> {
  const describesNewUser =
    options.userLikes.length + options.userDislikes.length + options.rate.length + options.movieId.length > 0;
  const modes = Number(describesNewUser) + Number(options.user !== undefined) + Number(options.allUsers);
  if (modes === 0) {
    throw new AlsError('say who to recommend for: --user-likes "Title" (repeatable), --rate "Title=4.5", --user <id> or --all-users --out recs.csv');
  }
  if (modes > 1) throw new AlsError('use one of: titles (--user-likes/--user-dislikes/--rate/--movie-id), --user <id>, --all-users');
  if (options.allUsers && options.out === undefined) throw new AlsError('--all-users needs --out <file.csv>');
  if (!options.allUsers && options.out !== undefined) throw new AlsError('--out is for --all-users');

  const { file: modelFile, checkpoint } = await openCheckpoint(options);
  const { eligibleMask, recommendForUser, storedUser, clipToScale } = await import('../core/recommend.js');
  const filter = filterOf(checkpoint, options);
  const eligible = eligibleMask(checkpoint.catalog, filter);
  const { scale } = checkpoint.dataset;

  if (options.allUsers) {
    await writeAllUsers(checkpoint, options, eligible);
    return;
  }

  const lines: string[] = [];
  let exclude: Int32Array;
  let user;
  let rankBy: RankBy;
  let resolved: { query: string; movieId: number; title: string; rating: number }[] = [];
  if (options.user !== undefined) {
    const index = checkpoint.userIds.indexOf(options.user);
    if (index < 0) {
      throw new AlsError(
        `user ${options.user} is not in the training data of ${checkpoint.dataset.name}; describe a new user with --user-likes "Title"`,
      );
    }
    const { offsets, items } = checkpoint.trainItemsByUser;
    if (offsets[index + 1] === offsets[index]) {
      throw new AlsError(
        `user ${options.user} has no training ratings in this checkpoint (split ${checkpoint.split.spec}); describe them with --user-likes "Title"`,
      );
    }
    exclude = items.subarray(offsets[index]!, offsets[index + 1]!);
    user = storedUser(checkpoint.state, index);
    rankBy = options.rankBy ?? 'rating';
    lines.push(`user ${options.user}: stored factors, ${exclude.length} training ratings left out`);
  } else {
    const given = await resolveRatings(checkpoint, options, lines);
    resolved = given.resolved;
    exclude = given.items;
    const { foldInUser } = await import('../core/als.js');
    const folded = foldInUser(checkpoint.state, checkpoint.state.hyper, given.items, given.values);
    user = { bias: folded.bias, factors: folded.factors };
    rankBy = options.rankBy ?? 'taste';
  }
  // A bias-only model has no taste vectors: its only ranking is the predicted rating.
  if (checkpoint.state.hyper.dim === 0) rankBy = 'rating';
  lines.push(rankingNote(rankBy, checkpoint.state.hyper.dim === 0));

  const list = recommendForUser(checkpoint.state, user, options.top, eligible, exclude, rankBy);
  const rows = rowsOf(checkpoint, list, (score) => clipToScale(score, scale.min, scale.max));
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ model: modelFile, kind: checkpoint.state.hyper.kind, user: options.user ?? null, rankBy, resolved, minRatings: options.minRatings, recommendations: rows }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(`${lines.join('\n')}\n${formatTable(rows, 'score', 2)}`);
}

/** Says how the list is ranked (the printed score is always the predicted rating). */
function rankingNote(rankBy: RankBy, biasOnly: boolean): string {
  if (biasOnly) return 'bias-only model: ranked by predicted rating, the same order for everyone';
  if (rankBy === 'rating') return 'ranked by predicted rating μ + b + c + u·v (the score column)';
  return 'ranked by taste match u·v/‖v‖ (--rank-by rating for predicted rating); score = predicted rating';
}

/**
 * Turns --user-likes/--user-dislikes/--rate/--movie-id into (item, rating) pairs, printing one
 * line per title saying which movie it became.
 */
async function resolveRatings(
  checkpoint: Checkpoint,
  options: RecommendOptions,
  lines: string[],
): Promise<{ items: Int32Array; values: Float32Array; resolved: { query: string; movieId: number; title: string; rating: number }[] }> {
  const { buildTitleIndex, resolveTitle, resolveMovieId, displayTitle } = await import('../data/titles.js');
  const { scale } = checkpoint.dataset;
  const index = buildTitleIndex(checkpoint.catalog, checkpoint.itemTrainCounts);
  const display = (item: number): string => displayTitle(checkpoint.catalog, item);
  const ratingOf = (text: string, what: string): number => {
    const value = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(value)) throw new AlsError(`${what}: ${JSON.stringify(text)} is not a rating`);
    if (value < scale.min || value > scale.max) {
      throw new AlsError(`${what}: rating ${value} is outside the scale of ${checkpoint.dataset.name} (${scale.min}–${scale.max})`);
    }
    return value;
  };
  const byItem = new Map<number, { rating: number; query: string }>();
  const add = (match: { item: number; query: string }, rating: number, line: string): void => {
    const previous = byItem.get(match.item);
    if (previous !== undefined && previous.rating !== rating) {
      throw new AlsError(`${display(match.item)} is given twice with different ratings (${previous.rating} and ${rating})`);
    }
    byItem.set(match.item, { rating, query: match.query });
    lines.push(`${line}, rated ${rating}`);
  };
  for (const title of options.userLikes) {
    const match = resolveTitle(index, title);
    add(match, scale.max, `likes ${describeMatch(index, match, display)}`);
  }
  for (const title of options.userDislikes) {
    const match = resolveTitle(index, title);
    add(match, scale.min, `dislikes ${describeMatch(index, match, display)}`);
  }
  for (const spec of options.rate) {
    const cut = spec.lastIndexOf('=');
    if (cut <= 0) throw new AlsError(`--rate ${JSON.stringify(spec)}: write "Title=rating", e.g. "Toy Story=4.5"`);
    const rating = ratingOf(spec.slice(cut + 1), `--rate ${JSON.stringify(spec)}`);
    const match = resolveTitle(index, spec.slice(0, cut));
    add(match, rating, `rates ${describeMatch(index, match, display)}`);
  }
  for (const spec of options.movieId) {
    const [idText, ratingText] = spec.split('=', 2) as [string, string | undefined];
    const id = Number(idText);
    if (!Number.isInteger(id)) throw new AlsError(`--movie-id ${JSON.stringify(spec)}: not a movie id`);
    const rating = ratingText === undefined ? scale.max : ratingOf(ratingText, `--movie-id ${JSON.stringify(spec)}`);
    const match = resolveMovieId(index, checkpoint.itemIds, id);
    add(match, rating, `${ratingText === undefined ? 'likes' : 'rates'} ${describeMatch(index, match, display)}`);
  }
  const entries = [...byItem.entries()].sort((a, b) => a[0] - b[0]);
  return {
    items: Int32Array.from(entries, ([item]) => item),
    values: Float32Array.from(entries, ([, v]) => v.rating),
    resolved: entries.map(([item, v]) => ({ query: v.query, movieId: checkpoint.itemIds[item]!, title: display(item), rating: v.rating })),
  };
}

/** --all-users: top-N of every training user (training movies left out) as CSV userId,rank,movieId,score. */
async function writeAllUsers(checkpoint: Checkpoint, options: RecommendOptions, eligible: Uint8Array): Promise<void> {
  const { batchTopN } = await import('../core/batch-pool.js');
  const { writeTextFileAtomic } = await import('../data/checkpoint.js');
  const { compactEligible } = await import('../core/batch.js');
  const state = checkpoint.state;
  const { scale } = checkpoint.dataset;
  const startMs = performance.now();
  const compact = compactEligible(state, eligible);
  const dim = state.hyper.dim;
  const rankBy: RankBy = dim === 0 ? 'rating' : (options.rankBy ?? 'rating');
  // Ranking by taste scans unit item vectors with no bias terms: the score is u·v/‖v‖.
  const norms = new Float64Array(compact.numEligible);
  const rankingFactors = compact.eligibleFactors.slice();
  for (let e = 0; e < compact.numEligible; e++) {
    let sum = 0;
    for (let k = 0; k < dim; k++) sum += rankingFactors[e * dim + k]! ** 2;
    norms[e] = Math.sqrt(sum);
    if (rankBy === 'taste') for (let k = 0; k < dim; k++) rankingFactors[e * dim + k] = norms[e]! > 0 ? rankingFactors[e * dim + k]! / norms[e]! : 0;
  }
  const rankingBias = rankBy === 'taste' ? new Float64Array(compact.numEligible) : compact.eligibleBias;
  const userBase = new Float64Array(state.numUsers);
  if (rankBy === 'rating') for (let u = 0; u < state.numUsers; u++) userBase[u] = state.globalMean + state.userBias[u]!;
  const positionOf = new Int32Array(state.numItems);
  compact.eligibleItems.forEach((item, e) => (positionOf[item] = e));
  const n = options.top;
  const outItems = new Int32Array(state.numUsers * n);
  const outScores = new Float64Array(state.numUsers * n);
  await batchTopN(
    {
      dim: state.hyper.dim,
      ...compact,
      eligibleFactors: rankingFactors,
      eligibleBias: rankingBias,
      userFactors: state.userFactors,
      userBase,
      excludeOffsets: checkpoint.trainItemsByUser.offsets,
      excludeIndices: checkpoint.trainItemsByUser.items,
      topN: n,
      outItems,
      outScores,
    },
    options.threads ?? availableParallelism(),
  );
  const scoredMs = performance.now() - startMs;
  const chunks: string[] = ['userId,rank,movieId,score\n'];
  const { offsets } = checkpoint.trainItemsByUser;
  let users = 0;
  for (let u = 0; u < state.numUsers; u++) {
    if (offsets[u + 1] === offsets[u]) continue; // no training ratings: nothing learned about them
    users++;
    let block = '';
    for (let k = 0; k < n; k++) {
      const item = outItems[u * n + k]!;
      if (item < 0) break;
      // Back from the ranking score to the predicted rating (taste: u·v = ‖v‖ · score).
      const ranked = outScores[u * n + k]!;
      const predicted =
        rankBy === 'rating' ? ranked : state.globalMean + state.userBias[u]! + state.itemBias[item]! + norms[positionOf[item]!]! * ranked;
      const score = Math.min(scale.max, Math.max(scale.min, predicted));
      block += `${checkpoint.userIds[u]},${k + 1},${checkpoint.itemIds[item]},${score.toFixed(4)}\n`;
    }
    chunks.push(block);
  }
  writeTextFileAtomic(options.out!, chunks.join(''));
  const totalMs = performance.now() - startMs;
  process.stderr.write(
    `wrote top ${n} for ${users} users to ${options.out} (${compact.numEligible} eligible movies; scoring ${(scoredMs / 1000).toFixed(2)} s, total ${(totalMs / 1000).toFixed(2)} s)\n`,
  );
}
