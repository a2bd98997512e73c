import type { Command } from 'commander';
import { z } from 'zod';
import { AlsError } from '../errors.js';
import { parseOptions } from './common.js';
import { addListingOptions, describeMatch, filterOf, formatTable, listingSchema, openCheckpoint, rowsOf } from './listing.js';

/**
 * `als similar "<title>"`: the movies whose item factors point the same way, by cosine similarity
 * cos(i, j) = v_i·v_j / (‖v_i‖‖v_j‖) (the movie itself left out), with the filters of `als recommend`.
 */
const similarSchema = listingSchema.extend({
  movieId: z.coerce.number({ message: 'must be a movie id' }).int('must be a whole-number movie id').optional(),
});

export function registerSimilar(program: Command): void {
  const command = program
    .command('similar')
    .description('movies most similar to a title (cosine similarity of the learned movie factors)')
    .argument('[title]', 'the movie, e.g. "Toy Story" or "Toy Story (1995)"')
    .option('--movie-id <id>', 'the movie by its MovieLens id instead of a title');
  addListingOptions(command).action(async (title: string | undefined, raw: Record<string, unknown>) => {
    const options = parseOptions(similarSchema, raw);
    if ((title === undefined) === (options.movieId === undefined)) {
      throw new AlsError('give one movie: a title ("Toy Story") or --movie-id <id>');
    }
    const { file: modelFile, checkpoint } = await openCheckpoint(options);
    const { buildTitleIndex, resolveTitle, resolveMovieId, displayTitle } = await import('../data/titles.js');
    const { eligibleMask, similarItems } = await import('../core/recommend.js');
    const state = checkpoint.state;
    if (state.hyper.kind === 'bias' || state.hyper.dim === 0) {
      throw new AlsError(`${modelFile} holds a bias-only model, which has no movie factors to compare; train with --model latent or genre`);
    }
    const index = buildTitleIndex(checkpoint.catalog, checkpoint.itemTrainCounts);
    const match = title !== undefined ? resolveTitle(index, title) : resolveMovieId(index, checkpoint.itemIds, options.movieId!);
    const display = (item: number): string => displayTitle(checkpoint.catalog, item);
    const eligible = eligibleMask(checkpoint.catalog, filterOf(checkpoint, options));
    const list = similarItems(state, match.item, options.top, eligible);
    const rows = rowsOf(checkpoint, list, (s) => s);
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ model: modelFile, kind: state.hyper.kind, movie: { query: match.query, movieId: checkpoint.itemIds[match.item], title: display(match.item) }, minRatings: options.minRatings, similar: rows }, null, 2)}\n`,
      );
      return;
    }
    const unrated = checkpoint.itemTrainCounts[match.item] === 0 ? ' (never rated in training: its factor is its genre prior)' : '';
    process.stdout.write(`similar to ${describeMatch(index, match, display)}${unrated}\n${formatTable(rows, 'cosine', 3)}`);
  });
}
