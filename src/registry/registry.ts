/**
 * The run registry: every train, eval, cv fold and tune trial in one SQLite file in the data home
 * (`runs.sqlite`), so that "which of my runs was best, with what settings, on which split" is a
 * query.
 *
 * A run's final metrics are stored twice: as a JSON column of its row, which listing reads
 * (10,000 runs in one pass, no join), and as indexed name/value rows, which filtering and sorting
 * on a metric use.
 *
 * Storage. WAL journal (readers never block the writer; a crash loses at most the transaction in
 * flight), synchronous = NORMAL (durable up to the last checkpoint of the WAL, which is what a log
 * of runs needs, and a commit costs no fsync), foreign keys on, busy_timeout so that a second
 * writer waits for the first rather than failing. A run is one row in `runs`, its final metrics
 * name/value rows in `run_metrics` (so any metric can be filtered and sorted on with an index) and
 * its history rows in `run_epochs`. `startRun` inserts the row with status `running` in one
 * transaction; `finish`/`fail` write the epochs, metrics and final status in a second one, so a
 * killed process leaves a `running` row and never a half-written run.
 *
 * Schema versions live in `PRAGMA user_version`: 0 is an empty file, each migration moves one
 * version up inside a transaction. A file written by a newer als (user_version above ours), a file
 * that is not SQLite, and an SQLite file with other tables are one-line AlsErrors.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AlsError } from '../errors.js';
import { loadSqlite, type SqliteDatabase, type SqliteLoader } from './driver.js';

export type RunKind = 'train' | 'eval' | 'cv' | 'tune-trial';
export type RunStatus = 'running' | 'finished' | 'failed';

/** File name of the registry inside the data home. */
export const REGISTRY_FILE = 'runs.sqlite';

/** What is known when a run starts. */
export interface NewRun {
  kind: RunKind;
  /** The command line as argv (without the node executable), e.g. ["als", "train", "--dim", "50"]. */
  commandLine: string[];
  toolVersion: string;
  /** Model kind (bias/latent/genre) or null for runs without one. */
  modelKind: string | null;
  /** Hyperparameters and other settings of the model, stored as JSON. */
  hyperparameters: Record<string, unknown>;
  data: { name: string; fingerprint: string } | null;
  /** Split or fold spec, e.g. "ml100k:u1", "random:5#3". */
  split: string | null;
  seed: number | null;
  threads: number | null;
  kernel: string | null;
  checkpoint?: string | null;
  /** For tune trials: the tune, the trial (configuration), the fold and the rung (halving round). */
  tuneId?: number | null;
  trial?: number | null;
  fold?: number | null;
  rung?: number | null;
  /** Start time; default now. */
  startedAt?: Date;
}

/** One epoch of a run's history. */
export interface EpochRecord {
  epoch: number;
  loss: number | null;
  trainRmse: number | null;
  validationRmse: number | null;
  elapsedMs: number | null;
}

export interface RunSummary {
  id: number;
  kind: RunKind;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  wallMs: number | null;
  modelKind: string | null;
  hyperparameters: Record<string, unknown>;
  dataName: string | null;
  dataFingerprint: string | null;
  split: string | null;
  seed: number | null;
  epochs: number | null;
  threads: number | null;
  kernel: string | null;
  checkpoint: string | null;
  tuneId: number | null;
  trial: number | null;
  fold: number | null;
  rung: number | null;
  error: string | null;
  metrics: Record<string, number>;
}

export interface RunDetail extends RunSummary {
  commandLine: string[];
  toolVersion: string;
  history: EpochRecord[];
}

export interface RunFilter {
  /** Data set name or a prefix (≥ 6 hex digits) of its fingerprint. */
  data?: string;
  kind?: RunKind;
  modelKind?: string;
  status?: RunStatus;
  /** Runs started at or after this time. */
  since?: Date;
  tuneId?: number;
  /** Leave out the per-fold runs of cv and tune (keep train, eval and cv summaries). */
  withoutFolds?: boolean;
  /** Sort by this final metric, best first (lower is better for rmse/mae/loss, higher otherwise); runs without it last. */
  best?: string;
  /** At most this many runs (newest first unless `best`). */
  limit?: number;
}

