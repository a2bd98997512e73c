import type { Command } from 'commander';
import { AlsError } from '../errors.js';

// Placeholder until the subcommand lands: it is listed in --help and says so instead of pretending.
export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .action(() => {
      throw new AlsError('als synth is not implemented yet');
    });
}
