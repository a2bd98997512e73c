/**
 * `als train`: options → one training run (src/app/train.ts) → live progress and a summary.
 * Interrupting (Ctrl-C, SIGTERM, a closed output pipe) saves the model first: see signals.ts.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { openDataset } from '../app/data.js';
import { recordResult, recordTraining } from '../app/record.js';
import { TrainingRun, type TrainStart } from '../app/train.js';
import { biasRidgeWeighted } from '../core/kernel.js';
import type { EpochMetrics, Hyperparameters } from '../core/types.js';
import { AlsError } from '../errors.js';
import { sparkline } from '../report/sparkline.js';
import { dataEvents, dataSourceOf, hyperparametersOf, openCommandRecorder } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';
import { checkGibbsOptions, runTrainGibbs } from './train-gibbs.js';
import { watchInterrupts } from './signals.js';

export const TRAIN_OPTIONS = [
  'method',
  'kind',
  'dim',
  'epochs',
  'lambda',
  'tau',
  'gamma',
  'genreTau',
  'weighted',
  'weightedBias',
  'samples',
  'burnIn',
  'thin',
  'weightExponent',
  'seed',
  'split',
  'threads',
  'kernel',
  'trainOut',
  'checkpointEvery',
  'resume',
  'earlyStop',
  'quiet',
  'report',
  'record',
  ...DATA_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerTrain(program: Command): void {
  const command = program
    .command('train')
    .description('train a bias, latent or genre ALS model and write a checkpoint');
  addOptions(command, TRAIN_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    process.exitCode = await runTrain(cmd);
  });
}

function describeHyper(h: Hyperparameters): string {
  const shape = h.kind === 'bias' ? 'bias' : `${h.kind}, dim ${h.dim}`;
  const genre = h.kind === 'genre' ? `, τ_g ${h.genreTau}` : '';
  return `${shape}, λ ${h.lambda}, τ ${h.tau}, γ ${h.gamma}${genre}, ALS-WR ${h.weightedRegularization ? ((h.weightExponent ?? 1) === 1 ? 'on' : `on, n^${h.weightExponent}`) : 'off'}, γ ${biasRidgeWeighted(h) ? 'count-scaled' : 'constant'}`;
}

const fmt = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The lines `als train` prints before the first epoch. */
function startLines(s: TrainStart): string[] {
  const lines: string[] = [];
  if (s.resumed) {
    const changed = s.resumed.changed.map((c) => `${c.key} ${c.from} → ${c.to}`).join(', ');
    lines.push(
      `resuming ${s.out} after epoch ${s.resumed.epochsDone}${changed ? ` with changed ${changed}` : ''}`,
    );
  }
  const r = s.split;
  lines.push(
    `data     ${s.dataset.name}: ${s.dataset.numRatings} ratings, ${s.dataset.numUsers} users, ${s.dataset.numItems} movies`,
  );
  lines.push(
    `split    ${r.spec} (seed ${s.seed}): ${r.trainRatings} train, ${r.testRatings} held out`,
  );
  if (r.usersWithoutTrainingRatings > 0) {
    lines.push(
      `         ${r.usersWithoutTrainingRatings} user${r.usersWithoutTrainingRatings === 1 ? ' has' : 's have'} no training rating: zero factors and bias (predicted from μ + movie bias)`,
    );
  }
  if (r.testRatingsWithUnseenItem > 0)
    lines.push(
      `         ${r.testRatingsWithUnseenItem} held-out ratings are of movies without a training rating`,
    );
  lines.push(`model    ${describeHyper(s.hyper)}`);
  lines.push(`kernel   ${s.kernel}, ${plural(s.threads, 'thread')}`);
  return lines;
}

