/**
 * Ordinary file-system faults (a file where a folder is needed, a full disk, a read-only place,
 * two processes at once) end in one line naming the path and the cause, and leave nothing behind.
 * Full disk and read-only cases mount a 1 MB tmpfs / a read-only bind mount, so they need root.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTextFileAtomic } from '../../src/data/atomic.js';
import { writeCheckpoint } from '../../src/data/checkpoint.js';
import { downloadDataset } from '../../src/data/download.js';
import { generateSynth } from '../../src/data/synth.js';
import { movielensDir } from '../helpers/movielens.js';
import { als, alsBin, caught, caughtAsync, expectOneLine, sampleCheckpoint } from './helpers.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-fs-faults-'));
const isRoot = process.getuid?.() === 0;
let server: Server;
let baseUrl = '';
const served = new Map<string, Buffer>();

function serveZip(prefix: string, zipName: string, zip: Buffer): void {
  served.set(`/${prefix}/${zipName}`, zip);
  served.set(
    `/${prefix}/${zipName}.md5`,
    Buffer.from(`MD5 (${zipName}) = ${createHash('md5').update(zip).digest('hex')}\n`),
  );
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const body = served.get(request.url ?? '');
    if (body === undefined) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-length': body.length });
    // Slowly, in two halves, so that concurrent downloads overlap.
    response.write(body.subarray(0, body.length >> 1));
    setTimeout(() => response.end(body.subarray(body.length >> 1)), 50);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

let dirs = 0;
const fresh = (label: string): string => {
  const dir = path.join(scratch, `${label}-${dirs++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** A pid that is certainly dead: a child that has exited. */
function deadPid(): number {
  const out = execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], {
    encoding: 'utf8',
  });
  return Number(out.trim());
}

/** Mounts a tmpfs of `size` (e.g. "256k") at a fresh folder for the duration of `fn`. */
async function withTmpfs<T>(size: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = fresh('tmpfs');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  try {
    return await fn(dir);
  } finally {
    execFileSync('umount', [dir]);
  }
}

/** A read-only bind mount of a fresh folder (root ignores permission bits, not a read-only mount). */
async function withReadOnly<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const source = fresh('ro-source');
  const dir = fresh('ro');
  execFileSync('mount', ['--bind', source, dir]);
  try {
    execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
    return await fn(dir);
  } finally {
    execFileSync('umount', [dir]);
  }
}

describe('stale temp files', () => {
  it('a checkpoint write sweeps temp files of dead processes (and of old als versions), keeps those of live ones', () => {
    const dir = fresh('sweep');
    const dead = deadPid();
    const names = {
      deadNew: `.m.als.${dead}-0badc0de.als-tmp`,
      deadOldCheckpoint: `.m.als.${dead}.1764500000000.tmp`,
      deadOldCache: `ml-x-0123456789abcdef.alscache.tmp-${dead}-1764500000000`,
      deadOldFolder: `.ml-100k.tmp-${dead}-1764500000000`,
      live: `.m.als.${process.ppid}-0badc0de.als-tmp`,
      liveButOld: `.n.als.${process.ppid}-0badc0de.als-tmp`,
      unrelated: 'notes.tmp',
    };
    for (const name of Object.values(names)) writeFileSync(path.join(dir, name), 'x');
    mkdirSync(path.join(dir, `.big.${dead}-00000001.als-tmp`));
    writeFileSync(path.join(dir, `.big.${dead}-00000001.als-tmp`, 'ratings.csv'), 'x');
    const old = (Date.now() - 2 * 24 * 3600 * 1000) / 1000;
    utimesSync(path.join(dir, names.liveButOld), old, old);
    writeCheckpoint(path.join(dir, 'm.als'), sampleCheckpoint());
    expect(readdirSync(dir).sort()).toEqual([names.live, 'm.als', 'notes.tmp'].sort());
  });
});

