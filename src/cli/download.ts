import type { Command } from 'commander';
import { z } from 'zod';
import { downloadDataset, isKnownDataset, KNOWN_DATASETS } from '../data/download.js';
import { UsageError } from '../errors.js';
import { dataHome } from '../data/home.js';
import { parseOptions } from './common.js';

const knownNames = Object.keys(KNOWN_DATASETS);

const downloadSchema = z.object({
  names: z.array(z.string()).min(1),
  dataHome: z.string().min(1).optional(),
  mirror: z.string().min(1).optional(),
});

/** `als download <name…>`: fetch, verify and install MovieLens sets into the data home. */
export function registerDownload(program: Command): void {
  program
    .command('download')
    .description(`download and verify MovieLens sets into the data home (${knownNames.join(', ')})`)
    .argument('<names...>', 'data set names')
    .option('--data-home <folder>', 'where sets are installed (default: $ALS_DATA_HOME or ./data)')
    .option('--mirror <url-or-folder>', 'a URL serving <name>.zip (+ .md5), or a folder of extracted sets (default: $ALS_MIRROR)')
    .action(async (names: string[], raw: Record<string, unknown>) => {
      const options = parseOptions(downloadSchema, { ...raw, names });
      const unknown = options.names.find((name) => !isKnownDataset(name));
      if (unknown !== undefined) throw new UsageError(`unknown data set "${unknown}"; known: ${knownNames.join(', ')}`);
      const home = dataHome(options.dataHome);
      for (const name of options.names) {
        const result = await downloadDataset(name, {
          home,
          mirror: options.mirror ?? process.env.ALS_MIRROR,
          progress: true,
          warn: (message) => process.stderr.write(`als: warning: ${message}\n`),
        });
        const what = result.status === 'present' ? 'already present' : result.status;
        const checks = result.verified.length > 0 ? `verified ${result.verified.join(', ')}` : 'no checksums known';
        process.stdout.write(`${name}: ${what} in ${result.dir} (${checks})\n`);
      }
    });
}
