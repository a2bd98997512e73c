/**
 * The training loop the CLI drives: one `epoch()` call = one ALS epoch (user half-epoch, item
 * half-epoch, genre update for the genre model) followed by its metrics.
 *
 * Every array a kernel reads or writes (both sparse indexes, both factor matrices and bias
 * vectors, the genre prior means, and for the wasm kernel both sides' factors packed in float32,
 * which it keeps in step as it solves) lives in one shared arena from the kernel provider, so
 * that persistent worker threads solve their rows in place: nothing is copied per epoch.
 *
 * Work split. Within a half-epoch the rows are independent, so any assignment of rows to threads
 * gives the same model bit for bit. Rows are cut into contiguous chunks of about equal cost,
 * cost(row) = n_r + K/3 + 1 (the Gram sum is ~K²/2 multiply-adds per rating, the Cholesky ~K³/6
 * per row), not equal row counts, because activity is power-law (a few users rate thousands of
 * movies); there are several chunks per thread, shrinking towards the end of the half-epoch
 * (splitRowsGuided), and each thread claims the next one when it is done (./worker-pool.ts).
 * The calling thread is one of the `threads`: it solves chunks beside threads − 1 workers, so a
 * half-epoch costs one message each way per worker, and no thread waits idle for the others to
 * be told what to do. (A row with few ratings costs less than the model says, solved in its
 * ratings' space by the wasm kernel; the model only has to be roughly right.)
 *
 * Epoch tail. The loss's squared errors read only rated movies, which the genre step leaves alone
 * (it moves F, the priors and the unrated movies' factors), so the other threads sum them while
 * the calling thread does the genre step and then the regulariser; the held-out ratings are
 * scored in one more task, which waits (if a worker claims it early) until the genre step is
 * done. Each of these is computed exactly as it would be alone, in the same order.
 *
 * Determinism. After initialisation ALS is a deterministic function of the state, so resuming
 * from `state()` after N epochs and running M more gives exactly the model of N + M epochs.
 */
import type { RatingList, RatingMatrix, SparseIndex } from '../data/types.js';
import { RELEASE_MIN_BYTES, releaseGarbage } from '../memory.js';
import type { SharedArena } from './arena.js';
import {
  applyColdStart,
  cloneModel,
  copyModelInto,
  computeGenrePriors,
  createGenreUpdate,
  initModel,
  meanRating,
  objectiveFromParts,
  regularizationTerm,
  regularizationWeights,
  rmseFromSum,
  type GenreUpdate,
  type ItemGenres,
  type RegularizationWeights,
} from './als.js';
import {
  allocPackedRows,
  biasRidgeWeighted,
  type HalfEpochArgs,
  type KernelProvider,
  packedRowWidth,
  packRows,
} from './kernel.js';
import {
  describeSide,
  squaredErrorsOf,
  trainerTaskHandler,
  type WorkerInit,
  type WorkerSolve,
} from './trainer-protocol.js';
import type { EpochMetrics, Hyperparameters, ModelState } from './types.js';
import { coreWorkerScript, type LocalWork, startWorkerPool } from './worker-pool.js';

/** The loss became NaN or infinite: training diverged. The CLI catches it and keeps the last good checkpoint. */
export class DivergenceError extends Error {
  readonly epoch: number;
  readonly loss: number;
  constructor(epoch: number, loss: number) {
    super(
      `training diverged at epoch ${epoch} (loss ${loss}); try a larger --tau or --gamma, or a smaller --lambda`,
    );
    this.name = 'DivergenceError';
    this.epoch = epoch;
    this.loss = loss;
  }
}

export interface TrainerOptions {
  /**
   * The training ratings. Both indexes are copied into the trainer's shared arena and then
   * `train.ratingsByUser` / `train.ratingsByItem` are re-pointed at those copies (same contents;
   * the trainer never writes them), so the process holds the matrix once, not once in JavaScript
   * and again in the arena. The trainer keeps no reference to `train` itself.
   */
  train: RatingMatrix;
  /**
   * Held-out ratings for the validation RMSE, or null. With more than one thread their users,
   * items and values are re-pointed at copies in the arena, like the training indexes.
   */
  validation: RatingList | null;
  /** Movie genres (required by the genre model, ignored by the others). */
  itemGenres: ItemGenres | null;
  hyper: Hyperparameters;
  /** Seed of the initial factors (unused when `initial` is given). */
  seed: number;
  /** Worker threads; 1 solves in the calling thread without workers. */
  threads: number;
  kernel: KernelProvider;
  /** Resume from this model instead of a random start (its hyperparameters' kind and dim must match). */
  initial?: ModelState;
  /** Epochs already done by `initial` (numbers the next epoch); default 0. */
  initialEpoch?: number;
}

