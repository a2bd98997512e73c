import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { coreWorkerScript, startWorkerPool } from '../src/core/worker-pool.js';

// Worker threads run compiled JavaScript: the test worker uses the built serveWorkerTasks.
const compiledPool = pathToFileURL(path.resolve('dist/core/worker-pool.js')).href;
const work = mkdtempSync(path.join(tmpdir(), 'als-pool-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A worker that doubles task numbers (after `delayMs` of busy work, so tasks overlap), throws on
 * 'throw', exits the thread on 'exit', and fails its setup when workerData.failSetup is set. With
 * workerData.done (a SharedArrayBuffer) it counts the tasks it finished in its Int32 word 0.
 */
const script = pathToFileURL(path.join(work, 'double-worker.mjs'));
writeFileSync(
  script,
  `import { serveWorkerTasks } from ${JSON.stringify(compiledPool)};
serveWorkerTasks(async (data) => {
  if (data.failSetup) throw new Error('no such arena');
  const done = data.done ? new Int32Array(data.done) : null;
  return (task) => {
    if (task === 'throw') throw new Error('row 7 is out of range');
    if (task === 'exit') process.exit(3);
    const until = performance.now() + data.delayMs;
    while (performance.now() < until);
    if (done) Atomics.add(done, 0, 1);
    return task * 2;
  };
});
`,
);

describe('worker pool', () => {
  it('returns every task value in task order, with more tasks than workers', async () => {
    const pool = await startWorkerPool<number>({
      script,
      size: 3,
      workerData: { delayMs: 2 },
      label: 'test thread',
    });
    try {
      const tasks = Array.from({ length: 20 }, (_, t) => t + 1);
      expect(await pool.run(tasks)).toEqual(tasks.map((t) => t * 2));
      // A pool runs many batches (one per half-epoch).
      expect(await pool.run([5, 6])).toEqual([10, 12]);
      expect(await pool.run([])).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('runs tasks in the calling thread too: values in task order, each task run once', async () => {
    const pool = await startWorkerPool<number>({
      script,
      size: 2,
      workerData: { delayMs: 1 },
      label: 'test thread',
    });
    try {
      const tasks = Array.from({ length: 40 }, (_, t) => t + 1);
      for (let batch = 0; batch < 5; batch++) {
        const ranHere: number[] = [];
        const values = await pool.run(tasks, {
          handler: (task) => {
            ranHere.push(task);
            return task * 2;
          },
        });
        expect(values).toEqual(tasks.map((t) => t * 2));
        // The calling thread starts at once, before any worker has woken up: it takes some.
        expect(ranHere.length).toBeGreaterThan(0);
        expect(ranHere.length).toBeLessThanOrEqual(tasks.length);
        expect(new Set(ranHere).size).toBe(ranHere.length);
      }
    } finally {
      await pool.close();
    }
  });

  it("runs the calling thread's own work first while the workers take the tasks", async () => {
    const done = new SharedArrayBuffer(4);
    const pool = await startWorkerPool<number>({
      script,
      size: 2,
      workerData: { delayMs: 1, done },
      label: 'test thread',
    });
    try {
      const tasks = Array.from({ length: 12 }, (_, t) => t);
      let ranHere = 0;
      let sawWorkersFinish = false;
      const values = await pool.run(tasks, {
        handler: (task) => {
          ranHere++;
          return task * 2;
        },
        meanwhile: () => {
          // Busy until the workers have done every task (they run while this thread is busy).
          const until = performance.now() + 20_000;
          while (performance.now() < until && !sawWorkersFinish)
            sawWorkersFinish = Atomics.load(new Int32Array(done), 0) === tasks.length;
        },
      });
      expect(sawWorkersFinish).toBe(true);
      expect(ranHere).toBe(0);
      expect(values).toEqual(tasks.map((t) => t * 2));
    } finally {
      await pool.close();
    }
  });

  it('a pool of no workers runs every task in the calling thread, and needs a local handler', async () => {
    const pool = await startWorkerPool<number>({
      script,
      size: 0,
      workerData: null,
      label: 'test thread',
    });
    const order: string[] = [];
    const values = await pool.run([3, 4, 5], {
      handler: (task) => {
        order.push(`task ${task}`);
        return task + 1;
      },
      meanwhile: () => order.push('meanwhile'),
    });
    expect(values).toEqual([4, 5, 6]);
    expect(order).toEqual(['meanwhile', 'task 3', 'task 4', 'task 5']);
    await expect(pool.run([1])).rejects.toThrow(
      'test threads: a pool without workers needs a local handler',
    );
    await pool.close();
  });

  it("rejects with the calling thread's own error and closes the pool", async () => {
    const pool = await startWorkerPool<number>({
      script,
      size: 2,
      workerData: { delayMs: 1 },
      label: 'test thread',
    });
    const failing = {
      handler: (): number => {
        throw new Error('local task failed');
      },
    };
    await expect(pool.run([1, 2, 3, 4, 5, 6], failing)).rejects.toThrow('local task failed');
    await expect(pool.run([1])).rejects.toThrow('test threads are closed');
  });

  it("rejects with the worker's one-line message and closes the pool", async () => {
    const pool = await startWorkerPool<number | string>({
      script,
      size: 2,
      workerData: { delayMs: 1 },
      label: 'test thread',
    });
    await expect(pool.run([1, 2, 'throw', 4, 5, 6])).rejects.toThrow(
      /^test thread [01]: row 7 is out of range$/,
    );
    await expect(pool.run([1])).rejects.toThrow('test threads are closed');
    await pool.close();
  });

  it('rejects when a worker thread exits in the middle of a task', async () => {
    const pool = await startWorkerPool<number | string>({
      script,
      size: 2,
      workerData: { delayMs: 0 },
      label: 'test thread',
    });
    // Either thread may claim the first task.
    await expect(pool.run(['exit', 1])).rejects.toThrow(/^test thread [01]: exited with code 3$/);
  });

  it('rejects a setup failure before any task', async () => {
    await expect(
      startWorkerPool({ script, size: 2, workerData: { failSetup: true }, label: 'test thread' }),
    ).rejects.toThrow(/^test thread [01]: no such arena$/);
  });

  it('names a missing worker script and the build that makes it', async () => {
    const missing = pathToFileURL(path.join(work, 'absent-worker.js'));
    await expect(
      startWorkerPool({ script: missing, size: 1, workerData: null, label: 'test thread' }),
    ).rejects.toThrow(
      `worker script ${path.join(work, 'absent-worker.js')} is missing: run 'npm run build' first`,
    );
  });

  it("the trainer's worker reports its own setup error with the trainer's label", async () => {
    const init = { kernel: 'no-such-kernel' };
    await expect(
      startWorkerPool({
        script: coreWorkerScript('trainer-worker.js'),
        size: 2,
        workerData: init,
        label: 'training thread',
      }),
    ).rejects.toThrow(/^training thread [01]: unknown kernel 'no-such-kernel'$/);
  });

  it('leaves no thread behind: a process whose pool failed or closed exits by itself', () => {
    // Workers keep a process alive while they run; after each outcome the process must end on its own.
    const program = `
      import { startWorkerPool } from ${JSON.stringify(compiledPool)};
      const script = new URL(${JSON.stringify(script.href)});
      const ok = await startWorkerPool({ script, size: 2, workerData: { delayMs: 0 }, label: 't' });
      console.log((await ok.run([1, 2, 3])).join(','));
      await ok.close();
      const failing = await startWorkerPool({ script, size: 2, workerData: { delayMs: 5 }, label: 't' });
      await failing.run([1, 'throw', 3, 4]).catch((error) => console.log(error.message.replace(/t \\d/, 't w')));
      await startWorkerPool({ script, size: 2, workerData: { failSetup: true }, label: 't' }).catch((error) => console.log(error.message.replace(/t \\d/, 't w')));
    `;
    const programFile = path.join(work, 'pool-outcomes.mjs');
    writeFileSync(programFile, program);
    const child = spawnSync(process.execPath, [programFile], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(child.stdout).toBe('2,4,6\nt w: row 7 is out of range\nt w: no such arena\n');
    expect(child.status).toBe(0);
  });
});
