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

/** Longest message problem kept whole: text from a hostile file (a 10 MB line) is cut. */
const MAX_PROBLEM_CHARS = 300;

/**
 * Text from an input file quoted for a one-line message: JSON-quoted (control characters and NUL
 * escaped, so the message stays one line) and cut to `maxChars` with an ellipsis.
 */
export function quoteForMessage(text: string, maxChars = 60): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return JSON.stringify(cut);
}

/** One line of at most MAX_PROBLEM_CHARS: line breaks become spaces, the rest is cut with an ellipsis. */
function oneLine(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  return flat.length > MAX_PROBLEM_CHARS ? `${flat.slice(0, MAX_PROBLEM_CHARS)}…` : flat;
}

/** A problem in an input file, located by file and (1-based) line: `file:line: problem`. */
export class DataError extends AlsError {
  readonly file: string;
  readonly line: number | undefined;
  readonly problem: string;
  constructor(file: string, line: number | undefined, rawProblem: string) {
    const problem = oneLine(rawProblem);
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

/** Causes of the file-system errors a user meets, in words (keyed by Node's error code). */
const FILE_SYSTEM_CAUSES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'a file is in the way (a folder is needed there, or the name is taken)',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  ENOENT: 'no such file or folder',
  ENOTEMPTY: 'the folder already exists and is not empty',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error (failing disk or network file system)',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'the file or folder is busy',
  EXDEV: 'cannot move across file systems',
  EFBIG: 'file too large for the file system',
};

/** Whether `error` is a Node system error (it has a string `code` such as ENOSPC and a `syscall`). */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    typeof (error as NodeJS.ErrnoException).syscall === 'string'
  );
}

/**
 * A Node file-system error as one line naming the path and the cause, e.g.
 * `cannot write out/m.als: no space left on the device (ENOSPC)`. `context.path` overrides the
 * path Node recorded (which may be a temp file's); `context.action` is what was being done.
 * Anything that is not a system error is returned unchanged when it is an AlsError, else wrapped.
 */
export function fileSystemError(
  error: unknown,
  context: { path?: string; action?: string } = {},
): AlsError {
  if (error instanceof AlsError) return error;
  if (!isSystemError(error)) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return new AlsError(context.action ? `cannot ${context.action}: ${message}` : message);
  }
  const code = error.code!;
  const cause = `${
    FILE_SYSTEM_CAUSES[code] ??
    error.message
      .split('\n')[0]!
      .replace(/^[A-Z]+: /, '')
      .replace(/, \w+ .*$/, '')
  } (${code})`;
  const where = context.path ?? error.path ?? (error as { dest?: string }).dest;
  if (context.action) return new AlsError(`cannot ${context.action}: ${cause}`);
  return new AlsError(where !== undefined ? `${where}: ${cause}` : cause);
}

/**
 * What the CLI prints for an error that is not an AlsError: system errors (ENOSPC, EROFS, …)
 * become AlsErrors naming the path and the cause; anything else returns null (a bug: "internal error").
 */
export function userErrorOf(error: unknown): AlsError | null {
  if (error instanceof AlsError) return error;
  if (isSystemError(error)) return fileSystemError(error);
  return null;
}
