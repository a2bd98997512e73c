/**
 * The one worker-pool mechanism of the core: the persistent threads of the ALS trainer
 * (./trainer.ts), of the Gibbs sampler (./gibbs.ts) and of the batch recommender (./batch-pool.ts).
 *
 * Protocol. `startWorkerPool` starts `size` workers on one script, each with the caller's
 * `workerData` (a SharedArrayBuffer and where the arrays live in it, so nothing is copied) and the
 * pool's shared claim counter. In the worker, `serveWorkerTasks` builds its state from that data
 * once and answers `ready`; then each message is a batch of tasks, answered once:
 *
 *   main → worker: workerData (once), then one { tasks } message per batch
 *   worker → main: { type: 'ready' } once, then per batch
 *                  { type: 'done', indices, values } | { type: 'error', message }
 *
 * `run(tasks)` posts the whole batch to every worker at once; each worker then claims the next
 * task index from the shared counter (an atomic add) until none is left, and replies with the
 * indices it ran and their values. So a batch costs one message each way per worker however many
 * tasks it has, and the threads balance themselves: a thread that is late to wake up or has slow
 * tasks simply claims fewer. The values come back in task order, so a sum of them does not depend
 * on which thread ran what. With a `local` handler the calling thread claims tasks too (after
 * running `local.meanwhile`, work of its own that overlaps the workers'); a pool of size 0 then
 * runs every task in the calling thread.
 *
 * The first failure (an `error` reply, an exception the worker did not catch, a worker that exits,
 * an exception of the local handler) rejects with `<label> <w>: <message>` (the local handler's
 * own error as it is), once every worker has been terminated: no thread outlives it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, parentPort, workerData } from 'node:worker_threads';

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; indices: number[]; values: number[] }
  | { type: 'error'; message: string };

/** What a worker receives as its workerData: the caller's data and the pool's claim counter. */
interface PoolWorkerData {
  data: unknown;
  /** Int32 word 0: the next unclaimed task index of the batch in progress. */
  claims: SharedArrayBuffer;
}

export interface WorkerPoolOptions {
  /** The compiled worker script (see `coreWorkerScript`). */
  script: URL;
  /** Number of worker threads (≥ 0; 0 only for pools whose batches run with a local handler). */
  size: number;
  /** Given to every worker as its `workerData` (structured clone: shared buffers stay shared). */
  workerData: unknown;
  /** Names a thread in error messages, e.g. 'training thread' → "training thread 1: …". */
  label: string;
}

/** The calling thread's part in a batch (see `WorkerPool.run`). */
export interface LocalWork<Task> {
  /** Runs a task in the calling thread: the same work and value as the workers' handler. */
  handler: TaskHandler<Task>;
  /** Work of the calling thread's own, run after the batch is posted and before it takes tasks. */
  meanwhile?: () => void;
}

export interface WorkerPool<Task> {
  readonly size: number;
  /**
   * Runs the tasks (each thread claims the next until none is left); returns each task's value, in
   * task order. With `local`, the calling thread runs `local.meanwhile` and then claims tasks too.
   */
  run(tasks: readonly Task[], local?: LocalWork<Task>): Promise<number[]>;
  /** Terminates the workers (idempotent). The pool cannot be used afterwards. */
  close(): Promise<void>;
}

/**
 * A worker script of src/core: next to this module in dist/, or in dist/ when the caller runs
 * from the TypeScript sources (vitest), since a worker thread runs compiled JavaScript only.
 */
export function coreWorkerScript(fileName: string): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL(`../../dist/core/${fileName}`, here);
  return new URL(`./${fileName}`, here);
}

/**
 * The calling thread gives its event loop a turn after this long in local tasks, so that a signal
 * handler (a second Ctrl-C saving the last epoch) is not held up by a long batch.
 */
const LOCAL_YIELD_MS = 50;

