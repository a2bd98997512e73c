/**
 * Gibbs-sampled Bayesian ALS against the current ALS, side by side on the same split:
 * held-out RMSE of the sample average, calibration of the predictive intervals, the RMSE from
 * the stored (thinned, float32) samples, and time per sample against time per ALS epoch.
 *
 *   npm run build && node dist/bench/gibbs.js --data ml-100k --split ml100k:u1 --model genre
 *   node dist/bench/gibbs.js --data <dir> --split random:0.1 --model latent --dim 30 --samples 40 --burn-in 10
 *
 * --data is a folder name in the data home ($ALS_DATA_HOME, else ./data) or a path.
 */
import path from 'node:path';
import { Option } from 'commander';
import { DEFAULT_BAYESIAN_OPTIONS, trainBayesian } from '../app/bayes.js';
import { defaultHyperparameters } from '../core/defaults.js';
import { DEFAULT_HYPERPRIOR } from '../core/gibbs-conditionals.js';
import { rmseFromSamples } from '../core/gibbs-predict.js';
import { loadKernel, type KernelName } from '../core/kernels.js';
import { createTrainer } from '../core/trainer.js';
import { MODEL_KINDS, type ModelKind } from '../core/types.js';
import { loadDataset } from '../data/load.js';
import { makeSplit } from '../data/splits.js';
import {
  benchCommand,
  benchDataHome,
  dataHomeOption,
  dataFolder,
  listOf,
  nonNegativeInteger,
  oneOf,
  positiveInteger,
  positiveNumber,
} from './options.js';

const program = benchCommand(
  'gibbs',
  'Gibbs-sampled Bayesian ALS against ALS on the same split: RMSE, calibration, time per sample',
)
  .option('--data <dir>', 'data set folder (name in the data home, or a path)', 'ml-100k')
  .addOption(dataHomeOption(' and the load cache goes'))
  .option('--split <spec>', 'split spec', 'ml100k:u1')
  .addOption(
    new Option('--model <kinds>', 'comma-separated model kinds')
      .argParser(listOf(oneOf(MODEL_KINDS)))
      .default(['genre', 'latent'], 'genre,latent'),
  )
  .option(
    '--dim <k>',
    'latent dimension of the sampler',
    positiveInteger,
    DEFAULT_BAYESIAN_OPTIONS.dim,
  )
  .option('--als-dim <k>', 'latent dimension of ALS', positiveInteger, 30)
  .option('--samples <n>', 'Gibbs sweeps', positiveInteger, DEFAULT_BAYESIAN_OPTIONS.samples)
  .option('--burn-in <n>', 'sweeps discarded', nonNegativeInteger, DEFAULT_BAYESIAN_OPTIONS.burnIn)
  .option('--thin <n>', 'keep every n-th sample', positiveInteger, DEFAULT_BAYESIAN_OPTIONS.thin)
  .option('--epochs <n>', 'ALS epochs', positiveInteger, 40)
  .option('--no-als', 'skip the ALS baseline')
  .option('--threads <n>', 'threads', positiveInteger, 2)
  .addOption(
    new Option('--kernel <name>', 'kernel').choices(['ts', 'wasm'] as const).default('wasm'),
  )
  .option('--seed <n>', 'seed of split and chain', nonNegativeInteger, 1)
  .option('--every <n>', 'print the running curve every n samples', positiveInteger, 20)
  .option(
    '--a0 <x>',
    'hyperprior shape a₀ (Gamma priors of the precisions and α)',
    positiveNumber,
    DEFAULT_HYPERPRIOR.a0,
  )
  .option('--b0 <x>', 'hyperprior rate b₀', positiveNumber, DEFAULT_HYPERPRIOR.b0)
  .option('--genre-b0 <x>', 'rate b₀ of the genre precisions alone (default: --b0)', positiveNumber)
  .option(
    '--kappa0 <x>',
    'hyperprior κ₀ (strength of the prior on the row means)',
    positiveNumber,
    DEFAULT_HYPERPRIOR.kappa0,
  );
program.parse();
const o = program.opts<{
  data: string;
  dataHome?: string;
  split: string;
  model: ModelKind[];
  dim: number;
  alsDim: number;
  samples: number;
  burnIn: number;
  thin: number;
  epochs: number;
  als: boolean;
  threads: number;
  kernel: KernelName;
  seed: number;
  every: number;
  a0: number;
  b0: number;
  genreB0?: number;
  kappa0: number;
}>();

const home = benchDataHome(o.dataHome);
const dir = dataFolder(o.data, home);
const t0 = performance.now();
const dataset = await loadDataset(dir, { cacheDir: path.join(home, '.als-cache') });
const split = makeSplit(dataset, o.split, o.seed);
const catalog = dataset.catalog;
const itemGenres = {
  offsets: catalog.genreOffsets,
  ids: catalog.genreIds,
  numGenres: catalog.genreNames.length,
};
const threads = o.threads;
const kernelName = o.kernel;
console.log(
  `${dataset.info.name} ${o.split} seed ${o.seed}: ${split.train.numRatings} train, ${split.test.length} held out (loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s); ${threads} threads, ${kernelName} kernel`,
);

