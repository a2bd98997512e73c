import { AlsError } from '../errors.js';
import type { Dataset } from './types.js';

/** Options of loadDataset. */
export interface LoadOptions {
  /** What to do with a repeated (user, movie) pair: refuse (default) or keep the latest by timestamp/line. */
  dedupe?: 'error' | 'last';
  /** Use and write the binary cache (default true). */
  cache?: boolean;
  /** Called with one-line warnings (e.g. a rated movie missing from the movies file). */
  warn?: (message: string) => void;
}

/** Loads a MovieLens folder (layout detected from its files). Placeholder until the readers land. */
export async function loadDataset(dir: string, _options: LoadOptions = {}): Promise<Dataset> {
  throw new AlsError(`loading ${dir}: readers not implemented yet`);
}
