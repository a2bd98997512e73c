import type { Command } from 'commander';
import { generateSynth } from '../data/synth.js';
import { UsageError } from '../errors.js';
import { addOptions, readOptions, type OptionKey } from './options.js';

const SYNTH_OPTIONS = [
  'synthOut',
  'users',
  'movies',
  'ratings',
  'rank',
  'noise',
  'synthSeed',
  'minPerUser',
  'activityExponent',
  'popularityExponent',
  'dense',
] as const satisfies readonly OptionKey[];

/** `als synth`: a MovieLens-format data set from a planted low-rank model, with the answer in truth.json. */
export function registerSynth(program: Command): void {
  const command = program
    .command('synth')
    .description(
      'write a synthetic MovieLens-format data set (ratings.csv, movies.csv, truth.json) from a planted model',
    );
  addOptions(command, SYNTH_OPTIONS).action((_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, SYNTH_OPTIONS);
    const required = (value: number | string | undefined, flag: string) => {
      if (value === undefined) throw new UsageError(`${flag}: is required`);
      return value;
    };
    const flat = o.dense ? 0 : undefined;
    const result = generateSynth({
      out: required(o.synthOut, '--out') as string,
      users: required(o.users, '--users') as number,
      movies: required(o.movies, '--movies') as number,
      ratings: required(o.ratings, '--ratings') as number,
      rank: o.rank,
      noise: o.noise,
      seed: o.synthSeed,
      minPerUser: o.minPerUser,
      activityExponent: o.activityExponent ?? flat,
      popularityExponent: o.popularityExponent ?? flat,
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
