/**
 * `als train --method gibbs`: the options of `als train` → one Bayesian run (src/app/bayes-run.ts)
 * → a progress bar per sample (or one line per sample off a terminal) and a summary.
 * Ctrl-C, SIGTERM or a closed standard output once finishes the sample in progress, saves the
 * chain (resume with --resume) and exits as ALS runs do: 130, 143 or 141 (src/cli/signals.ts). A
 * second signal exits at once, leaving the previous file as it was. The run is recorded in the run
 * registry as ALS runs are (src/app/record.ts; --no-record: not), an interrupted one as failed.
 */
import { onStdoutClosed } from './output.js';
import { INTERRUPT_EXIT_CODES, type InterruptCause } from './signals.js';
import cliProgress from 'cli-progress';
import { DEFAULT_MODEL_KIND } from '../core/defaults.js';
import type { Dataset } from '../data/types.js';
import { trainBayesianModel, type BayesianTrainStart } from '../app/bayes-run.js';
import { recordBayesianResult, recordBayesianTraining } from '../app/record.js';
import {
  DEFAULT_BAYESIAN_OPTIONS,
  validateBayesianOptions,
  type SampleMetrics,
} from '../app/bayes.js';
import { AlsError, UsageError } from '../errors.js';
import { sparkline } from '../report/sparkline.js';
import { openCommandRecorder } from './common.js';
import type { OptionValues } from './options.js';
import type { TRAIN_OPTIONS } from './train.js';

type TrainValues = OptionValues<(typeof TRAIN_OPTIONS)[number]>;

const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));

/** ALS options that mean nothing to the sampler: refused rather than silently ignored. */
const ALS_ONLY = [
  ['lambda', '--lambda'],
  ['tau', '--tau'],
  ['gamma', '--gamma'],
  ['genreTau', '--genre-tau'],
  ['weighted', '--weighted'],
  ['weightedBias', '--weighted-bias'],
  ['weightExponent', '--weight-exponent'],
  ['earlyStop', '--early-stop'],
] as const;

function startLines(s: BayesianTrainStart): string[] {
  const o = s.options;
  const r = s.split;
  const lines: string[] = [];
  if (s.firstSample > 0) lines.push(`resuming ${s.out} after sample ${s.firstSample}`);
  lines.push(
    `data     ${s.dataset.name}: ${s.dataset.numRatings} ratings, ${s.dataset.numUsers} users, ${s.dataset.numItems} movies`,
  );
  lines.push(
    `split    ${r.spec} (seed ${o.seed}): ${r.trainRatings} train, ${r.testRatings} held out`,
  );
  lines.push(
    `model    Bayesian ${o.kind}${o.kind === 'bias' ? '' : `, dim ${o.dim}`} (Gibbs sampling; precisions learned)`,
  );
  lines.push(
    `chain    ${o.samples} samples now, burn-in ${o.burnIn}, 1 in ${o.thin} post-burn-in samples stored`,
  );
  lines.push(
    `kernel   ${typeof o.kernel === 'string' ? o.kernel : o.kernel.name}, ${o.threads} thread${o.threads === 1 ? '' : 's'}`,
  );
  return lines;
}

/** One-line refusals before any data is loaded: ALS-only options, impossible chain settings. */
export function checkGibbsOptions(o: TrainValues, epochsGiven: boolean): void {
  for (const [key, flag] of ALS_ONLY) {
    if (o[key] !== undefined)
      throw new UsageError(
        `${flag}: not used by --method gibbs (the sampler learns its precisions from the data)`,
      );
  }
  if (epochsGiven) throw new UsageError('--epochs: --method gibbs counts samples (--samples)');
  if (o.checkpointEvery > 0)
    throw new UsageError(
      '--checkpoint-every: not supported by --method gibbs (Ctrl-C saves the chain, --resume continues it)',
    );
  if (!o.resume) {
    // With --resume the chain's length and burn-in come from the file; the app layer checks then.
    validateBayesianOptions({
      kind: o.kind ?? DEFAULT_MODEL_KIND,
      dim: o.dim ?? DEFAULT_BAYESIAN_OPTIONS.dim,
      samples: o.samples ?? DEFAULT_BAYESIAN_OPTIONS.samples,
      burnIn: o.burnIn ?? DEFAULT_BAYESIAN_OPTIONS.burnIn,
      thin: o.thin ?? DEFAULT_BAYESIAN_OPTIONS.thin,
      seed: 0,
      threads: 1,
      kernel: 'ts',
    });
  }
}

