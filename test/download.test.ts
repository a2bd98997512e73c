import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  downloadDataset,
  parseMd5File,
  safeEntryPath,
  VERIFIED_MARKER,
} from '../src/data/download.js';
import { ensureDataDir } from '../src/data/home.js';
import { AlsError } from '../src/errors.js';
import { movielensDir } from './helpers/movielens.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-download-'));
const ml100k = movielensDir('ml-100k');
const uData = readFileSync(path.join(ml100k, 'u.data'));
const uItem = readFileSync(path.join(ml100k, 'u.item'));

/** Files the test server serves, by URL path; `requests` logs every path asked for. */
const served = new Map<string, Buffer>();
const requests: string[] = [];
let server: Server;
let baseUrl = '';

function md5Line(name: string, bytes: Uint8Array): string {
  // GroupLens' format.
  return `MD5 (${name}) = ${createHash('md5').update(bytes).digest('hex')}\n`;
}

/** Serves `<prefix>/<zipName>` and its .md5 (correct unless `md5` is given). */
function serve(
  prefix: string,
  zipName: string,
  files: Record<string, Uint8Array>,
  md5?: string,
): void {
  const zip = Buffer.from(zipSync(files, { level: 6 }));
  served.set(`/${prefix}/${zipName}`, zip);
  served.set(`/${prefix}/${zipName}.md5`, Buffer.from(md5 ?? md5Line(zipName, zip)));
}

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    if (request.url === '/stall/ml-1m.zip') {
      // Headers and a few bytes, then nothing: the watchdog must give up.
      response.writeHead(200, { 'content-length': 1000 });
      response.write(Buffer.alloc(10));
      return;
    }
    const body = served.get(request.url ?? '');
    if (body === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
    });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

