/**
 * Standard output and error as Unix tools treat them. When the reader of a pipe goes away
 * (`als stats --json | head -c 100`), a write fails with EPIPE; Node ignores SIGPIPE, so without
 * a listener that error is thrown as an unhandled 'error' event ("Error: write EPIPE" and a
 * stack). Here it only marks the output closed: further writes are dropped (the stream is
 * destroyed, so they are no-ops), listeners are told (`als train` then stops and saves, as on
 * Ctrl-C), and the process exits 141 = 128 + SIGPIPE, what a shell reports for `yes | head -1`
 * (so `set -o pipefail` scripts see that the output was cut).
 * Any other error on standard output (ENOSPC with `> file` on a full disk, EIO) becomes one line
 * on stderr and exit 1. A closed stderr is ignored quietly.
 */

/** Exit code after the reader of standard output went away: 128 + SIGPIPE (13). */
export const BROKEN_PIPE_EXIT_CODE = 141;

let installed = false;
let stdoutClosed = false;
let stdoutFailure: string | null = null;
const closeListeners = new Set<() => void>();

/** Whether standard output's reader has gone away (EPIPE): nothing more reaches it. */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/** A write to standard output that failed for another reason than a closed pipe, as one line; null if none. */
export function stdoutFailureMessage(): string | null {
  return stdoutFailure;
}

/** Calls `listener` once when standard output closes (at once if it already has). Returns the unsubscribe. */
export function onStdoutClosed(listener: () => void): () => void {
  if (stdoutClosed) {
    listener();
    return () => {};
  }
  closeListeners.add(listener);
  return () => closeListeners.delete(listener);
}

/** The exit code the output's state calls for over `code`: 141 after a broken pipe, 1 after a failed write. */
export function exitCodeForOutput(code: number): number {
  if (code !== 0) return code;
  if (stdoutFailure !== null) return 1;
  return stdoutClosed ? BROKEN_PIPE_EXIT_CODE : 0;
}

/** Installs the listeners on process.stdout and process.stderr (once per process). */
export function guardOutput(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      if (stdoutClosed) return;
      stdoutClosed = true;
      // The error event comes a tick after the write: main() may have returned 0 already.
      if (!process.exitCode) process.exitCode = BROKEN_PIPE_EXIT_CODE;
      for (const listener of [...closeListeners]) listener();
      closeListeners.clear();
      return;
    }
    if (stdoutFailure !== null) return;
    stdoutFailure = `cannot write to standard output: ${error.message.split('\n')[0]}`;
    process.stderr.write(`als: ${stdoutFailure}\n`);
    if (!process.exitCode) process.exitCode = 1;
  });
  process.stderr.on('error', () => {
    // Nowhere left to say anything; stderr writes are dropped from now on.
  });
}
