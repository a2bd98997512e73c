import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Before any test: make sure the two real MovieLens sets the tests read are in the data home
 * ($ALS_DATA_HOME, else ./data), fetching them with the project's own downloader when missing —
 * from GroupLens, or from $ALS_MIRROR (a URL or a folder of extracted sets) when offline, as in CI.
 * `npm test` builds first, so the compiled CLI is there.
 */
export default function setup(): void {
  const home = path.resolve(process.env.ALS_DATA_HOME ?? 'data');
  const missing = ['ml-100k', 'ml-latest-small'].filter(
    (name) => !existsSync(path.join(home, name)),
  );
  if (missing.length === 0) return;
  execFileSync(process.execPath, ['bin/als.js', 'download', ...missing, '--data-home', home], {
    stdio: 'inherit',
  });
}
