/**
 * Errors a user can act on. The CLI prints `error.message` as one line and exits non-zero;
 * anything that is not an AlsError is a bug and is reported as such (stack only with ALS_DEBUG=1).
 */
export class AlsError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'AlsError';
    this.exitCode = exitCode;
  }
}

/** A problem in an input file, located by file and (1-based) line: `file:line: problem`. */
export class DataError extends AlsError {
  readonly file: string;
  readonly line: number | undefined;
  readonly problem: string;
  constructor(file: string, line: number | undefined, problem: string) {
    super(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
    this.name = 'DataError';
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/** Bad command-line usage (an option zod refused, a missing argument). Exit code 2, as for usage errors. */
export class UsageError extends AlsError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
