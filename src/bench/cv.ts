/**
 * Benchmark: cross-validation of the default model through src/app/cv.ts, the whole process
 * timed from outside (`/usr/bin/time -v node dist/bench/cv.js …`).
 *   node dist/bench/cv.js <data-folder> [--folds ml100k] [--threads 2] [--epochs 100] [--model genre] [--kernel wasm] [--parallel 2]
 * (--parallel N: N folds at once, each in a worker thread training with one thread; --threads is then ignored.)
 * Prints per-fold RMSE/MAE/nDCG@10 and mean ± sample std; the machine is usually shared, so the
 * CPU time is printed next to the wall time.
 */
import { Option } from 'commander';
import { crossValidate } from '../app/cv.js';
import { coreTrainFold, workerTrainFold } from '../app/fold-training.js';
import { defaultHyperparameters, DEFAULT_MODEL_KIND } from '../core/defaults.js';
import { type KernelName, loadKernel } from '../core/kernels.js';
import { MODEL_KINDS, type ModelKind } from '../core/types.js';
import { makeFolds } from '../data/folds.js';
import { loadDataset } from '../data/load.js';
import { benchCommand, positiveInteger } from './options.js';

const program = benchCommand(
  'cv',
  'cross-validation of one model through the app layer, per-fold and mean ± std',
)
  .argument('<data-folder>', 'the data set folder')
  .option('--folds <spec>', 'fold spec (ml100k: the u1–u5 files)', 'ml100k')
  .option('--threads <n>', 'trainer threads (ignored with --parallel > 1)', positiveInteger, 2)
  .option('--epochs <n>', 'epochs per fold', positiveInteger, 100)
  .addOption(
    new Option('--model <kind>', 'model kind').choices(MODEL_KINDS).default(DEFAULT_MODEL_KIND),
  )
  .addOption(
    new Option('--kernel <name>', 'kernel').choices(['ts', 'wasm'] as const).default('wasm'),
  )
  .option(
    '--parallel <n>',
    'folds at once, each in a worker thread with one thread',
    positiveInteger,
    1,
  )
  .parse();
const values = program.opts<{
  folds: string;
  threads: number;
  epochs: number;
  model: ModelKind;
  kernel: KernelName;
  parallel: number;
}>();
const dir = program.args[0]!;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const dataset = await loadDataset(dir);
const folds = makeFolds(dataset, values.folds, 1);
const kernel = await loadKernel(values.kernel);
const hyper = defaultHyperparameters(values.model);
const result = await crossValidate({
  dataset,
  folds,
  configurations: [{ label: values.model, hyper, epochs: values.epochs }],
  seed: 1,
  threads: values.threads,
  trainFold: values.parallel > 1 ? workerTrainFold(kernel.name) : coreTrainFold(kernel),
  parallel: values.parallel,
});
const c = result.configurations[0]!;
for (const f of c.folds) {
  process.stdout.write(
    `fold ${f.fold + 1}  RMSE ${f.metrics.rmse!.toFixed(4)}  MAE ${f.metrics.mae!.toFixed(4)}  nDCG@10 ${f.metrics['ndcg@10']!.toFixed(4)}  ${(f.elapsedMs / 1000).toFixed(2)} s\n`,
  );
}
const s = c.summary;
process.stdout.write(
  `mean   RMSE ${s.rmse!.mean.toFixed(4)} ± ${s.rmse!.std.toFixed(4)}  MAE ${s.mae!.mean.toFixed(4)} ± ${s.mae!.std.toFixed(4)}  nDCG@10 ${s['ndcg@10']!.mean.toFixed(4)} ± ${s['ndcg@10']!.std.toFixed(4)}\n`,
);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${values.model} ${values.folds} ${values.epochs} epochs, ${values.parallel > 1 ? `${values.parallel} folds in parallel × 1 thread` : `${values.threads} threads`}, ${kernel.name}: ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (in-process)\n`,
);
