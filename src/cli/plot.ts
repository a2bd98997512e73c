import type { Command } from 'commander';
import { AlsError } from '../errors.js';

// Placeholder until the subcommand lands: it is listed in --help and says so instead of pretending.
export function registerPlot(program: Command): void {
  program
    .command('plot')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new AlsError('als plot is not implemented yet');
    });
}
