import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { AlsError } from '../errors.js';
import type { Checkpoint } from '../data/checkpoint.js';
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
  biasWeight: z.coerce.number({ message: 'must be a number' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1').optional(),
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
      '--bias-weight <w>',
      'rank by μ + b + w·c + u·v: 1 = predicted rating (default for --user/--all-users), 0 = personal taste u·v only (default for titles)',
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
  let biasWeight: number;
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
    biasWeight = options.biasWeight ?? 1;
    lines.push(`user ${options.user}: stored factors, ${exclude.length} training ratings left out`);
  } else {
    const given = await resolveRatings(checkpoint, options, lines);
    resolved = given.resolved;
    exclude = given.items;
    const { foldInUser } = await import('../core/als.js');
    const folded = foldInUser(checkpoint.state, checkpoint.state.hyper, given.items, given.values);
    user = { bias: folded.bias, factors: folded.factors };
    biasWeight = options.biasWeight ?? 0;
  }
  lines.push(rankingNote(biasWeight, checkpoint.state.hyper.kind === 'bias'));

  const list = recommendForUser(checkpoint.state, user, options.top, eligible, exclude, biasWeight);
  const rows = rowsOf(checkpoint, list, (score) => clipToScale(score, scale.min, scale.max));
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ model: modelFile, kind: checkpoint.state.hyper.kind, user: options.user ?? null, biasWeight, resolved, minRatings: options.minRatings, recommendations: rows }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(`${lines.join('\n')}\n${formatTable(rows, 'score', 2)}`);
}

/** Says how the list is ranked (the printed score is always the predicted rating). */
function rankingNote(biasWeight: number, biasOnly: boolean): string {
  if (biasOnly) return 'bias-only model: everyone gets the movies with the highest item bias; score = predicted rating';
  if (biasWeight === 1) return 'ranked by predicted rating μ + b + c + u·v (score column)';
  const term = biasWeight === 0 ? 'u·v' : `u·v + ${biasWeight}·c`;
  return `ranked by personal taste ${term} (--bias-weight ${biasWeight}); score = predicted rating μ + b + c + u·v`;
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
  const biasWeight = options.biasWeight ?? 1;
  const rankingBias = compact.eligibleBias.map((c) => c * biasWeight);
  const userBase = new Float64Array(state.numUsers);
  for (let u = 0; u < state.numUsers; u++) userBase[u] = state.globalMean + state.userBias[u]!;
  const n = options.top;
  const outItems = new Int32Array(state.numUsers * n);
  const outScores = new Float64Array(state.numUsers * n);
  await batchTopN(
    {
      dim: state.hyper.dim,
      ...compact,
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
      // Back from the ranking score to the predicted rating: add the (1 − w)·c_i left out.
      const predicted = outScores[u * n + k]! + (1 - biasWeight) * state.itemBias[item]!;
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