export interface Trainer {
  /** Epochs finished so far (including `initialEpoch`). */
  readonly epochsDone: number;
  /** Runs one epoch and returns its metrics; throws DivergenceError on a NaN/infinite loss. */
  epoch(): Promise<EpochMetrics>;
  /**
   * A deep copy of the current model (safe to keep, serialise, or pass as `initial`). With `into`
   * (a model of the same shapes, e.g. an earlier `state()`), the numbers are copied into it and it
   * is returned: a per-epoch snapshot without a new allocation each epoch.
   */
  state(into?: ModelState): ModelState;
  /** Stops the worker threads. The trainer cannot be used afterwards. */
  close(): Promise<void>;
}

/** Cuts rows [0, rows) into about `parts` contiguous chunks of similar cost n_r + rowCost. */
export function splitRowsByCost(
  offsets: Int32Array,
  rows: number,
  parts: number,
  rowCost: number,
): Array<[number, number]> {
  const total = offsets[rows]! + rows * rowCost;
  const chunks: Array<[number, number]> = [];
  let start = 0;
  for (let p = 1; p <= parts && start < rows; p++) {
    const target = (total * p) / parts;
    let end = start + 1;
    while (end < rows && offsets[end]! + end * rowCost < target) end++;
    if (p === parts) end = rows;
    chunks.push([start, end]);
    start = end;
  }
  if (start < rows) chunks.push([start, rows]);
  return chunks;
}

/**
 * Cuts rows [0, rows) into contiguous chunks for `threads` threads that claim them in order:
 * each chunk costs about a 1/(2·threads) share of the cost still left after it (guided
 * scheduling), at most 1/16 of the total and at least 1/(64·threads) of it. The sizes shrink
 * towards the end, so the threads finish within a small chunk of each other, with few chunks in
 * all. Cost of a row: n_r + rowCost.
 */
export function splitRowsGuided(
  offsets: Int32Array,
  rows: number,
  threads: number,
  rowCost: number,
): Array<[number, number]> {
  const costBefore = (r: number): number => offsets[r]! + r * rowCost;
  const total = costBefore(rows);
  const largest = total / 16;
  const smallest = total / (64 * threads);
  const chunks: Array<[number, number]> = [];
  let start = 0;
  while (start < rows) {
    const left = total - costBefore(start);
    const target = costBefore(start) + Math.min(largest, Math.max(smallest, left / (2 * threads)));
    let end = start + 1;
    while (end < rows && costBefore(end) < target) end++;
    chunks.push([start, end]);
    start = end;
  }
  return chunks;
}

