/**
 * Finding things: the data set `--data` names (downloading a known MovieLens set on first use),
 * the checkpoint `als train` wrote for it, and the folder an output goes to.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MODEL_KIND } from '../core/defaults.js';
import type { ModelKind } from '../core/types.js';
import { checkWritableTarget } from '../data/atomic.js';
import type { Checkpoint } from '../data/checkpoint.js';
import { readAnyCheckpoint } from '../data/bayes-checkpoint.js';
import {
  downloadDataset,
  isKnownDataset,
  KNOWN_DATASETS,
  type DownloadProgress,
  type DownloadResult,
} from '../data/download.js';
import { computeStats } from '../data/stats.js';
import { dataHome, datasetNameOf, ensureDataDir } from '../data/home.js';
import { loadDataset } from '../data/load.js';
import type { Dataset, DatasetStats, RatingScale } from '../data/types.js';
import { AlsError, UsageError } from '../errors.js';

/** Where a data set comes from and how it is read (the `--data` family of options). */
export interface DataSource {
  /** A folder, or a name inside the data home (default ml-latest-small). */
  data?: string;
  /** Where names resolve and where models/ and .als-cache/ live (default ./data). */
  dataHome?: string;
  /** Never download. */
  offline?: boolean;
  /** A URL or folder to download from instead of GroupLens. */
  mirror?: string;
  /** Repeated (user, movie) pairs: an error (default) or keep the last. */
  dedupe?: 'error' | 'last';
  /** Read and write the binary cache (default true). */
  cache?: boolean;
  /** The allowed ratings of a plain file (default: inferred); MovieLens layouts have their own. */
  ratingScale?: RatingScale;
}

/** What finding and loading a data set reports while it works. */
export interface DataEvents {
  /** One-line warnings (a repeated pair kept, a re-released set …). */
  onWarning?: (message: string) => void;
  /** Download progress of a set fetched on first use. */
  onDownloadProgress?: (progress: DownloadProgress) => void;
}

/** Finds (downloading on first use unless offline) and loads the data set the source names. */
export async function openDataset(source: DataSource, events: DataEvents = {}): Promise<Dataset> {
  const dir = await ensureDataDir(source.data, {
    home: source.dataHome,
    offline: source.offline,
    mirror: source.mirror,
    onProgress: events.onDownloadProgress,
    warn: events.onWarning,
  });
  // The cache lives in the data home (the data folders themselves may be read-only).
  const cacheDir = path.join(dataHome(source.dataHome), '.als-cache');
  return loadDataset(dir, {
    dedupe: source.dedupe,
    cache: source.cache,
    warn: events.onWarning,
    cacheDir,
    ratingScale: source.ratingScale,
  });
}

/** Counts, histograms, distributions and power laws of the data set a source names. */
export async function datasetStats(
  source: DataSource,
  events: DataEvents = {},
): Promise<DatasetStats> {
  return computeStats(await openDataset(source, events));
}

/** Downloads and verifies known MovieLens sets into the data home, one after another. */
export async function downloadDatasets(
  names: string[],
  options: { dataHome?: string; mirror?: string },
  events: DataEvents & { onResult?: (result: DownloadResult) => void } = {},
): Promise<DownloadResult[]> {
  const unknown = names.find((name) => !isKnownDataset(name));
  if (unknown !== undefined)
    throw new UsageError(
      `unknown data set "${unknown}"; known: ${Object.keys(KNOWN_DATASETS).join(', ')}`,
    );
  const results: DownloadResult[] = [];
  for (const name of names) {
    const result = await downloadDataset(name, {
      home: dataHome(options.dataHome),
      mirror: options.mirror,
      onProgress: events.onDownloadProgress,
      warn: events.onWarning,
    });
    events.onResult?.(result);
    results.push(result);
  }
  return results;
}

/**
 * Where `als train` writes its checkpoint when no --out is given: <data home>/models/<name>-<kind>.als,
 * where <name> is the data set's folder name — so the same `--data` (a name or a folder) finds it again.
 */
export function defaultCheckpointFile(
  source: Pick<DataSource, 'data' | 'dataHome'>,
  kind: ModelKind = DEFAULT_MODEL_KIND,
): string {
  return path.join(
    dataHome(source.dataHome),
    'models',
    `${datasetNameOf(source.data)}-${kind}.als`,
  );
}

/** Where `als train --method gibbs` writes without --out: <data home>/models/<set>-<kind>-gibbs.als (beside the ALS model). */
export function defaultBayesCheckpointFile(
  source: Pick<DataSource, 'data' | 'dataHome'>,
  kind: ModelKind = DEFAULT_MODEL_KIND,
): string {
  return path.join(
    dataHome(source.dataHome),
    'models',
    `${datasetNameOf(source.data)}-${kind}-gibbs.als`,
  );
}

/** Which checkpoint: a file, or the default one of a data set. */
export interface CheckpointSource {
  checkpoint?: string;
  data?: string;
  dataHome?: string;
}

/**
 * Reads the checkpoint a source names (the file, or the default path of its data set), turning
 * every failure into one line that says how to train one.
 */
export function openCheckpoint(source: CheckpointSource): { file: string; checkpoint: Checkpoint } {
  const file = source.checkpoint ?? defaultCheckpointFile(source);
  const how =
    source.checkpoint === undefined
      ? `'als train${source.data ? ` --data ${source.data}` : ''}'`
      : `'als train --out ${file}'`;
  if (!existsSync(file)) {
    // The Bayesian model of the same data set is not read in its place (another model, other numbers), but named.
    const bayes = source.checkpoint === undefined ? defaultBayesCheckpointFile(source) : null;
    const hint =
      bayes !== null && existsSync(bayes)
        ? ` (a Bayesian model is at ${bayes}: pass --checkpoint ${bayes})`
        : '';
    throw new AlsError(`no checkpoint at ${file}: train one with ${how}${hint}`);
  }
  try {
    return { file, checkpoint: readAnyCheckpoint(file) };
  } catch (error) {
    if (error instanceof AlsError && !/train/.test(error.message)) {
      throw new AlsError(`${error.message}; train a model with ${how}`);
    }
    throw error;
  }
}

/**
 * Fails early (before any slow work) when `file` cannot be written: its folder is missing or not
 * a folder, the file is a folder, or the place is read-only or full (checkWritableTarget).
 */
export function checkOutputFolder(file: string): void {
  checkWritableTarget(file);
}

/** Fails when a data set is not the one the checkpoint was trained on (its numbers would be wrong). */
export function checkSameDataset(
  checkpointFile: string,
  checkpoint: Checkpoint,
  dataset: Dataset,
): void {
  if (dataset.info.fingerprint !== checkpoint.dataset.fingerprint) {
    throw new AlsError(
      `${checkpointFile}: checkpoint was trained on another data set (${checkpoint.dataset.name}, fingerprint ${checkpoint.dataset.fingerprint.slice(0, 12)}; ${dataset.info.dir} is ${dataset.info.fingerprint.slice(0, 12)})`,
    );
  }
}
