/**
 * Accuracy benchmark: held-out RMSE of the three models on the reference splits, for the
 * write-up's plain regularisation and for ALS-WR weighted regularisation over a small grid.
 * This is the measurement behind DEFAULT_HYPERPARAMETERS (src/core/defaults.ts).
 *
 *   npm run build && node dist/bench/accuracy.js [--epochs N] [--threads T] [--quick]   (--help: all options)
 *
 * Data comes from the data home ($ALS_DATA_HOME, else ./data): ml-100k and ml-latest-small.
 * For every configuration it prints the RMSE after the last epoch and the best epoch's RMSE
 * (the latter peeks at the test set, so it is only a diagnostic of overfitting).
 */
import os from 'node:os';
import { Option } from 'commander';
import { tsKernel } from '../core/kernel-ts.js';
import { biasRidgeWeighted } from '../core/kernel.js';
import { createTrainer } from '../core/trainer.js';
import { DEFAULT_HYPERPARAMETERS, defaultHyperparameters } from '../core/defaults.js';
import { type Hyperparameters, MODEL_KINDS, type ModelKind } from '../core/types.js';
import { loadDataset } from '../data/load.js';
import { makeSplit } from '../data/splits.js';
import type { Dataset, Split } from '../data/types.js';
import path from 'node:path';
import {
  benchCommand,
  benchDataHome,
  dataHomeOption,
  listOf,
  oneOf,
  positiveInteger,
} from './options.js';

interface Config {
  label: string;
  hyper: Omit<Hyperparameters, 'kind' | 'dim'>;
  /** Use defaultHyperparameters(kind) (the bias model's default differs). */
  isDefault?: boolean;
}

const program = benchCommand(
  'accuracy',
  'held-out RMSE of the three models on the reference splits, over a small regularisation grid',
)
  .option('--epochs <n>', 'epochs per run (the bias model: at most 10)', positiveInteger, 25)
  .option(
    '--threads <n>',
    'trainer threads',
    positiveInteger,
    Math.min(2, os.availableParallelism()),
  )
  .option('--dim <k>', 'latent dimension', positiveInteger, 30)
  .option('--quick', 'a smaller grid and no ml100k:u2', false)
  .option(
    '--configs <list>',
    'replace the grid: kind:τ:γ[:τ_g] items, kind plain|wr|wrc, or default (e.g. plain:10:1,wr:0.1:0.1,default)',
  )
  .addOption(
    new Option('--models <kinds>', 'comma-separated model kinds')
      .argParser(listOf(oneOf(MODEL_KINDS)))
      .default([...MODEL_KINDS], MODEL_KINDS.join(',')),
  )
  .option(
    '--cases <splits>',
    'only these splits (comma-separated; cold-items:0.1 only on request)',
    listOf(String),
  )
  .option('--no-cold', 'skip the cold-start table')
  .addOption(dataHomeOption())
  .parse();
const options = program.opts<{
  epochs: number;
  threads: number;
  dim: number;
  quick: boolean;
  configs?: string;
  models: ModelKind[];
  cases?: string[];
  cold: boolean;
  dataHome?: string;
}>();
const { epochs, threads, quick, dim } = options;
const home = benchDataHome(options.dataHome);

const plain = (gamma: number): Config => ({
  label: `plain λ=1 τ=10 γ=${gamma}`,
  hyper: { lambda: 1, tau: 10, gamma, genreTau: 10, weightedRegularization: false },
});
const weighted = (tau: number, gamma: number, genreTau: number): Config => ({
  label: `ALS-WR λ=1 τ=${tau} γ=${gamma} τ_g=${genreTau}`,
  hyper: { lambda: 1, tau, gamma, genreTau, weightedRegularization: true },
});
/** ALS-WR on the factors only: τ count-scaled, the bias ridge γ constant (weightedBiasRegularization false). */
const weightedFactors = (tau: number, gamma: number, genreTau: number): Config => ({
  label: `ALS-WR τ only λ=1 τ=${tau} γ=${gamma} constant τ_g=${genreTau}`,
  hyper: {
    lambda: 1,
    tau,
    gamma,
    genreTau,
    weightedRegularization: true,
    weightedBiasRegularization: false,
  },
});
const { kind: _k, dim: _d, ...defaultHyper } = DEFAULT_HYPERPARAMETERS;
/**
 * `--configs plain:10:1,wr:0.1:0.1,wrc:0.12:5:100,default` (kind:τ:γ[:τ_g]) replaces the built-in
 * grid; `wrc` is ALS-WR with a constant bias ridge.
 */
const parseConfigs = (text: string): Config[] =>
  text.split(',').map((item) => {
    const [kind, ...numbers] = item.split(':');
    if (kind === 'default' && numbers.length === 0)
      return { label: defaultLabel, hyper: defaultHyper, isDefault: true };
    const [tau, gamma, genreTau = 1] = numbers.map(Number);
    const known = kind === 'plain' || kind === 'wr' || kind === 'wrc';
    if (
      !known ||
      numbers.length < 2 ||
      numbers.length > 3 ||
      !numbers.every((n) => n.trim() !== '' && Number(n) >= 0)
    ) {
      program.error(
        `error: option '--configs <list>' item ${JSON.stringify(item)} is invalid. expected kind:τ:γ[:τ_g] (kind plain, wr or wrc; numbers ≥ 0) or default`,
      );
    }
    if (kind === 'plain')
      return {
        ...plain(gamma!),
        label: `plain λ=1 τ=${tau} γ=${gamma}`,
        hyper: { ...plain(gamma!).hyper, tau: tau! },
      };
    if (kind === 'wr') return weighted(tau!, gamma!, genreTau);
    return weightedFactors(tau!, gamma!, genreTau);
  });
