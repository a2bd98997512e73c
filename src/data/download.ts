import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  copyFileSync,
} from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Unzip, UnzipInflate } from 'fflate';
import { AlsError, fileSystemError } from '../errors.js';
import { installFolderAtomic, installFolderAtomicSync, tempPathFor, withLock } from './atomic.js';

/** GroupLens' public file server; `<base>/<name>.zip` and `<base>/<name>.zip.md5`. */
export const GROUPLENS_BASE_URL = 'https://files.grouplens.org/datasets/movielens';

/** What is known about one downloadable MovieLens set. */
export interface KnownDataset {
  name: string;
  /** File name of the zip on the server. */
  zip: string;
  /** The folder the zip extracts to (ml-10m.zip extracts to ml-10M100K). */
  innerFolder: string;
  /** Files that must be present after extraction. */
  requiredFiles: string[];
  /** SHA-256 of main files of the fixed (never re-released) sets. */
  sha256: Record<string, string>;
  /**
   * A SHA-256 mismatch is an error for fixed sets; ml-latest-small is re-released by GroupLens from
   * time to time, so there a mismatch only warns (the zip's MD5 still guards the transfer).
   */
  sha256Strict: boolean;
  /**
   * Upper bound on the size of any one extracted file, and of all of them, in bytes: about twice
   * the largest published file (the set's total), so a hostile or broken zip cannot fill the disk.
   */
  maxEntryBytes: number;
  maxTotalBytes: number;
}

const MiB = 2 ** 20;

function known(
  name: string,
  innerFolder: string,
  requiredFiles: string[],
  sizes: [entryMiB: number, totalMiB: number],
  sha256: Record<string, string> = {},
  sha256Strict = true,
): KnownDataset {
  return {
    name,
    zip: `${name}.zip`,
    innerFolder,
    requiredFiles,
    sha256,
    sha256Strict,
    maxEntryBytes: sizes[0] * MiB,
    maxTotalBytes: sizes[1] * MiB,
  };
}

/** The MovieLens sets `als download` knows. Hashes were computed from the published files with sha256sum. */
export const KNOWN_DATASETS: Readonly<Record<string, KnownDataset>> = {
  'ml-100k': known('ml-100k', 'ml-100k', ['u.data', 'u.item'], [8, 32], {
    'u.data': '06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490',
    'u.item': '553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701',
  }),
  'ml-1m': known('ml-1m', 'ml-1m', ['ratings.dat', 'movies.dat'], [64, 128]),
  'ml-10m': known('ml-10m', 'ml-10M100K', ['ratings.dat', 'movies.dat'], [640, 1024]),
  'ml-20m': known('ml-20m', 'ml-20m', ['ratings.csv', 'movies.csv'], [1100, 2048]),
  'ml-25m': known('ml-25m', 'ml-25m', ['ratings.csv', 'movies.csv'], [1400, 2560]),
  'ml-32m': known('ml-32m', 'ml-32m', ['ratings.csv', 'movies.csv'], [1800, 3072]),
  'ml-latest-small': known(
    'ml-latest-small',
    'ml-latest-small',
    ['ratings.csv', 'movies.csv'],
    [16, 64],
    {
      // The September 2018 release (100,836 ratings).
      'ratings.csv': 'aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646',
      'movies.csv': '5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07',
    },
    false,
  ),
};

/** Marker written into a set's folder once it is verified; its presence makes downloads idempotent. */
export const VERIFIED_MARKER = '.als-verified.json';

export function isKnownDataset(name: string): boolean {
  return Object.hasOwn(KNOWN_DATASETS, name);
}

function knownDataset(name: string): KnownDataset {
  if (!isKnownDataset(name)) {
    throw new AlsError(
      `unknown data set "${name}"; known: ${Object.keys(KNOWN_DATASETS).join(', ')}`,
    );
  }
  return KNOWN_DATASETS[name]!;
}

