import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { AlsError } from '../errors.js';

/** The set commands use when no --data is given. */
export const DEFAULT_DATASET = 'ml-latest-small';

/** Where bare data set names resolve: --data-home, else $ALS_DATA_HOME, else ./data. */
export function dataHome(explicit?: string): string {
  return path.resolve(explicit ?? process.env.ALS_DATA_HOME ?? 'data');
}

/**
 * Resolves `--data` to a folder: a path (contains a separator or exists as given) is used as is;
 * a bare name such as "ml-latest-small" resolves inside the data home.
 * (Download on first use is layered on top of this in the CLI.)
 */
export function resolveDataDir(spec: string | undefined, home?: string): string {
  const name = spec ?? DEFAULT_DATASET;
  const looksLikePath = name.includes('/') || name.includes(path.sep) || name.startsWith('.');
  const dir = looksLikePath ? path.resolve(name) : path.join(dataHome(home), name);
  if (!existsSync(dir)) throw new AlsError(`data set folder not found: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new AlsError(`not a folder: ${dir}`);
  return dir;
}
