/**
 * `als eval --checkpoint <file>`: options → evaluateCheckpoint (src/app/evaluate.ts) → the error
 * table and ranking metrics, or --json. The data set is the folder recorded in the checkpoint
 * unless --data names one (its fingerprint must match).
 */
import type { Command } from 'commander';
import { openCheckpoint } from '../app/data.js';
import { evaluateCheckpoint, type EvalReport } from '../app/evaluate.js';
import { recordEvaluation } from '../app/record.js';
import { biasRidgeWeighted } from '../core/kernel.js';
import { sparkline } from '../report/sparkline.js';
import { dataEvents, dataSourceOf, openCommandRecorder } from './common.js';
import { addOptions, DATA_OPTIONS, readOptions, type OptionKey } from './options.js';

export type { EvalReport } from '../app/evaluate.js';

export const EVAL_OPTIONS = [
  'checkpoint',
  'evalSplit',
  'test',
  'evalSeed',
  'k',
  'maxUsers',
  'evalMinRatings',
  'json',
  'record',
  ...DATA_OPTIONS,
] as const satisfies readonly OptionKey[];

export function registerEval(program: Command): void {
  const command = program
    .command('eval')
    .description(
      'evaluate a checkpoint: RMSE/MAE by segment and top-k ranking metrics on held-out ratings\n' +
        '(the data set is the folder recorded in the checkpoint unless --data is given; its fingerprint must match)',
    );
  addOptions(command, EVAL_OPTIONS).action(async (_options: unknown, cmd: Command) => {
    const o = readOptions(cmd, EVAL_OPTIONS);
    const source = dataSourceOf(o);
    const { file, checkpoint } = openCheckpoint({
      checkpoint: o.checkpoint,
      data: source.data,
      dataHome: source.dataHome,
    });
    const recorder = await openCommandRecorder(o.record, source.dataHome);
    const report = await recordEvaluation(
      recorder,
      evaluateCheckpoint(
        {
          checkpointFile: file,
          checkpoint,
          source,
          split: o.evalSplit,
          test: o.test,
          seed: o.evalSeed,
          k: o.k,
          maxUsers: o.maxUsers,
          minRatings: o.evalMinRatings,
        },
        dataEvents(),
      ),
    ).finally(() => recorder?.close());
    process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  });
}

const num = (x: number | null, digits = 4): string => (x === null ? '-' : x.toFixed(digits));

