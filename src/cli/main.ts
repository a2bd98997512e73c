import { Command, CommanderError } from 'commander';
import { AlsError } from '../errors.js';
import { registerDownload } from './download.js';
import { registerStats } from './stats.js';
import { registerSynth } from './synth.js';
import { registerTrain } from './train.js';
import { registerEval } from './eval.js';
import { registerRecommend } from './recommend.js';
import { registerSimilar } from './similar.js';
import { registerPlot } from './plot.js';
import { registerReport } from './report.js';
import { registerExport } from './export.js';
import { registerImport } from './import.js';
import { registerSparkJob } from './spark-job.js';

/** Builds the `als` program. Each subcommand lives in its own file and registers itself here. */
export function buildProgram(): Command {
  const program = new Command('als')
    .description('Collaborative filtering with Alternating Least Squares on MovieLens data')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDownload(program);
  registerStats(program);
  registerSynth(program);
  registerTrain(program);
  registerEval(program);
  registerRecommend(program);
  registerSimilar(program);
  registerPlot(program);
  registerReport(program);
  registerExport(program);
  registerImport(program);
  registerSparkJob(program);
  return program;
}

/**
 * Runs the CLI and returns the exit code. User errors (AlsError) print one line on stderr;
 * unexpected errors print one line too, with the stack only when ALS_DEBUG is set.
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message (help, version or usage error).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof AlsError) {
      process.stderr.write(`als: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`als: internal error: ${message.split('\n')[0]}\n`);
    if (process.env.ALS_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 70;
  }
}