export interface DownloadOptions {
  /** The data home (absolute or relative to the working directory); the set lands in `<home>/<name>`. */
  home: string;
  /** A URL serving `<mirror>/<name>.zip` (+ `.md5`), or a folder holding extracted sets `<mirror>/<name>/…`. */
  mirror?: string;
  /** Called as the zip arrives (the CLI draws a progress bar from it). */
  onProgress?: (progress: DownloadProgress) => void;
  /** One-line warnings (e.g. a re-released ml-latest-small). */
  warn?: (message: string) => void;
  /** Give up when no bytes arrive for this long (default 60 s). */
  idleTimeoutMs?: number;
  /** How long to wait for another process downloading the same set (default 30 min), then refuse. */
  lockWaitMs?: number;
}

/** How far a download is: `totalBytes` is 0 when the server does not say. */
export interface DownloadProgress {
  name: string;
  phase: 'start' | 'data' | 'done';
  receivedBytes: number;
  totalBytes: number;
}

/** What a download did. */
export interface DownloadResult {
  name: string;
  dir: string;
  /** 'present': verified earlier (or already there), nothing fetched. */
  status: 'downloaded' | 'copied' | 'present';
  /** What was checked, for the user: e.g. ["md5 of ml-100k.zip", "SHA-256 of u.data"]. */
  verified: string[];
  source?: string;
}

/**
 * Makes `<home>/<name>` hold the named MovieLens set, verified:
 * - already verified (marker file present) → nothing is fetched;
 * - folder mirror → the files are copied and their SHA-256 checked where known;
 * - otherwise the zip is streamed to a temp file in `<home>` while its MD5 is computed, compared
 *   with the `.md5` file published next to it, extracted into a temporary folder beside the target
 *   (entries that would land outside it are refused), SHA-256-checked, and renamed into place.
 * On any failure the partial zip and the temporary folder are removed and nothing is moved into place.
 * Both carry the pid in their names, so those of a killed download are swept by the next one, and
 * a lock on the set (`<home>/<name>.als-lock`) makes a concurrent download of it wait and then
 * find it installed. The zip is refused when it is not one, or when an entry is larger than any
 * file of the set (KnownDataset.maxEntryBytes).
 */
export async function downloadDataset(
  name: string,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const set = knownDataset(name);
  const home = path.resolve(options.home);
  const target = path.join(home, name);
  const warn = options.warn ?? (() => {});

  if (existsSync(target)) return alreadyPresent(set, target, warn);
  try {
    mkdirSync(home, { recursive: true });
  } catch (error) {
    throw fileSystemError(error, { action: `create data home ${home}` });
  }

  // One download of a set at a time: a second process waits, then finds it installed.
  return withLock(
    target,
    async () => {
      if (existsSync(target)) return alreadyPresent(set, target, warn);
      const mirror = options.mirror;
      if (mirror !== undefined && mirror !== '' && !/^https?:\/\//i.test(mirror)) {
        return copyFromFolderMirror(set, path.resolve(mirror), target, warn);
      }
      const base = (mirror !== undefined && mirror !== '' ? mirror : GROUPLENS_BASE_URL).replace(
        /\/+$/,
        '',
      );
      return fetchAndExtract(
        set,
        `${base}/${set.zip}`,
        home,
        target,
        options.onProgress,
        warn,
        options.idleTimeoutMs ?? 60_000,
      );
    },
    {
      waitMs: options.lockWaitMs ?? 30 * 60_000,
      what: `another download of ${name}`,
      onWait: (pid) =>
        warn(
          `another process${pid !== null ? ` (pid ${pid})` : ''} is downloading ${name}; waiting for it`,
        ),
    },
  );
}

/** A set folder that exists: verified before (marker), or put there by hand (checked by SHA-256 if known). */
function alreadyPresent(
  set: KnownDataset,
  target: string,
  warn: (m: string) => void,
): DownloadResult {
  if (!statSync(target).isDirectory()) throw new AlsError(`${target} exists and is not a folder`);
  const marker = path.join(target, VERIFIED_MARKER);
  if (existsSync(marker)) {
    let verified: string[] = [];
    try {
      verified =
        (JSON.parse(readFileSync(marker, 'utf8')) as { verified?: string[] }).verified ?? [];
    } catch {
      // A damaged marker still says the set was verified once; the files are checked by their readers.
    }
    return { name: set.name, dir: target, status: 'present', verified };
  }
  // Not put there by `als download` (e.g. a symlink to a shared copy): check it without writing into it.
  const verified = verifyFiles(set, target, warn);
  return { name: set.name, dir: target, status: 'present', verified };
}