/** Side-by-side view of a few runs: every setting and metric any of them has, and which differ. */
export interface RunComparison {
  runs: RunDetail[];
  rows: Array<{
    section: 'run' | 'hyperparameter' | 'metric';
    name: string;
    values: Array<string | number | boolean | null>;
    differs: boolean;
  }>;
}

export interface TuneRecord {
  id: number;
  /** Hash of everything that determines the tune's trials: same key ⇔ resumable. */
  key: string;
  createdAt: string;
  status: RunStatus;
  spec: Record<string, unknown>;
  result: Record<string, unknown> | null;
}

/** A run in progress: add its epochs as they come, then finish or fail it. */
export interface RunHandle {
  readonly id: number;
  addEpoch(epoch: EpochRecord): void;
  finish(result: {
    metrics: Record<string, number>;
    epochs?: number;
    checkpoint?: string | null;
    wallMs?: number;
  }): void;
  fail(message: string, result?: { metrics?: Record<string, number>; epochs?: number }): void;
}

export interface Registry {
  readonly file: string;
  startRun(run: NewRun): RunHandle;
  listRuns(filter?: RunFilter): RunSummary[];
  getRun(id: number): RunDetail | null;
  compareRuns(ids: number[]): RunComparison;
  /** The unfinished tune with this key, else a new one. */
  openTune(key: string, spec: Record<string, unknown>): { tune: TuneRecord; resumed: boolean };
  getTune(id: number): TuneRecord | null;
  finishTune(id: number, result: Record<string, unknown>, status?: RunStatus): void;
  close(): void;
}

export interface OpenOptions {
  /** How long a write waits for another process's lock before giving up (default 5000 ms). */
  busyTimeoutMs?: number;
  /** The driver (tests inject a missing or broken one). */
  loadDriver?: SqliteLoader;
}

/** The schema, one script per version; version v's script runs on a file at version v − 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tunes (
     id INTEGER PRIMARY KEY,
     key TEXT NOT NULL,
     created_at TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
     spec TEXT NOT NULL,
     result TEXT
   );
   CREATE INDEX tunes_key ON tunes (key, status);
   CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('train', 'eval', 'cv', 'tune-trial')),
     status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
     started_at TEXT NOT NULL,
     finished_at TEXT,
     wall_ms REAL,
     command_line TEXT NOT NULL,
     tool_version TEXT NOT NULL,
     model_kind TEXT,
     hyperparameters TEXT NOT NULL,
     data_name TEXT,
     data_fingerprint TEXT,
     split TEXT,
     seed INTEGER,
     epochs INTEGER,
     threads INTEGER,
     kernel TEXT,
     checkpoint TEXT,
     tune_id INTEGER REFERENCES tunes (id),
     trial INTEGER,
     fold INTEGER,
     rung INTEGER,
     error TEXT,
     metrics TEXT
   );
   CREATE INDEX runs_started ON runs (started_at);
   CREATE INDEX runs_data ON runs (data_name, started_at);
   CREATE INDEX runs_tune ON runs (tune_id, trial, rung, fold);
   CREATE TABLE run_metrics (
     run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     value REAL NOT NULL,
     PRIMARY KEY (run_id, name)
   ) WITHOUT ROWID;
   CREATE INDEX run_metrics_name ON run_metrics (name, value);
   CREATE TABLE run_epochs (
     run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
     epoch INTEGER NOT NULL,
     loss REAL,
     train_rmse REAL,
     validation_rmse REAL,
     elapsed_ms REAL,
     PRIMARY KEY (run_id, epoch)
   ) WITHOUT ROWID;`,
];

/** The schema version this als writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

const OUR_TABLES = new Set(['tunes', 'runs', 'run_metrics', 'run_epochs']);

/** Metrics where smaller is better; every other metric (ndcg@10, precision@10, …) is better larger. */
export function lowerIsBetter(metric: string): boolean {
  return /(rmse|mae|loss)$/i.test(metric);
}

