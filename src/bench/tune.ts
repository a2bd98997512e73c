/**
 * Benchmark: the issue's tune on ML-100K. Random search over dim, τ, γ and τ_g (40 trials),
 * successive halving at epochs 5/15/40 (η = 3), objective RMSE by 5-fold CV inside the training
 * part of u1 (nested: u1.test is never used to choose), then the chosen configuration and the
 * defaults trained on u1.base and scored on u1.test.
 *   node dist/bench/tune.js <ml-100k folder> [--trials 40] [--threads 1] [--parallel 1] [--mode sync|async] [--registry file]
 */
import { Option } from 'commander';
import { coreTrainFold, workerTrainFold } from '../app/fold-training.js';
import { scoreOnHeldOut, tune } from '../app/tune.js';
import { buildSpace, parseDimension } from '../app/tune-space.js';
import { defaultHyperparameters, DEFAULT_MODEL_KIND } from '../core/defaults.js';
import { loadKernel } from '../core/kernels.js';
import { loadDataset } from '../data/load.js';
import { makeSplit } from '../data/splits.js';
import { openRegistry } from '../registry/registry.js';
import { benchCommand, positiveInteger } from './options.js';

const DEFAULT_SPACE = [
  'dim=10..100:log',
  'tau=0.03..0.3:log',
  'gamma=1..10:log',
  'genre-tau=10..1000:log',
];
const program = benchCommand(
  'tune',
  'nested random search with successive halving on ML-100K u1, then u1.test of the best and the defaults',
)
  .argument('<ml-100k-folder>', 'the ML-100K folder')
  .option('--trials <n>', 'random-search trials', positiveInteger, 40)
  .option('--threads <n>', 'trainer threads', positiveInteger, 1)
  .option('--parallel <n>', 'fold trainings at once, in worker threads', positiveInteger, 1)
  .addOption(
    new Option('--mode <mode>', 'successive halving mode')
      .choices(['sync', 'async'] as const)
      .default('sync'),
  )
  .option('--registry <file>', 'record the tune in this run registry')
  .addOption(
    new Option(
      '--space <dimension>',
      `a search dimension, repeatable (default: ${DEFAULT_SPACE.join(' ')})`,
    ).argParser((item: string, previous: string[] | undefined) => [...(previous ?? []), item]),
  )
  .parse();
const values = program.opts<{
  trials: number;
  threads: number;
  parallel: number;
  mode: 'sync' | 'async';
  registry?: string;
  space?: string[];
}>();
const dir = program.args[0]!;
const t0 = performance.now();
const dataset = await loadDataset(dir);
const kernel = await loadKernel('wasm');
const parallel = values.parallel;
const trainFold = parallel > 1 ? workerTrainFold(kernel.name) : coreTrainFold(kernel);
const registry = values.registry ? await openRegistry(values.registry) : null;
const spaceArgs = values.space ?? DEFAULT_SPACE;
const base = defaultHyperparameters(DEFAULT_MODEL_KIND);
const result = await tune({
  dataset,
  outer: { spec: 'ml100k:u1', seed: 1 },
  innerFolds: 'random:5',
  seed: 1,
  space: buildSpace(spaceArgs.map((s) => parseDimension(s))),
  strategy: { type: 'random', trials: values.trials },
  base,
  halving: { milestones: [5, 15, 40], reduction: 3, mode: values.mode },
  metric: 'rmse',
  threads: values.threads,
  trainFold,
  parallel,
  record: registry
    ? { registry, commandLine: process.argv.slice(1), toolVersion: '0.1.0', kernel: kernel.name }
    : null,
  onProgress: (e) => {
    if (e.type === 'job-done')
      process.stdout.write(
        `trial ${String(e.trial).padStart(2)} rung ${e.rung} (${e.epochs} epochs): RMSE ${e.score.toFixed(4)}${e.reusedFolds ? ` (${e.reusedFolds} folds reused)` : ''}  ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
      );
  },
});
const tuneSeconds = (performance.now() - t0) / 1000;
process.stdout.write(
  `\ntune: ${result.trials.length} trials, ${result.epochsTrained} fold-epochs trained, ${tuneSeconds.toFixed(1)} s\n`,
);
for (const [r, rung] of result.rungs.entries())
  process.stdout.write(
    `rung ${r}: ${rung.length} trials, best ${rung[0]!.score.toFixed(4)} (trial ${rung[0]!.trial})\n`,
  );
process.stdout.write(
  `best: trial ${result.best.trial} ${JSON.stringify(result.best.configuration)} inner-CV RMSE ${result.best.score.toFixed(4)}\n`,
);
process.stdout.write(`als train --data ml-100k --split ml100k:u1 ${result.bestFlags}\n`);
const u1 = makeSplit(dataset, 'ml100k:u1', 1);
const score = (hyper: typeof base, epochs: number) =>
  scoreOnHeldOut({
    dataset,
    split: u1,
    hyper,
    epochs,
    seed: 1,
    threads: values.threads,
    trainFold: coreTrainFold(kernel),
  });
const chosen = await score(result.best.hyper, result.best.epochs);
const defaults40 = await score(base, 40);
const defaults100 = await score(base, 100);
process.stdout.write(
  `u1.test RMSE: chosen ${chosen.rmse!.toFixed(4)} (${result.best.epochs} epochs), defaults ${defaults40.rmse!.toFixed(4)} (40 epochs), ${defaults100.rmse!.toFixed(4)} (100 epochs)\n`,
);
process.stdout.write(
  `u1.test nDCG@10: chosen ${chosen['ndcg@10']!.toFixed(4)}, defaults ${defaults40['ndcg@10']!.toFixed(4)} (40), ${defaults100['ndcg@10']!.toFixed(4)} (100)\n`,
);
process.stdout.write(`whole: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
registry?.close();