export async function createTrainer(options: TrainerOptions): Promise<Trainer> {
  const { train, validation, hyper, kernel } = options;
  const threads = Math.max(1, Math.floor(options.threads));
  const K = hyper.kind === 'bias' ? 0 : hyper.dim;
  if (hyper.kind !== 'bias' && !(Number.isInteger(K) && K >= 1))
    throw new RangeError(`dim must be a positive integer, got ${hyper.dim}`);
  const itemGenres = hyper.kind === 'genre' ? options.itemGenres : null;
  if (hyper.kind === 'genre' && itemGenres === null)
    throw new Error("the genre model needs the movies' genres");
  if (itemGenres !== null && itemGenres.offsets.length !== train.numItems + 1) {
    throw new RangeError(
      `genre index covers ${itemGenres.offsets.length - 1} movies, the ratings ${train.numItems}`,
    );
  }
  const numGenres = itemGenres?.numGenres ?? 0;
  const U = train.numUsers;
  const N = train.numItems;
  const nnz = train.numRatings;

  // The workers score the held-out ratings too, so those live in the arena when there are workers.
  const validationShared = validation !== null && threads > 1;

  // Whatever the caller just dropped (a split's masks, a parse's buffers) goes before the arena fills.
  if (nnz * 4 >= RELEASE_MIN_BYTES) await releaseGarbage(0, true);

  // Arena: both indexes, both sides' parameters, the prior means. 16 bytes of alignment slack per array.
  // Plus, for a kernel that reads them, both sides' factors packed in float32 (./kernel.ts).
  const packing = kernel.readsPackedRows && K > 0;
  const bytes =
    2 * (U + 1 + N + 1) * 4 +
    2 * nnz * (4 + 4) +
    (U * K + U + N * K + N + N * K) * 8 +
    (packing ? (U + N + 32) * packedRowWidth(K) * 4 : 0) +
    (validationShared ? validation.length * (4 + 4 + 4) : 0) +
    4 +
    20 * 16;
  const arena: SharedArena = kernel.createArena(bytes);
  // The ratings, one array at a time: copy it into the arena, re-point the caller's index at the
  // copy, and let the original go before the next copy is made, so the peak holds one extra array
  // (≈ 4 bytes × nnz), not a second matrix. Before the starting model exists, so that it does not
  // add to that peak. The copies are made in plain (not async) helpers: a suspended async
  // function keeps its temporaries alive, and those would hold on to the very arrays let go.
  const byUser = train.ratingsByUser;
  const byItem = train.ratingsByItem;
  for (const index of [byUser, byItem]) {
    moveIntoArena(arena, index, 'offsets', index.offsets.length);
    await releaseGarbage(moveIntoArena(arena, index, 'indices', nnz));
    await releaseGarbage(moveIntoArena(arena, index, 'values', nnz));
  }
  if (validationShared) await releaseGarbage(moveValidationIntoArena(arena, validation));
  const { offsets: userOffsets, indices: userIndices, values: userValues } = byUser;
  const { offsets: itemOffsets, indices: itemIndices, values: itemValues } = byItem;
  const model = startModelInArena(arena, options, K, U, N, numGenres, train);
  if (options.initial === undefined) await releaseGarbage((U + N) * (K + 1) * 8);
  const priors = itemGenres !== null ? arena.allocFloat64(N * K) : null;
  if (priors !== null && itemGenres !== null)
    computeGenrePriors(model.genreFactors, K, itemGenres, N, priors);
  // Each half-epoch reads the other side's packed rows and writes its own (./kernel.ts).
  const userPacked = packing ? allocPackedRows(arena, model.userFactors, K, U) : null;
  const itemPacked = packing ? allocPackedRows(arena, model.itemFactors, K, N) : null;
  const unratedItems: number[] = [];
  if (itemPacked !== null && itemGenres !== null)
    for (let n = 0; n < N; n++) if (itemOffsets[n] === itemOffsets[n + 1]) unratedItems.push(n);

  const common = {
    dim: K,
    globalMean: model.globalMean,
    lambda: hyper.lambda,
    tau: hyper.tau,
    gamma: hyper.gamma,
    weightedRegularization: hyper.weightedRegularization,
    weightedBiasRegularization: biasRidgeWeighted(hyper),
    weightExponent: hyper.weightExponent ?? 1,
  };
  const userArgs: HalfEpochArgs = {
    ...common,
    offsets: userOffsets,
    indices: userIndices,
    values: userValues,
    otherFactors: model.itemFactors,
    otherBias: model.itemBias,
    rowFactors: model.userFactors,
    rowBias: model.userBias,
    priorMeans: null,
    otherPacked: itemPacked,
    rowPacked: userPacked,
  };
  const itemArgs: HalfEpochArgs = {
    ...common,
    offsets: itemOffsets,
    indices: itemIndices,
    values: itemValues,
    otherFactors: model.userFactors,
    otherBias: model.userBias,
    rowFactors: model.itemFactors,
    rowBias: model.itemBias,
    priorMeans: priors,
    otherPacked: userPacked,
    rowPacked: itemPacked,
  };

  const rowCost = K / 3 + 1;
  // The half-epochs' chunks, made once. Threads claim them one at a time (./worker-pool.ts), so
  // more chunks than threads balance uneven rows and a thread that wakes up late.
  const chunkTasks = (side: 'user' | 'item', offsets: Int32Array, rows: number): WorkerSolve[] =>
    splitRowsGuided(offsets, rows, threads, rowCost).map(([a, b]) => ({
      type: 'solve',
      side,
      rowStart: a,
      rowEnd: b,
    }));
  const solveTasks = {
    user: chunkTasks('user', userOffsets, U),
    item: chunkTasks('item', itemOffsets, N),
  };

  // The loss's error sum is cut into a fixed number of user chunks, independent of the thread
  // count, and the partial sums are added in chunk order: the loss is the same for any --threads.
  const objectiveTasks: WorkerSolve[] = splitRowsByCost(
    userOffsets,
    U,
    OBJECTIVE_CHUNKS,
    rowCost,
  ).map(([a, b]) => ({
    type: 'squared-errors',
    side: 'user',
    rowStart: a,
    rowEnd: b,
  }));

  // The held-out ratings are scored in one task after the loss's chunks (one pass in list order,
  // the same sum as rmse()); it waits, if it must, until the genre step has finished the model.
  const modelComplete = arena.allocInt32(1);
  const tailTasks: WorkerSolve[] =
    validation === null
      ? objectiveTasks
      : [...objectiveTasks, { type: 'validation-errors', side: 'user', rowStart: 0, rowEnd: 0 }];

  const init: WorkerInit = {
    kernel: kernel.name,
    buffer: arena.buffer,
    memory: arena.memory,
    user: describeSide(arena, userArgs),
    item: describeSide(arena, itemArgs),
    scalars: common,
    validation:
      validationShared && validation !== null
        ? {
            length: validation.length,
            users: arena.describe(validation.users),
            items: arena.describe(validation.items),
            values: arena.describe(validation.values),
            ready: arena.describe(modelComplete),
          }
        : null,
  };
  // The workers start up (a thread, the kernel) while this thread makes its own solver and the
  // genre step's fixed parts.
  const poolStarting = startWorkerPool<WorkerSolve>({
    script: coreWorkerScript('trainer-worker.js'),
    size: threads - 1,
    workerData: init,
    label: 'training thread',
  });
  let local: LocalWork<WorkerSolve>;
  let genreUpdate: GenreUpdate | null;
  let ridgeWeights: RegularizationWeights;
  try {
    // The calling thread is one of the `threads`: it takes chunks beside threads − 1 workers.
    local = {
      handler: trainerTaskHandler(
        await kernel.createSolver(arena.buffer, arena.memory),
        await squaredErrorsOf(kernel, arena.buffer, arena.memory),
        { user: userArgs, item: itemArgs },
        validation === null ? null : { ratings: validation, model, ready: modelComplete },
      ),
    };
    genreUpdate = itemGenres !== null ? createGenreUpdate(itemGenres, itemOffsets, K, hyper) : null;
    ridgeWeights = regularizationWeights(model.hyper, userOffsets, itemOffsets);
  } catch (error) {
    poolStarting.then(
      (started) => started.close(),
      () => {},
    );
    throw error;
  }
  const pool = await poolStarting;

  let epochsDone = options.initialEpoch ?? 0;
  let closed = false;

  return {
    get epochsDone() {
      return epochsDone;
    },
    async epoch(): Promise<EpochMetrics> {
      if (closed) throw new Error('trainer is closed');
      const t0 = performance.now();
      await pool.run(solveTasks.user, local);
      await pool.run(solveTasks.item, local);
      // The loss's squared errors read only rated movies, which the genre step does not change:
      // the other threads sum them while this one does the genre step (then says the model is
      // complete, for the held-out ratings' task) and the regulariser, then joins them.
      let elapsedMs = 0;
      let regularization = 0;
      Atomics.store(modelComplete, 0, 0);
      const tailValues = await pool.run(tailTasks, {
        handler: local.handler,
        meanwhile: () => {
          if (genreUpdate !== null && priors !== null) {
            genreUpdate.updateFactors(model.itemFactors, model.genreFactors);
            genreUpdate.computePriors(model.genreFactors, priors);
            applyColdStart(model.itemFactors, model.itemBias, itemOffsets, K, priors);
            // Movies without ratings just moved to their new prior; no user reads them, but the
            // packed rows stay a copy of every row.
            if (itemPacked !== null)
              for (const n of unratedItems) packRows(model.itemFactors, K, itemPacked, n, n + 1);
          }
          elapsedMs = performance.now() - t0;
          Atomics.store(modelComplete, 0, 1);
          Atomics.notify(modelComplete, 0);
          regularization = regularizationTerm(
            model,
            userOffsets,
            itemOffsets,
            priors,
            ridgeWeights,
          );
        },
      });
      let squaredErrors = 0;
      for (let t = 0; t < objectiveTasks.length; t++) squaredErrors += tailValues[t]!;
      const validationRmse =
        validation === null
          ? null
          : rmseFromSum(tailValues[objectiveTasks.length]!, validation.length);
      epochsDone++;
      const objective = objectiveFromParts(hyper.lambda, squaredErrors, regularization, nnz);
      if (!Number.isFinite(objective.loss)) throw new DivergenceError(epochsDone, objective.loss);
      return {
        epoch: epochsDone,
        loss: objective.loss,
        trainRmse: objective.rmse,
        validationRmse,
        elapsedMs,
      };
    },
    state(into?: ModelState): ModelState {
      return into ? copyModelInto(into, model) : cloneModel(model);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.close();
    },
  };
}

