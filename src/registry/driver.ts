/**
 * The SQLite driver, loaded lazily: better-sqlite3 is a native module (an optional dependency that
 * builds from source where no prebuilt binary fits), so `als train` must not need it. Nothing
 * imports it statically; `loadSqlite()` imports it on first use and says in one line why it could
 * not. Only the part of its API the registry uses is typed here.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(
    fn: (...args: A) => R,
  ): ((...args: A) => R) & { immediate: (...args: A) => R };
  close(): void;
  readonly open: boolean;
}

export type SqliteConstructor = new (
  file: string,
  options?: { timeout?: number; fileMustExist?: boolean; readonly?: boolean },
) => SqliteDatabase;

/** How the registry gets its driver; tests pass a failing one to check that training goes on without it. */
export type SqliteLoader = () => Promise<SqliteConstructor>;

let cached: Promise<SqliteConstructor> | null = null;

/**
 * Imports better-sqlite3 once; rejects with an Error whose message is one line.
 *
 * Loaded with require (the package is CommonJS) and given its native addon by path: the ESM
 * loader's `import()` of the package plus the `bindings` package's search for the .node file
 * cost 20–60 ms on the loaded 2-core machine, against 6–10 ms this way, and `als train` pays it
 * once per run. A build whose addon is elsewhere falls back to the package's own lookup.
 */
export const loadSqlite: SqliteLoader = () => {
  cached ??= (async () => {
    // A non-literal specifier keeps the compiler (and bundlers) from requiring the module at build time.
    const specifier = 'better-sqlite3';
    try {
      const require = createRequire(import.meta.url);
      const Native = require(specifier) as SqliteConstructor;
      if (typeof Native !== 'function') throw new Error('the module exports no constructor');
      let addon: unknown = null;
      const addonFile = path.join(
        path.dirname(require.resolve(`${specifier}/package.json`)),
        'build',
        'Release',
        'better_sqlite3.node',
      );
      if (existsSync(addonFile)) addon = require(addonFile);
      // A function, not an arrow: callers construct it with `new`.
      // biome-ignore lint/complexity/useArrowFunction: an arrow function cannot be called with new
      const Database = function (
        file: string,
        options: Record<string, unknown> = {},
      ): SqliteDatabase {
        return new Native(file, addon === null ? options : { ...options, nativeBinding: addon });
      } as unknown as SqliteConstructor;
      // Opening a database loads the native binding: a broken build fails here, not later.
      new Database(':memory:').close();
      return Database;
    } catch (error) {
      cached = null;
      throw new Error(`better-sqlite3 is not usable (${(error as Error).message.split('\n')[0]})`);
    }
  })();
  return cached;
};
