import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { AlsError } from '../errors.js';
import { downloadDataset, isKnownDataset, type DownloadProgress } from './download.js';

/** The set commands use when no --data is given. */
export const DEFAULT_DATASET = 'ml-latest-small';

/**
 * Where bare data set names resolve: the given folder, else ./data. (The CLI passes --data-home,
 * else $ALS_DATA_HOME: environment variables are read in one place, src/cli/environment.ts.)
 */
export function dataHome(explicit?: string): string {
  return path.resolve(explicit ?? 'data');
}

/** True when `--data` names a folder rather than a set inside the data home. */
export function looksLikePath(name: string): boolean {
  return name.includes('/') || name.includes(path.sep) || name.startsWith('.');
}

/**
 * The name a data set gets (Dataset.info.name: its folder's base name), known from `--data`
 * alone: a folder `path/to/ml-100k/` and the bare name `ml-100k` both give "ml-100k". Used to find
 * the checkpoint `als train --data X` wrote, from the same `--data X`, without loading the set.
 */
export function datasetNameOf(spec: string | undefined): string {
  const name = spec ?? DEFAULT_DATASET;
  return looksLikePath(name) ? path.basename(path.resolve(name)) : name;
}

/**
 * Resolves `--data` to a folder: a path (contains a separator or exists as given) is used as is;
 * a bare name such as "ml-latest-small" resolves inside the data home.
 * (Download on first use is layered on top of this in the CLI.)
 */
export function resolveDataDir(spec: string | undefined, home?: string): string {
  const name = spec ?? DEFAULT_DATASET;
  const dir = looksLikePath(name) ? path.resolve(name) : path.join(dataHome(home), name);
  if (!existsSync(dir)) throw new AlsError(`data set folder not found: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new AlsError(`not a folder: ${dir}`);
  return dir;
}

/** How a data set named on the command line is found or fetched. */
export interface EnsureOptions {
  /** --data-home. */
  home?: string;
  /** --offline: never download; a missing set is an error. */
  offline?: boolean;
  /** --mirror or $ALS_MIRROR: a URL or a folder holding extracted sets, used instead of GroupLens. */
  mirror?: string;
  /** Called as a download proceeds (the CLI draws a bar). */
  onProgress?: (progress: DownloadProgress) => void;
  /** One-line warnings of the download. */
  warn?: (message: string) => void;
}

/**
 * Resolves `--data` to a folder, downloading a known MovieLens set into the data home on first
 * use (unless offline). Paths are used as given; a bare name that is already in the data home is
 * used without any network access (verified sets carry a marker; see downloadDataset).
 */
export async function ensureDataDir(
  spec: string | undefined,
  options: EnsureOptions = {},
): Promise<string> {
  const name = spec ?? DEFAULT_DATASET;
  const home = dataHome(options.home);
  if (looksLikePath(name) || existsSync(path.join(home, name)) || !isKnownDataset(name)) {
    return resolveDataDir(name, options.home);
  }
  if (options.offline) {
    throw new AlsError(
      `${name} is not in the data home ${home} and --offline forbids downloading it; run 'als download ${name}' first`,
    );
  }
  const result = await downloadDataset(name, {
    home,
    mirror: options.mirror,
    onProgress: options.onProgress,
    warn: options.warn,
  });
  return result.dir;
}
