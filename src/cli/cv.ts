/**
 * `als cv`: options → runCrossValidation (src/app/selection.ts) → per-fold scores and mean ± std
 * per configuration (paired differences to the first), or --json. Each fold and each
 * configuration's summary is recorded in <data home>/runs.sqlite unless --no-record.
 */
import type { Command } from 'commander';
import { openDataset } from '../app/data.js';
import { runCrossValidation, type CvRunResult } from '../app/selection.js';
import { dataEvents, dataSourceOf, hyperparametersOf, openCommandRecorder } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';

export const CV_OPTIONS = [
  'folds',
  'kind',
  'dim',
  'epochs',
  'lambda',
  'tau',
  'gamma',
  'genreTau',
  'weighted',
  'weightedBias',
  'weightExponent',
  'config',
  'seed',
  'threads',
  'kernel',
  'json',
  'quiet',
  'record',
  ...DATA_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerCv(program: Command): void {
  const command = program
    .command('cv')
    .description(
      'cross-validate one or more model configurations on the same folds: per-fold and mean ± std of RMSE, MAE and ranking metrics',
    );
  addOptions(command, CV_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, CV_OPTIONS);
    const source = dataSourceOf(o);
    const dataset = await openDataset(source, dataEvents());
    const recorder = await openCommandRecorder(o.record, source.dataHome);
    try {
      const result = await runCrossValidation({
        dataset,
        folds: o.folds,
        seed: o.seed,
        hyper: hyperparametersOf(o),
        configs: o.config,
        epochs: o.epochs,
        threads: o.threads,
        kernel: o.kernel,
        recorder,
        onNote: (line) => process.stderr.write(`${line}\n`),
        onProgress: (e) => {
          if (!o.quiet && !o.json && e.type === 'fold-done') {
            process.stderr.write(
              `fold ${e.fold + 1} of configuration ${e.configuration + 1}: RMSE ${e.metrics.rmse!.toFixed(4)} (${(e.elapsedMs / 1000).toFixed(1)} s)\n`,
            );
          }
        },
      });
      process.stdout.write(
        o.json ? `${JSON.stringify(result, null, 2)}\n` : formatCv(result, dataset.info.name),
      );
    } finally {
      recorder?.close();
    }
  });
}

const METRICS = ['rmse', 'mae', 'precision@10', 'recall@10', 'ndcg@10', 'map@10'] as const;
const HEAD: Record<string, string> = {
  rmse: 'RMSE',
  mae: 'MAE',
  'precision@10': 'P@10',
  'recall@10': 'R@10',
  'ndcg@10': 'nDCG@10',
  'map@10': 'MAP@10',
};

/** The tables: one per configuration (folds, then mean ± std), then the paired differences. */
export function formatCv(r: CvRunResult, dataName: string): string {
  const lines: string[] = [];
  lines.push(
    `data     ${dataName}, folds ${r.folds.spec} (seed ${r.folds.seed}), ${r.configurations.length} configuration${r.configurations.length === 1 ? '' : 's'} on the same folds`,
  );
  lines.push(`kernel   ${r.kernel}, ${r.threads} thread${r.threads === 1 ? '' : 's'}`);
  const cell = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(4)).padStart(8);
  for (const c of r.configurations) {
    lines.push('');
    lines.push(`${c.label}, ${c.epochs} epochs${c.runId !== null ? ` (run ${c.runId})` : ''}`);
    lines.push(
      `${'fold'.padEnd(6)}${METRICS.map((m) => HEAD[m]!.padStart(8)).join('')}${'time'.padStart(9)}`,
    );
    for (const f of c.folds) {
      lines.push(
        `${String(f.fold + 1).padEnd(6)}${METRICS.map((m) => cell(f.metrics[m] ?? Number.NaN)).join('')}${`${(f.elapsedMs / 1000).toFixed(1)} s`.padStart(9)}`,
      );
    }
    lines.push(
      `${'mean'.padEnd(6)}${METRICS.map((m) => cell(c.summary[m]?.mean ?? Number.NaN)).join('')}`,
    );
    lines.push(
      `${'± std'.padEnd(6)}${METRICS.map((m) => cell(c.summary[m]?.std ?? Number.NaN)).join('')}`,
    );
    if (c.versusFirst) {
      const d = c.versusFirst;
      const signed = (x: number): string =>
        Number.isNaN(x) ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
      lines.push(
        `paired against the first: RMSE ${signed(d.rmse!.mean)} ± ${d.rmse!.std.toFixed(4)}, nDCG@10 ${signed(d['ndcg@10']!.mean)} ± ${d['ndcg@10']!.std.toFixed(4)}`,
      );
    }
  }
  lines.push('');
  lines.push(`time     ${(r.elapsedMs / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}
