/** `als spark-job`: writes the PySpark program that trains Spark's ALS on `als export --format parquet` output. */
import type { Command } from 'commander';
import { RUN_DEFAULTS } from '../app/defaults.js';
import { AlsError } from '../errors.js';
import { addOptions, readOptions, type OptionKey } from './options.js';

export const SPARK_JOB_OPTIONS = [
  'jobOut',
  'checkpoint',
  'parquet',
  'modelOut',
  'jobEpochs',
  'jobSplit',
  'jobSeed',
] as const satisfies readonly OptionKey[];

export function registerSparkJob(program: Command): void {
  const command = program
    .command('spark-job')
    .description(
      'write a PySpark program: Spark MLlib ALS on exported Parquet, held-out RMSE, model saved for als import',
    );
  addOptions(command, SPARK_JOB_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, SPARK_JOB_OPTIONS);
    if (o.jobOut === undefined) throw new AlsError('--out: name the .py file to write');
    const { writeSparkJob } = await import('../app/interop.js');
    let from;
    if (o.checkpoint !== undefined) {
      const { readCheckpoint } = await import('../data/checkpoint.js');
      from = readCheckpoint(o.checkpoint);
    }
    const r = await writeSparkJob({
      out: o.jobOut,
      hyper: from?.state.hyper,
      epochs:
        o.jobEpochs ??
        (from !== undefined && from.epochsDone > 0 ? from.epochsDone : RUN_DEFAULTS.epochs),
      seed: o.jobSeed ?? from?.split.seed ?? RUN_DEFAULTS.seed,
      splitSpec: o.jobSplit ?? from?.split.spec ?? RUN_DEFAULTS.split,
      parquetDir: o.parquet,
      modelPath: o.modelOut,
    });
    const p = r.params;
    process.stdout.write(
      `wrote ${r.out}: ALS(rank=${p.rank}, maxIter=${p.maxIter}, regParam=${p.regParam}) on ${p.trainPath}, RMSE on ${p.testPath}, model saved to ${p.modelPath}\n` +
        r.differences.map((d) => `  differs from als: ${d}\n`).join(''),
    );
  });
}
