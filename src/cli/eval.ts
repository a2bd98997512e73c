import type { Command } from 'commander';
import { AlsError } from '../errors.js';

// Placeholder until the subcommand lands: it is listed in --help and says so instead of pretending.
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new AlsError('als eval is not implemented yet');
    });
}
