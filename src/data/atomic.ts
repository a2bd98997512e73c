/**
 * Atomic writes, stale-temp sweeping and exclusive locks: the one place where als puts files on
 * disk so that, whatever happens to the process (kill -9, full disk, power loss), a reader sees
 * the old file or the new one, never half of one, and no temp file outlives its writer for long.
 *
 * - writeFileAtomic / writeTextFileAtomic: temp file in the target's folder, streamed, fsynced,
 *   renamed over the target, then the folder fsynced (so the rename itself is durable).
 * - installFolderAtomic: the same for a whole folder (synth output, an extracted download).
 * - Temp names carry the writer's pid: `.<name>.<pid>-<random>.als-tmp`. sweepStaleTemps(dir)
 *   removes those whose pid is no longer alive, or that have not been touched for
 *   STALE_TEMP_MS (a pid can be reused), and the names older als versions used.
 * - acquireLock / withLock: an exclusive lock file `<target>.als-lock` created with O_EXCL and
 *   holding the owner's pid; a lock whose pid is dead is taken over.
 *
 * Why hand-written rather than `write-file-atomic`: that package takes the whole content as one
 * string or buffer (a 200 MB checkpoint or a 650 MB cache would have to be copied into one), its
 * temp names are a hash that does not say which process wrote them (so they cannot be swept
 * safely), and it offers no sweep or lock; the part it would save is ~20 lines here.
 * `proper-lockfile` judges staleness by mtime only (a lock held by a slow but live process would
 * be stolen after its timeout unless it keeps touching it); a pid check says exactly whether the
 * owner is alive on this machine, which is where als runs.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { AlsError, fileSystemError } from '../errors.js';

/** A temp file untouched for this long is swept even if its pid is alive (the pid may be reused). */
export const STALE_TEMP_MS = 24 * 3600 * 1000;

const TEMP_SUFFIX = '.als-tmp';
/** `.<name>.<pid>-<random>.als-tmp` (this module). */
const TEMP_NAME = /^\..+\.(\d+)-[0-9a-f]+\.als-tmp$/;
/** Names written before this module existed: checkpoints, caches, synth and download folders. */
const LEGACY_TEMP_NAMES = [
  /^\..+\.(\d+)\.\d+\.tmp$/,
  /^.+\.alscache\.tmp-(\d+)-\d+$/,
  /^\..+\.tmp-(\d+)-\d+$/,
];

/** The temp name for `target` in its folder, carrying this process' pid. */
export function tempPathFor(target: string): string {
  const absolute = path.resolve(target);
  return path.join(
    path.dirname(absolute),
    `.${path.basename(absolute)}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`,
  );
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid a temp name carries, or null when the name is not one of als' temp names. */
export function pidOfTempName(name: string): number | null {
  for (const pattern of [TEMP_NAME, ...LEGACY_TEMP_NAMES]) {
    const match = pattern.exec(name);
    if (match) return Number(match[1]);
  }
  return null;
}

/**
 * Removes als temp files and folders in `dir` left by processes that are gone (or untouched for
 * `staleMs`). Best effort: a folder that cannot be read or an entry that cannot be removed is
 * skipped. Returns the names removed.
 */
export function sweepStaleTemps(
  dir: string,
  staleMs = STALE_TEMP_MS,
  nowMs = Date.now(),
): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = pidOfTempName(name);
    if (pid === null || pid === process.pid) continue;
    const full = path.join(dir, name);
    try {
      const stats = lstatSync(full);
      if (isProcessAlive(pid) && nowMs - stats.mtimeMs < staleMs) continue;
      rmSync(full, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

/** Sequential output of an atomic write. */
export interface AtomicSink {
  /** Appends bytes (any length; written in ≤ 1 GiB pieces). */
  write(chunk: Uint8Array): void;
  /** Bytes written so far. */
  readonly bytesWritten: number;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length)
    done += writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30));
}

function fsyncFolder(dir: string): void {
  // Persist the rename itself (best effort: not every platform lets a folder be fsynced).
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* ignore */
  }
}

