import { Command, CommanderError } from 'commander';
import { userErrorOf } from '../errors.js';
import { registerDownload } from './download.js';
import { registerStats } from './stats.js';
import { registerSynth } from './synth.js';
import { registerTrain } from './train.js';
import { registerEval } from './eval.js';
import { registerRecommend } from './recommend.js';
import { registerSimilar } from './similar.js';
import { registerPlot } from './plot.js';
import { registerReport } from './report.js';
import { registerCv } from './cv.js';
import { registerTune } from './tune.js';
import { registerRuns } from './runs.js';
import { readEnvironment } from './environment.js';
import { exitCodeForOutput, guardOutput } from './output.js';
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
  registerCv(program);
  registerTune(program);
  registerRuns(program);
  registerExport(program);
  registerImport(program);
  registerSparkJob(program);
  return program;
}

/**
 * Runs the CLI and returns the exit code: 0 success, 1 bad input or a failed operation (AlsError:
 * one line on stderr), 2 usage error, 130/143 interrupted by SIGINT/SIGTERM after saving (train),
 * 141 the reader of standard output went away (see output.ts), 70 a bug ("internal error", one
 * line; the stack only when ALS_DEBUG is set).
 */
export async function main(argv: string[]): Promise<number> {
  // A closed pipe (`als … | head`) stops the output quietly and exits 141, as Unix tools do.
  guardOutput();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return exitCodeForOutput(typeof process.exitCode === 'number' ? process.exitCode : 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message (help, version or usage error).
      return error.exitCode === 0 ? 0 : 2;
    }
    // AlsErrors, and file-system errors (ENOSPC, EROFS, ENOTDIR…) mapped to one line naming the path.
    const userError = userErrorOf(error);
    if (userError !== null) {
      process.stderr.write(`als: ${userError.message}\n`);
      return userError.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`als: internal error: ${message.split('\n')[0]}\n`);
    if (readEnvironment().debug && error instanceof Error && error.stack)
      process.stderr.write(`${error.stack}\n`);
    return 70;
  }
}
