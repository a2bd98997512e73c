/**
 * A persistent Gibbs sampling thread (see ./gibbs.ts): receives the shared arena once, then fills
 * the normals of the rows it is given from their counter-based streams and draws them with the
 * kernel, or sums squared errors. Rows are independent within a side, so the thread that draws a
 * row never changes the draw.
 */
import { parentPort } from 'node:worker_threads';
import { squaredErrorSum } from './als.js';
import { viewOf } from './arena.js';
import { STREAM_ITEM, STREAM_USER, sampleRowRange, type GibbsWorkerInit, type GibbsWorkerReply, type GibbsWorkerTask, type SamplingDescriptors } from './gibbs.js';
import type { HalfEpochArgs, SamplingArgs, SolveRows } from './kernel.js';
import { loadKernel } from './kernels.js';
import { halfEpochArgsFrom } from './trainer-protocol.js';

if (parentPort === null) throw new Error('gibbs-worker must run in a worker thread');
const port = parentPort;

let solveRows: SolveRows | null = null;
let seed = 0;
const sides: { user: HalfEpochArgs | null; item: HalfEpochArgs | null } = { user: null, item: null };

function samplingFrom(buffer: ArrayBufferLike, d: SamplingDescriptors): SamplingArgs {
  return {
    priorPrecision: viewOf(buffer, d.priorPrecision) as Float64Array,
    priorMean: viewOf(buffer, d.priorMean) as Float64Array,
    normals: viewOf(buffer, d.normals) as Float64Array,
  };
}

port.on('message', (message: GibbsWorkerInit | GibbsWorkerTask) => {
  void handle(message);
});

async function handle(message: GibbsWorkerInit | GibbsWorkerTask): Promise<void> {
  try {
    if (message.type === 'init') {
      const provider = await loadKernel(message.kernel);
      solveRows = await provider.createSolver(message.buffer, message.memory);
      sides.user = { ...halfEpochArgsFrom(message.buffer, message.user, message.scalars), sampling: samplingFrom(message.buffer, message.userSampling) };
      sides.item = { ...halfEpochArgsFrom(message.buffer, message.item, message.scalars), sampling: samplingFrom(message.buffer, message.itemSampling) };
      seed = message.seed;
      port.postMessage({ type: 'ready' } satisfies GibbsWorkerReply);
      return;
    }
    const args = sides[message.side];
    if (solveRows === null || args === null || !args.sampling) throw new Error('worker used before init');
    if (message.type === 'sample') {
      args.lambda = message.alpha;
      sampleRowRange(solveRows, args, args.sampling, seed, message.sample, message.side === 'user' ? STREAM_USER : STREAM_ITEM, message.rowStart, message.rowEnd);
      port.postMessage({ type: 'done', value: 0 } satisfies GibbsWorkerReply);
    } else {
      port.postMessage({ type: 'done', value: squaredErrorSum(args, message.rowStart, message.rowEnd) } satisfies GibbsWorkerReply);
    }
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error).message } satisfies GibbsWorkerReply);
  }
}
