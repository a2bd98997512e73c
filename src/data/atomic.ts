import { randomBytes } from 'node:crypto';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AlsError } from '../errors.js';

/**
 * Writes `data` to `file` atomically: into a temporary file in the same folder (same file system,
 * so the rename is atomic), then renamed over the target. Readers see the old file or the new one,
 * never half of one; a failed write leaves the old file untouched and no temporary behind.
 * A missing or unwritable folder is a one-line AlsError naming the path.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat) throw new AlsError(`cannot write ${file}: folder ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new AlsError(`cannot write ${file}: ${dir} is not a folder`);
  const targetStat = await stat(target).catch(() => null);
  if (targetStat?.isDirectory()) throw new AlsError(`cannot write ${file}: it is a folder`);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOSPC' ? 'no space left on device' : (error as Error).message.split('\n')[0];
    throw new AlsError(`cannot write ${file}: ${reason}`);
  }
}