/** The starting model (`initial`, else a random start) with every array in the arena. */
function startModelInArena(
  arena: SharedArena,
  options: TrainerOptions,
  K: number,
  U: number,
  N: number,
  numGenres: number,
  train: RatingMatrix,
): ModelState {
  const { hyper } = options;
  const start =
    options.initial ??
    initModel({ ...hyper, dim: K }, U, N, numGenres, options.seed, meanRating(train));
  if (
    start.numUsers !== U ||
    start.numItems !== N ||
    start.hyper.dim !== K ||
    start.hyper.kind !== hyper.kind
  ) {
    throw new RangeError(
      'the initial model does not match the training data or the hyperparameters',
    );
  }
  const copyF64 = (a: Float64Array): Float64Array => {
    const v = arena.allocFloat64(a.length);
    v.set(a);
    return v;
  };
  return {
    hyper: { ...hyper, dim: K },
    numUsers: U,
    numItems: N,
    globalMean: start.globalMean,
    userFactors: copyF64(start.userFactors),
    userBias: copyF64(start.userBias),
    itemFactors: copyF64(start.itemFactors),
    itemBias: copyF64(start.itemBias),
    genreFactors: start.genreFactors.slice(),
  };
}

/** The bytes dropping `a` may free: its buffer's, when `a` is all of it (else 0). */
function wholeBufferBytes(a: Int32Array | Float32Array): number {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a.byteLength : 0;
}

