import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Real MovieLens sets for tests are read from the data home: $ALS_DATA_HOME, else ./data
 * (the same setting the CLI uses). `npm test` fetches ml-100k and ml-latest-small there first
 * (from GroupLens, or from the folder or URL in $ALS_MIRROR). Never a hard-coded absolute path.
 */
export function movielensDir(name: 'ml-100k' | 'ml-latest-small'): string {
  const dir = path.resolve(process.env.ALS_DATA_HOME ?? 'data', name);
  if (!existsSync(dir)) {
    throw new Error(
      `${dir} is missing: run 'node bin/als.js download ${name}' (set ALS_MIRROR to a local copy when offline)`,
    );
  }
  return dir;
}