for (const kind of o.model) {
  let alsRmse = NaN;
  let alsMsPerEpoch = NaN;
  let alsWallMsPerEpoch = NaN;
  if (o.als !== false) {
    const trainer = await createTrainer({
      train: split.train,
      validation: split.test,
      itemGenres,
      hyper: { ...defaultHyperparameters(kind), ...(kind === 'bias' ? {} : { dim: o.alsDim }) },
      seed: o.seed,
      threads,
      kernel: await loadKernel(kernelName),
    });
    let total = 0;
    const epochs = o.epochs;
    const curve: string[] = [];
    const tAls = performance.now();
    for (let e = 1; e <= epochs; e++) {
      const m = await trainer.epoch();
      total += m.elapsedMs;
      alsRmse = m.validationRmse ?? NaN;
      if (epochs <= 12 || e === 1 || e % 5 === 0) curve.push(`${e}:${alsRmse.toFixed(4)}`);
    }
    alsWallMsPerEpoch = (performance.now() - tAls) / epochs;
    await trainer.close();
    alsMsPerEpoch = total / epochs;
    console.log(
      `ALS   ${kind} dim ${kind === 'bias' ? 0 : o.alsDim} defaults, ${epochs} epochs: RMSE ${alsRmse.toFixed(4)}, ${alsMsPerEpoch.toFixed(0)} ms/epoch of updates (${alsWallMsPerEpoch.toFixed(0)} ms with its loss and held-out RMSE); curve ${curve.join(' ')}`,
    );
  }
  const tRun = performance.now();
  const every = o.every;
  const run = await trainBayesian(
    { train: split.train, test: split.test, itemGenres, scale: dataset.info.scale },
    {
      kind,
      dim: o.dim,
      samples: o.samples,
      burnIn: o.burnIn,
      thin: o.thin,
      seed: o.seed,
      threads,
      kernel: kernelName,
      hyperprior: { a0: o.a0, b0: o.b0, kappa0: o.kappa0, m0: DEFAULT_HYPERPRIOR.m0 },
      ...(o.genreB0 !== undefined
        ? {
            genreHyperprior: {
              a0: o.a0,
              b0: o.genreB0,
              kappa0: o.kappa0,
              m0: DEFAULT_HYPERPRIOR.m0,
            },
          }
        : {}),
    },
    {
      onSample: (m) => {
        if (m.sample === 1 || m.sample % every === 0) {
          console.log(
            `  sample ${m.sample}: train ${m.trainRmse.toFixed(4)} noise sd ${(1 / Math.sqrt(m.alpha)).toFixed(4)} held-out avg ${m.validationRmse === null ? '-' : m.validationRmse.toFixed(4)} (${m.elapsedMs.toFixed(0)} ms)`,
          );
        }
      },
    },
  );
  const wallS = (performance.now() - tRun) / 1000;
  // Coarser thinning from the same chain: every f-th stored sample (thin × f), to choose the default.
  const K = kind === 'bias' ? 0 : o.dim;
  const bytesPerSample = (split.train.numUsers + split.train.numItems) * (K + 1) * 4;
  for (const f of [2, 5, 10]) {
    const subset = run.storedSamples.filter((_, i) => i % f === f - 1);
    if (subset.length < 2) continue;
    const r = rmseFromSamples(
      subset,
      run.globalMean,
      K,
      split.train.numUsers,
      split.train.numItems,
      split.test,
      dataset.info.scale,
    );
    console.log(
      `  thin ${o.thin * f}: ${subset.length} stored samples (${((subset.length * bytesPerSample) / 2 ** 20).toFixed(1)} MiB float32) RMSE ${r.toFixed(4)} (Δ ${(r - (run.rmse ?? NaN)).toFixed(4)})`,
    );
  }
  const msPerSample = run.elapsedMs / run.metrics.length;
  const stored = rmseFromSamples(
    run.storedSamples,
    run.globalMean,
    K,
    split.train.numUsers,
    split.train.numItems,
    split.test,
    dataset.info.scale,
  );
  const cal =
    run.calibration
      ?.map((c) => `${(c.level * 100).toFixed(0)}%→${(c.share * 100).toFixed(1)}%`)
      .join(' ') ?? '-';
  const best = Math.min(...run.metrics.map((m) => m.validationRmse ?? Infinity));
  console.log(
    `GIBBS ${kind} dim ${kind === 'bias' ? 0 : o.dim}, ${o.samples} samples, burn-in ${o.burnIn}, thin ${o.thin}: RMSE ${run.rmse?.toFixed(4)} (unclamped ${run.unclampedRmse?.toFixed(4)}; min of curve ${best.toFixed(4)}); ` +
      `stored ${run.storedSamples.length} float32 samples RMSE ${stored.toFixed(4)} (Δ ${(stored - (run.rmse ?? NaN)).toFixed(4)}); calibration ${cal}; ` +
      `${msPerSample.toFixed(0)} ms/sample (${(msPerSample / alsMsPerEpoch).toFixed(2)}× an ALS epoch's updates), ${((wallS * 1000) / run.metrics.length).toFixed(0)} ms/sample with the held-out average (${((wallS * 1000) / run.metrics.length / alsWallMsPerEpoch).toFixed(2)}× an ALS epoch with its metrics), sampler wall ${wallS.toFixed(1)} s`,
  );
}
