/**
 * `als export`: a checkpoint as a Spark ALSModel directory (--format spark) or numpy arrays
 * (--format npz / npy), or a data set's ratings / a split as Parquet (--format parquet).
 * Options → src/app/interop.ts (loaded only here, so the Parquet code stays off other commands'
 * start-up path) → one summary line.
 */
import type { Command } from 'commander';
import { openDataset } from '../app/data.js';
import { AlsError } from '../errors.js';
import { dataEvents, dataSourceOf, warn } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';

export const EXPORT_OPTIONS = [
  'exportFormat',
  'exportOut',
  'exportSplit',
  'seed',
  'compression',
  ...DATA_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description(
      'export a checkpoint for Spark (--format spark) or numpy (npz, npy), or ratings as Parquet (--format parquet)',
    )
    .argument('[checkpoint]', 'the model to export (formats spark, npz, npy)');
  addOptions(command, EXPORT_OPTIONS).action(
    async (checkpoint: string | undefined, _options: unknown, cmd: Command) => {
      const o = readOptions(cmd, EXPORT_OPTIONS);
      if (o.exportFormat === undefined)
        throw new AlsError('--format: give spark, parquet, npz or npy');
      if (o.exportOut === undefined) throw new AlsError('--out: name the output');
      const format = o.exportFormat;
      const app = await import('../app/interop.js');
      if (format === 'parquet') {
        if (checkpoint !== undefined)
          throw new AlsError('--format parquet exports ratings of --data, not a checkpoint');
        const dataset = await openDataset(dataSourceOf(o), dataEvents());
        const split =
          o.exportSplit === undefined ? undefined : { spec: o.exportSplit, seed: o.seed ?? 1 };
        const r = await app.exportRatingsParquet({
          dataset,
          out: o.exportOut,
          split,
          compression: o.compression,
        });
        const parts = r.files.map((f) => `${f.file} (${f.rows} ratings)`).join(', ');
        const how = r.split ? ` (split ${r.split.spec}, seed ${r.split.seed})` : '';
        process.stdout.write(
          `wrote ${parts} to ${r.out} in ${(r.elapsedMs / 1000).toFixed(2)} s${how}\n`,
        );
        if (r.noTimestamps) warn('the data set has no timestamps; the timestamp column is 0');
        return;
      }
      if (checkpoint === undefined) {
        throw new AlsError(
          `--format ${format} needs a checkpoint: als export --format ${format} <model.als> --out ${o.exportOut}`,
        );
      }
      if (format === 'spark') {
        const r = await app.exportSpark({ model: checkpoint, out: o.exportOut });
        process.stdout.write(
          `wrote Spark ALSModel ${r.out}: rank ${r.rank} (dim ${r.rank - 2} + 2 bias columns), ${r.users} users, ${r.items} movies in ${(r.elapsedMs / 1000).toFixed(2)} s\n` +
            `load it with ALSModel.load(${JSON.stringify(r.out)}); predictions = μ + b + c + u·v to float32 round-off\n`,
        );
        return;
      }
      const r = await app.exportNumpy({ model: checkpoint, out: o.exportOut, format });
      const arrays = r.arrays.map((a) => `${a.name} ${a.dtype} (${a.shape.join(', ')})`).join(', ');
      process.stdout.write(`wrote ${r.out} in ${(r.elapsedMs / 1000).toFixed(2)} s: ${arrays}\n`);
    },
  );
}
