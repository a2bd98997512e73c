/**
 * Reading the run registry (<data home>/runs.sqlite) for `als runs`: list with filters and a
 * best-first sort, one run in full, several side by side. A data home without a registry has no
 * runs (the file is not created by reading).
 */
import { existsSync } from 'node:fs';
import { dataHome as resolveDataHome } from '../data/home.js';
import { AlsError, UsageError } from '../errors.js';
import {
  openRegistry,
  registryPath,
  type Registry,
  type RunComparison,
  type RunDetail,
  type RunFilter,
  type RunKind,
  type RunSummary,
} from '../registry/registry.js';

export interface RunsSource {
  dataHome?: string;
  /** The registry file itself (default <data home>/runs.sqlite). */
  file?: string;
}

export interface RunsQuery extends RunsSource {
  data?: string;
  /** Model kind. */
  kind?: string;
  /** Command: train, eval, cv or tune (tune: its trials). */
  command?: 'train' | 'eval' | 'cv' | 'tune';
  since?: Date;
  best?: string;
  /** Also the per-fold runs of cv and tune (default: left out). */
  all?: boolean;
  limit?: number;
}

export interface RunsListing {
  file: string;
  runs: RunSummary[];
}

async function withRegistry<T>(
  source: RunsSource,
  empty: (file: string) => T,
  use: (registry: Registry) => T,
): Promise<T> {
  const file = source.file ?? registryPath(resolveDataHome(source.dataHome));
  if (!existsSync(file)) return empty(file);
  const registry = await openRegistry(file);
  try {
    return use(registry);
  } finally {
    registry.close();
  }
}

const BEST = /^(rmse|mae|loss|train_rmse|coverage|(precision|recall|ndcg|map)@\d+)$/;

/** The recorded runs, newest first (or best first by `best`). */
export async function listRecordedRuns(query: RunsQuery = {}): Promise<RunsListing> {
  if (query.best !== undefined && !BEST.test(query.best)) {
    throw new UsageError(
      `--best ${query.best}: not a recorded metric (rmse, mae, loss, train_rmse, coverage, precision@K, recall@K, ndcg@K, map@K)`,
    );
  }
  const kind: RunKind | undefined = query.command === 'tune' ? 'tune-trial' : query.command;
  const filter: RunFilter = {
    data: query.data,
    kind,
    modelKind: query.kind,
    since: query.since,
    best: query.best,
    // A tune is nothing but its trials (each one a fold), so --command tune lists them.
    withoutFolds: !query.all && query.command !== 'tune',
    limit: query.limit,
  };
  return withRegistry(
    query,
    (file) => ({ file, runs: [] }),
    (registry) => ({ file: registry.file, runs: registry.listRuns(filter) }),
  );
}

/** One run with its command line and per-epoch history. */
export async function showRecordedRun(id: number, source: RunsSource = {}): Promise<RunDetail> {
  return withRegistry(
    source,
    (file) => {
      throw new AlsError(`run ${id}: no run is recorded yet (${file} does not exist)`);
    },
    (registry) => {
      const run = registry.getRun(id);
      if (run === null) throw new AlsError(`run ${id} is not in the registry ${registry.file}`);
      return run;
    },
  );
}

/** Runs side by side: every setting and metric any of them has, marked where they differ. */
export async function compareRecordedRuns(
  ids: number[],
  source: RunsSource = {},
): Promise<RunComparison> {
  if (ids.length < 2) throw new UsageError('runs compare: give at least two run ids');
  return withRegistry(
    source,
    (file) => {
      throw new AlsError(`runs compare: no run is recorded yet (${file} does not exist)`);
    },
    (registry) => registry.compareRuns(ids),
  );
}
