/**
 * `als import --format spark DIR --data <set>`: a Spark ALSModel directory as an als checkpoint
 * tied to the data set and split, so eval / recommend / similar / report work on it.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { openDataset } from '../app/data.js';
import { RUN_DEFAULTS } from '../app/defaults.js';
import { dataHome } from '../data/home.js';
import { AlsError } from '../errors.js';
import { dataEvents, dataSourceOf } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';

export const IMPORT_OPTIONS = [
  'importFormat',
  'importOut',
  'split',
  'seed',
  ...DATA_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerImport(program: Command): void {
  const command = program
    .command('import')
    .description('turn a Spark ALSModel directory into an als checkpoint of a data set')
    .argument('<dir>', 'the directory ALSModel.save wrote');
  addOptions(command, IMPORT_OPTIONS).action(
    async (dir: string, _options: unknown, cmd: Command) => {
      const o = readOptions(cmd, IMPORT_OPTIONS);
      if (o.importFormat === undefined) throw new AlsError('--format: give spark');
      const source = dataSourceOf(o);
      const dataset = await openDataset(source, dataEvents());
      const out =
        o.importOut ??
        path.join(dataHome(source.dataHome), 'models', `${dataset.info.name}-spark.als`);
      const { importSpark } = await import('../app/interop.js');
      const r = await importSpark({
        dir,
        dataset,
        splitSpec: o.split ?? RUN_DEFAULTS.split,
        seed: o.seed ?? RUN_DEFAULTS.seed,
        out,
      });
      const how = r.unfoldedBiases
        ? `dim ${r.dim} with biases (the bias columns of an als export, rank ${r.rank})`
        : `dim ${r.dim}, no biases (μ = 0)`;
      const lines = [
        `wrote ${r.out}: latent model, ${how}`,
        `         ${r.users.inModel} of ${r.users.inDataset} users and ${r.items.inModel} of ${r.items.inDataset} movies of ${dataset.info.name} have factors; split ${r.split.spec} (seed ${r.split.seed}), ${r.split.testRatings} held out`,
      ];
      const cold =
        r.users.withTrainingRatingsButNoFactors + r.items.withTrainingRatingsButNoFactors;
      if (cold > 0) {
        lines.push(
          `         note: ${r.users.withTrainingRatingsButNoFactors} users and ${r.items.withTrainingRatingsButNoFactors} movies with training ratings have no factors (zero vectors): was the model trained on this split?`,
        );
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    },
  );
}