/** Checks required files and known SHA-256 sums; returns what was verified. */
function verifyFiles(set: KnownDataset, dir: string, warn: (m: string) => void): string[] {
  for (const file of set.requiredFiles) {
    if (!existsSync(path.join(dir, file)))
      throw new AlsError(`${set.name}: ${file} is missing from ${dir}`);
  }
  const verified: string[] = [];
  for (const [file, expected] of Object.entries(set.sha256)) {
    const actual = sha256File(path.join(dir, file));
    if (actual === expected) {
      verified.push(`SHA-256 of ${file}`);
    } else if (set.sha256Strict) {
      throw new AlsError(
        `${set.name}: SHA-256 mismatch for ${file} (expected ${expected}, got ${actual})`,
      );
    } else {
      warn(
        `${set.name}: ${file} differs from the release als knows (SHA-256 ${actual.slice(0, 12)}…); GroupLens re-releases this set, so it is kept`,
      );
    }
  }
  return verified;
}

function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const bytes = readSyncChunk(fd, buffer);
      if (bytes === 0) break;
      hash.update(buffer.subarray(0, bytes));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function readSyncChunk(fd: number, buffer: Buffer): number {
  return readSync(fd, buffer, 0, buffer.length, null);
}

function writeMarker(dir: string, set: KnownDataset, source: string, verified: string[]): void {
  const body = { name: set.name, source, verified, verifiedAt: new Date().toISOString() };
  writeFileSync(path.join(dir, VERIFIED_MARKER), `${JSON.stringify(body, null, 2)}\n`);
}

/** Folder mirror: copy `<mirror>/<name>` (or the zip's inner folder name) into place, verifying. */
function copyFromFolderMirror(
  set: KnownDataset,
  mirror: string,
  target: string,
  warn: (m: string) => void,
): DownloadResult {
  const candidates = [path.join(mirror, set.name), path.join(mirror, set.innerFolder)];
  const source = candidates.find((dir) => existsSync(dir) && statSync(dir).isDirectory());
  if (source === undefined) throw new AlsError(`mirror folder ${mirror} has no ${set.name} folder`);
  // Built in a temp folder beside the target (same file system) and renamed into place.
  return installFolderAtomicSync(target, (temp) => {
    copyTree(source, temp);
    const verified = verifyFiles(set, temp, warn);
    writeMarker(temp, set, source, verified);
    return { name: set.name, dir: target, status: 'copied', verified, source };
  });
}

/** Copies regular files (following symlinks) and sub-folders; skips als' own marker and cache files. */
function copyTree(from: string, to: string): void {
  for (const entry of readdirSync(from)) {
    if (entry.startsWith('.als')) continue;
    const source = path.join(from, entry);
    const destination = path.join(to, entry);
    const stats = statSync(source);
    if (stats.isDirectory()) {
      mkdirSync(destination);
      copyTree(source, destination);
    } else if (stats.isFile()) {
      copyFileSync(source, destination);
    }
  }
}

/** GroupLens' .md5 files read "MD5 (ml-100k.zip) = <hex>" (BSD style); `md5sum` style works too. */
export function parseMd5File(text: string): string | undefined {
  return /\b([0-9a-f]{32})\b/i.exec(text)?.[1]?.toLowerCase();
}

/**
 * Aborts a transfer that receives nothing for `idleMs` (a stalled server would otherwise hang the
 * command forever); `touch()` is called whenever bytes arrive.
 */
class IdleWatchdog {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  constructor(readonly idleMs: number) {
    this.touch();
  }
  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(), this.idleMs);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
  get fired(): boolean {
    return this.controller.signal.aborted;
  }
}

