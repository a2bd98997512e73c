/** What the subcommands share: the data source from the options and the environment, warnings, the download bar. */
import cliProgress from 'cli-progress';
import type { DataEvents, DataSource } from '../app/data.js';
import { openRecorder, type Recorder } from '../app/record.js';
import type { Hyperparameters, ModelKind } from '../core/types.js';
import type { DownloadProgress } from '../data/download.js';
import { readEnvironment } from './environment.js';

/** Prints a warning line on stderr. */
export function warn(message: string): void {
  process.stderr.write(`als: warning: ${message}\n`);
}

/** The data source of the --data family of options, with $ALS_DATA_HOME and $ALS_MIRROR filled in. */
export function dataSourceOf(options: Partial<DataSource>): DataSource {
  const env = readEnvironment();
  return {
    data: options.data,
    dataHome: options.dataHome ?? env.dataHome,
    offline: options.offline,
    mirror: options.mirror ?? env.mirror,
    dedupe: options.dedupe,
    cache: options.cache,
    ratingScale: options.ratingScale,
  };
}

/** A download progress bar on stderr (only when stderr is a terminal). */
export function downloadBar(): (progress: DownloadProgress) => void {
  let bar: cliProgress.SingleBar | null = null;
  return (progress) => {
    if (!process.stderr.isTTY) return;
    if (progress.phase === 'start') {
      bar = new cliProgress.SingleBar(
        {
          format: `${progress.name} [{bar}] {percentage}% {value}/{total} bytes`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(progress.totalBytes > 0 ? progress.totalBytes : 1, 0);
    } else if (progress.phase === 'data') {
      bar?.update(progress.totalBytes > 0 ? progress.receivedBytes : 0);
    } else {
      bar?.stop();
      bar = null;
    }
  };
}

/** Warnings and the download bar, as the app layer's data events. */
export function dataEvents(): DataEvents {
  return { onWarning: warn, onDownloadProgress: downloadBar() };
}

/** The hyperparameter options (--kind, --dim, --lambda, …) as the app layer's partial hyperparameters. */
export function hyperparametersOf(o: {
  kind?: ModelKind;
  dim?: number;
  lambda?: number;
  tau?: number;
  gamma?: number;
  genreTau?: number;
  weighted?: boolean;
  weightedBias?: boolean;
  weightExponent?: number;
}): Partial<Hyperparameters> {
  return {
    kind: o.kind,
    dim: o.dim,
    lambda: o.lambda,
    tau: o.tau,
    gamma: o.gamma,
    genreTau: o.genreTau,
    weightedRegularization: o.weighted,
    weightedBiasRegularization: o.weightedBias,
    weightExponent: o.weightExponent,
  };
}

/** The run registry for this command (null with --no-record or when it cannot be opened: one warning). */
export function openCommandRecorder(
  record: boolean | undefined,
  dataHome: string | undefined,
): Promise<Recorder | null> {
  return openRecorder({
    record,
    dataHome,
    commandLine: ['als', ...process.argv.slice(2)],
    onWarning: warn,
  });
}
