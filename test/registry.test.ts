import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AlsError } from '../src/errors.js';
import { loadSqlite } from '../src/registry/driver.js';
import {
  openRegistry,
  openRegistryOrWarn,
  SCHEMA_VERSION,
  type NewRun,
} from '../src/registry/registry.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-registry-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshFile = (): string => path.join(scratch, `r${++counter}`, 'runs.sqlite');
const distRegistry = path.resolve('dist/registry/registry.js');

function newRun(over: Partial<NewRun> = {}): NewRun {
  return {
    kind: 'train',
    commandLine: ['als', 'train', '--dim', '30'],
    toolVersion: '0.1.0',
    modelKind: 'genre',
    hyperparameters: { dim: 30, tau: 0.12 },
    data: { name: 'ml-100k', fingerprint: 'abcdef0123456789' },
    split: 'ml100k:u1',
    seed: 1,
    threads: 2,
    kernel: 'wasm',
    ...over,
  };
}

/** Runs a Node ES module script in a child process; resolves with its exit code and stderr. */
function child(
  script: string,
  args: string[] = [],
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const file = path.join(scratch, `child-${++counter}.mjs`);
  writeFileSync(file, script);
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d) => (stdout += d));
    p.on('close', (code) => resolve({ code, stderr, stdout }));
  });
}

describe('schema', () => {
  it('creates the schema in an empty file, in WAL mode, at the current user_version', async () => {
    const file = freshFile();
    const registry = await openRegistry(file);
    registry.close();
    const Database = await loadSqlite();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = (
      db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
        .all() as Array<{ name: string }>
    ).map((t) => t.name);
    expect(tables).toEqual(['run_epochs', 'run_metrics', 'runs', 'tunes']);
    db.close();
    // Reopening an up-to-date file changes nothing and keeps the data.
    const again = await openRegistry(file);
    again.startRun(newRun()).finish({ metrics: { rmse: 0.9 } });
    again.close();
    const third = await openRegistry(file);
    expect(third.listRuns()).toHaveLength(1);
    third.close();
  });

  it("refuses a file from a newer schema, a file that is not SQLite, and another program's SQLite file, in one line", async () => {
    const Database = await loadSqlite();
    const newer = freshFile();
    (await openRegistry(newer)).close();
    const db = new Database(newer);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await expect(openRegistry(newer)).rejects.toThrow(
      new RegExp(`schema version ${SCHEMA_VERSION + 1}, written by a newer als`),
    );

    const text = path.join(scratch, 'notes.sqlite');
    writeFileSync(text, 'these are my notes, not a database\n'.repeat(50));
    const error = await openRegistry(text).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AlsError);
    expect((error as AlsError).message).toBe(
      `run registry ${text} is not an SQLite database; move it away or pass --no-record`,
    );

    const other = path.join(scratch, 'other.sqlite');
    const o = new Database(other);
    o.exec('CREATE TABLE photos (id INTEGER)');
    o.close();
    await expect(openRegistry(other)).rejects.toThrow(
      /is an SQLite database but not an als run registry \(it has table photos\)/,
    );
  });
});