async function fetchOrFail(url: string, watchdog: IdleWatchdog): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: watchdog.controller.signal });
  } catch (error) {
    if (watchdog.fired) throw stalled(url, watchdog);
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    // A network failure (no route, no DNS) gets the way out: a local mirror of the extracted sets.
    throw new AlsError(
      `cannot download ${url}: ${cause?.code ?? cause?.message ?? (error as Error).message} (offline? use --mirror <url-or-folder> or ALS_MIRROR)`,
    );
  }
  watchdog.touch();
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new AlsError(
      `cannot download ${url}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
    );
  }
  return response;
}

function stalled(url: string, watchdog: IdleWatchdog): AlsError {
  return new AlsError(
    `cannot download ${url}: no data for ${(watchdog.idleMs / 1000).toFixed(1)} s, giving up`,
  );
}

async function fetchAndExtract(
  set: KnownDataset,
  url: string,
  home: string,
  target: string,
  onProgress: ((progress: DownloadProgress) => void) | undefined,
  warn: (m: string) => void,
  idleTimeoutMs: number,
): Promise<DownloadResult> {
  // The zip goes to a temp name with our pid, so a killed download is swept by the next one.
  const part = tempPathFor(path.join(home, set.zip));
  const watchdog = new IdleWatchdog(idleTimeoutMs);
  try {
    // The checksum first: a mirror without one cannot be verified, so nothing large is fetched.
    const md5Response = await fetchOrFail(`${url}.md5`, watchdog);
    const expectedMd5 = parseMd5File(await md5Response.text());
    if (expectedMd5 === undefined) throw new AlsError(`${url}.md5 holds no MD5 digest`);

    const response = await fetchOrFail(url, watchdog);
    const totalBytes = Number(response.headers.get('content-length') ?? 0);
    const md5 = createHash('md5');
    let received = 0;
    onProgress?.({ name: set.name, phase: 'start', receivedBytes: 0, totalBytes });
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        watchdog.touch();
        md5.update(chunk);
        received += chunk.length;
        onProgress?.({ name: set.name, phase: 'data', receivedBytes: received, totalBytes });
        callback(null, chunk);
      },
    });
    try {
      await pipeline(
        Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
        tap,
        createWriteStream(part),
      );
    } catch (error) {
      if (watchdog.fired) throw stalled(url, watchdog);
      throw new AlsError(`cannot download ${url}: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      onProgress?.({ name: set.name, phase: 'done', receivedBytes: received, totalBytes });
      watchdog.stop();
    }
    if (totalBytes > 0 && received !== totalBytes) {
      throw new AlsError(`download of ${url} was cut short: ${received} of ${totalBytes} bytes`);
    }
    const actualMd5 = md5.digest('hex');
    if (actualMd5 !== expectedMd5) {
      throw new AlsError(
        `checksum mismatch for ${url}: MD5 ${actualMd5}, expected ${expectedMd5}; nothing was installed`,
      );
    }

    return await installFolderAtomic(target, async (temp) => {
      await extractZip(part, temp, set);
      // The set's files are in the zip's inner folder (ml-10M100K for ml-10m), or at its top level.
      const inner = path.join(temp, set.innerFolder);
      const extracted = existsSync(inner) && statSync(inner).isDirectory() ? inner : temp;
      const verified = [`MD5 of ${set.zip}`, ...verifyFiles(set, extracted, warn)];
      writeMarker(extracted, set, url, verified);
      return {
        installFrom: extracted,
        result: {
          name: set.name,
          dir: target,
          status: 'downloaded' as const,
          verified,
          source: url,
        },
      };
    });
  } finally {
    watchdog.stop();
    rmSync(part, { force: true });
  }
}

/** A name from a hostile zip, cut for a one-line message. */
function shorten(name: string): string {
  return name.length > 80 ? `${name.slice(0, 77)}…` : name;
}

/**
 * The folder an entry would be written to, or an error when its path escapes `root`
 * (a `..` segment, an absolute path, a drive letter): the classic "zip slip".
 */