export async function runTrainGibbs(
  o: TrainValues,
  dataset: Dataset,
  dataHome: string | undefined,
): Promise<number> {
  const quiet = o.quiet === true;
  const note = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const startedMs = performance.now();
  const recorder = await openCommandRecorder(o.record, dataHome);
  const tty = process.stdout.isTTY === true && !quiet;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            'sample {value}/{total} [{bar}] train {train} | α {alpha} | valid (average) {valid} | {sps} s/sample',
          hideCursor: true,
          stream: process.stdout,
          barsize: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const stop = new AbortController();
  let interrupts = 0;
  // The first interruption decides the exit code, as for ALS runs (src/cli/signals.ts).
  let cause: InterruptCause | null = null;
  const onInterrupt = (why: InterruptCause): void => {
    cause ??= why;
    interrupts++;
    if (interrupts === 1) {
      stop.abort();
      if (why === 'EPIPE') return; // nobody reads the output any more: stop quietly

      if (!quiet)
        process.stderr.write(
          '\ninterrupt: finishing the current sample and saving the chain (Ctrl-C again to quit without saving)\n',
        );
      return;
    }
    bar?.stop();
    process.stderr.write(
      'als: interrupted twice: quit without saving (the previous checkpoint is unchanged)\n',
    );
    process.exit(INTERRUPT_EXIT_CODES[cause ?? why]);
  };
  const onSigint = (): void => onInterrupt('SIGINT');
  const onSigterm = (): void => onInterrupt('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const stopWatchingOutput = onStdoutClosed(() => onInterrupt('EPIPE'));
  let result;
  try {
    const run = trainBayesianModel(
      {
        dataset,
        kind: o.kind,
        dim: o.dim,
        samples: o.samples,
        burnIn: o.burnIn,
        thin: o.thin,
        seed: o.seed,
        split: o.split,
        threads: o.threads,
        kernel: o.kernel,
        out: o.trainOut,
        dataHome,
        resume: o.resume,
        signal: stop.signal,
        report: o.report,
      },
      recordBayesianTraining(recorder, dataset, {
        onNote: note,
        onStart: (s) => {
          for (const line of startLines(s)) note(line);
          bar?.start(s.firstSample + s.options.samples, s.firstSample, {
            train: '-',
            alpha: '-',
            valid: '-',
            sps: '-',
          });
        },
        onSample: (m: SampleMetrics) => {
          const seconds = (m.elapsedMs / 1000).toFixed(3);
          if (bar)
            bar.update(m.sample, {
              train: fmt(m.trainRmse),
              alpha: m.alpha.toFixed(3),
              valid: fmt(m.validationRmse),
              sps: seconds,
            });
          else if (!quiet) {
            process.stdout.write(
              `sample ${m.sample}  train RMSE ${fmt(m.trainRmse)}  α ${m.alpha.toFixed(3)}  held-out RMSE (average) ${fmt(m.validationRmse)}  ${seconds} s\n`,
            );
          }
        },
      }),
    );
    result = await recordBayesianResult(recorder, run);
  } finally {
    recorder?.close();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    stopWatchingOutput();
    bar?.stop();
  }
  const { run, out } = result;
  if (result.stopReason === 'interrupted') {
    const code = INTERRUPT_EXIT_CODES[cause ?? 'SIGINT'];
    if (result.checkpoint === null)
      throw new AlsError('interrupted before the first sample finished: nothing saved', code);
    process.stderr.write(
      `als: interrupted: saved the chain after sample ${run.resume.chain.samplesDone} to ${out} (continue with --resume)\n`,
    );
    return code;
  }
  const history = run.metrics;
  const last = history[history.length - 1]!;
  const averaged = history.filter((m) => m.validationRmse !== null);
  const calibration = run.calibration
    ?.map((c) => `${Math.round(c.level * 100)} %: ${(c.share * 100).toFixed(1)} %`)
    .join(', ');
  const lines = [
    `done     ${result.samplesRun} samples this run, ${last.sample} in the chain (${result.kernel} kernel, ${result.threads} thread${result.threads === 1 ? '' : 's'})`,
    `train    RMSE ${fmt(last.trainRmse)} of the last draw; noise sd 1/√α ${(1 / Math.sqrt(last.alpha)).toFixed(4)}`,
    run.rmse !== null
      ? `valid    RMSE ${fmt(run.rmse)} of the average over ${last.sample - run.options.burnIn} post-burn-in samples (stored: ${run.storedSamples.length})`
      : run.storedSamples.length === 0
        ? `valid    still in burn-in (${run.options.burnIn} samples): nothing averaged yet`
        : 'valid    no held-out ratings',
    ...(calibration ? [`calib    share inside the central intervals: ${calibration}`] : []),
    ...(averaged.length > 0
      ? [
          `curve    ${sparkline(averaged.map((m) => m.validationRmse!))}  held-out RMSE of the average, samples ${averaged[0]!.sample}–${last.sample}`,
        ]
      : []),
    `time     ${((performance.now() - startedMs) / 1000).toFixed(1)} s total, ${result.samplesRun > 0 ? (run.elapsedMs / 1000 / result.samplesRun).toFixed(3) : '-'} s/sample`,
    `saved    ${out}`,
    `         ${out}.metrics.csv, ${out}.metrics.json`,
  ];
  if (result.report)
    lines.push(`report   ${result.report.out} (${(result.report.elapsedMs / 1000).toFixed(1)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
