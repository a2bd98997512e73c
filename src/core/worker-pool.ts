/**
 * The one worker-pool mechanism of the core: the persistent threads of the ALS trainer
 * (./trainer.ts), of the Gibbs sampler (./gibbs.ts) and of the batch recommender (./batch-pool.ts).
 *
 * Protocol. `startWorkerPool` starts `size` workers on one script, each with the same `workerData`
 * (a SharedArrayBuffer and where the arrays live in it, so nothing is copied). In the worker,
 * `serveWorkerTasks` builds its state from that data once and answers `ready`, then answers each
 * task message with `done` and a number (a partial sum, or 0) or `error` and a one-line message:
 *
 *   main → worker: workerData (once), then one task per message
 *   worker → main: { type: 'ready' } once, then { type: 'done', value } | { type: 'error', message }
 *
 * `run(tasks)` hands the tasks out in order, each idle worker taking the next one, and returns
 * their values in task order, so a sum of them does not depend on which thread ran what. The first
 * failure (an `error` reply, an exception the worker did not catch, a worker that exits) rejects
 * with `<label> <w>: <message>`, once every worker has been terminated: no thread outlives it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, parentPort, workerData } from 'node:worker_threads';

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; value: number }
  | { type: 'error'; message: string };

export interface WorkerPoolOptions {
  /** The compiled worker script (see `coreWorkerScript`). */
  script: URL;
  /** Number of worker threads (≥ 1). */
  size: number;
  /** Given to every worker as its `workerData` (structured clone: shared buffers stay shared). */
  workerData: unknown;
  /** Names a thread in error messages, e.g. 'training thread' → "training thread 1: …". */
  label: string;
}

export interface WorkerPool<Task> {
  readonly size: number;
  /** Runs the tasks (each idle worker takes the next); returns each task's value, in task order. */
  run(tasks: readonly Task[]): Promise<number[]>;
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

/** Starts the workers and waits until each has said `ready` (or rejects, with none left running). */
export async function startWorkerPool<Task>(options: WorkerPoolOptions): Promise<WorkerPool<Task>> {
  const { script, size, label } = options;
  const scriptPath = fileURLToPath(script);
  if (!existsSync(scriptPath))
    throw new Error(`worker script ${scriptPath} is missing: run 'npm run build' first`);
  const workers: Worker[] = [];
  // What the next reply of each worker settles: its `ready`, then the task in flight.
  const pending: Array<((reply: WorkerReply) => void) | null> = [];
  const settle = (w: number, reply: WorkerReply): void => {
    const handler = pending[w];
    pending[w] = null;
    handler?.(reply);
  };
  const nextReply = (w: number): Promise<number> =>
    new Promise((resolve, reject) => {
      pending[w] = (reply) => {
        if (reply.type === 'error') reject(new Error(`${label} ${w}: ${reply.message}`));
        else resolve(reply.type === 'done' ? reply.value : 0);
      };
    });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= Promise.all(workers.map((worker) => worker.terminate())).then(() => {});
    return closing;
  };

  for (let w = 0; w < size; w++) {
    const worker = new Worker(script, { workerData: options.workerData });
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

  return {
    size,
    async run(tasks: readonly Task[]): Promise<number[]> {
      if (closing !== null) throw new Error(`${label}s are closed`);
      const values = new Array<number>(tasks.length).fill(0);
      let next = 0;
      const loop = async (w: number): Promise<void> => {
        while (next < tasks.length) {
          const t = next++;
          const reply = nextReply(w);
          workers[w]!.postMessage(tasks[t]);
          values[t] = await reply;
        }
      };
      try {
        await Promise.all(workers.map((_, w) => loop(w)));
      } catch (error) {
        next = tasks.length;
        await close();
        throw error;
      }
      return values;
    },
    close,
  };
}

/** Answers one task in a worker: the task's value (0 when it only writes shared arrays). */
export type TaskHandler<Task> = (task: Task) => number;

/**
 * The worker's side of the pool: `setup` builds the handler from the pool's `workerData` once
 * (views over the shared buffer, a solver), then every task message is answered with its value,
 * or with the message of what it threw.
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
  const start = async (): Promise<void> => {
    const handler = await setup(workerData as Data);
    port.on('message', (task: Task) => {
      let value: number;
      try {
        value = handler(task);
      } catch (error) {
        fail(error);
        return;
      }
      port.postMessage({ type: 'done', value } satisfies WorkerReply);
    });
    port.postMessage({ type: 'ready' } satisfies WorkerReply);
  };
  start().catch(fail);
}
