import type { Command } from 'commander';
import { AlsError } from '../errors.js';

// Placeholder until the subcommand lands: it is listed in --help and says so instead of pretending.
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new AlsError('als train is not implemented yet');
    });
}
