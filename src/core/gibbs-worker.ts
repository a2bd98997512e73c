/**
 * A persistent Gibbs sampling thread (see ./gibbs.ts; started by ./worker-pool.ts): from its
 * workerData (the shared arena) it builds its views and its solver once, then fills the normals
 * of the rows it is given from their counter-based streams and draws them with the kernel, or
 * sums squared errors. Rows are independent within a side, so the thread that draws a row never
 * changes the draw.
 */
import { squaredErrorSum } from './als.js';
import { viewOf } from './arena.js';
import {
  STREAM_ITEM,
  STREAM_USER,
  sampleRowRange,
  type GibbsWorkerInit,
  type GibbsWorkerTask,
  type SamplingDescriptors,
} from './gibbs.js';
import type { SamplingArgs } from './kernel.js';
import { loadKernel } from './kernels.js';
import { halfEpochArgsFrom } from './trainer-protocol.js';
import { serveWorkerTasks } from './worker-pool.js';

function samplingFrom(buffer: ArrayBufferLike, d: SamplingDescriptors): SamplingArgs {
  return {
    priorPrecision: viewOf(buffer, d.priorPrecision) as Float64Array,
    priorMean: viewOf(buffer, d.priorMean) as Float64Array,
    normals: viewOf(buffer, d.normals) as Float64Array,
  };
}

serveWorkerTasks<GibbsWorkerInit, GibbsWorkerTask>(async (init) => {
  const provider = await loadKernel(init.kernel);
  const solveRows = await provider.createSolver(init.buffer, init.memory);
  const sides = {
    user: {
      ...halfEpochArgsFrom(init.buffer, init.user, init.scalars),
      sampling: samplingFrom(init.buffer, init.userSampling),
    },
    item: {
      ...halfEpochArgsFrom(init.buffer, init.item, init.scalars),
      sampling: samplingFrom(init.buffer, init.itemSampling),
    },
  };
  return (task) => {
    const args = sides[task.side];
    if (task.type === 'squared-errors') return squaredErrorSum(args, task.rowStart, task.rowEnd);
    args.lambda = task.alpha;
    sampleRowRange(
      solveRows,
      args,
      args.sampling,
      init.seed,
      task.sample,
      task.side === 'user' ? STREAM_USER : STREAM_ITEM,
      task.rowStart,
      task.rowEnd,
    );
    return 0;
  };
});
