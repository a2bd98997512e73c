/**
 * Handing big typed arrays back to the operating system at a known moment. Shared by the data
 * layer (a parse's buffers) and the trainer (the copies it moves into its arena).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Garbage smaller than this is not worth a forced collection. */
export const RELEASE_MIN_BYTES = 64 * 2 ** 20;
/** How long a release waits at most for the freed memory to leave the resident set. */
const RELEASE_WAIT_MS = 250;
let collectGarbage: (() => void) | null | undefined;

/**
 * When about `bytes` of typed arrays have just become garbage: runs a full garbage collection and
 * waits (at most RELEASE_WAIT_MS) until the resident set has shrunk by half of them, because V8
 * frees the backing store of a dead ArrayBuffer on a background thread after the collection.
 * Without this a dropped 100 MB rating array stays resident until some later collection, and the
 * next copy into the arena stacks on top of it. Uses V8's own `gc` (exposed through a fresh
 * context once the flag is set); where that is unavailable it does nothing. `always`: collect
 * even without a known amount of garbage (and wait only for `bytes`).
 */
export async function releaseGarbage(bytes: number, always = false): Promise<void> {
  if (!always && bytes < RELEASE_MIN_BYTES) return;
  if (collectGarbage === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      collectGarbage = vm.runInNewContext('gc') as () => void;
    } catch {
      collectGarbage = null;
    }
  }
  if (collectGarbage === null) return;
  const rssBefore = process.memoryUsage.rss();
  collectGarbage();
  const startMs = performance.now();
  do await new Promise((resolve) => setTimeout(resolve, 5));
  while (
    bytes !== 0 &&
    process.memoryUsage.rss() > rssBefore - bytes / 2 &&
    performance.now() - startMs < RELEASE_WAIT_MS
  );
}