/** Where the registry lives for a data home. */
export function registryPath(dataHome: string): string {
  return path.join(dataHome, REGISTRY_FILE);
}

/** The one line for an SQLite failure on `file`; busy/locked says how to get on without it. */
function sqliteError(file: string, error: unknown, busyTimeoutMs: number): AlsError {
  if (error instanceof AlsError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message?.split('\n')[0] ?? String(error);
  if (code === 'SQLITE_NOTADB' || /not a database/i.test(message)) {
    return new AlsError(
      `run registry ${file} is not an SQLite database; move it away or pass --no-record`,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new AlsError(
      `run registry ${file} is locked by another process (waited ${(busyTimeoutMs / 1000).toFixed(1)} s); try again or pass --no-record`,
    );
  }
  if (code === 'SQLITE_CORRUPT')
    return new AlsError(
      `run registry ${file} is damaged (${message}); move it away or pass --no-record`,
    );
  if (
    code === 'SQLITE_CANTOPEN' ||
    code === 'SQLITE_READONLY' ||
    code === 'SQLITE_FULL' ||
    code === 'SQLITE_IOERR' ||
    code.startsWith('SQLITE_IOERR')
  ) {
    return new AlsError(`run registry ${file}: ${message}; pass --no-record to run without it`);
  }
  return new AlsError(`run registry ${file}: ${message}`);
}

/**
 * Opens (creating and migrating as needed) the registry at `file`. Throws a one-line AlsError when
 * the driver is missing, the file is not a registry, is from a newer version, or stays locked.
 */
export async function openRegistry(file: string, options: OpenOptions = {}): Promise<Registry> {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let Database;
  try {
    Database = await (options.loadDriver ?? loadSqlite)();
  } catch (error) {
    throw new AlsError(`run registry unavailable: ${(error as Error).message}`);
  }
  const absolute = path.resolve(file);
  let db: SqliteDatabase;
  try {
    mkdirSync(path.dirname(absolute), { recursive: true });
    db = new Database(absolute, { timeout: busyTimeoutMs });
  } catch (error) {
    throw sqliteError(absolute, error, busyTimeoutMs);
  }
  try {
    migrate(db, absolute);
    return new SqliteRegistry(db, absolute, busyTimeoutMs);
  } catch (error) {
    db.close();
    throw sqliteError(absolute, error, busyTimeoutMs);
  }
}

/**
 * The registry, or null with one warning when it cannot be used: what `als train` calls, so that
 * training never fails because recording does.
 */
export async function openRegistryOrWarn(
  file: string,
  warn: (message: string) => void,
  options: OpenOptions = {},
): Promise<Registry | null> {
  try {
    return await openRegistry(file, options);
  } catch (error) {
    if (!(error instanceof AlsError)) throw error;
    warn(`${error.message}; this run is not recorded`);
    return null;
  }
}

function migrate(db: SqliteDatabase, file: string): void {
  // The first statement reads the header: a file that is not SQLite fails here (SQLITE_NOTADB).
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new AlsError(
      `run registry ${file} has schema version ${version}, written by a newer als (this one knows up to ${SCHEMA_VERSION}); upgrade als or pass --no-record`,
    );
  }
  if (version === 0) {
    const tables = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{
        name: string;
      }>
    ).map((t) => t.name);
    const foreign = tables.filter((t) => !OUR_TABLES.has(t) && !t.startsWith('sqlite_'));
    if (foreign.length > 0) {
      throw new AlsError(
        `${file} is an SQLite database but not an als run registry (it has table ${foreign[0]}); move it away or pass --no-record`,
      );
    }
  }
  // WAL persists in the file; switching needs no other connection to be in a transaction, so only do it once.
  if ((db.pragma('journal_mode', { simple: true }) as string).toLowerCase() !== 'wal')
    db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  if (version === SCHEMA_VERSION) return;
  // IMMEDIATE takes the write lock first, so two processes creating the same file migrate it once.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

interface RunRow {
  id: number;
  kind: RunKind;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  wall_ms: number | null;
  command_line: string;
  tool_version: string;
  model_kind: string | null;
  hyperparameters: string;
  data_name: string | null;
  data_fingerprint: string | null;
  split: string | null;
  seed: number | null;
  epochs: number | null;
  threads: number | null;
  kernel: string | null;
  checkpoint: string | null;
  tune_id: number | null;
  trial: number | null;
  fold: number | null;
  rung: number | null;
  error: string | null;
  metrics: string | null;
}

const SUMMARY_COLUMNS = `r.id, r.kind, r.status, r.started_at, r.finished_at, r.wall_ms, r.model_kind, r.hyperparameters,
  r.data_name, r.data_fingerprint, r.split, r.seed, r.epochs, r.threads, r.kernel, r.checkpoint, r.tune_id, r.trial,
  r.fold, r.rung, r.error, r.metrics`;

function toSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    wallMs: row.wall_ms,
    modelKind: row.model_kind,
    hyperparameters: JSON.parse(row.hyperparameters) as Record<string, unknown>,
    dataName: row.data_name,
    dataFingerprint: row.data_fingerprint,
    split: row.split,
    seed: row.seed,
    epochs: row.epochs,
    threads: row.threads,
    kernel: row.kernel,
    checkpoint: row.checkpoint,
    tuneId: row.tune_id,
    trial: row.trial,
    fold: row.fold,
    rung: row.rung,
    error: row.error,
    metrics: row.metrics ? (JSON.parse(row.metrics) as Record<string, number>) : {},
  };
}

