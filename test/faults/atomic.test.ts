/** The atomic-write module's pieces: pid-named temps, the sweep, the lock, and fileSystemError. */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acquireLock,
  checkWritableTarget,
  sweepStaleTemps,
  tempPathFor,
  tryLock,
} from '../../src/data/atomic.js';
import { fileSystemError } from '../../src/errors.js';
import { caught, expectOneLine } from './helpers.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-atomic-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const fresh = (label: string): string => {
  const dir = path.join(scratch, `${label}-${dirs++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
function deadPid(): number {
  return Number(
    execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).trim(),
  );
}

describe('atomic module', () => {
  it('temp names carry the pid; sweepStaleTemps reports what it removed', () => {
    const dir = fresh('names');
    expect(path.basename(tempPathFor(path.join(dir, 'a.als')))).toMatch(
      new RegExp(`^\\.a\\.als\\.${process.pid}-[0-9a-f]{8}\\.als-tmp$`),
    );
    writeFileSync(path.join(dir, `.a.${deadPid()}-00000000.als-tmp`), '');
    expect(sweepStaleTemps(dir)).toHaveLength(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an exclusive lock: a second taker is refused in one line naming the holder; a dead holder is taken over', () => {
    const target = path.join(fresh('lock'), 'same.als');
    const first = acquireLock(target);
    const second = tryLock(target);
    expect(second).toEqual({ heldBy: process.pid });
    expectOneLine(
      caught(() => acquireLock(target, 'another training run')),
      new RegExp(`same\\.als is in use by another training run \\(pid ${process.pid}\\)`),
    );
    first.release();
    writeFileSync(`${target}.als-lock`, `${deadPid()}\n`);
    const taken = acquireLock(target);
    expect(readFileSync(`${target}.als-lock`, 'utf8')).toBe(`${process.pid}\n`);
    taken.release();
    expect(existsSync(`${target}.als-lock`)).toBe(false);
  });
  it('fileSystemError maps Node codes to words', () => {
    const error = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/x/y',
    });
    expect(fileSystemError(error).message).toBe('/x/y: no space left on the device (ENOSPC)');
    expect(fileSystemError(error, { action: 'write m.als' }).message).toBe(
      'cannot write m.als: no space left on the device (ENOSPC)',
    );
  });

  it('checkWritableTarget refuses, before any work, what the write would refuse, and leaves nothing behind', () => {
    const dir = fresh('writable');
    checkWritableTarget(path.join(dir, 'm.als'));
    expect(readdirSync(dir)).toEqual([]);
    mkdirSync(path.join(dir, 'a-folder'));
    expectOneLine(
      caught(() => checkWritableTarget(path.join(dir, 'a-folder'))),
      /cannot write .*a-folder: it is a folder/,
    );
    expectOneLine(
      caught(() => checkWritableTarget(path.join(dir, 'missing', 'm.als'))),
      /folder .*missing does not exist/,
    );
    checkWritableTarget(path.join(dir, 'created', 'm.als'), { createFolder: true });
    expect(readdirSync(path.join(dir, 'created'))).toEqual([]);
    writeFileSync(path.join(dir, 'file'), 'x');
    expectOneLine(
      caught(() => checkWritableTarget(path.join(dir, 'file', 'm.als'), { createFolder: true })),
      /cannot create folder .*file: .*\((EEXIST|ENOTDIR)\)/,
    );
  });
});