describe('downloads', () => {
  const ml100k = (): Record<string, Uint8Array> => {
    const dir = movielensDir('ml-100k');
    return {
      'ml-100k/u.data': readFileSync(path.join(dir, 'u.data')),
      'ml-100k/u.item': readFileSync(path.join(dir, 'u.item')),
    };
  };

  it('a "zip" of random bytes is "not a zip file"', async () => {
    serveZip('random', 'ml-100k.zip', randomBytes(50_000));
    const home = fresh('random');
    expectOneLine(
      await caughtAsync(() => downloadDataset('ml-100k', { home, mirror: `${baseUrl}/random` })),
      /ml-100k\.zip is not a zip file \(first bytes [0-9a-f]{8}\); nothing was installed/,
    );
    expect(readdirSync(home)).toEqual([]);
  });

  it('a zip entry larger than any file of the set is refused while extracting', async () => {
    serveZip(
      'bomb',
      'ml-100k.zip',
      Buffer.from(
        zipSync({ ...ml100k(), 'ml-100k/u.data': new Uint8Array(9 * 2 ** 20) }, { level: 9 }),
      ),
    );
    const home = fresh('bomb');
    expectOneLine(
      await caughtAsync(() => downloadDataset('ml-100k', { home, mirror: `${baseUrl}/bomb` })),
      /zip entry "ml-100k\/u\.data" of ml-100k\.zip is larger than 8 MiB, more than any file of ml-100k/,
    );
    expect(readdirSync(home)).toEqual([]);
  });

  it('two concurrent downloads of the same set: one downloads, the other waits and finds it; nothing left over', async () => {
    serveZip('twice', 'ml-100k.zip', Buffer.from(zipSync(ml100k())));
    for (let round = 0; round < 3; round++) {
      const home = fresh('twice');
      const warnings: string[] = [];
      const results = await Promise.all(
        [0, 1].map(() =>
          downloadDataset('ml-100k', {
            home,
            mirror: `${baseUrl}/twice`,
            warn: (m) => warnings.push(m),
          }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual(['downloaded', 'present']);
      expect(warnings).toEqual([expect.stringMatching(/is downloading ml-100k; waiting for it/)]);
      expect(readdirSync(home)).toEqual(['ml-100k']);
    }
  });

  it('two concurrent `als download ml-latest-small` processes both succeed', async () => {
    const mirror = path.dirname(movielensDir('ml-latest-small'));
    for (let round = 0; round < 3; round++) {
      const home = fresh('cli-twice');
      const run = (): Promise<{ code: number | null; stderr: string }> =>
        new Promise((resolve) => {
          const child = spawn(
            process.execPath,
            [alsBin, 'download', 'ml-latest-small', '--data-home', home, '--mirror', mirror],
            { stdio: ['ignore', 'ignore', 'pipe'] },
          );
          let stderr = '';
          child.stderr.on('data', (chunk) => (stderr += chunk));
          child.on('close', (code) => resolve({ code, stderr }));
        });
      const [a, b] = await Promise.all([run(), run()]);
      expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
      expect(readdirSync(home)).toEqual(['ml-latest-small']);
    }
  });
});

describe('file-system errors are one line naming the path and the cause', () => {
  it('--data-home that is a file (EEXIST on mkdir) and a checkpoint under a file (ENOTDIR)', () => {
    const dir = fresh('files');
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'x');
    const r = als([
      'download',
      'ml-100k',
      '--data-home',
      file,
      '--mirror',
      path.dirname(movielensDir('ml-100k')),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^als: cannot create data home ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: a file is in the way .*\\(EEXIST\\)\\n$`,
      ),
    );
    expectOneLine(
      caught(() => writeCheckpoint(path.join(file, 'm.als'), sampleCheckpoint())),
      /cannot write .*a-file\/m\.als: .*a-file is a file, not a folder/,
    );
    expectOneLine(
      caught(() => writeTextFileAtomic(path.join(file, 'deeper', 'm.csv'), 'x')),
      /cannot write .*m\.csv: a part of the path is a file, not a folder \(ENOTDIR\)/,
    );
  });

  it.skipIf(!isRoot)(
    'synth and checkpoints on a full disk: ENOSPC in one line, no temp file, the old checkpoint intact',
    async () => {
      await withTmpfs('256k', async (dir) => {
        const r = als([
          'synth',
          '--out',
          path.join(dir, 'big'),
          '--users',
          '2000',
          '--movies',
          '500',
          '--ratings',
          '100000',
        ]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(
          /^als: cannot create .*big: no space left on the device \(ENOSPC\)\n$/,
        );
        expect(readdirSync(dir)).toEqual([]);
        const checkpoint = path.join(dir, 'm.als');
        writeCheckpoint(checkpoint, sampleCheckpoint());
        const before = readFileSync(checkpoint);
        const big = sampleCheckpoint();
        big.catalog.titles[0] = 'T'.repeat(400_000);
        expectOneLine(
          caught(() => writeCheckpoint(checkpoint, big)),
          /cannot write .*m\.als: no space left on the device \(ENOSPC\)/,
        );
        expect(readFileSync(checkpoint).equals(before)).toBe(true);
        expect(readdirSync(dir)).toEqual(['m.als']);
      });
    },
  );

  it.skipIf(!isRoot)(
    'synth, download and checkpoints in a read-only place: EROFS in one line',
    async () => {
      await withReadOnly(async (dir) => {
        const synth = als([
          'synth',
          '--out',
          path.join(dir, 's'),
          '--users',
          '50',
          '--movies',
          '20',
          '--ratings',
          '1000',
        ]);
        expect(synth.status).toBe(1);
        expect(synth.stderr).toMatch(/^als: cannot create .*s: read-only file system \(EROFS\)\n$/);
        const download = als([
          'download',
          'ml-100k',
          '--data-home',
          dir,
          '--mirror',
          path.dirname(movielensDir('ml-100k')),
        ]);
        expect(download.status).toBe(1);
        expect(download.stderr).toMatch(/^als: .*read-only file system \(EROFS\)\n$/);
        expectOneLine(
          caught(() => writeCheckpoint(path.join(dir, 'm.als'), sampleCheckpoint())),
          /cannot write .*m\.als: read-only file system \(EROFS\)/,
        );
        expectOneLine(
          caught(() =>
            generateSynth({
              out: path.join(dir, 'in-process'),
              users: 10,
              movies: 5,
              ratings: 50,
              minPerUser: 1,
            }),
          ),
          /read-only file system \(EROFS\)/,
        );
      });
    },
  );
});