/** Starts the workers and waits until each has said `ready` (or rejects, with none left running). */
export async function startWorkerPool<Task>(options: WorkerPoolOptions): Promise<WorkerPool<Task>> {
  const { script, size, label } = options;
  if (!(Number.isInteger(size) && size >= 0))
    throw new RangeError(`worker pool size must be a whole number ≥ 0, got ${size}`);
  const scriptPath = fileURLToPath(script);
  if (size > 0 && !existsSync(scriptPath))
    throw new Error(`worker script ${scriptPath} is missing: run 'npm run build' first`);
  const claimsBuffer = new SharedArrayBuffer(4);
  const claims = new Int32Array(claimsBuffer);
  const workers: Worker[] = [];
  // What the next reply of each worker settles: its `ready`, then the batch in flight.
  const pending: Array<((reply: WorkerReply) => void) | null> = [];
  const settle = (w: number, reply: WorkerReply): void => {
    const handler = pending[w];
    pending[w] = null;
    handler?.(reply);
  };
  const nextReply = (w: number): Promise<WorkerReply> =>
    new Promise((resolve, reject) => {
      pending[w] = (reply) => {
        if (reply.type === 'error') reject(new Error(`${label} ${w}: ${reply.message}`));
        else resolve(reply);
      };
    });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= Promise.all(workers.map((worker) => worker.terminate())).then(() => {});
    return closing;
  };

  const data: PoolWorkerData = { data: options.workerData, claims: claimsBuffer };
  for (let w = 0; w < size; w++) {
    const worker = new Worker(script, { workerData: data });
    workers.push(worker);
    pending.push(null);
    worker.on('message', (reply: WorkerReply) => settle(w, reply));
    worker.on('error', (error: Error) => settle(w, { type: 'error', message: error.message }));
    // After an 'error' event (or a reply) nothing is pending and this does nothing.
    worker.on('exit', (code: number) =>
      settle(w, { type: 'error', message: `exited with code ${code}` }),
    );
  }
  try {
    await Promise.all(workers.map((_, w) => nextReply(w)));
  } catch (error) {
    await close();
    throw error;
  }

  /** Claims and runs tasks in the calling thread until none is left, yielding now and then. */
  const runLocal = async (
    tasks: readonly Task[],
    handler: TaskHandler<Task>,
    values: number[],
  ): Promise<void> => {
    const n = tasks.length;
    let sinceYieldMs = performance.now();
    for (let t = Atomics.add(claims, 0, 1); t < n; t = Atomics.add(claims, 0, 1)) {
      values[t] = handler(tasks[t]!);
      if (performance.now() - sinceYieldMs > LOCAL_YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        if (closing !== null) return;
        sinceYieldMs = performance.now();
      }
    }
  };

  return {
    size,
    async run(tasks: readonly Task[], local?: LocalWork<Task>): Promise<number[]> {
      if (closing !== null) throw new Error(`${label}s are closed`);
      if (size === 0 && local === undefined)
        throw new Error(`${label}s: a pool without workers needs a local handler`);
      const n = tasks.length;
      const values = new Array<number>(n).fill(0);
      if (n === 0 && local?.meanwhile === undefined) return values;
      // Every worker has answered the previous batch, so none is claiming: the counter is free.
      Atomics.store(claims, 0, 0);
      const replies = Promise.all(workers.map((_, w) => nextReply(w)));
      // A worker may fail while this thread is busy: the rejection is handled when awaited below.
      replies.catch(() => {});
      for (const worker of workers) worker.postMessage({ tasks });
      try {
        if (local !== undefined) {
          local.meanwhile?.();
          await runLocal(tasks, local.handler, values);
        }
        for (const reply of await replies) {
          if (reply.type !== 'done') continue;
          for (let i = 0; i < reply.indices.length; i++)
            values[reply.indices[i]!] = reply.values[i]!;
        }
      } catch (error) {
        // No thread takes another task of this batch; then none is left running.
        Atomics.store(claims, 0, n);
        await close();
        throw error;
      }
      if (closing !== null) throw new Error(`${label}s are closed`);
      return values;
    },
    close,
  };
}

/** Answers one task in a worker: the task's value (0 when it only writes shared arrays). */
export type TaskHandler<Task> = (task: Task) => number;

/**
 * The worker's side of the pool: `setup` builds the handler from the pool's `workerData` once
 * (views over the shared buffer, a solver); then for every batch the worker claims tasks from the
 * shared counter until none is left and answers with their values, or with the message of what a
 * task threw (and claims no more).
 */
export function serveWorkerTasks<Data, Task>(
  setup: (data: Data) => TaskHandler<Task> | Promise<TaskHandler<Task>>,
): void {
  const port = parentPort;
  if (port === null) throw new Error('a pool worker must run in a worker thread');
  const fail = (error: unknown): void => {
    port.postMessage({
      type: 'error',
      message: error instanceof Error ? error.message : String(error),
    } satisfies WorkerReply);
  };
  const { data, claims: claimsBuffer } = workerData as PoolWorkerData;
  const claims = new Int32Array(claimsBuffer);
  const start = async (): Promise<void> => {
    const handler = await setup(data as Data);
    port.on('message', ({ tasks }: { tasks: Task[] }) => {
      const n = tasks.length;
      const indices: number[] = [];
      const values: number[] = [];
      for (let t = Atomics.add(claims, 0, 1); t < n; t = Atomics.add(claims, 0, 1)) {
        let value: number;
        try {
          value = handler(tasks[t]!);
        } catch (error) {
          fail(error);
          return;
        }
        indices.push(t);
        values.push(value);
      }
      port.postMessage({ type: 'done', indices, values } satisfies WorkerReply);
    });
    port.postMessage({ type: 'ready' } satisfies WorkerReply);
  };
  start().catch(fail);
}