const finiteOrNull = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

class SqliteRegistry implements Registry {
  readonly file: string;
  private readonly db: SqliteDatabase;
  private readonly busyTimeoutMs: number;

  constructor(db: SqliteDatabase, file: string, busyTimeoutMs: number) {
    this.db = db;
    this.file = file;
    this.busyTimeoutMs = busyTimeoutMs;
  }

  /** Runs `fn`, turning SQLite's errors into one-line AlsErrors naming the file. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw sqliteError(this.file, error, this.busyTimeoutMs);
    }
  }

  startRun(run: NewRun): RunHandle {
    const db = this.db;
    const startedAt = run.startedAt ?? new Date();
    const t0 = performance.now();
    const id = this.guard(() =>
      Number(
        db
          .prepare(
            `INSERT INTO runs (kind, status, started_at, command_line, tool_version, model_kind, hyperparameters, data_name,
               data_fingerprint, split, seed, threads, kernel, checkpoint, tune_id, trial, fold, rung)
             VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            run.kind,
            startedAt.toISOString(),
            JSON.stringify(run.commandLine),
            run.toolVersion,
            run.modelKind,
            JSON.stringify(run.hyperparameters),
            run.data?.name ?? null,
            run.data?.fingerprint ?? null,
            run.split,
            run.seed,
            run.threads,
            run.kernel,
            run.checkpoint ?? null,
            run.tuneId ?? null,
            run.trial ?? null,
            run.fold ?? null,
            run.rung ?? null,
          ).lastInsertRowid,
      ),
    );
    const history: EpochRecord[] = [];
    let done = false;
    const end = (
      status: RunStatus,
      metrics: Record<string, number>,
      extra: { epochs?: number; checkpoint?: string | null; wallMs?: number; error?: string },
    ): void => {
      if (done)
        throw new Error(`run ${id} is already ${status === 'failed' ? 'ended' : 'finished'}`);
      done = true;
      const wallMs = extra.wallMs ?? performance.now() - t0;
      this.guard(() =>
        db
          .transaction(() => {
            const insertEpoch = db.prepare(
              `INSERT OR REPLACE INTO run_epochs (run_id, epoch, loss, train_rmse, validation_rmse, elapsed_ms) VALUES (?, ?, ?, ?, ?, ?)`,
            );
            for (const e of history)
              insertEpoch.run(
                id,
                e.epoch,
                finiteOrNull(e.loss),
                finiteOrNull(e.trainRmse),
                finiteOrNull(e.validationRmse),
                finiteOrNull(e.elapsedMs),
              );
            const insertMetric = db.prepare(
              `INSERT OR REPLACE INTO run_metrics (run_id, name, value) VALUES (?, ?, ?)`,
            );
            const finite = Object.fromEntries(
              Object.entries(metrics).filter(([, value]) => Number.isFinite(value)),
            );
            for (const [name, value] of Object.entries(finite)) insertMetric.run(id, name, value);
            db.prepare(
              `UPDATE runs SET status = ?, finished_at = ?, wall_ms = ?, epochs = ?, checkpoint = COALESCE(?, checkpoint), error = ?, metrics = ? WHERE id = ?`,
            ).run(
              status,
              new Date().toISOString(),
              wallMs,
              extra.epochs ?? (history.length > 0 ? history[history.length - 1]!.epoch : null),
              extra.checkpoint ?? null,
              extra.error ?? null,
              JSON.stringify(finite),
              id,
            );
          })
          .immediate(),
      );
    };
    return {
      id,
      addEpoch(epoch) {
        history.push(epoch);
      },
      finish(result) {
        end('finished', result.metrics, result);
      },
      fail(message, result = {}) {
        end('failed', result.metrics ?? {}, { ...result, error: message.split('\n')[0] });
      },
    };
  }

  listRuns(filter: RunFilter = {}): RunSummary[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.data !== undefined) {
      if (/^[0-9a-f]{6,}$/i.test(filter.data)) {
        where.push('(r.data_name = ? OR r.data_fingerprint LIKE ?)');
        params.push(filter.data, `${filter.data.toLowerCase()}%`);
      } else {
        where.push('r.data_name = ?');
        params.push(filter.data);
      }
    }
    if (filter.kind !== undefined) {
      where.push('r.kind = ?');
      params.push(filter.kind);
    }
    if (filter.modelKind !== undefined) {
      where.push('r.model_kind = ?');
      params.push(filter.modelKind);
    }
    if (filter.status !== undefined) {
      where.push('r.status = ?');
      params.push(filter.status);
    }
    if (filter.since !== undefined) {
      where.push('r.started_at >= ?');
      params.push(filter.since.toISOString());
    }
    if (filter.tuneId !== undefined) {
      where.push('r.tune_id = ?');
      params.push(filter.tuneId);
    }
    if (filter.withoutFolds) where.push('r.fold IS NULL');
    let from = 'runs r';
    let order = 'r.started_at DESC, r.id DESC';
    if (filter.best !== undefined) {
      from = 'runs r LEFT JOIN run_metrics b ON b.run_id = r.id AND b.name = ?';
      params.unshift(filter.best);
      order = `b.value IS NULL, b.value ${lowerIsBetter(filter.best) ? 'ASC' : 'DESC'}, r.id DESC`;
    }
    const limit =
      filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : '';
    const sql = `SELECT ${SUMMARY_COLUMNS} FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}${limit}`;
    return this.guard(() => (this.db.prepare(sql).all(...params) as RunRow[]).map(toSummary));
  }

  getRun(id: number): RunDetail | null {
    return this.guard(() => {
      const row = this.db
        .prepare(
          `SELECT ${SUMMARY_COLUMNS}, r.command_line, r.tool_version FROM runs r WHERE r.id = ?`,
        )
        .get(id) as RunRow | undefined;
      if (row === undefined) return null;
      const history = (
        this.db
          .prepare(
            `SELECT epoch, loss, train_rmse, validation_rmse, elapsed_ms FROM run_epochs WHERE run_id = ? ORDER BY epoch`,
          )
          .all(id) as Array<{
          epoch: number;
          loss: number | null;
          train_rmse: number | null;
          validation_rmse: number | null;
          elapsed_ms: number | null;
        }>
      ).map((e) => ({
        epoch: e.epoch,
        loss: e.loss,
        trainRmse: e.train_rmse,
        validationRmse: e.validation_rmse,
        elapsedMs: e.elapsed_ms,
      }));
      return {
        ...toSummary(row),
        commandLine: JSON.parse(row.command_line) as string[],
        toolVersion: row.tool_version,
        history,
      };
    });
  }

  compareRuns(ids: number[]): RunComparison {
    const runs = ids.map((id) => {
      const run = this.getRun(id);
      if (run === null) throw new AlsError(`run ${id} is not in the registry ${this.file}`);
      return run;
    });
    const rows: RunComparison['rows'] = [];
    const add = (
      section: 'run' | 'hyperparameter' | 'metric',
      name: string,
      values: Array<string | number | boolean | null>,
    ): void => {
      const first = JSON.stringify(values[0] ?? null);
      rows.push({
        section,
        name,
        values,
        differs: values.some((v) => JSON.stringify(v ?? null) !== first),
      });
    };
    add(
      'run',
      'kind',
      runs.map((r) => r.kind),
    );
    add(
      'run',
      'status',
      runs.map((r) => r.status),
    );
    add(
      'run',
      'data',
      runs.map((r) => r.dataName),
    );
    add(
      'run',
      'split',
      runs.map((r) => r.split),
    );
    add(
      'run',
      'seed',
      runs.map((r) => r.seed),
    );
    add(
      'run',
      'epochs',
      runs.map((r) => r.epochs),
    );
    add(
      'run',
      'model',
      runs.map((r) => r.modelKind),
    );
    const keys = (pick: (r: RunDetail) => Record<string, unknown>): string[] =>
      [...new Set(runs.flatMap((r) => Object.keys(pick(r))))].sort();
    const scalar = (v: unknown): string | number | boolean | null =>
      v === undefined || v === null
        ? null
        : typeof v === 'object'
          ? JSON.stringify(v)
          : (v as string | number | boolean);
    for (const key of keys((r) => r.hyperparameters))
      add(
        'hyperparameter',
        key,
        runs.map((r) => scalar(r.hyperparameters[key])),
      );
    for (const key of keys((r) => r.metrics))
      add(
        'metric',
        key,
        runs.map((r) => r.metrics[key] ?? null),
      );
    add(
      'run',
      'wall ms',
      runs.map((r) => (r.wallMs === null ? null : Math.round(r.wallMs))),
    );
    return { runs, rows };
  }

  openTune(key: string, spec: Record<string, unknown>): { tune: TuneRecord; resumed: boolean } {
    const db = this.db;
    return this.guard(() =>
      db
        .transaction(() => {
          const existing = db
            .prepare(
              `SELECT * FROM tunes WHERE key = ? AND status != 'finished' ORDER BY id DESC LIMIT 1`,
            )
            .get(key) as TuneRow | undefined;
          if (existing !== undefined) {
            db.prepare(`UPDATE tunes SET status = 'running' WHERE id = ?`).run(existing.id);
            return { tune: toTune({ ...existing, status: 'running' }), resumed: true };
          }
          const createdAt = new Date().toISOString();
          const id = Number(
            db
              .prepare(
                `INSERT INTO tunes (key, created_at, status, spec) VALUES (?, ?, 'running', ?)`,
              )
              .run(key, createdAt, JSON.stringify(spec)).lastInsertRowid,
          );
          return {
            tune: { id, key, createdAt, status: 'running' as RunStatus, spec, result: null },
            resumed: false,
          };
        })
        .immediate(),
    );
  }

  getTune(id: number): TuneRecord | null {
    return this.guard(() => {
      const row = this.db.prepare(`SELECT * FROM tunes WHERE id = ?`).get(id) as
        | TuneRow
        | undefined;
      return row === undefined ? null : toTune(row);
    });
  }

  finishTune(id: number, result: Record<string, unknown>, status: RunStatus = 'finished'): void {
    this.guard(() =>
      this.db
        .prepare(`UPDATE tunes SET status = ?, result = ? WHERE id = ?`)
        .run(status, JSON.stringify(result), id),
    );
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface TuneRow {
  id: number;
  key: string;
  created_at: string;
  status: RunStatus;
  spec: string;
  result: string | null;
}

function toTune(row: TuneRow): TuneRecord {
  return {
    id: row.id,
    key: row.key,
    createdAt: row.created_at,
    status: row.status,
    spec: JSON.parse(row.spec) as Record<string, unknown>,
    result: row.result === null ? null : (JSON.parse(row.result) as Record<string, unknown>),
  };
}
