/**
 * Half-epoch kernel benchmark: `node dist/bench/kernel.js [--scale 1] [--dim 30] [--reps 3]
 * [--threads 2] [--skip-ts]`.
 *
 * A synthetic user side the size of MovieLens-32M: 200,948 rows (users) over 87,585 other rows
 * (movies), ≈ 32M ratings with power-law activity (Pareto counts, at least 20 per user as in
 * MovieLens) and power-law movie popularity, rows sorted by column as the data layer builds them.
 * `--scale s` multiplies the rows and ratings (the movies stay) for a quicker run.
 *
 * Reported, per kernel:
 *  - Gram GFLOP/s: the accumulation of Σ ỹỹᵀ (upper triangle of (K+1)×(K+1), one multiply and one
 *    add per entry per rating: nnz·(K+1)(K+2) flops) timed alone. wasm: the kernel's own Gram code
 *    with the solve skipped; ts: a plain TypeScript loop of the same shape (4 ratings per pass).
 *  - the split of the wasm half-epoch into gather (the kernel's gather of the factor rows alone),
 *    accumulation (Gram − gather) and solve (half-epoch − Gram), with the accumulation's GFLOP/s.
 *  - seconds per half-epoch: the full kernel (Gram + Cholesky + solves + writes) over every row.
 *  - with `--threads N` (N > 1): the wasm half-epoch on N worker threads over one shared memory,
 *    rows split into 8 chunks per thread of equal rating counts, handed out as threads free up.
 * Times are the best of `--reps` runs (other processes share the CPU; the best run is the least
 * disturbed one).
 */
import { Worker } from 'node:worker_threads';
import type { SharedArena } from '../core/arena.js';
import type { KernelWorkerReply } from './kernel-worker.js';
import type { HalfEpochArgs, KernelProvider, SolveRows } from '../core/kernel.js';
import { tsKernel } from '../core/kernel-ts.js';
import {
  createWasmGatherOnly,
  createWasmGramAccumulator,
  wasmKernel,
} from '../core/kernel-wasm.js';
import { Random } from '../core/random.js';
import {
  createHalfEpochProblem,
  halfEpochProblemBytes,
  type HalfEpochProblemSpec,
  kernelWorkerData,
  MIN_RATINGS_PER_USER,
  ML32M_MOVIES,
  ML32M_RATINGS,
  ML32M_USERS,
  powerLawCounts,
  splitRowsByRatings,
} from './half-epoch-problem.js';
import { benchCommand, nonNegativeInteger, positiveInteger, positiveNumber } from './options.js';

interface BenchOptions {
  scale: number;
  dim: number;
  reps: number;
  threads: number;
  skipTs: boolean;
}

function parseOptions(): BenchOptions {
  return benchCommand(
    'kernel',
    'half-epoch kernel timings on the user side of a MovieLens-32M-shaped problem',
  )
    .option(
      '--scale <s>',
      "fraction of MovieLens-32M's users and ratings (the movies stay)",
      positiveNumber,
      1,
    )
    .option('--dim <k>', 'latent dimension', nonNegativeInteger, 30)
    .option('--reps <n>', 'runs per timing (the best is reported)', positiveInteger, 3)
    .option(
      '--threads <n>',
      'worker threads of the threaded wasm half-epoch (1: skip it)',
      positiveInteger,
      2,
    )
    .option('--skip-ts', 'skip the TypeScript kernel timings', false)
    .parse()
    .opts<BenchOptions>();
}

interface Timing {
  wallSeconds: number;
  /** CPU seconds of the process (user + system): the honest figure for one thread on a shared machine. */
  cpuSeconds: number;
}

