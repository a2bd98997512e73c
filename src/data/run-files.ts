/**
 * Files that describe a training run or a data set without the data itself: the metrics history
 * `als train` writes beside a checkpoint (<checkpoint>.metrics.json), a checkpoint's own history,
 * and the statistics `als stats --json` prints. Validated with zod; every problem is one line
 * naming the file.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { EpochMetrics, Hyperparameters } from '../core/types.js';
import { AlsError, DataError } from '../errors.js';
import { readAnyCheckpoint } from './bayes-checkpoint.js';
import type { DatasetStats } from './types.js';

const epochSchema = z.object({
  epoch: z.number().int().positive(),
  // null: no loss (a Gibbs run's sample history; JSON has no NaN).
  loss: z
    .number()
    .nullable()
    .transform((v) => v ?? Number.NaN),
  trainRmse: z.number(),
  validationRmse: z.number().nullable(),
  elapsedMs: z.number().nonnegative(),
});

/** The .metrics.json `als train` writes beside a checkpoint (only what the chart needs is checked). */
const metricsFileSchema = z.object({
  hyper: z
    .object({ kind: z.enum(['bias', 'latent', 'genre']), dim: z.number().int().nonnegative() })
    .passthrough()
    .optional(),
  epochs: z.array(epochSchema),
});

/** A run read from a checkpoint or a metrics file, with what its default legend label is made of. */
export interface RunFile {
  file: string;
  hyper: Pick<Hyperparameters, 'kind' | 'dim'> | null;
  history: EpochMetrics[];
}

/** First zod issue as "path: message". */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}

/** Reads a JSON file, or says in one line which file is missing or not JSON. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AlsError(
      code === 'ENOENT'
        ? `${file}: no such file`
        : code === 'EISDIR'
          ? `${file}: is a folder`
          : `${file}: cannot read (${code ?? 'error'})`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataError(
      file,
      undefined,
      `not valid JSON (${(error as Error).message.split('\n')[0]})`,
    );
  }
}

/**
 * Reads the metrics history of a run: a `.json` file is read as the metrics file `als train`
 * writes (`{hyper, epochs: [...]}`, or a bare array of epochs); anything else as a checkpoint.
 */
export function readRunFile(file: string): RunFile {
  if (file.toLowerCase().endsWith('.json')) {
    const json = readJsonFile(file);
    const parsed = Array.isArray(json)
      ? z.array(epochSchema).safeParse(json)
      : metricsFileSchema.safeParse(json);
    if (!parsed.success)
      throw new DataError(file, undefined, `not a metrics history (${firstIssue(parsed.error)})`);
    const data = parsed.data;
    return Array.isArray(data)
      ? { file, hyper: null, history: data }
      : { file, hyper: data.hyper ?? null, history: data.epochs };
  }
  const checkpoint = readAnyCheckpoint(file);
  return { file, hyper: checkpoint.state.hyper, history: checkpoint.metrics };
}

/** zod schema of DatasetStats as `als stats --json` prints it (what the charts read is checked). */
const countDistributionSchema = z.array(
  z.object({ count: z.number().positive(), frequency: z.number().nonnegative() }),
);
const statsSchema = z
  .object({
    name: z.string(),
    numRatings: z.number().nonnegative(),
    numUsers: z.number().nonnegative(),
    numItemsRated: z.number().nonnegative(),
    meanRating: z.number(),
    ratingHistogram: z.array(z.object({ value: z.number(), count: z.number().nonnegative() })),
    powerLaw: z.object({
      users: z.object({ alpha: z.number(), xMin: z.number() }),
      items: z.object({ alpha: z.number(), xMin: z.number() }),
    }),
    userActivityDistribution: countDistributionSchema,
    itemPopularityDistribution: countDistributionSchema,
  })
  .passthrough();

/** Reads `als stats --json` output. */
export function readStatsFile(file: string): DatasetStats {
  const parsed = statsSchema.safeParse(readJsonFile(file));
  if (!parsed.success)
    throw new DataError(
      file,
      undefined,
      `not the output of 'als stats --json' (${firstIssue(parsed.error)})`,
    );
  return parsed.data as unknown as DatasetStats;
}