/** The folder a write into `target` needs: it must exist and be a folder (one-line errors otherwise). */
function checkFolderOf(target: string): string {
  const dir = path.dirname(path.resolve(target));
  let stats;
  try {
    stats = statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new AlsError(`cannot write ${target}: folder ${dir} does not exist`);
    throw fileSystemError(error, { path: dir, action: `write ${target}` });
  }
  if (!stats.isDirectory())
    throw new AlsError(`cannot write ${target}: ${dir} is a file, not a folder`);
  return dir;
}

/**
 * Writes `target` atomically: `produce` streams the content into a temp file beside it, which is
 * fsynced and renamed over the target. On any failure the temp file is removed, the old target
 * is untouched, and the error is one line naming the file and the cause (ENOSPC, EROFS, …).
 * Stale temp files of dead processes in the same folder are swept first.
 */
export function writeFileAtomic(target: string, produce: (sink: AtomicSink) => void): void {
  const dir = checkFolderOf(target);
  sweepStaleTemps(dir);
  if (existsSync(target) && statSync(target).isDirectory())
    throw new AlsError(`cannot write ${target}: it is a folder`);
  const temp = tempPathFor(target);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'wx');
    const out = fd;
    let bytesWritten = 0;
    const sink: AtomicSink = {
      write(chunk) {
        writeAll(out, chunk);
        bytesWritten += chunk.length;
      },
      get bytesWritten() {
        return bytesWritten;
      },
    };
    produce(sink);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, target);
  } catch (error) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    rmSync(temp, { force: true });
    if (error instanceof AlsError) throw error;
    throw fileSystemError(error, { path: target, action: `write ${target}` });
  }
  fsyncFolder(dir);
}

/**
 * Checks, before any long work, that writeFileAtomic(target) can succeed: the folder exists (or is
 * created when `createFolder`), is a folder, the target is not a folder, and a temp file can be
 * created there (a probe, removed at once: catches EROFS, EACCES, ENOSPC on an already full disk).
 * Throws the same one-line errors the write itself would.
 */
export function checkWritableTarget(
  target: string,
  options: { createFolder?: boolean } = {},
): void {
  const dir = path.dirname(path.resolve(target));
  if (options.createFolder) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw fileSystemError(error, { action: `create folder ${dir}` });
    }
  }
  checkFolderOf(target);
  if (existsSync(target) && statSync(target).isDirectory())
    throw new AlsError(`cannot write ${target}: it is a folder`);
  const probe = tempPathFor(target);
  try {
    const fd = openSync(probe, 'wx');
    try {
      writeAll(fd, Buffer.alloc(1));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw fileSystemError(error, { path: target, action: `write ${target}` });
  } finally {
    rmSync(probe, { force: true });
  }
}

/** Writes a small text file atomically. */
export function writeTextFileAtomic(target: string, text: string): void {
  writeFileAtomic(target, (sink) => sink.write(Buffer.from(text, 'utf8')));
}

function fsyncTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) fsyncTree(full);
    else if (entry.isFile()) {
      const fd = openSync(full, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }
}

/**
 * Builds a folder atomically: `build` fills a fresh temp folder beside `target` and may return a
 * sub-folder of it to install instead (e.g. a zip's inner folder); its files are fsynced and it is
 * renamed to `target`. On failure the temp folder is removed and nothing appears under `target`.
 * A target that already exists is refused (rename would fail on a non-empty folder anyway).
 */
