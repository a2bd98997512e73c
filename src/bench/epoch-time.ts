/**
 * Time per ALS epoch (updates only, metrics excluded) for 1 and 2 threads.
 *
 *   npm run build && node dist/bench/epoch-time.js [--data ml-latest-small] [--dim 30] [--epochs 10] [--kernel ts|wasm] [--model latent]
 *
 * Reports the median and minimum wall time of the updates over the epochs after a warm-up epoch,
 * and the process CPU time per epoch (all threads, updates and metrics): on a shared machine the
 * wall time depends on the load, the CPU time much less (with 1 thread it bounds the unloaded
 * wall time from above).
 */
import path from 'node:path';
import { DEFAULT_HYPERPARAMETERS } from '../core/defaults.js';
import { loadKernel, type KernelName } from '../core/kernels.js';
import { createTrainer } from '../core/trainer.js';
import type { ModelKind } from '../core/types.js';
import { dataHome } from '../data/home.js';
import { loadDataset } from '../data/load.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1]! : fallback;
};
const data = option('--data', 'ml-latest-small');
const dim = Number(option('--dim', '30'));
const epochs = Number(option('--epochs', '10'));
const kind = option('--model', 'latent') as ModelKind;
const kernel = await loadKernel(option('--kernel', 'ts') as KernelName);
const threadCounts = option('--threads', '1,2').split(',').map(Number);

const dataset = await loadDataset(path.join(dataHome(process.env.ALS_DATA_HOME), data));
const m = dataset.matrix;
console.log(`${data}: ${m.numRatings} ratings, ${m.numUsers} users, ${m.numItems} movies; ${kind} dim ${dim}, ${kernel.name} kernel`);
for (const threads of threadCounts) {
  const catalog = dataset.catalog;
  const trainer = await createTrainer({
    train: m,
    validation: null,
    itemGenres: { offsets: catalog.genreOffsets, ids: catalog.genreIds, numGenres: catalog.genreNames.length },
    hyper: { ...DEFAULT_HYPERPARAMETERS, kind, dim: kind === 'bias' ? 0 : dim },
    seed: 1,
    threads,
    kernel,
  });
  const times: number[] = [];
  await trainer.epoch(); // warms up the JIT and the workers
  const cpuStart = process.cpuUsage();
  for (let e = 0; e < epochs; e++) times.push((await trainer.epoch()).elapsedMs);
  const cpu = process.cpuUsage(cpuStart);
  const cpuMsPerEpoch = (cpu.user + cpu.system) / 1000 / epochs;
  await trainer.close();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `threads ${threads}: wall median ${median.toFixed(1)} ms/epoch (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)}) over ${times.length} epochs; CPU ${cpuMsPerEpoch.toFixed(1)} ms/epoch (all threads, incl. metrics)`,
  );
}