/**
 * Replaces `index[key]` by a copy of its first `length` entries in the arena. Returns the bytes
 * this may let go: the old array's whole buffer when the array is all of it (an ArrayBuffer, or a
 * SharedArrayBuffer of its own as the parallel CSV load makes them); nothing when it is a view
 * into a bigger buffer, such as another arena.
 */
function moveIntoArena(
  arena: SharedArena,
  index: SparseIndex,
  key: 'offsets' | 'indices' | 'values',
  length: number,
): number {
  const old = index[key];
  const freed = wholeBufferBytes(old);
  if (key === 'values') {
    const copy = arena.allocFloat32(length);
    copy.set(index.values.subarray(0, length));
    index.values = copy;
  } else {
    const copy = arena.allocInt32(length);
    copy.set(index[key].subarray(0, length));
    index[key] = copy;
  }
  return freed;
}

/**
 * Replaces the held-out ratings' users, items and values by copies in the arena (same contents;
 * the trainer never writes them), so the workers can score them and the process holds them once.
 * Returns the bytes this may let go (see moveIntoArena).
 */
function moveValidationIntoArena(arena: SharedArena, validation: RatingList): number {
  const n = validation.length;
  const freed =
    wholeBufferBytes(validation.users) +
    wholeBufferBytes(validation.items) +
    wholeBufferBytes(validation.values);
  const users = arena.allocInt32(n);
  users.set(validation.users.subarray(0, n));
  validation.users = users;
  const items = arena.allocInt32(n);
  items.set(validation.items.subarray(0, n));
  validation.items = items;
  const values = arena.allocFloat32(n);
  values.set(validation.values.subarray(0, n));
  validation.values = values;
  return freed;
}

/** Chunks the loss's error sum is cut into (any fixed number works; enough to balance threads). */
const OBJECTIVE_CHUNKS = 16;