describe('runs', () => {
  it('records a run in two transactions: running at start, history + metrics + status at the end', async () => {
    const registry = await openRegistry(freshFile());
    const handle = registry.startRun(newRun());
    expect(registry.getRun(handle.id)!.status).toBe('running');
    const validation = [1.05, 1.0, 0.95];
    for (let e = 1; e <= 3; e++)
      handle.addEpoch({
        epoch: e,
        loss: 10 - e,
        trainRmse: 1 - e / 10,
        validationRmse: validation[e - 1]!,
        elapsedMs: 5,
      });
    expect(registry.getRun(handle.id)!.history).toEqual([]);
    handle.finish({
      metrics: { rmse: 0.95, mae: 0.75, 'ndcg@10': 0.12, bogus: Number.NaN },
      checkpoint: 'model.json',
    });
    const run = registry.getRun(handle.id)!;
    expect(run.status).toBe('finished');
    expect(run.epochs).toBe(3);
    expect(run.checkpoint).toBe('model.json');
    expect(run.metrics).toEqual({ rmse: 0.95, mae: 0.75, 'ndcg@10': 0.12 });
    expect(run.history.map((e) => e.validationRmse)).toEqual([1.05, 1.0, 0.95]);
    expect(run.commandLine).toEqual(['als', 'train', '--dim', '30']);
    expect(run.hyperparameters).toEqual({ dim: 30, tau: 0.12 });
    expect(() => handle.finish({ metrics: {} })).toThrow(/already/);

    const failed = registry.startRun(newRun({ kind: 'eval' }));
    failed.fail('training diverged at epoch 2\nstack…');
    expect(registry.getRun(failed.id)).toMatchObject({
      status: 'failed',
      error: 'training diverged at epoch 2',
    });
    expect(registry.getRun(9999)).toBeNull();
    registry.close();
  });

  it('filters by data, kind, model and time, sorts by the best metric in the right direction, and compares', async () => {
    const registry = await openRegistry(freshFile());
    const t = (day: number): Date => new Date(Date.UTC(2026, 0, day));
    const specs = [
      {
        data: 'ml-100k',
        fp: 'aaaaaa11',
        kind: 'train',
        model: 'genre',
        rmse: 0.92,
        ndcg: 0.13,
        day: 1,
      },
      {
        data: 'ml-100k',
        fp: 'aaaaaa11',
        kind: 'train',
        model: 'latent',
        rmse: 0.9,
        ndcg: 0.1,
        day: 2,
      },
      {
        data: 'ml-100k',
        fp: 'aaaaaa11',
        kind: 'cv',
        model: 'genre',
        rmse: 0.95,
        ndcg: 0.15,
        day: 3,
      },
      {
        data: 'ml-latest-small',
        fp: 'bbbbbb22',
        kind: 'train',
        model: 'genre',
        rmse: 0.83,
        ndcg: 0.05,
        day: 4,
      },
    ] as const;
    const ids = specs.map((s) =>
      (() => {
        const h = registry.startRun(
          newRun({
            kind: s.kind,
            modelKind: s.model,
            data: { name: s.data, fingerprint: s.fp },
            startedAt: t(s.day),
            hyperparameters: { dim: s.day * 10 },
          }),
        );
        h.finish({ metrics: { rmse: s.rmse, 'ndcg@10': s.ndcg } });
        return h.id;
      })(),
    );
    registry.startRun(newRun({ startedAt: t(5), data: null })); // still running, no metrics
    expect(registry.listRuns().map((r) => r.startedAt.slice(8, 10))).toEqual([
      '05',
      '04',
      '03',
      '02',
      '01',
    ]);
    expect(registry.listRuns({ data: 'ml-100k' }).map((r) => r.id)).toEqual([
      ids[2],
      ids[1],
      ids[0],
    ]);
    expect(registry.listRuns({ data: 'bbbbbb' }).map((r) => r.id)).toEqual([ids[3]]);
    expect(registry.listRuns({ kind: 'cv' }).map((r) => r.id)).toEqual([ids[2]]);
    expect(registry.listRuns({ modelKind: 'latent' }).map((r) => r.id)).toEqual([ids[1]]);
    expect(registry.listRuns({ since: t(3), status: 'finished' }).map((r) => r.id)).toEqual([
      ids[3],
      ids[2],
    ]);
    expect(registry.listRuns({ best: 'rmse' }).map((r) => r.metrics.rmse ?? null)).toEqual([
      0.83,
      0.9,
      0.92,
      0.95,
      null,
    ]);
    expect(registry.listRuns({ best: 'ndcg@10', limit: 2 }).map((r) => r.id)).toEqual([
      ids[2],
      ids[0],
    ]);

    const comparison = registry.compareRuns([ids[0]!, ids[1]!]);
    const row = (name: string) => comparison.rows.find((r) => r.name === name)!;
    expect(row('model')).toMatchObject({ values: ['genre', 'latent'], differs: true });
    expect(row('data')).toMatchObject({ values: ['ml-100k', 'ml-100k'], differs: false });
    expect(row('dim')).toMatchObject({
      section: 'hyperparameter',
      values: [10, 20],
      differs: true,
    });
    expect(row('rmse')).toMatchObject({ section: 'metric', values: [0.92, 0.9] });
    expect(() => registry.compareRuns([ids[0]!, 12345])).toThrow(
      /run 12345 is not in the registry/,
    );
    registry.close();
  });

  it('tunes: an unfinished tune with the same key is resumed, a finished one is not', async () => {
    const registry = await openRegistry(freshFile());
    const first = registry.openTune('k1', { trials: 4 });
    expect(first.resumed).toBe(false);
    const again = registry.openTune('k1', { trials: 4 });
    expect(again).toMatchObject({ resumed: true, tune: { id: first.tune.id } });
    registry.finishTune(first.tune.id, { best: 2 });
    expect(registry.getTune(first.tune.id)).toMatchObject({
      status: 'finished',
      result: { best: 2 },
    });
    const third = registry.openTune('k1', { trials: 4 });
    expect(third.resumed).toBe(false);
    expect(third.tune.id).not.toBe(first.tune.id);
    registry.close();
  });
});