async function runTrain(cmd: Command): Promise<number> {
  const o = readOptions(cmd, TRAIN_OPTIONS);
  const quiet = o.quiet === true;
  const note = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const startedMs = performance.now();
  const source = dataSourceOf(o);
  const gibbs = o.method === 'gibbs';
  if (gibbs) checkGibbsOptions(o, cmd.getOptionValueSource('epochs') === 'cli');
  for (const [value, flag] of [
    [o.samples, '--samples'],
    [o.burnIn, '--burn-in'],
    [o.thin, '--thin'],
  ] as const) {
    if (!gibbs && value !== undefined) throw new AlsError(`${flag}: only for --method gibbs`, 2);
  }
  const dataset = await openDataset(source, dataEvents());
  if (gibbs) return runTrainGibbs(o, dataset, source.dataHome);
  const recorder = await openCommandRecorder(o.record, source.dataHome);

  const tty = process.stdout.isTTY === true && !quiet;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            'epoch {value}/{total} [{bar}] loss {loss} | train {train} | valid {valid} | {spe} s/epoch',
          hideCursor: true,
          stream: process.stdout,
          barsize: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const stop = new AbortController();
  const run = new TrainingRun(
    {
      dataset,
      hyper: hyperparametersOf(o),
      epochs: o.epochs,
      seed: o.seed,
      split: o.split,
      threads: o.threads,
      kernel: o.kernel,
      out: o.trainOut,
      dataHome: source.dataHome,
      resume: o.resume,
      checkpointEvery: o.checkpointEvery,
      earlyStopPatience: o.earlyStop,
      signal: stop.signal,
      report: o.report,
    },
    recordTraining(recorder, dataset, {
      onNote: note,
      // A signal after the last write (e.g. while the report is drawn) only exits.
      onCheckpoint: (written) => {
        if (written.reason === 'final' || written.reason === 'interrupted')
          interrupts.markSaved(written);
      },
      onStart: (s) => {
        for (const line of startLines(s)) note(line);
        bar?.start(s.firstEpoch + s.epochs, s.firstEpoch, {
          loss: '-',
          train: '-',
          valid: '-',
          spe: '-',
        });
      },
      onEpoch: (m: EpochMetrics) => {
        const secondsPerEpoch = m.elapsedMs / 1000;
        if (bar) {
          bar.update(m.epoch, {
            loss: m.loss.toPrecision(6),
            train: fmt(m.trainRmse),
            valid: fmt(m.validationRmse),
            spe: secondsPerEpoch.toFixed(2),
          });
        } else if (!quiet) {
          process.stdout.write(
            `epoch ${m.epoch}  loss ${m.loss.toPrecision(6)}  train RMSE ${fmt(m.trainRmse)}  validation RMSE ${fmt(m.validationRmse)}  ${secondsPerEpoch.toFixed(3)} s\n`,
          );
        }
      },
    }),
  );

  const interrupts = watchInterrupts(run, stop, { quiet, beforeMessage: () => bar?.stop() });
  let result;
  try {
    result = await recordResult(recorder, run.run());
  } finally {
    bar?.stop();
    recorder?.close();
  }
  // The listeners stay until the process exits: a signal from now on only exits (all is saved).

  const { out, checkpoint: final, history, epochsRun } = result;
  if (result.stopReason === 'interrupted') {
    const why = interrupts.cause === 'EPIPE' ? 'output closed' : 'interrupted';
    if (final === null)
      throw new AlsError(
        `${why} before the first epoch finished: nothing saved`,
        interrupts.exitCode(),
      );
    process.stderr.write(
      `als: ${why}: saved the checkpoint of epoch ${final.epochsDone} to ${out}\n`,
    );
    return interrupts.exitCode();
  }
  const totalSeconds = (performance.now() - startedMs) / 1000;
  const trainSeconds = result.trainMs / 1000;
  const bestRow = result.best;
  const lastRow = history[history.length - 1]!;
  const lines = [
    `done     ${result.stopMessage}: ${plural(epochsRun, 'epoch')} this run, ${lastRow.epoch} in all (${result.kernel} kernel, ${plural(result.threads, 'thread')})`,
    `train    RMSE ${fmt(lastRow.trainRmse)} at epoch ${lastRow.epoch}`,
    bestRow
      ? `valid    best RMSE ${fmt(bestRow.validationRmse)} at epoch ${bestRow.epoch}; last ${fmt(lastRow.validationRmse)}`
      : 'valid    no held-out ratings',
    ...(bestRow
      ? [
          `curve    ${sparkline(history.map((m) => m.validationRmse ?? Number.NaN))}  validation RMSE, epochs 1–${lastRow.epoch}`,
        ]
      : []),
    `time     ${totalSeconds.toFixed(1)} s total, ${epochsRun > 0 ? (trainSeconds / epochsRun).toFixed(3) : '-'} s/epoch`,
    `saved    ${out}${final!.bestEpoch !== null ? ` (model of epoch ${final!.bestEpoch})` : ''}`,
    `         ${out}.metrics.csv, ${out}.metrics.json`,
  ];
  if (result.report)
    lines.push(`report   ${result.report.out} (${(result.report.elapsedMs / 1000).toFixed(1)} s)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