export function safeEntryPath(root: string, entryName: string): string {
  const name = entryName.replace(/\\/g, '/');
  const normalized = path.posix.normalize(name);
  if (
    name.startsWith('/') ||
    /^[a-zA-Z]:/.test(name) ||
    normalized === '..' ||
    normalized.startsWith('../') ||
    name.split('/').includes('..')
  ) {
    throw new AlsError(
      `refusing zip entry "${shorten(entryName)}": its path leaves the target folder`,
    );
  }
  const resolved = path.resolve(root, normalized);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw new AlsError(
      `refusing zip entry "${shorten(entryName)}": its path leaves the target folder`,
    );
  }
  return resolved;
}

/**
 * Streams a zip from disk through fflate's Unzip into `root`, writing each entry's chunks as they
 * are inflated, so memory stays bounded by the chunk size even for the 900 MB ml-32m ratings.
 */
async function extractZip(zipFile: string, root: string, set: KnownDataset): Promise<void> {
  const zipName = path.basename(set.zip);
  // A zip starts with a local file header (PK\3\4), or an end record (PK\5\6) when empty.
  const head = Buffer.alloc(4);
  const fd0 = openSync(zipFile, 'r');
  const headBytes = readSync(fd0, head, 0, 4, 0);
  closeSync(fd0);
  if (headBytes < 4 || head.readUInt32LE(0) !== 0x04034b50) {
    throw new AlsError(
      `${zipName} is not a zip file (first bytes ${head.subarray(0, headBytes).toString('hex') || 'none'}); nothing was installed`,
    );
  }
  let failure: unknown;
  let entries = 0;
  let totalBytes = 0;
  const open = new Set<number>();
  const unzip = new Unzip((file) => {
    if (failure !== undefined) return;
    entries++;
    let destination: string;
    try {
      destination = safeEntryPath(root, file.name);
    } catch (error) {
      failure = error;
      return;
    }
    if (file.name.endsWith('/')) {
      mkdirSync(destination, { recursive: true });
      return;
    }
    mkdirSync(path.dirname(destination), { recursive: true });
    const fd = openSync(destination, 'w');
    open.add(fd);
    let entryBytes = 0;
    file.ondata = (error, data, final) => {
      if (failure !== undefined) return;
      if (error) {
        failure = new AlsError(`corrupt zip entry "${shorten(file.name)}": ${error.message}`);
        return;
      }
      entryBytes += data.length;
      totalBytes += data.length;
      if (entryBytes > set.maxEntryBytes) {
        failure = new AlsError(
          `zip entry "${shorten(file.name)}" of ${zipName} is larger than ${set.maxEntryBytes / MiB} MiB, more than any file of ${set.name}; nothing was installed`,
        );
        return;
      }
      if (totalBytes > set.maxTotalBytes) {
        failure = new AlsError(
          `${zipName} extracts to more than ${set.maxTotalBytes / MiB} MiB, more than ${set.name} holds; nothing was installed`,
        );
        return;
      }
      try {
        writeSync(fd, data);
      } catch (writeError) {
        failure = fileSystemError(writeError, {
          action: `extract ${zipName} into ${path.dirname(root)}`,
        });
        return;
      }
      if (final) {
        closeSync(fd);
        open.delete(fd);
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    for await (const chunk of createReadStream(zipFile, { highWaterMark: 1 << 20 })) {
      unzip.push(chunk as Buffer);
      if (failure !== undefined) break;
    }
    if (failure === undefined) unzip.push(new Uint8Array(0), true);
    if (failure === undefined && open.size > 0) failure = new AlsError(`truncated zip ${zipName}`);
    if (failure === undefined && entries === 0)
      failure = new AlsError(
        `${zipName} is not a zip file (no entries found); nothing was installed`,
      );
  } catch (error) {
    failure ??= new AlsError(`corrupt zip ${zipName}: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    for (const fd of open) closeSync(fd);
  }
  if (failure !== undefined) throw failure;
}
