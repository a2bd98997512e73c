/**
 * How `als train` is interrupted, and the exit code that says so (128 + the signal's number, what
 * a shell reports for a process the signal killed):
 * - SIGINT (Ctrl-C) once: finish the epoch in progress, save it, exit 130. Again: save the last
 *   finished epoch now (the epoch in progress is lost), exit 130.
 * - SIGTERM (`timeout`, `docker stop`, CI runners): save the last finished epoch now, exit 143.
 *   A terminating process has seconds before SIGKILL, not necessarily an epoch's worth.
 * - The reader of standard output went away (`als train | head -2`): as one Ctrl-C, exit 141.
 * Saves are synchronous atomic writes (temp file, fsync, rename, src/data/atomic.ts): a signal that
 * arrives during one is only handled after the rename, and the process exits right after the save,
 * so a second signal never leaves half a file or a temp file behind. A signal after the final
 * checkpoint was written says so and exits at once.
 */
import { BROKEN_PIPE_EXIT_CODE, onStdoutClosed } from './output.js';

export type InterruptCause = 'SIGINT' | 'SIGTERM' | 'EPIPE';

export const INTERRUPT_EXIT_CODES: Record<InterruptCause, number> = {
  SIGINT: 130,
  SIGTERM: 143,
  EPIPE: BROKEN_PIPE_EXIT_CODE,
};

/** What the interrupt handling needs from a training run (TrainingRun has it). */
export interface Interruptible {
  /** Writes the last finished epoch's model now; null when no epoch has finished. */
  saveLastGood(): { file: string; epoch: number } | null;
}

export interface InterruptWatch {
  /** The first interruption seen, or null. */
  readonly cause: InterruptCause | null;
  /** The exit code of an interrupted run (130, 143 or 141). */
  exitCode(): number;
  /** Called once the run's last checkpoint is on disk: a later signal only exits. */
  markSaved(saved: { file: string; epoch: number }): void;
  /** Removes the listeners. */
  dispose(): void;
}

const said = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Listens for SIGINT, SIGTERM and a closed standard output during a training run. `stop` is
 * aborted on the first SIGINT or a closed output (the run ends after the epoch in progress and
 * saves); `beforeMessage` runs before any line is printed (e.g. to stop a progress bar).
 */
export function watchInterrupts(
  run: Interruptible,
  stop: AbortController,
  options: { quiet?: boolean; beforeMessage?: () => void } = {},
): InterruptWatch {
  let cause: InterruptCause | null = null;
  let saved: { file: string; epoch: number } | null = null;

  const exitNow = (why: InterruptCause): never => {
    options.beforeMessage?.();
    if (saved !== null) {
      said(
        `als: interrupted after the checkpoint of epoch ${saved.epoch} was saved to ${saved.file}`,
      );
      process.exit(INTERRUPT_EXIT_CODES[why]);
    }
    let now: { file: string; epoch: number } | null;
    try {
      now = run.saveLastGood();
    } catch (error) {
      said(
        `als: interrupted, and the save failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
      process.exit(1);
    }
    if (now !== null)
      said(`als: interrupted: saved the checkpoint of epoch ${now.epoch} to ${now.file}`);
    else said('als: interrupted before the first epoch finished: nothing saved');
    process.exit(INTERRUPT_EXIT_CODES[why]);
  };

  const stopAfterEpoch = (why: InterruptCause, message: string): void => {
    cause ??= why;
    stop.abort();
    if (!options.quiet) {
      options.beforeMessage?.();
      said(message);
    }
  };

  const onSigint = (): void => {
    if (saved !== null || stop.signal.aborted) exitNow('SIGINT');
    stopAfterEpoch('SIGINT', '\ninterrupt: finishing the current epoch (Ctrl-C again to stop now)');
  };
  const onSigterm = (): void => {
    cause ??= 'SIGTERM';
    exitNow('SIGTERM');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const offClosed = onStdoutClosed(() => {
    if (saved !== null || stop.signal.aborted) return;
    // Quietly: the terminal may be the pipe's other end too. What was saved is said at the end.
    cause ??= 'EPIPE';
    stop.abort();
  });

  return {
    get cause() {
      return cause;
    },
    exitCode: () => INTERRUPT_EXIT_CODES[cause ?? 'SIGINT'],
    markSaved(at) {
      saved = at;
    },
    dispose() {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      offClosed();
    },
  };
}
