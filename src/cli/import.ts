import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { dataHome } from '../data/home.js';
import { addDataOptions, dataOptionsSchema, openDataset, parseOptions } from './common.js';

/**
 * `als import --format spark DIR --data <set>`: a Spark ALSModel directory as an als checkpoint
 * tied to the data set and split, so eval / recommend / similar / report work on it.
 */
const importSchema = dataOptionsSchema.extend({
  format: z.literal('spark', { message: 'must be spark' }),
  out: z.string().min(1).optional(),
  split: z.string().min(1).default('random:0.1'),
  seed: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').nonnegative('must not be negative').default(1),
});

export function registerImport(program: Command): void {
  const command = program
    .command('import')
    .description('turn a Spark ALSModel directory into an als checkpoint of a data set')
    .argument('<dir>', 'the directory ALSModel.save wrote')
    .requiredOption('--format <format>', 'spark')
    .option('--split <spec>', 'the split the Spark model was trained on (default: random:0.1, as als train and als spark-job)')
    .option('--seed <n>', 'seed of the split (default: 1)')
    .option('--out <checkpoint>', 'checkpoint to write (default: <data home>/models/<data set>-spark.als)');
  addDataOptions(command).action(async (dir: string, raw: Record<string, unknown>) => {
    const options = parseOptions(importSchema, raw);
    const dataset = await openDataset(options, (w) => process.stderr.write(`als: warning: ${w}\n`));
    const out = options.out ?? path.join(dataHome(options.dataHome), 'models', `${dataset.info.name}-spark.als`);
    const { importSpark } = await import('../app/interop.js');
    const r = await importSpark({ dir, dataset, splitSpec: options.split, seed: options.seed, out });
    const how = r.unfoldedBiases ? `dim ${r.dim} with biases (the bias columns of an als export, rank ${r.rank})` : `dim ${r.dim}, no biases (μ = 0)`;
    const lines = [
      `wrote ${r.out}: latent model, ${how}`,
      `         ${r.users.inModel} of ${r.users.inDataset} users and ${r.items.inModel} of ${r.items.inDataset} movies of ${dataset.info.name} have factors; split ${r.split.spec} (seed ${r.split.seed}), ${r.split.testRatings} held out`,
    ];
    const cold = r.users.withTrainingRatingsButNoFactors + r.items.withTrainingRatingsButNoFactors;
    if (cold > 0) lines.push(`         note: ${r.users.withTrainingRatingsButNoFactors} users and ${r.items.withTrainingRatingsButNoFactors} movies with training ratings have no factors (zero vectors): was the model trained on this split?`);
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}
