import type { Command } from 'commander';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import path from 'node:path';
import { dataHome, ensureDataDir } from '../data/home.js';
import { loadDataset } from '../data/load.js';
import type { Dataset } from '../data/types.js';

/** The options every command that reads a data set accepts. */
export function addDataOptions(command: Command): Command {
  return command
    .option('--data <folder-or-name>', 'data set folder, or a name inside the data home (default: ml-latest-small)')
    .option('--data-home <folder>', 'where data set names resolve (default: $ALS_DATA_HOME or ./data)')
    .option('--offline', 'never download; fail if the data set is missing')
    .option('--mirror <url-or-folder>', 'fetch data sets from this mirror instead of GroupLens (default: $ALS_MIRROR)')
    .option('--dedupe <mode>', 'repeated (user, movie) pairs: error (default) or last', 'error')
    .option('--no-cache', 'do not read or write the binary cache');
}

export const dataOptionsSchema = z.object({
  data: z.string().min(1).optional(),
  dataHome: z.string().min(1).optional(),
  offline: z.boolean().optional(),
  mirror: z.string().min(1).optional(),
  dedupe: z.enum(['error', 'last']).default('error'),
  cache: z.boolean().default(true),
});
export type DataOptions = z.infer<typeof dataOptionsSchema>;

/**
 * Validates options with a zod schema; the first problem becomes one line naming the option,
 * e.g. "--dim: must be a positive integer".
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.map(String).join('.');
  const flag = key ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'options';
  throw new UsageError(`${flag}: ${issue.message}`);
}

/** Finds (downloading on first use unless offline) and loads the data set the options name. */
export async function openDataset(options: DataOptions, warn?: (message: string) => void): Promise<Dataset> {
  const dir = await ensureDataDir(options.data, {
    home: options.dataHome,
    offline: options.offline,
    mirror: options.mirror ?? process.env.ALS_MIRROR,
    progress: process.stderr.isTTY,
  });
  // The cache lives in the data home (the data folders themselves may be read-only).
  const cacheDir = path.join(dataHome(options.dataHome), '.als-cache');
  return loadDataset(dir, { dedupe: options.dedupe, cache: options.cache, warn, cacheDir });
}
