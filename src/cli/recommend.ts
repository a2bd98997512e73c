import type { Command } from 'commander';
import { AlsError } from '../errors.js';

// Placeholder until the subcommand lands: it is listed in --help and says so instead of pretending.
export function registerRecommend(program: Command): void {
  program
    .command('recommend')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new AlsError('als recommend is not implemented yet');
    });
}
