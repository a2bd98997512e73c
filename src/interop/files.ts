/**
 * Writing interop outputs all at once or not at all: a file is written to a temporary name in
 * the same folder and renamed over the target; a directory (a Spark model, a folder of .npy or
 * Parquet files) is built in a temporary sibling folder and renamed into place, so a failure
 * leaves neither half a model nor a stray temp folder behind.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AlsError } from '../errors.js';

const tempName = (target: string): string =>
  path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);

/** Refuses an output path that exists already or whose parent folder does not exist. */
export function checkNewOutput(target: string): void {
  const parent = path.dirname(path.resolve(target));
  if (!existsSync(parent) || !statSync(parent).isDirectory())
    throw new AlsError(`cannot write ${target}: folder ${parent} does not exist`);
  if (existsSync(target))
    throw new AlsError(`${target} already exists; remove it or choose another --out`);
}

/** Builds a directory via `fill(tempDir)` and renames it to `target` (which must not exist). */
export async function writeDirectoryAtomic<T>(
  target: string,
  fill: (dir: string) => Promise<T> | T,
): Promise<T> {
  const resolved = path.resolve(target);
  checkNewOutput(resolved);
  const temp = tempName(resolved);
  mkdirSync(temp);
  try {
    const result = await fill(temp);
    renameSync(temp, resolved);
    return result;
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (error instanceof AlsError) throw error;
    throw new AlsError(
      `cannot write ${target}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
}

/** Writes one file via `produce(tempFile)` and renames it to `target` (which must not exist). */
export async function writeFileAtomic<T>(
  target: string,
  produce: (file: string) => Promise<T> | T,
): Promise<T> {
  const resolved = path.resolve(target);
  checkNewOutput(resolved);
  const temp = tempName(resolved);
  try {
    const result = await produce(temp);
    renameSync(temp, resolved);
    return result;
  } catch (error) {
    rmSync(temp, { force: true });
    if (error instanceof AlsError) throw error;
    throw new AlsError(
      `cannot write ${target}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
}

/** Writes bytes to a new file inside a folder being built (no rename needed there). */
export function writeBytes(file: string, bytes: Uint8Array | string): void {
  writeFileSync(file, bytes);
}