/** The best of `reps` runs (by CPU time) of `run`. */
function bestTiming(reps: number, run: () => void): Timing {
  let best: Timing = { wallSeconds: Infinity, cpuSeconds: Infinity };
  for (let i = 0; i < reps; i++) {
    const startMs = performance.now();
    const startCpu = process.cpuUsage();
    run();
    const cpu = process.cpuUsage(startCpu);
    const timing = {
      wallSeconds: (performance.now() - startMs) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
    if (timing.cpuSeconds < best.cpuSeconds) best = timing;
  }
  return best;
}

/**
 * The Gram accumulation as a plain TypeScript loop (upper triangle of [y; 1][y; 1]ᵀ and Σ t ỹ,
 * four ratings per pass): the comparison point for the wasm Gram timing.
 */
function createTsGramAccumulator(dim: number): SolveRows {
  const n = dim + 1;
  const gram = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  return (args: HalfEpochArgs, rowStart: number, rowEnd: number): void => {
    const { offsets, indices, values, otherFactors: Y, otherBias, globalMean } = args;
    const K = dim;
    for (let r = rowStart; r < rowEnd; r++) {
      gram.fill(0);
      rhs.fill(0);
      const end = offsets[r + 1]!;
      let e = offsets[r]!;
      for (; e + 4 <= end; e += 4) {
        const j1 = indices[e]!;
        const j2 = indices[e + 1]!;
        const j3 = indices[e + 2]!;
        const j4 = indices[e + 3]!;
        const o1 = j1 * K;
        const o2 = j2 * K;
        const o3 = j3 * K;
        const o4 = j4 * K;
        const t1 = values[e]! - globalMean - otherBias[j1]!;
        const t2 = values[e + 1]! - globalMean - otherBias[j2]!;
        const t3 = values[e + 2]! - globalMean - otherBias[j3]!;
        const t4 = values[e + 3]! - globalMean - otherBias[j4]!;
        for (let a = 0; a < n; a++) {
          const a1 = a < K ? Y[o1 + a]! : 1;
          const a2 = a < K ? Y[o2 + a]! : 1;
          const a3 = a < K ? Y[o3 + a]! : 1;
          const a4 = a < K ? Y[o4 + a]! : 1;
          const row = a * n;
          for (let b = a; b < K; b++) {
            gram[row + b] =
              gram[row + b]! +
              a1 * Y[o1 + b]! +
              a2 * Y[o2 + b]! +
              a3 * Y[o3 + b]! +
              a4 * Y[o4 + b]!;
          }
          gram[row + K] = gram[row + K]! + a1 + a2 + a3 + a4;
          rhs[a] = rhs[a]! + t1 * a1 + t2 * a2 + t3 * a3 + t4 * a4;
        }
      }
      for (; e < end; e++) {
        const j = indices[e]!;
        const o = j * K;
        const t = values[e]! - globalMean - otherBias[j]!;
        for (let a = 0; a < n; a++) {
          const ya = a < K ? Y[o + a]! : 1;
          const row = a * n;
          for (let b = a; b < K; b++) gram[row + b] = gram[row + b]! + ya * Y[o + b]!;
          gram[row + K] = gram[row + K]! + ya;
          rhs[a] = rhs[a]! + t * ya;
        }
      }
    }
  };
}

/**
 * The wasm half-epoch on `threads` kernel-worker threads: the best wall time in seconds, with the
 * sum of the time the threads spent inside the kernel during that run.
 */
async function threadedSeconds(
  arena: SharedArena,
  args: HalfEpochArgs,
  threads: number,
  reps: number,
): Promise<{ wallSeconds: number; busySeconds: number }> {
  const numRows = args.offsets.length - 1;
  const bounds = splitRowsByRatings(args.offsets, threads * 8);
  const chunks = bounds
    .slice(0, -1)
    .map((rowStart, c) => ({ rowStart, rowEnd: bounds[c + 1]! }))
    .filter((c) => c.rowEnd > c.rowStart);
  const data = kernelWorkerData('wasm', arena, args);
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL('./kernel-worker.js', import.meta.url), { workerData: data }),
  );
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
          }),
      ),
    );
    let best = { wallSeconds: Infinity, busySeconds: Infinity };
    for (let rep = 0; rep < reps; rep++) {
      const startMs = performance.now();
      let next = 0;
      let busySeconds = 0;
      await Promise.all(
        workers.map(
          (worker) =>
            new Promise<void>((resolve, reject) => {
              const give = (reply?: KernelWorkerReply): void => {
                if (reply !== undefined) busySeconds += reply.elapsedMs / 1000;
                const chunk = chunks[next++];
                if (chunk === undefined) {
                  worker.off('message', give);
                  resolve();
                } else worker.postMessage(chunk);
              };
              worker.on('message', give);
              worker.once('error', reject);
              give(undefined);
            }),
        ),
      );
      const wallSeconds = (performance.now() - startMs) / 1000;
      if (wallSeconds < best.wallSeconds) best = { wallSeconds, busySeconds };
    }
    if (chunks[chunks.length - 1]!.rowEnd !== numRows)
      throw new Error('chunks do not cover every row');
    return best;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  const { dim, reps } = options;
  const rng = new Random(2024);
  const numRows = Math.round(ML32M_USERS * options.scale);
  const counts = powerLawCounts(numRows, Math.round(ML32M_RATINGS * options.scale), 30_000, rng);
  const spec: HalfEpochProblemSpec = {
    dim,
    counts,
    numOther: ML32M_MOVIES,
    skew: 2,
    withPrior: false,
    weightedRegularization: true,
    lambda: 1,
    tau: 0.05,
    gamma: 0.05,
  };
  const setupStartMs = performance.now();
  const arena = wasmKernel.createArena(halfEpochProblemBytes(spec));
  const args = createHalfEpochProblem(arena, spec, rng);
  for (let r = 0; r < numRows; r++)
    args.indices.subarray(args.offsets[r]!, args.offsets[r + 1]!).sort();
  const nnz = args.offsets[numRows]!;
  let maxCount = 0;
  for (const c of counts) maxCount = Math.max(maxCount, c);
  console.log(
    `problem: ${numRows.toLocaleString('en-US')} rows × ${ML32M_MOVIES.toLocaleString('en-US')} other rows, ` +
      `${nnz.toLocaleString('en-US')} ratings (${MIN_RATINGS_PER_USER}…${maxCount} per row), dim ${dim}; ` +
      `built in ${((performance.now() - setupStartMs) / 1000).toFixed(1)} s`,
  );
  console.log(
    `node ${process.version}, best of ${reps} run(s); other processes share the CPU, so numbers are noisy`,
  );
  const gramGflop = (nnz * (dim + 1) * (dim + 2)) / 1e9;

  console.log(
    `${''.padEnd(40)} ${'wall s'.padStart(8)} ${'CPU s'.padStart(8)} ${'GFLOP/s (CPU)'.padStart(14)}`,
  );
  const report = (label: string, timing: Timing): void => {
    const rate = (gramGflop / timing.cpuSeconds).toFixed(2);
    console.log(
      `${label.padEnd(40)} ${timing.wallSeconds.toFixed(3).padStart(8)} ${timing.cpuSeconds.toFixed(3).padStart(8)} ${rate.padStart(14)}`,
    );
  };

  const wasmGather = await createWasmGatherOnly(arena.buffer, arena.memory);
  const wasmSolve = await wasmKernel.createSolver(arena.buffer, arena.memory);
  // The gather from the float64 factors (what the kernel did before the packed float32 rows).
  const unpacked = { ...args, otherPacked: null, rowPacked: null };
  report(
    'wasm gather only, float64 rows, 1 thread',
    bestTiming(reps, () => wasmGather(unpacked, 0, numRows)),
  );
  report(
    'wasm half-epoch, float64 rows, 1 thread',
    bestTiming(reps, () => wasmSolve(unpacked, 0, numRows)),
  );
  const gatherTiming = bestTiming(reps, () => wasmGather(args, 0, numRows));
  report('wasm gather only, 1 thread', gatherTiming);
  const wasmGram = await createWasmGramAccumulator(arena.buffer, arena.memory);
  const gramTiming = bestTiming(reps, () => wasmGram(args, 0, numRows));
  report('wasm gather + Gram, 1 thread', gramTiming);
  const wasmHalf = bestTiming(reps, () => wasmSolve(args, 0, numRows));
  report('wasm half-epoch, 1 thread', wasmHalf);
  // The split of the half-epoch, from the three nested timings (CPU seconds).
  const gatherSeconds = gatherTiming.cpuSeconds;
  const accumulateSeconds = Math.max(0, gramTiming.cpuSeconds - gatherTiming.cpuSeconds);
  const solveSeconds = Math.max(0, wasmHalf.cpuSeconds - gramTiming.cpuSeconds);
  const share = (seconds: number): string =>
    `${seconds.toFixed(3)} s (${((100 * seconds) / wasmHalf.cpuSeconds).toFixed(0)} %)`;
  console.log(
    `wasm half-epoch split, CPU: gather ${share(gatherSeconds)}, accumulation ${share(accumulateSeconds)}, solve ${share(solveSeconds)}; ` +
      `accumulation alone ${(gramGflop / accumulateSeconds).toFixed(2)} GFLOP/s`,
  );
  const wasmFactors = args.rowFactors.slice(0, Math.min(args.rowFactors.length, 1000 * dim));

  if (!options.skipTs) {
    const tsGram = createTsGramAccumulator(dim);
    const tsReps = Math.min(reps, 2);
    report(
      'ts Gram only (plain loop), 1 thread',
      bestTiming(tsReps, () => tsGram(args, 0, numRows)),
    );
    const tsProvider: KernelProvider = tsKernel;
    const tsSolve = await tsProvider.createSolver(arena.buffer, arena.memory);
    report(
      'ts half-epoch (tsKernel), 1 thread',
      bestTiming(tsReps, () => tsSolve(args, 0, numRows)),
    );
    let worst = 0;
    for (let i = 0; i < wasmFactors.length; i++)
      worst = Math.max(worst, Math.abs(wasmFactors[i]! - args.rowFactors[i]!));
    console.log(`max |wasm − ts| over the first 1000 rows' factors: ${worst.toExponential(2)}`);
  }

  if (options.threads > 1) {
    const { wallSeconds, busySeconds } = await threadedSeconds(arena, args, options.threads, reps);
    console.log(
      `${`wasm half-epoch, ${options.threads} worker threads`.padEnd(40)} ${wallSeconds.toFixed(3).padStart(8)}` +
        `   (speed-up over 1 thread: ${(wasmHalf.wallSeconds / wallSeconds).toFixed(2)}× wall; ` +
        `threads were inside the kernel ${busySeconds.toFixed(2)} s in all)`,
    );
  }
  console.log(
    'GFLOP/s = Gram flops nnz·(K+1)(K+2) / CPU seconds of the row, whatever else that timing includes.',
  );
}

await main();