/** The human-readable report: a header, the error table, the fallbacks and the ranking metrics. */
export function formatReport(r: EvalReport): string {
  const h = r.model;
  const shape = h.kind === 'bias' ? 'bias' : `${h.kind}, dim ${h.dim}`;
  const lines: string[] = [];
  lines.push(`model     ${r.checkpoint}`);
  const b = r.bayes;
  if (b) {
    lines.push(
      `          Bayesian ${shape} (Gibbs sampling): ${b.samplesDone} samples, burn-in ${b.burnIn}, thin ${b.thin}: ${b.storedSamples} stored samples averaged`,
    );
  } else
    lines.push(
      `          ${shape}, λ ${h.lambda}, τ ${h.tau}, γ ${h.gamma}${h.kind === 'genre' ? `, τ_g ${h.genreTau}` : ''}, ALS-WR ${h.weightedRegularization ? ((h.weightExponent ?? 1) === 1 ? 'on' : `on, n^${h.weightExponent}`) : 'off'}, γ ${biasRidgeWeighted(h) ? 'count-scaled' : 'constant'}, ${r.epochsDone} epochs`,
    );
  lines.push(`data      ${r.dataset.name} (fingerprint ${r.dataset.fingerprint.slice(0, 12)})`);
  lines.push(
    `split     ${r.split.spec} (seed ${r.split.seed}): ${r.split.testRatings} held-out ratings${r.sameSplitAsTraining ? ', the training split' : ''}`,
  );
  if (!r.sameSplitAsTraining) {
    lines.push(
      `          not the training split: ${r.heldOutRatingsSeenInTraining} of the held-out ratings were in the model's training set (optimistic)`,
    );
  }
  lines.push('');
  const rows: [string, { count: number; rmse: number | null; mae: number | null }][] = [
    ['all held-out ratings', r.ratings.all],
    ['user unseen in training', r.ratings.unseenUser],
    ['movie unseen in training', r.ratings.unseenItem],
    ...r.ratings.userActivity.map(
      (b) => [`users with ${b.label} ratings`, b] as [string, typeof b],
    ),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  lines.push(
    `${'segment'.padEnd(width)}  ${'ratings'.padStart(8)}  ${'RMSE'.padStart(7)}  ${'MAE'.padStart(7)}`,
  );
  for (const [label, s] of rows) {
    lines.push(
      `${label.padEnd(width)}  ${String(s.count).padStart(8)}  ${num(s.rmse).padStart(7)}  ${num(s.mae).padStart(7)}`,
    );
  }
  const f = r.ratings.fallbacks;
  const itemFallback =
    h.kind === 'genre'
      ? `μ + user bias + genre prior (${f.genrePrior} with genres)`
      : 'μ + user bias';
  lines.push('');
  lines.push('fallbacks (no NaN: unknown users and movies use what the model knows)');
  lines.push(`  ${f.unseenUser} predictions for unseen users: μ + movie bias`);
  lines.push(`  ${f.unseenItem} predictions for unseen movies: ${itemFallback}`);
  lines.push(`  ${f.both} with both unseen: μ`);
  if (b) {
    lines.push('');
    const chain =
      b.chainRmse !== null
        ? `; the chain's running average over all ${b.samplesDone - b.burnIn} post-burn-in samples: ${num(b.chainRmse)}`
        : '';
    lines.push(
      `posterior predictive: the table is the average over ${b.storedSamples} stored samples, RMSE ${num(b.rmse)}${chain}`,
    );
    lines.push(
      `calibration (share of held-out ratings inside the central interval mean ± z·sd; mean sd ${num(b.meanSd, 3)})`,
    );
    lines.push(`  ${'interval'.padEnd(9)} ${'nominal'.padStart(8)} ${'measured'.padStart(9)}`);
    for (const c of b.calibration) {
      lines.push(
        `  ${`${Math.round(c.level * 100)} %`.padEnd(9)} ${`${(c.level * 100).toFixed(1)} %`.padStart(8)} ${`${(c.share * 100).toFixed(1)} %`.padStart(9)}`,
      );
    }
    if (b.curve.length > 0) {
      const first = b.curve[0]!;
      const last = b.curve[b.curve.length - 1]!;
      const points = [0.1, 0.25, 0.5, 1].map(
        (f) => b.curve[Math.max(0, Math.ceil(f * b.curve.length) - 1)]!,
      );
      const unique = points.filter((p, i) => points.findIndex((q) => q.sample === p.sample) === i);
      lines.push(
        `sample curve (held-out RMSE of the running average, training split, samples ${first.sample}–${last.sample})`,
      );
      lines.push(
        `  ${sparkline(b.curve.map((c) => c.validationRmse))}  ${unique.map((p) => `${p.sample}: ${num(p.validationRmse)}`).join(', ')}`,
      );
    }
  }
  lines.push('');
  const k = r.ranking.k;
  lines.push(
    `top-${k} ranking: ${r.ranking.users} users with a held-out rating ≥ ${r.ranking.relevantFrom}${r.ranking.usersSkipped > 0 ? ` (${r.ranking.usersSkipped} more skipped by --max-users)` : ''}; ranked: every movie they did not rate in training${r.ranking.minItemRatings > 0 ? ` with ≥ ${r.ranking.minItemRatings} training ratings` : ''}`,
  );
  const metrics: [string, number][] = [
    [`precision@${k}`, r.ranking.precision],
    [`recall@${k}`, r.ranking.recall],
    [`nDCG@${k}`, r.ranking.ndcg],
    [`MAP@${k}`, r.ranking.map],
    ['catalogue coverage', r.ranking.coverage],
  ];
  for (const [label, value] of metrics) lines.push(`  ${label.padEnd(20)} ${value.toFixed(4)}`);
  return `${lines.join('\n')}\n`;
}
