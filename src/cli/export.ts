import type { Command } from 'commander';
import { z } from 'zod';
import { AlsError } from '../errors.js';
import { addDataOptions, dataOptionsSchema, openDataset, parseOptions } from './common.js';

/**
 * `als export`: a checkpoint as a Spark ALSModel directory (--format spark) or numpy arrays
 * (--format npz / npy), or a data set's ratings / a split as Parquet (--format parquet).
 */
const exportSchema = dataOptionsSchema.extend({
  format: z.enum(['spark', 'parquet', 'npz', 'npy'], { message: 'must be spark, parquet, npz or npy' }),
  out: z.string().min(1, { message: 'must name the output' }),
  split: z.string().min(1).optional(),
  compression: z.enum(['none', 'snappy'], { message: 'must be none or snappy' }).default('none'),
  seed: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').nonnegative('must not be negative').default(1),
});

export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description('export a checkpoint for Spark (--format spark) or numpy (npz, npy), or ratings as Parquet (--format parquet)')
    .argument('[checkpoint]', 'the model to export (formats spark, npz, npy)')
    .requiredOption('--format <format>', 'spark | parquet | npz | npy')
    .requiredOption('--out <path>', 'output directory (spark, parquet, npy) or file (npz); must not exist')
    .option('--split <spec>', 'parquet: write the train and test parts of this split (as als train --split) instead of all ratings')
    .option('--seed <n>', 'parquet: seed of --split (default: 1, as als train)')
    .option('--compression <codec>', 'parquet: none (default, fastest) or snappy (about half the size)');
  addDataOptions(command).action(async (checkpoint: string | undefined, raw: Record<string, unknown>) => {
    const options = parseOptions(exportSchema, raw);
    const app = await import('../app/interop.js');
    if (options.format === 'parquet') {
      if (checkpoint !== undefined) throw new AlsError('--format parquet exports ratings of --data, not a checkpoint');
      const dataset = await openDataset(options, (w) => process.stderr.write(`als: warning: ${w}\n`));
      const r = await app.exportRatingsParquet({ dataset, out: options.out, split: options.split === undefined ? undefined : { spec: options.split, seed: options.seed }, compression: options.compression });
      const parts = r.files.map((f) => `${f.file} (${f.rows} ratings)`).join(', ');
      process.stdout.write(`wrote ${parts} to ${r.out} in ${(r.elapsedMs / 1000).toFixed(2)} s${r.split ? ` (split ${r.split.spec}, seed ${r.split.seed})` : ''}\n`);
      if (r.noTimestamps) process.stderr.write('als: warning: the data set has no timestamps; the timestamp column is 0\n');
      return;
    }
    if (checkpoint === undefined) throw new AlsError(`--format ${options.format} needs a checkpoint: als export --format ${options.format} <model.als> --out ${options.out}`);
    if (options.format === 'spark') {
      const r = await app.exportSpark({ model: checkpoint, out: options.out });
      process.stdout.write(
        `wrote Spark ALSModel ${r.out}: rank ${r.rank} (dim ${r.rank - 2} + 2 bias columns), ${r.users} users, ${r.items} movies in ${(r.elapsedMs / 1000).toFixed(2)} s\n` +
          `load it with ALSModel.load(${JSON.stringify(r.out)}); predictions = μ + b + c + u·v to float32 round-off\n`,
      );
      return;
    }
    const r = await app.exportNumpy({ model: checkpoint, out: options.out, format: options.format });
    const arrays = r.arrays.map((a) => `${a.name} ${a.dtype} (${a.shape.join(', ')})`).join(', ');
    process.stdout.write(`wrote ${r.out} in ${(r.elapsedMs / 1000).toFixed(2)} s: ${arrays}\n`);
  });
}
