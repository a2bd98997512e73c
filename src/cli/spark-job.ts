import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_HYPERPARAMETERS } from '../core/defaults.js';
import { parseOptions } from './common.js';
import { DEFAULT_EPOCHS, DEFAULT_SEED, DEFAULT_SPLIT } from './train.js';

/** `als spark-job`: writes the PySpark program that trains Spark's ALS on `als export --format parquet` output. */
const sparkJobSchema = z.object({
  out: z.string().min(1, { message: 'must name the .py file' }),
  model: z.string().min(1).optional(),
  parquet: z.string().min(1).default('ratings-parquet'),
  modelOut: z.string().min(1).default('spark-model'),
  epochs: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').positive('must be positive').optional(),
  split: z.string().min(1).optional(),
  seed: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').nonnegative('must not be negative').optional(),
});

export function registerSparkJob(program: Command): void {
  program
    .command('spark-job')
    .description('write a PySpark program: Spark MLlib ALS on exported Parquet, held-out RMSE, model saved for als import')
    .requiredOption('--out <file.py>', 'the program to write (must not exist)')
    .option('--model <checkpoint>', `take dim, τ, λ, epochs, split and seed from this checkpoint (default: als train's, dim ${DEFAULT_HYPERPARAMETERS.dim}, τ ${DEFAULT_HYPERPARAMETERS.tau}, λ ${DEFAULT_HYPERPARAMETERS.lambda})`)
    .option('--parquet <dir>', 'folder of train.parquet and test.parquet (als export --format parquet --split ...) (default: ratings-parquet)')
    .option('--model-out <dir>', 'where the job saves the Spark model (default: spark-model)')
    .option('--epochs <n>', `Spark maxIter (default: the checkpoint's epochs, else ${DEFAULT_EPOCHS})`)
    .option('--split <spec>', `the split the Parquet holds, for the printed import command (default: the checkpoint's, else ${DEFAULT_SPLIT})`)
    .option('--seed <n>', `seed of the split, also Spark's seed (default: the checkpoint's, else ${DEFAULT_SEED})`)
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(sparkJobSchema, raw);
      const { writeSparkJob } = await import('../app/interop.js');
      let from;
      if (options.model !== undefined) {
        const { readCheckpoint } = await import('../data/checkpoint.js');
        from = readCheckpoint(options.model);
      }
      const r = await writeSparkJob({
        out: options.out,
        hyper: from?.state.hyper,
        epochs: options.epochs ?? (from !== undefined && from.epochsDone > 0 ? from.epochsDone : DEFAULT_EPOCHS),
        seed: options.seed ?? from?.split.seed ?? DEFAULT_SEED,
        splitSpec: options.split ?? from?.split.spec ?? DEFAULT_SPLIT,
        parquetDir: options.parquet,
        modelPath: options.modelOut,
      });
      const p = r.params;
      process.stdout.write(
        `wrote ${r.out}: ALS(rank=${p.rank}, maxIter=${p.maxIter}, regParam=${p.regParam}) on ${p.trainPath}, RMSE on ${p.testPath}, model saved to ${p.modelPath}\n` +
          r.differences.map((d) => `  differs from als: ${d}\n`).join(''),
      );
    });
}