const models = options.models;
const defaultLabel = `default: ${defaultHyper.weightedRegularization ? ((defaultHyper.weightExponent ?? 1) === 1 ? 'ALS-WR' : `τ·n^${defaultHyper.weightExponent}`) : 'plain'} λ=${defaultHyper.lambda} τ=${defaultHyper.tau} γ=${defaultHyper.gamma}${biasRidgeWeighted(defaultHyper) ? '' : ' constant'} τ_g=${defaultHyper.genreTau} (bias model: plain γ=${defaultHyperparameters('bias').gamma})`;
const configs: Config[] =
  options.configs !== undefined
    ? parseConfigs(options.configs)
    : quick
      ? [plain(10), { label: defaultLabel, hyper: defaultHyper, isDefault: true }]
      : [
          plain(1),
          plain(10),
          weighted(0.05, 0.05, 100),
          weighted(0.2, 0.2, 100),
          { label: defaultLabel, hyper: defaultHyper, isDefault: true },
        ];

async function run(
  dataset: Dataset,
  split: Split,
  kind: ModelKind,
  config: Config,
): Promise<{ last: number; best: number; bestEpoch: number; msPerEpoch: number }> {
  const catalog = dataset.catalog;
  const trainer = await createTrainer({
    train: split.train,
    validation: split.test,
    itemGenres: {
      offsets: catalog.genreOffsets,
      ids: catalog.genreIds,
      numGenres: catalog.genreNames.length,
    },
    hyper: config.isDefault
      ? { ...defaultHyperparameters(kind), dim: kind === 'bias' ? 0 : dim }
      : { kind, dim: kind === 'bias' ? 0 : dim, ...config.hyper },
    seed: 1,
    threads,
    kernel: tsKernel,
  });
  let last = NaN;
  let best = Infinity;
  let bestEpoch = 0;
  let totalMs = 0;
  const n = kind === 'bias' ? Math.min(epochs, 10) : epochs;
  try {
    for (let e = 0; e < n; e++) {
      const m = await trainer.epoch();
      last = m.validationRmse!;
      totalMs += m.elapsedMs;
      if (last < best) {
        best = last;
        bestEpoch = m.epoch;
      }
    }
  } finally {
    await trainer.close();
  }
  return { last, best, bestEpoch, msPerEpoch: totalMs / n };
}

const cases: Array<{ data: string; split: string }> = [
  { data: 'ml-100k', split: 'ml100k:u1' },
  { data: 'ml-latest-small', split: 'random:0.1' },
];
if (!quick) cases.push({ data: 'ml-100k', split: 'ml100k:u2' });
const only = options.cases ?? null;
// Only on request (`--cases cold-items:0.1`): the grid on the cold-start split.
const selected =
  only === null
    ? cases
    : [...cases, { data: 'ml-latest-small', split: 'cold-items:0.1' }].filter((c) =>
        only.includes(c.split),
      );

console.log(
  `dim ${dim}, ${epochs} epochs (bias model: ${Math.min(epochs, 10)}), ${threads} threads, seed 1, ts kernel`,
);
console.log(
  '| data | split | model | regularisation | RMSE last epoch | best RMSE (epoch) | ms/epoch |',
);
console.log('|---|---|---|---|---|---|---|');
for (const c of selected) {
  const dataset = await loadDataset(path.join(home, c.data));
  const split = makeSplit(dataset, c.split, 1);
  for (const kind of models) {
    for (const config of configs) {
      if (
        kind === 'bias' &&
        biasRidgeWeighted(config.hyper) &&
        config.hyper.tau !== config.hyper.gamma
      )
        continue;
      const r = await run(dataset, split, kind, config);
      console.log(
        `| ${c.data} | ${c.split} | ${kind} | ${config.label} | ${r.last.toFixed(4)} | ${r.best.toFixed(4)} (${r.bestEpoch}) | ${r.msPerEpoch.toFixed(0)} |`,
      );
    }
  }
}

// Cold start: movies with no training ratings, where only the genre model has anything to say.
if (options.cold) {
  const dataset = await loadDataset(path.join(home, 'ml-latest-small'));
  const split = makeSplit(dataset, 'cold-items:0.1', 1);
  console.log(
    `\ncold-items:0.1 on ml-latest-small (all test movies unseen in training): ${split.test.length} test ratings`,
  );
  for (const kind of ['bias', 'latent', 'genre'] as const) {
    const r = await run(dataset, split, kind, {
      label: defaultLabel,
      hyper: defaultHyper,
      isDefault: true,
    });
    console.log(`${kind.padEnd(6)} RMSE ${r.last.toFixed(4)}`);
  }
}
