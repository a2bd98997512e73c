/**
 * Benchmark: what the run registry costs.
 *   node dist/bench/registry.js fill <file> <runs>      add <runs> finished runs (100 epochs, 6 metrics each)
 *   node dist/bench/registry.js record <file>           one run as `als train` would record it, phases timed
 *   node dist/bench/registry.js list <file>             listing queries over the whole file, timed
 * Each command is a fresh process, so `record` includes loading the native driver. Timings are
 * wall clock on a shared machine: repeat them.
 */
import { openRegistry, type NewRun } from '../registry/registry.js';
import { loadSqlite } from '../registry/driver.js';
import { benchCommand, positiveInteger } from './options.js';

const program = benchCommand(
  'registry',
  'what the run registry costs: filling, recording one run, listing',
);
let command = '';
let file = '';
let count = 10000;
program
  .command('fill')
  .description('add finished runs (100 epochs, 6 metrics each)')
  .argument('<file>', 'registry file')
  .argument('[runs]', 'runs to add', positiveInteger, count)
  .action((f: string, n: number) => {
    [command, file, count] = ['fill', f, n];
  });
for (const [name, summary] of [
  ['record', 'one run as `als train` would record it, phases timed'],
  ['list', 'listing queries over the whole file, timed'],
] as const) {
  program
    .command(name)
    .description(summary)
    .argument('<file>', 'registry file')
    .action((f: string) => {
      [command, file] = [name, f];
    });
}
program.parse();

const run = (i: number): NewRun => ({
  kind: i % 10 === 0 ? 'cv' : 'train',
  commandLine: ['als', 'train', '--data', 'ml-100k', '--dim', String(10 + (i % 50))],
  toolVersion: '0.1.0',
  modelKind: ['bias', 'latent', 'genre'][i % 3]!,
  hyperparameters: {
    kind: 'genre',
    dim: 10 + (i % 50),
    lambda: 1,
    tau: 0.12,
    gamma: 3,
    genreTau: 100,
    weightedRegularization: true,
    epochs: 100,
  },
  data:
    i % 2 === 0
      ? { name: 'ml-100k', fingerprint: 'a1b2c3d4e5f6' }
      : { name: 'ml-latest-small', fingerprint: 'f6e5d4c3b2a1' },
  split: 'ml100k:u1',
  seed: i,
  threads: 2,
  kernel: 'wasm',
  checkpoint: `models/run-${i}.als`,
  startedAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
});

const epochs = (
  h: {
    addEpoch: (e: {
      epoch: number;
      loss: number;
      trainRmse: number;
      validationRmse: number;
      elapsedMs: number;
    }) => void;
  },
  n: number,
): void => {
  for (let e = 1; e <= n; e++)
    h.addEpoch({
      epoch: e,
      loss: 1000 / e,
      trainRmse: 0.8 + 1 / e,
      validationRmse: 0.9 + 1 / e,
      elapsedMs: 30,
    });
};
const metrics = (i: number): Record<string, number> => ({
  rmse: 0.9 + (i % 97) / 1000,
  mae: 0.7 + (i % 89) / 1000,
  'precision@10': 0.1,
  'recall@10': 0.05,
  'ndcg@10': 0.1 + (i % 83) / 1000,
  'map@10': 0.05,
});

const t0 = performance.now();
if (command === 'fill') {
  const registry = await openRegistry(file);
  const n = count;
  for (let i = 0; i < n; i++) {
    const h = registry.startRun(run(i));
    epochs(h, 100);
    h.finish({ metrics: metrics(i), epochs: 100 });
  }
  registry.close();
  process.stdout.write(
    `filled ${n} runs in ${((performance.now() - t0) / 1000).toFixed(2)} s (${((performance.now() - t0) / n).toFixed(2)} ms per run)\n`,
  );
} else if (command === 'record') {
  await loadSqlite();
  const loaded = performance.now();
  const registry = await openRegistry(file);
  const opened = performance.now();
  const h = registry.startRun(run(1));
  const started = performance.now();
  epochs(h, 100);
  h.finish({ metrics: metrics(1), epochs: 100 });
  const finished = performance.now();
  registry.close();
  const closed = performance.now();
  const ms = (a: number, b: number): string => (b - a).toFixed(1);
  process.stdout.write(
    `record: driver load ${ms(t0, loaded)} ms, open ${ms(loaded, opened)} ms, start ${ms(opened, started)} ms, finish (100 epochs) ${ms(started, finished)} ms, close ${ms(finished, closed)} ms; total ${ms(t0, closed)} ms\n`,
  );
} else if (command === 'list') {
  const registry = await openRegistry(file);
  const opened = performance.now();
  const time = (label: string, fn: () => unknown[]): void => {
    const a = performance.now();
    const rows = fn();
    const text = JSON.stringify(rows);
    process.stdout.write(
      `${label.padEnd(34)} ${rows.length} runs ${(performance.now() - a).toFixed(1)} ms (${(text.length / 1e6).toFixed(1)} MB JSON)\n`,
    );
  };
  time('all', () => registry.listRuns());
  time('--data ml-100k', () => registry.listRuns({ data: 'ml-100k' }));
  time('--kind cv --since', () =>
    registry.listRuns({ kind: 'cv', since: new Date(Date.UTC(2026, 0, 3)) }),
  );
  time('--best rmse (all)', () => registry.listRuns({ best: 'rmse' }));
  time('--best ndcg@10 --limit 20', () => registry.listRuns({ best: 'ndcg@10', limit: 20 }));
  time('show one (with 100 epochs)', () => [registry.getRun(5000)]);
  time('compare 3', () => registry.compareRuns([10, 20, 30]).rows);
  registry.close();
  process.stdout.write(
    `open ${(opened - t0).toFixed(1)} ms, whole ${(performance.now() - t0).toFixed(1)} ms in-process\n`,
  );
}
