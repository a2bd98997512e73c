/**
 * A persistent training thread (started by ./worker-pool.ts). From its workerData (the shared
 * arena: buffer, wasm memory, the descriptors of every array of both half-epochs and the scalar
 * hyperparameters) it builds its views and its solver once, then solves row ranges on request.
 * Nothing is copied: the rows it writes are the main thread's arrays. Rows are independent within
 * a half-epoch, so which thread solves which row never changes the result.
 */
import { loadKernel } from './kernels.js';
import {
  arenaModel,
  halfEpochArgsFrom,
  squaredErrorsOf,
  trainerTaskHandler,
  validationFrom,
  type WorkerInit,
  type WorkerSolve,
} from './trainer-protocol.js';
import { serveWorkerTasks } from './worker-pool.js';

serveWorkerTasks<WorkerInit, WorkerSolve>(async (init) => {
  const provider = await loadKernel(init.kernel);
  const solveRows = await provider.createSolver(init.buffer, init.memory);
  const sides = {
    user: halfEpochArgsFrom(init.buffer, init.user, init.scalars),
    item: halfEpochArgsFrom(init.buffer, init.item, init.scalars),
  };
  const numUsers = init.user.offsets.length - 1;
  const numItems = init.item.offsets.length - 1;
  const validation =
    init.validation === null
      ? null
      : {
          ...validationFrom(init.buffer, init.validation),
          model: arenaModel(sides, numUsers, numItems),
        };
  const squaredErrors = await squaredErrorsOf(provider, init.buffer, init.memory);
  return trainerTaskHandler(solveRows, squaredErrors, sides, validation);
});