export async function installFolderAtomic<T>(
  target: string,
  build: (tempDir: string) => Promise<{ installFrom?: string; result: T }>,
): Promise<T> {
  const temp = prepareFolderInstall(target);
  try {
    const { installFrom, result } = await build(temp);
    finishFolderInstall(target, installFrom ?? temp);
    return result;
  } catch (error) {
    throw folderInstallError(error, target);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

/** installFolderAtomic for a synchronous `build`. */
export function installFolderAtomicSync<T>(target: string, build: (tempDir: string) => T): T {
  const temp = prepareFolderInstall(target);
  try {
    const result = build(temp);
    finishFolderInstall(target, temp);
    return result;
  } catch (error) {
    throw folderInstallError(error, target);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

function prepareFolderInstall(target: string): string {
  const dir = path.dirname(path.resolve(target));
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw fileSystemError(error, { action: `create folder ${dir}` });
  }
  sweepStaleTemps(dir);
  const temp = tempPathFor(target);
  try {
    mkdirSync(temp);
  } catch (error) {
    throw fileSystemError(error, { action: `create ${target}` });
  }
  return temp;
}

function finishFolderInstall(target: string, source: string): void {
  fsyncTree(source);
  if (existsSync(target))
    throw new AlsError(`${target} already exists; remove it or choose another name`);
  renameSync(source, target);
  fsyncFolder(path.dirname(path.resolve(target)));
}

function folderInstallError(error: unknown, target: string): AlsError {
  if (error instanceof AlsError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTEMPTY' || code === 'EEXIST')
    return new AlsError(`${target} already exists; remove it or choose another name`);
  return fileSystemError(error, { action: `create ${target}` });
}

/** A held lock; release() removes the lock file (idempotent). */
export interface Lock {
  readonly file: string;
  release(): void;
}

/** The lock file guarding `target`. */
export function lockPathFor(target: string): string {
  return `${path.resolve(target)}.als-lock`;
}

function readLockPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Tries once to take the exclusive lock on `target`. Returns the lock, or the pid of the live
 * process holding it. A lock file whose pid is dead (or unreadable and older than a minute) is
 * taken over: it is renamed away first (atomic, so of two processes taking over at once only one
 * succeeds), then the lock is created again with O_EXCL.
 */
export function tryLock(target: string): Lock | { heldBy: number | null } {
  const file = lockPathFor(target);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeAll(fd, Buffer.from(`${process.pid}\n`));
      } finally {
        closeSync(fd);
      }
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        // Remove only our own lock (a takeover after we were presumed dead would own it now).
        if (readLockPid(file) === process.pid) rmSync(file, { force: true });
        process.removeListener('exit', release);
      };
      process.on('exit', release);
      return { file, release };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw fileSystemError(error, { action: `create lock file ${file}` });
    }
    const pid = readLockPid(file);
    let ageMs = 0;
    try {
      ageMs = Date.now() - statSync(file).mtimeMs;
    } catch {
      continue; // released meanwhile: try again
    }
    if (pid !== null ? isProcessAlive(pid) : ageMs < 60_000) return { heldBy: pid };
    // Stale: move it aside under a name of our own, check that what we moved is the stale lock.
    const aside = `${file}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
    try {
      renameSync(file, aside);
    } catch {
      continue;
    }
    const movedPid = readLockPid(aside);
    if (movedPid !== pid && movedPid !== null && isProcessAlive(movedPid)) {
      // We moved a fresh lock another process had just taken: put it back if the place is free.
      try {
        linkSync(aside, file);
      } catch {
        /* someone else holds it now */
      }
    }
    try {
      unlinkSync(aside);
    } catch {
      /* ignore */
    }
  }
  return { heldBy: readLockPid(file) };
}

/** Takes the lock on `target` or refuses in one line naming the holder. */
export function acquireLock(target: string, what = 'another als process'): Lock {
  const got = tryLock(target);
  if ('release' in got) return got;
  throw new AlsError(
    `${target} is in use by ${what}${got.heldBy !== null ? ` (pid ${got.heldBy})` : ''}; wait for it to finish`,
  );
}

/**
 * Runs `fn` holding the lock on `target`, waiting up to `waitMs` (polling) while another live
 * process holds it; then refuses in one line.
 */
export async function withLock<T>(
  target: string,
  fn: () => Promise<T> | T,
  options: { waitMs?: number; what?: string; onWait?: (pid: number | null) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  let told = false;
  for (;;) {
    const got = tryLock(target);
    if ('release' in got) {
      try {
        return await fn();
      } finally {
        got.release();
      }
    }
    if (Date.now() >= deadline) {
      throw new AlsError(
        `${target} is in use by ${options.what ?? 'another als process'}${got.heldBy !== null ? ` (pid ${got.heldBy})` : ''}; try again when it has finished`,
      );
    }
    if (!told) {
      options.onWait?.(got.heldBy);
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
