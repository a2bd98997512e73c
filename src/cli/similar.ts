/** `als similar "<title>"`: options → similarMovies (src/app/similar.ts) → a table or --json. */
import type { Command } from 'commander';
import { openCheckpoint } from '../app/data.js';
import { similarMovies } from '../app/similar.js';
import { displayTitle } from '../data/titles.js';
import { AlsError, UsageError } from '../errors.js';
import { dataSourceOf } from './common.js';
import { describeMatch, formatTable, listOptionsOf } from './listing.js';
import { addOptions, LISTING_OPTIONS, readOptions, type OptionKey } from './options.js';

export const SIMILAR_OPTIONS = [
  'movieId',
  ...LISTING_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerSimilar(program: Command): void {
  const command = program
    .command('similar')
    .description('movies most similar to a title (cosine similarity of the learned movie factors)')
    .argument('[title]', 'the movie, e.g. "Toy Story" or "Toy Story (1995)"');
  addOptions(command, SIMILAR_OPTIONS).action(
    async (title: string | undefined, _options: unknown, cmd: Command) => {
      const o = readOptions(cmd, SIMILAR_OPTIONS);
      if ((title === undefined) === (o.movieId.length === 0) || o.movieId.length > 1) {
        throw new AlsError('give one movie: a title ("Toy Story") or --movie-id <id>');
      }
      let query: { title: string } | { movieId: number };
      if (title !== undefined) query = { title };
      else {
        const id = Number(o.movieId[0]);
        if (!Number.isInteger(id))
          throw new UsageError(
            `--movie-id: ${JSON.stringify(o.movieId[0])} is not a movie id (similar takes no rating)`,
          );
        query = { movieId: id };
      }
      const source = dataSourceOf(o);
      const { file, checkpoint } = openCheckpoint({
        checkpoint: o.checkpoint,
        data: source.data,
        dataHome: source.dataHome,
      });
      const result = similarMovies(checkpoint, query, listOptionsOf(o), file);
      const m = result.movie;
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify({ model: file, kind: result.kind, movie: { query: m.query, movieId: m.movieId, title: m.title }, minRatings: result.minRatings, similar: result.similar }, null, 2)}\n`,
        );
        return;
      }
      const display = (item: number): string => displayTitle(checkpoint.catalog, item);
      const unrated = result.neverRated
        ? ' (never rated in training: its factor is its genre prior)'
        : '';
      process.stdout.write(
        `similar to ${describeMatch(m.match, display)}${unrated}\n${formatTable(result.similar, 'cosine', 3)}`,
      );
    },
  );
}
