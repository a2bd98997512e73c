import type { Command } from 'commander';
import { z } from 'zod';
import { generateSynth } from '../data/synth.js';
import { parseOptions } from './common.js';

const count = (what: string) =>
  z.coerce.number({ error: `must be a number (${what})` }).int('must be a whole number').positive('must be positive');

const synthSchema = z.object({
  out: z.string({ error: 'is required' }).min(1, 'is required'),
  users: count('users'),
  movies: count('movies'),
  ratings: count('ratings').max(2 ** 31 - 1, 'must be below 2^31'),
  rank: count('rank').max(1000, 'must be at most 1000').default(10),
  noise: z.coerce.number({ error: 'must be a number' }).min(0, 'must be ≥ 0').max(5, 'must be ≤ 5').default(0.5),
  seed: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must be ≥ 0').max(2 ** 32 - 1).default(1),
  minPerUser: count('ratings per user').default(20),
  activityExponent: z.coerce.number({ error: 'must be a number' }).min(0, 'must be ≥ 0').max(10, 'must be ≤ 10').optional(),
  popularityExponent: z.coerce.number({ error: 'must be a number' }).min(0, 'must be ≥ 0').max(10, 'must be ≤ 10').optional(),
  dense: z.boolean().default(false),
});

/** `als synth`: a MovieLens-format data set from a planted low-rank model, with the answer in truth.json. */
export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('write a synthetic MovieLens-format data set (ratings.csv, movies.csv, truth.json) from a planted model')
    .requiredOption('--out <folder>', 'folder to create (must not exist)')
    .requiredOption('--users <n>', 'number of users')
    .requiredOption('--movies <n>', 'number of movies')
    .requiredOption('--ratings <n>', 'number of ratings')
    .option('--rank <k>', 'rank of the planted factors (default 10)')
    .option('--noise <sigma>', 'σ of the Gaussian noise added before rounding to half stars (default 0.5)')
    .option('--seed <s>', 'random seed (default 1)')
    .option('--min-per-user <n>', 'every user has at least this many ratings (default 20)')
    .option('--activity-exponent <a>', 'Lomax (shifted Pareto) shape of user activity; smaller = heavier tail; 0 = equal (default 1.2)')
    .option('--popularity-exponent <s>', 'Zipf exponent of movie popularity; 0 = uniform (default 1)')
    .option('--dense', 'equal activity and uniform popularity (both exponents 0): every movie gets about ratings/movies ratings')
    .action((raw: Record<string, unknown>) => {
      const options = parseOptions(synthSchema, raw);
      const flat = options.dense ? 0 : undefined;
      const result = generateSynth({
        out: options.out,
        users: options.users,
        movies: options.movies,
        ratings: options.ratings,
        rank: options.rank,
        noise: options.noise,
        seed: options.seed,
        minPerUser: options.minPerUser,
        activityExponent: options.activityExponent ?? flat ?? 1.2,
        popularityExponent: options.popularityExponent ?? flat ?? 1,
      });
      const t = result.truth;
      process.stdout.write(
        `wrote ${result.dir}: ${t.counts.ratings} ratings, ${t.counts.users} users, ${t.counts.movies} movies (${t.counts.moviesRated} rated)\n` +
          `ratings per user ${t.ratingsPerUser.min}..${t.ratingsPerUser.max}, per movie ${t.ratingsPerMovie.min}..${t.ratingsPerMovie.max}, mean rating ${t.meanRating.toFixed(3)}\n` +
          `planted noise σ ${t.noiseSigma}; a perfect model's RMSE on these ratings: ${t.perfectModelRmse.toFixed(4)}\n` +
          `(${(result.elapsedMs / 1000).toFixed(1)} s)\n`,
      );
    });
}
