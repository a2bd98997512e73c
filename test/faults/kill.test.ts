/**
 * kill -9 at random moments of `als train --checkpoint-every 1` and of a first load (cache write).
 * After each kill and the next run in that folder: no temp file remains, the last checkpoint
 * loads, the cache is valid or rebuilt. ALS_KILLS sets the number of kills of each kind
 * (default 5 + 5 here; `npm run test:kills` runs 50).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import { readCheckpoint } from '../../src/data/checkpoint.js';
import { cacheFileFor, readCache, stampSources } from '../../src/data/cache.js';
import { detectLayout } from '../../src/data/readers/detect.js';
import { movielensDir } from '../helpers/movielens.js';
import { als, alsBin } from './helpers.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-kill-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const kills = Number(process.env.ALS_KILLS ?? 5);
// Each kill is followed by one or two full CLI runs (~1–3 s each on a busy machine).
const timeoutMs = Math.max(60_000, kills * 12_000);

/** Starts the CLI and SIGKILLs it after `delayMs` (or when it exits first). Resolves with how it ended. */
function killAfter(args: string[], delayMs: number): Promise<'killed' | 'finished'> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [alsBin, ...args], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? 'killed' : 'finished');
    });
  });
}

const temps = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir).filter((n) => /als-tmp|\.tmp/.test(n)) : [];

describe('kill -9 at random moments', () => {
  it(
    `train --checkpoint-every 1 (${kills} kills): the last checkpoint loads, no temp file after the next run`,
    async () => {
      const random = new Random(99);
      const data = movielensDir('ml-100k');
      const dir = path.join(scratch, 'models');
      mkdirSync(dir);
      const out = path.join(dir, 'm.als');
      const home = path.join(scratch, 'home-train');
      const train = (epochs: number): string[] => [
        'train',
        '--data',
        data,
        '--data-home',
        home,
        '--dim',
        '8',
        '--epochs',
        String(epochs),
        '--kernel',
        'ts',
        '--threads',
        '1',
        '--split',
        'random:0.1',
        '--checkpoint-every',
        '1',
        '--out',
        out,
      ];
      let killed = 0;
      let leftTemps = 0;
      for (let k = 0; k < kills; k++) {
        if ((await killAfter(train(200), 300 + random.nextInt(1500))) === 'killed') killed++;
        if (temps(dir).length > 0) leftTemps++;
        // The checkpoint present is a whole one (old or new), never half of one.
        if (existsSync(out)) expect(readCheckpoint(out).epochsDone).toBeGreaterThan(0);
        const next = als(train(1));
        expect(next.status, next.stderr).toBe(0);
        expect(temps(dir)).toEqual([]);
        expect(readCheckpoint(out).epochsDone).toBe(1);
      }
      expect(killed).toBeGreaterThan(0);
      console.log(
        `train: ${kills} runs, ${killed} killed, ${leftTemps} left a temp file (all swept by the next run), every checkpoint loaded`,
      );
    },
    timeoutMs,
  );

  it(
    `first load of a set (${kills} kills during parsing and the cache write): the next run has a valid cache and no temp file`,
    async () => {
      const random = new Random(7);
      const data = path.join(scratch, 'ml-latest-small');
      cpSync(movielensDir('ml-latest-small'), data, { recursive: true, dereference: true });
      const home = path.join(scratch, 'home-load');
      const cacheDir = path.join(home, '.als-cache');
      const stats = ['stats', '--data', data, '--data-home', home];
      const cacheFile = cacheFileFor(cacheDir, data);
      const sources = stampSources(detectLayout(data).sourceFiles);
      let leftTemps = 0;
      for (let k = 0; k < kills; k++) {
        rmSync(cacheDir, { recursive: true, force: true });
        await killAfter(stats, 150 + random.nextInt(900));
        if (temps(cacheDir).length > 0) leftTemps++;
        const next = als(stats);
        expect(next.status, next.stderr).toBe(0);
        expect(next.stderr).not.toMatch(/damaged cache/);
        expect(temps(cacheDir)).toEqual([]);
        // The cache the next run left is valid (a later load reads it back).
        expect('dataset' in readCache(cacheFile, data, sources)).toBe(true);
        expect(readdirSync(cacheDir)).toEqual([path.basename(cacheFile)]);
      }
      console.log(
        `first load: ${kills} kills, ${leftTemps} left a temp cache file (all swept by the next run), every next cache valid`,
      );
    },
    timeoutMs,
  );
});