describe('without a usable driver', () => {
  it('openRegistryOrWarn gives one warning line and null, so training goes on unrecorded', async () => {
    const warnings: string[] = [];
    const registry = await openRegistryOrWarn(freshFile(), (w) => warnings.push(w), {
      loadDriver: () =>
        Promise.reject(
          new Error("better-sqlite3 is not usable (Cannot find module 'better-sqlite3')"),
        ),
    });
    expect(registry).toBeNull();
    expect(warnings).toEqual([
      "run registry unavailable: better-sqlite3 is not usable (Cannot find module 'better-sqlite3'); this run is not recorded",
    ]);
  });
});

describe('several processes', () => {
  it('four processes writing 150 runs each at once: all 600 runs are there and the file is intact', async () => {
    const file = freshFile();
    (await openRegistry(file)).close();
    const script = `
      import { openRegistry } from ${JSON.stringify(distRegistry)};
      const [file, name] = process.argv.slice(2);
      const registry = await openRegistry(file, { busyTimeoutMs: 20000 });
      for (let i = 0; i < 150; i++) {
        const h = registry.startRun({ kind: 'tune-trial', commandLine: ['als', name], toolVersion: '0', modelKind: 'genre',
          hyperparameters: { i }, data: { name, fingerprint: 'f' }, split: 'random:5', seed: i, threads: 1, kernel: 'ts', trial: i, fold: 0, rung: 0 });
        for (let e = 1; e <= 5; e++) h.addEpoch({ epoch: e, loss: e, trainRmse: 1, validationRmse: 1 / e, elapsedMs: 1 });
        h.finish({ metrics: { rmse: 1 / (i + 1), mae: i } });
      }
      registry.close();
    `;
    const results = await Promise.all(
      ['w1', 'w2', 'w3', 'w4'].map((name) => child(script, [file, name])),
    );
    for (const r of results) expect(r.stderr).toBe('');
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const registry = await openRegistry(file);
    const runs = registry.listRuns();
    expect(runs).toHaveLength(600);
    for (const name of ['w1', 'w2', 'w3', 'w4'])
      expect(runs.filter((r) => r.dataName === name)).toHaveLength(150);
    expect(runs.every((r) => r.status === 'finished' && Object.keys(r.metrics).length === 2)).toBe(
      true,
    );
    expect(registry.getRun(runs[0]!.id)!.history).toHaveLength(5);
    registry.close();
    const Database = await loadSqlite();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }, 60_000);

  it('a registry locked by another process: a write waits busy_timeout, then one line, no hang', async () => {
    const file = freshFile();
    const registry = await openRegistry(file, { busyTimeoutMs: 300 });
    // The child takes the write lock and holds it for 3 s.
    const script = `
      import Database from ${JSON.stringify(path.resolve('node_modules/better-sqlite3/lib/index.js'))};
      const db = new Database(process.argv[2]);
      db.exec('BEGIN IMMEDIATE');
      db.prepare("INSERT INTO tunes (key, created_at, status, spec) VALUES ('x', 'now', 'running', '{}')").run();
      process.stdout.write('locked\\n');
      setTimeout(() => { db.exec('COMMIT'); db.close(); }, 3000);
    `;
    const file2 = path.join(scratch, `lock-${++counter}.mjs`);
    writeFileSync(file2, script);
    const holder = spawn(process.execPath, [file2, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const started = await new Promise<boolean>((resolve) => {
      holder.stdout.once('data', () => resolve(true));
      holder.once('close', () => resolve(false));
    });
    expect(started).toBe(true);
    const t0 = performance.now();
    let error: unknown = null;
    try {
      registry.startRun(newRun());
    } catch (e) {
      error = e;
    }
    const waitedMs = performance.now() - t0;
    expect(error).toBeInstanceOf(AlsError);
    expect((error as AlsError).message).toBe(
      `run registry ${file} is locked by another process (waited 0.3 s); try again or pass --no-record`,
    );
    expect(waitedMs).toBeGreaterThanOrEqual(250);
    expect(waitedMs).toBeLessThan(2500);
    // Reading is not blocked by the writer (WAL).
    expect(registry.listRuns()).toEqual([]);
    await new Promise((resolve) => holder.on('close', resolve));
    registry.startRun(newRun()).finish({ metrics: { rmse: 1 } });
    expect(registry.listRuns()).toHaveLength(1);
    registry.close();
  }, 20_000);
});
