/**
 * Benchmark: cross-validation of the default model through src/app/cv.ts, the whole process
 * timed from outside (`/usr/bin/time -v node dist/bench/cv.js …`).
 *   node dist/bench/cv.js <data-folder> [--folds ml100k] [--threads 2] [--epochs 100] [--model genre] [--kernel wasm] [--parallel 2]
 * (--parallel N: N folds at once, each in a worker thread training with one thread; --threads is then ignored.)
 * Prints per-fold RMSE/MAE/nDCG@10 and mean ± sample std; the machine is usually shared, so the
 * CPU time is printed next to the wall time.
 */
import { parseArgs } from 'node:util';
import { crossValidate } from '../app/cv.js';
import { coreTrainFold, workerTrainFold } from '../app/fold-training.js';
import { defaultHyperparameters, DEFAULT_MODEL_KIND } from '../core/defaults.js';
import { loadKernel } from '../core/kernels.js';
import type { ModelKind } from '../core/types.js';
import { makeFolds } from '../data/folds.js';
import { loadDataset } from '../data/load.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    folds: { type: 'string', default: 'ml100k' },
    threads: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '100' },
    model: { type: 'string', default: DEFAULT_MODEL_KIND },
    kernel: { type: 'string', default: 'wasm' },
    parallel: { type: 'string', default: '1' },
  },
});
const dir = positionals[0];
if (dir === undefined) {
  process.stderr.write('usage: node dist/bench/cv.js <data-folder> [--folds ml100k] [--threads 2] [--epochs 100]\n');
  process.exit(2);
}
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const dataset = await loadDataset(dir);
const folds = makeFolds(dataset, values.folds!, 1);
const kernel = await loadKernel(values.kernel as 'ts' | 'wasm');
const hyper = defaultHyperparameters(values.model as ModelKind);
const result = await crossValidate({
  dataset,
  folds,
  configurations: [{ label: values.model!, hyper, epochs: Number(values.epochs) }],
  seed: 1,
  threads: Number(values.threads),
  trainFold: Number(values.parallel) > 1 ? workerTrainFold(kernel.name) : coreTrainFold(kernel),
  parallel: Number(values.parallel),
});
const c = result.configurations[0]!;
for (const f of c.folds) {
  process.stdout.write(`fold ${f.fold + 1}  RMSE ${f.metrics.rmse!.toFixed(4)}  MAE ${f.metrics.mae!.toFixed(4)}  nDCG@10 ${f.metrics['ndcg@10']!.toFixed(4)}  ${(f.elapsedMs / 1000).toFixed(2)} s\n`);
}
const s = c.summary;
process.stdout.write(
  `mean   RMSE ${s.rmse!.mean.toFixed(4)} ± ${s.rmse!.std.toFixed(4)}  MAE ${s.mae!.mean.toFixed(4)} ± ${s.mae!.std.toFixed(4)}  nDCG@10 ${s['ndcg@10']!.mean.toFixed(4)} ± ${s['ndcg@10']!.std.toFixed(4)}\n`,
);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${values.model} ${values.folds} ${values.epochs} epochs, ${Number(values.parallel) > 1 ? `${values.parallel} folds in parallel × 1 thread` : `${values.threads} threads`}, ${kernel.name}: ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (in-process)\n`);
