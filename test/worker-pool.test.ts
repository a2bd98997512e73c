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
 * 'throw', exits the thread on 'exit', and fails its setup when workerData.failSetup is set.
 */
const script = pathToFileURL(path.join(work, 'double-worker.mjs'));
writeFileSync(
  script,
  `import { serveWorkerTasks } from ${JSON.stringify(compiledPool)};
serveWorkerTasks(async (data) => {
  if (data.failSetup) throw new Error('no such arena');
  return (task) => {
    if (task === 'throw') throw new Error('row 7 is out of range');
    if (task === 'exit') process.exit(3);
    const until = performance.now() + data.delayMs;
    while (performance.now() < until);
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
    await expect(pool.run(['exit', 1])).rejects.toThrow(/^test thread 0: exited with code 3$/);
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
