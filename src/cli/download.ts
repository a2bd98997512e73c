import type { Command } from 'commander';
import { downloadDatasets } from '../app/data.js';
import { KNOWN_DATASETS } from '../data/download.js';
import { dataEvents, dataSourceOf } from './common.js';
import { addOptions, readOptions, type OptionKey } from './options.js';

const DOWNLOAD_OPTIONS = ['dataHome', 'mirror'] as const satisfies readonly OptionKey[];

/** `als download <name…>`: fetch, verify and install MovieLens sets into the data home. */
export function registerDownload(program: Command): void {
  const command = program
    .command('download')
    .description(
      `download and verify MovieLens sets into the data home (${Object.keys(KNOWN_DATASETS).join(', ')})`,
    )
    .argument('<names...>', 'data set names');
  addOptions(command, DOWNLOAD_OPTIONS).action(
    async (names: string[], _options: unknown, cmd: Command) => {
      const source = dataSourceOf(readOptions(cmd, DOWNLOAD_OPTIONS));
      const events = dataEvents();
      await downloadDatasets(
        names,
        { dataHome: source.dataHome, mirror: source.mirror },
        {
          ...events,
          onResult: (result) => {
            const what = result.status === 'present' ? 'already present' : result.status;
            const checks =
              result.verified.length > 0
                ? `verified ${result.verified.join(', ')}`
                : 'no checksums known';
            process.stdout.write(`${result.name}: ${what} in ${result.dir} (${checks})\n`);
          },
        },
      );
    },
  );
}