function freshHome(label: string): string {
  const home = path.join(scratch, label, 'home');
  mkdirSync(home, { recursive: true });
  return home;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

/** Nothing but the listed entries is left in the home: no .part, no temporary folder. */
function expectHomeHolds(home: string, entries: string[]): void {
  expect(readdirSync(home).sort()).toEqual(entries.sort());
}

describe('downloadDataset over HTTP', () => {
  it('parses GroupLens and md5sum style digests', () => {
    expect(parseMd5File('MD5 (ml-100k.zip) = 0E33842E24A9C977BE4E0107933C0723\n')).toBe(
      '0e33842e24a9c977be4e0107933c0723',
    );
    expect(parseMd5File('0e33842e24a9c977be4e0107933c0723  ml-100k.zip\n')).toBe(
      '0e33842e24a9c977be4e0107933c0723',
    );
    expect(parseMd5File('<html>oops</html>')).toBeUndefined();
  });

  it('downloads, verifies and installs a set; a second call fetches nothing', async () => {
    serve('good', 'ml-100k.zip', {
      'ml-100k/u.data': uData,
      'ml-100k/u.item': uItem,
      'ml-100k/README': Buffer.from('hi'),
    });
    const home = freshHome('good');
    const progress: { phase: string; receivedBytes: number; totalBytes: number }[] = [];
    const result = await downloadDataset('ml-100k', {
      home,
      mirror: `${baseUrl}/good/`,
      onProgress: (p) => progress.push(p),
    });
    expect(result.status).toBe('downloaded');
    // Progress is reported through the callback (the CLI draws the bar): start, bytes, done.
    expect(progress[0]!.phase).toBe('start');
    expect(progress.at(-1)!.phase).toBe('done');
    const zipBytes = progress.at(-1)!.receivedBytes;
    expect(zipBytes).toBeGreaterThan(0);
    expect(progress.filter((p) => p.phase === 'data').at(-1)!.receivedBytes).toBe(zipBytes);
    if (progress[0]!.totalBytes > 0) expect(progress[0]!.totalBytes).toBe(zipBytes);
    expect(result.dir).toBe(path.join(home, 'ml-100k'));
    expect(result.verified).toEqual([
      'MD5 of ml-100k.zip',
      'SHA-256 of u.data',
      'SHA-256 of u.item',
    ]);
    expect(readFileSync(path.join(home, 'ml-100k', 'u.data')).equals(uData)).toBe(true);
    expect(readFileSync(path.join(home, 'ml-100k', 'README'), 'utf8')).toBe('hi');
    const marker = JSON.parse(readFileSync(path.join(home, 'ml-100k', VERIFIED_MARKER), 'utf8'));
    expect(marker.verified).toEqual(result.verified);
    expectHomeHolds(home, ['ml-100k']);

    const before = requests.length;
    const again = await downloadDataset('ml-100k', { home, mirror: `${baseUrl}/good` });
    expect(again.status).toBe('present');
    expect(requests.length).toBe(before);
  });

  it('handles a zip whose inner folder is not the set name (ml-10m → ml-10M100K)', async () => {
    serve('inner', 'ml-10m.zip', {
      'ml-10M100K/ratings.dat': Buffer.from('1::122::5::838985046\n'),
      'ml-10M100K/movies.dat': Buffer.from('122::Boomerang (1992)::Comedy|Romance\n'),
    });
    const home = freshHome('inner');
    const result = await downloadDataset('ml-10m', { home, mirror: `${baseUrl}/inner` });
    expect(result.dir).toBe(path.join(home, 'ml-10m'));
    expect(readFileSync(path.join(home, 'ml-10m', 'ratings.dat'), 'utf8')).toBe(
      '1::122::5::838985046\n',
    );
    expectHomeHolds(home, ['ml-10m']);
  });

  it('an MD5 mismatch deletes the .part and installs nothing', async () => {
    serve(
      'badmd5',
      'ml-100k.zip',
      { 'ml-100k/u.data': uData, 'ml-100k/u.item': uItem },
      'MD5 (ml-100k.zip) = 00000000000000000000000000000000\n',
    );
    const home = freshHome('badmd5');
    const error = await failure(downloadDataset('ml-100k', { home, mirror: `${baseUrl}/badmd5` }));
    expect(error).toBeInstanceOf(AlsError);
    expect(error.message).toMatch(
      /^checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/badmd5\/ml-100k\.zip: MD5 [0-9a-f]{32}, expected 0{32}; nothing was installed$/,
    );
    expectHomeHolds(home, []);
  });

  it('a SHA-256 mismatch of a fixed set installs nothing', async () => {
    const altered = Buffer.from(uData);
    altered[0] = altered[0] === 0x31 ? 0x32 : 0x31;
    serve('badsha', 'ml-100k.zip', { 'ml-100k/u.data': altered, 'ml-100k/u.item': uItem });
    const home = freshHome('badsha');
    const error = await failure(downloadDataset('ml-100k', { home, mirror: `${baseUrl}/badsha` }));
    expect(error.message).toMatch(
      /^ml-100k: SHA-256 mismatch for u\.data \(expected 06416e59[0-9a-f]+, got [0-9a-f]{64}\)$/,
    );
    expectHomeHolds(home, []);
  });

  it('refuses zip entries that escape the target folder', async () => {
    serve('evil', 'ml-1m.zip', {
      'ml-1m/ratings.dat': Buffer.from('1::1::5::1\n'),
      '../evil': Buffer.from('owned'),
    });
    const home = freshHome('evil');
    const error = await failure(downloadDataset('ml-1m', { home, mirror: `${baseUrl}/evil` }));
    expect(error.message).toBe('refusing zip entry "../evil": its path leaves the target folder');
    expectHomeHolds(home, []);
    expect(existsSync(path.join(scratch, 'evil', 'evil'))).toBe(false);
    expect(existsSync(path.join(scratch, 'evil', 'home', 'evil'))).toBe(false);

    const root = path.join(scratch, 'root');
    expect(() => safeEntryPath(root, '/etc/passwd')).toThrow(/leaves the target folder/);
    expect(() => safeEntryPath(root, 'a/../../b')).toThrow(/leaves the target folder/);
    expect(() => safeEntryPath(root, 'C:\\x')).toThrow(/leaves the target folder/);
    expect(() => safeEntryPath(root, '..\\x')).toThrow(/leaves the target folder/);
    expect(safeEntryPath(root, 'ml-1m/ratings.dat')).toBe(path.join(root, 'ml-1m', 'ratings.dat'));
  });

  it('an HTTP 404 is one line naming the URL', async () => {
    const home = freshHome('missing');
    const error = await failure(
      downloadDataset('ml-25m', { home, mirror: `${baseUrl}/nothing-here` }),
    );
    expect(error.message).toMatch(
      /^cannot download http:\/\/127\.0\.0\.1:\d+\/nothing-here\/ml-25m\.zip\.md5: HTTP 404 Not Found$/,
    );
    expectHomeHolds(home, []);
  });

  it('a stalled transfer is abandoned after the idle timeout, leaving nothing behind', async () => {
    served.set(
      '/stall/ml-1m.zip.md5',
      Buffer.from('MD5 (ml-1m.zip) = 0123456789abcdef0123456789abcdef\n'),
    );
    const home = freshHome('stall');
    const error = await failure(
      downloadDataset('ml-1m', { home, mirror: `${baseUrl}/stall`, idleTimeoutMs: 300 }),
    );
    expect(error.message).toMatch(
      /^cannot download http:\/\/127\.0\.0\.1:\d+\/stall\/ml-1m\.zip: no data for 0\.3 s, giving up$/,
    );
    expectHomeHolds(home, []);
  });

  it('a zip served without its .md5 is not installed', async () => {
    served.set(
      '/nomd5/ml-20m.zip',
      Buffer.from(zipSync({ 'ml-20m/ratings.csv': Buffer.from('x') })),
    );
    const home = freshHome('nomd5');
    const error = await failure(downloadDataset('ml-20m', { home, mirror: `${baseUrl}/nomd5` }));
    expect(error.message).toMatch(/ml-20m\.zip\.md5: HTTP 404/);
    expect(requests).not.toContain('/nomd5/ml-20m.zip');
    expectHomeHolds(home, []);
  });

  it('unknown names are refused', async () => {
    const error = await failure(downloadDataset('ml-5m', { home: freshHome('unknown') }));
    expect(error.message).toMatch(/^unknown data set "ml-5m"; known: ml-100k, /);
  });
});

describe('folder mirror and the data home', () => {
  const mirror = path.dirname(ml100k);

  it('copies ml-100k from a folder of extracted sets and verifies u.data', async () => {
    const home = freshHome('folder');
    const result = await downloadDataset('ml-100k', { home, mirror });
    expect(result.status).toBe('copied');
    expect(result.verified).toContain('SHA-256 of u.data');
    expect(
      readFileSync(path.join(home, 'ml-100k', 'u1.test')).equals(
        readFileSync(path.join(ml100k, 'u1.test')),
      ),
    ).toBe(true);
    expect(existsSync(path.join(home, 'ml-100k', VERIFIED_MARKER))).toBe(true);
    expectHomeHolds(home, ['ml-100k']);
  });

  it('a folder copy with a damaged u.data installs nothing; a re-released ml-latest-small only warns', async () => {
    const fake = path.join(scratch, 'fake-mirror');
    mkdirSync(path.join(fake, 'ml-100k'), { recursive: true });
    writeFileSync(path.join(fake, 'ml-100k', 'u.data'), '1\t1\t5\t1\n');
    writeFileSync(path.join(fake, 'ml-100k', 'u.item'), uItem);
    mkdirSync(path.join(fake, 'ml-latest-small'));
    writeFileSync(
      path.join(fake, 'ml-latest-small', 'ratings.csv'),
      'userId,movieId,rating,timestamp\n1,1,4.0,1\n',
    );
    writeFileSync(
      path.join(fake, 'ml-latest-small', 'movies.csv'),
      'movieId,title,genres\n1,Toy Story (1995),Comedy\n',
    );
    const home = freshHome('fake');
    const error = await failure(downloadDataset('ml-100k', { home, mirror: fake }));
    expect(error.message).toMatch(/^ml-100k: SHA-256 mismatch for u\.data/);
    expectHomeHolds(home, []);
    const warnings: string[] = [];
    const result = await downloadDataset('ml-latest-small', {
      home,
      mirror: fake,
      warn: (m) => warnings.push(m),
    });
    expect(result.status).toBe('copied');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^ml-latest-small: ratings\.csv differs from the release als knows/,
    );
  });

  it('ensureDataDir downloads a known set on first use, and refuses when offline', async () => {
    const home = freshHome('ensure');
    const offline = await failure(ensureDataDir('ml-100k', { home, offline: true, mirror }));
    expect(offline.message).toBe(
      `ml-100k is not in the data home ${home} and --offline forbids downloading it; run 'als download ml-100k' first`,
    );
    expectHomeHolds(home, []);
    const dir = await ensureDataDir('ml-100k', { home, mirror });
    expect(dir).toBe(path.join(home, 'ml-100k'));
    // Present now: offline is fine.
    expect(await ensureDataDir('ml-100k', { home, offline: true })).toBe(dir);
    // Unknown bare names and paths are never downloaded.
    await expect(ensureDataDir('my-set', { home, mirror })).rejects.toThrow(
      /data set folder not found/,
    );
    expect(await ensureDataDir(ml100k, { home, offline: true })).toBe(ml100k);
  });
});
