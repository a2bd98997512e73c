/**
 * Benchmark: time of each split rule on a data set, and the process's peak RSS.
 *   node dist/bench/splits.js <data-folder> [spec…]
 * (e.g. a 32M-rating `als synth` set). The load uses the cache if one exists. CPU time is printed
 * next to wall time because the machine is usually shared.
 */
import { Argument } from 'commander';
import { loadDataset } from '../data/load.js';
import { makeSplit } from '../data/splits.js';
import { benchCommand } from './options.js';

const program = benchCommand('splits', 'time of each split rule on a data set, and the peak RSS')
  .argument('<data-folder>', 'the data set folder')
  .addArgument(
    new Argument('[spec...]', 'split specs').default(
      ['random:0.1', 'user:0.1', 'temporal:0.1', 'cold-items:0.05'],
      'random:0.1 user:0.1 temporal:0.1 cold-items:0.05',
    ),
  )
  .parse();
const [dir, specs] = program.processedArgs as [string, string[]];
const loadStartMs = performance.now();
const dataset = await loadDataset(dir);
process.stdout.write(
  `load ${dataset.info.name}: ${dataset.matrix.numRatings} ratings in ${((performance.now() - loadStartMs) / 1000).toFixed(2)} s\n`,
);
for (const spec of specs) {
  const startMs = performance.now();
  const cpuStart = process.cpuUsage();
  const split = makeSplit(dataset, spec, 1);
  const elapsedMs = performance.now() - startMs;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const r = split.report;
  process.stdout.write(
    `${spec.padEnd(16)} ${(elapsedMs / 1000).toFixed(2)} s wall, ${(cpuMs / 1000).toFixed(2)} s CPU  train ${r.trainRatings}  test ${r.testRatings}  unseen user ${r.testRatingsWithUnseenUser}  unseen movie ${r.testRatingsWithUnseenItem}\n`,
  );
}
process.stdout.write(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
