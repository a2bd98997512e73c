/**
 * `als tune`: options → runTune (src/app/selection.ts) → the halving rounds, the best
 * configuration and the `als train` command that reproduces it (and with --refit its training).
 * Trials are recorded in <data home>/runs.sqlite unless --no-record; the same command run again
 * after a kill resumes the unfinished tune, reusing every finished (trial, fold, rung).
 */
import type { Command } from 'commander';
import { openDataset } from '../app/data.js';
import { runTune, type TuneRunResult } from '../app/selection.js';
import { dataEvents, dataSourceOf, hyperparametersOf, openCommandRecorder } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';

export const TUNE_OPTIONS = [
  'space',
  'spaceFile',
  'strategy',
  'trials',
  'gridPoints',
  'halving',
  'reduction',
  'metric',
  'tuneSplit',
  'tuneFolds',
  'kind',
  'dim',
  'lambda',
  'tau',
  'gamma',
  'genreTau',
  'weighted',
  'weightedBias',
  'weightExponent',
  'seed',
  'threads',
  'kernel',
  'refit',
  'trainOut',
  'json',
  'quiet',
  'record',
  ...DATA_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerTune(program: Command): void {
  const command = program
    .command('tune')
    .description(
      'search hyperparameters by cross-validation on the training part of --split (nested), with successive halving over epochs;\n' +
        'prints the best configuration as the als train command that reproduces it (--refit trains it)',
    );
  addOptions(command, TUNE_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, TUNE_OPTIONS);
    const source = dataSourceOf(o);
    const dataset = await openDataset(source, dataEvents());
    const recorder = await openCommandRecorder(o.record, source.dataHome);
    const progress = !o.quiet && !o.json;
    const t0 = performance.now();
    try {
      const result = await runTune({
        dataset,
        dataArg: o.data,
        split: o.tuneSplit,
        folds: o.tuneFolds,
        seed: o.seed,
        space: o.space,
        spaceFile: o.spaceFile,
        strategy: o.strategy,
        trials: o.trials,
        gridPoints: o.gridPoints,
        halving: o.halving,
        reduction: o.reduction,
        metric: o.metric,
        hyper: hyperparametersOf(o),
        threads: o.threads,
        kernel: o.kernel,
        recorder,
        refit: o.refit ? { dataHome: source.dataHome, out: o.trainOut } : null,
        onNote: (line) => process.stderr.write(`${line}\n`),
        onProgress: (e) => {
          if (!progress) return;
          if (e.type === 'start') {
            process.stderr.write(
              `tune     ${e.trials} trials × ${e.folds} inner folds${e.resumed ? `, resuming tune ${e.tuneId} from the registry` : e.tuneId !== null ? `, tune ${e.tuneId}` : ''}\n`,
            );
          } else if (e.type === 'job-done') {
            const seconds = ((performance.now() - t0) / 1000).toFixed(0);
            process.stderr.write(
              `trial ${String(e.trial + 1).padStart(3)} rung ${e.rung + 1} (${e.epochs} epochs): ${o.metric} ${e.score.toFixed(4)}${e.reusedFolds > 0 ? ` (${e.reusedFolds} folds from the registry)` : ''}  ${seconds} s\n`,
            );
          }
        },
      });
      process.stdout.write(
        o.json ? `${JSON.stringify(jsonOf(result), null, 2)}\n` : formatTune(result),
      );
    } finally {
      recorder?.close();
    }
  });
}

/** --json: everything but the refit's model arrays. */
function jsonOf(r: TuneRunResult): unknown {
  const { refit, ...rest } = r;
  return {
    ...rest,
    refit: refit && {
      out: refit.out,
      epochs: refit.history.length,
      best: refit.best,
      elapsedMs: refit.elapsedMs,
    },
  };
}

const num = (x: number): string => (Number.isNaN(x) ? 'diverged' : x.toFixed(4));

export function formatTune(r: TuneRunResult): string {
  const lines: string[] = [];
  const outer = r.folds.outer
    ? `inside the training part of ${r.folds.outer.spec} (its held-out part is never used to choose)`
    : 'on every rating (no outer split)';
  lines.push(
    `tune     ${r.trials.length} trials, ${r.metric} (${r.direction === 'min' ? 'lower' : 'higher'} is better) by ${r.folds.spec} folds ${outer}`,
  );
  lines.push(
    `         ${r.trainedFolds} fold trainings, ${r.epochsTrained} fold-epochs${r.reusedFolds > 0 ? `, ${r.reusedFolds} fold results reused from the registry` : ''}; ${r.kernel}, ${r.threads} thread${r.threads === 1 ? '' : 's'}${r.tuneId !== null ? `; tune ${r.tuneId}` : ''}`,
  );
  const milestones = [...new Set(r.trials.flatMap((t) => t.rungs.map((g) => g.epochs)))].sort(
    (a, b) => a - b,
  );
  for (const [i, rung] of r.rungs.entries()) {
    const top = rung
      .slice(0, 3)
      .map((x) => `trial ${x.trial + 1} ${num(x.score)}`)
      .join(', ');
    lines.push(
      `rung ${i + 1}   ${String(milestones[i] ?? '?').padStart(3)} epochs: ${rung.length} trial${rung.length === 1 ? '' : 's'}; best ${top}`,
    );
  }
  const best = r.best;
  const settings = Object.entries(best.configuration)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const std = r.trials[best.trial]!.rungs.find((g) => g.epochs === best.epochs)?.metrics[r.metric]
    ?.std;
  lines.push(
    `best     trial ${best.trial + 1}: ${settings}, ${best.epochs} epochs: ${r.metric} ${num(best.score)}${std !== undefined ? ` ± ${std.toFixed(4)}` : ''}`,
  );
  lines.push('');
  lines.push(`${r.trainCommand}`);
  if (r.refit) {
    const f = r.refit;
    const saved = f.history.find(
      (m) => m.epoch === (f.checkpoint?.bestEpoch ?? f.history[f.history.length - 1]?.epoch),
    );
    lines.push('');
    lines.push(
      `refit    ${f.history.length} epochs in ${(f.elapsedMs / 1000).toFixed(1)} s; held-out RMSE ${saved?.validationRmse != null ? saved.validationRmse.toFixed(4) : '-'}`,
    );
    lines.push(`saved    ${f.out}`);
  }
  return `${lines.join('\n')}\n`;
}
