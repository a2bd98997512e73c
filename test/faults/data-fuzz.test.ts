/**
 * 500 fuzzed data folders of every layout, loaded in-process through the data layer: each either
 * loads or fails with an AlsError of one line. A TypeError, RangeError or any other error is a bug.
 * Mutations: byte flips, deleted and duplicated lines, stray quotes, NUL bytes, 10 MB lines,
 * truncations, empty files. Then damaged cache files: always rebuilt, never trusted.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import { cacheFileFor } from '../../src/data/cache.js';
import { loadDataset } from '../../src/data/load.js';
import { AlsError } from '../../src/errors.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'als-data-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/** Small valid folders of each layout (12 users, 8 movies, 40 ratings), deterministic. */
function baseFolders(random: Random): Record<string, Record<string, string>> {
  const ratings: [number, number, number, number][] = [];
  const seen = new Set<string>();
  while (ratings.length < 40) {
    const u = 1 + random.nextInt(12);
    const m = 1 + random.nextInt(8);
    if (seen.has(`${u},${m}`)) continue;
    seen.add(`${u},${m}`);
    ratings.push([u, m, 1 + random.nextInt(5), 880_000_000 + random.nextInt(1_000_000)]);
  }
  const titles = Array.from({ length: 8 }, (_, i) => `Movie ${i + 1}, The (19${70 + i})`);
  const genresOf = (i: number): string[] => [GENRES[1 + (i % 18)]!, GENRES[1 + ((i * 7) % 18)]!];
  const flags = (i: number): string =>
    GENRES.map((g) => (genresOf(i).includes(g) ? '1' : '0')).join('|');
  return {
    'ml-100k': {
      'u.data': `${ratings.map(([u, m, r, t]) => `${u}\t${m}\t${r}\t${t}`).join('\n')}\n`,
      'u.item': `${titles.map((t, i) => `${i + 1}|${t}|01-Jan-1995||http://x|${flags(i)}`).join('\n')}\n`,
      'u.genre': `${GENRES.map((g, i) => `${g}|${i}`).join('\n')}\n\n`,
    },
    'ml-1m': {
      'ratings.dat': `${ratings.map(([u, m, r, t]) => `${u}::${m}::${r}::${t}`).join('\n')}\n`,
      'movies.dat': `${titles.map((t, i) => `${i + 1}::${t}::${genresOf(i).join('|')}`).join('\n')}\n`,
      'users.dat': `${Array.from({ length: 12 }, (_, u) => `${u + 1}::F::25::3::12345`).join('\n')}\n`,
    },
    'ml-10m': {
      'ratings.dat': `${ratings.map(([u, m, r, t]) => `${u}::${m}::${r - 0.5}::${t}`).join('\n')}\n`,
      'movies.dat': `${titles.map((t, i) => `${i + 1}::${t}::${genresOf(i).join('|')}`).join('\n')}\n`,
    },
    'ml-csv': {
      'ratings.csv': `userId,movieId,rating,timestamp\n${ratings.map(([u, m, r, t]) => `${u},${m},${r}.0,${t}`).join('\n')}\n`,
      'movies.csv': `movieId,title,genres\n${titles.map((t, i) => `${i + 1},"${t}",${genresOf(i).join('|')}`).join('\n')}\n`,
    },
    'ml-csv-named': {
      'ratings.csv': `userId,movieId,timestamp,rating\n${ratings.map(([u, m, r, t]) => `${u},${m},${t},${r}`).join('\n')}\n`,
      'movies.csv': `movieId,title,genres\n${titles.map((t, i) => `${i + 1},"${t}",${genresOf(i).join('|')}`).join('\n')}\n`,
    },
    plain: {
      'ratings.tsv': `${ratings.map(([u, m, r]) => `${u}\t${m}\t${r}`).join('\n')}\n`,
    },
  };
}

type Mutation = (text: Buffer, random: Random) => Buffer;

const lines = (b: Buffer): Buffer[] => {
  const out: Buffer[] = [];
  let start = 0;
  for (let k = 0; k < b.length; k++) {
    if (b[k] !== 10) continue;
    out.push(b.subarray(start, k + 1));
    start = k + 1;
  }
  if (start < b.length) out.push(b.subarray(start));
  return out;
};

const MUTATIONS: Record<string, Mutation> = {
  byteFlip: (b, r) => {
    const c = Buffer.from(b);
    for (let k = 0; k < 1 + r.nextInt(4); k++)
      if (c.length > 0) c[r.nextInt(c.length)] = r.nextInt(256);
    return c;
  },
  deleteLine: (b, r) => {
    const ls = lines(b);
    ls.splice(r.nextInt(Math.max(1, ls.length)), 1);
    return Buffer.concat(ls);
  },
  duplicateLine: (b, r) => {
    const ls = lines(b);
    const k = r.nextInt(Math.max(1, ls.length));
    if (ls[k]) ls.splice(k, 0, ls[k]!);
    return Buffer.concat(ls);
  },
  strayQuote: (b, r) => {
    const k = r.nextInt(b.length + 1);
    return Buffer.concat([b.subarray(0, k), Buffer.from('"'), b.subarray(k)]);
  },
  nulBytes: (b, r) => {
    const k = r.nextInt(b.length + 1);
    return Buffer.concat([b.subarray(0, k), Buffer.alloc(1 + r.nextInt(8)), b.subarray(k)]);
  },
  truncate: (b, r) => b.subarray(0, r.nextInt(b.length + 1)),
  empty: () => Buffer.alloc(0),
  swapSeparators: (b, r) =>
    Buffer.from(
      b
        .toString('latin1')
        .replace(r.nextFloat() < 0.5 ? /\t/g : /,/g, r.nextFloat() < 0.5 ? ';' : '::'),
      'latin1',
    ),
  hugeNumber: (b, r) => {
    const k = r.nextInt(b.length + 1);
    return Buffer.concat([
      b.subarray(0, k),
      Buffer.from(r.nextFloat() < 0.5 ? '99999999999999999999' : '-1'),
      b.subarray(k),
    ]);
  },
};

/** A 10 MB line (rare: it costs ~50 ms to scan). */
const longLine: Mutation = (b, r) => {
  const k = r.nextInt(b.length + 1);
  return Buffer.concat([
    b.subarray(0, k),
    Buffer.alloc(10 << 20, r.nextFloat() < 0.5 ? 0x37 : 0x41),
    b.subarray(k),
  ]);
};

describe('fuzzed data folders', () => {
  it('500 folders of every layout: every failure is a one-line AlsError', async () => {
    const random = new Random(11);
    const bases = baseFolders(random);
    // The unmutated bases load (so the fuzz starts from valid data).
    for (const [layout, files] of Object.entries(bases)) {
      const dir = path.join(scratch, `base-${layout}`);
      mkdirSync(dir);
      for (const [name, text] of Object.entries(files))
        writeFileSync(path.join(dir, name), text, 'latin1');
      await loadDataset(dir, { cache: false });
    }
    const layouts = Object.keys(bases);
    const mutationNames = Object.keys(MUTATIONS);
    const tally = { loaded: 0, refused: 0, longLines: 0 };
    const bugs: string[] = [];
    for (let c = 0; c < 500; c++) {
      const layout = layouts[c % layouts.length]!;
      const files = bases[layout]!;
      const dir = path.join(scratch, `f${c}`);
      mkdirSync(dir);
      const names = Object.keys(files);
      const victims = new Set([
        names[random.nextInt(names.length)]!,
        ...(random.nextFloat() < 0.3 ? [names[random.nextInt(names.length)]!] : []),
      ]);
      const applied: string[] = [];
      for (const name of names) {
        let bytes = Buffer.from(files[name]!, 'latin1');
        if (victims.has(name)) {
          for (let m = 0; m < 1 + random.nextInt(2); m++) {
            const useLong = c % 50 === 7 && m === 0;
            const mutation = useLong
              ? 'longLine'
              : mutationNames[random.nextInt(mutationNames.length)]!;
            bytes = useLong ? longLine(bytes, random) : MUTATIONS[mutation]!(bytes, random);
            if (useLong) tally.longLines++;
            applied.push(`${name}:${mutation}`);
          }
        }
        writeFileSync(path.join(dir, name), bytes);
      }
      try {
        await loadDataset(dir, {
          cache: false,
          dedupe: random.nextFloat() < 0.5 ? 'error' : 'last',
        });
        tally.loaded++;
      } catch (error) {
        if (
          error instanceof AlsError &&
          !error.message.includes('\n') &&
          error.message.length < 600
        )
          tally.refused++;
        else
          bugs.push(
            `${layout} ${applied.join(' ')}: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')}`,
          );
      }
      rmSync(dir, { recursive: true, force: true });
    }
    expect(bugs).toEqual([]);
    expect(tally.loaded + tally.refused).toBe(500);
    expect(tally.refused).toBeGreaterThan(100);
    expect(tally.longLines).toBeGreaterThanOrEqual(10);
    console.log(
      `data fuzz: 500 folders, ${tally.loaded} loaded, ${tally.refused} refused with one line, ${tally.longLines} with 10 MB lines, 0 other errors`,
    );
  });

  it('50 damaged cache files: each is ignored with a warning and rebuilt, never trusted', async () => {
    const random = new Random(5);
    const files = baseFolders(random)['ml-csv']!;
    const dir = path.join(scratch, 'cached');
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    const cacheDir = path.join(scratch, 'cache');
    const truth = await loadDataset(dir, { cacheDir });
    const cacheFile = cacheFileFor(cacheDir, dir);
    const good = readFileSync(cacheFile);
    let rebuilt = 0;
    for (let c = 0; c < 50; c++) {
      const damaged = Buffer.from(good);
      if (c % 3 === 0)
        for (let k = 0; k < 1 + random.nextInt(6); k++)
          damaged[random.nextInt(damaged.length)] = random.nextInt(256);
      // Damage in the arrays' region (offsets, indexes) rather than the header, half the time.
      else if (c % 3 === 1)
        for (let k = 0; k < 4; k++)
          damaged[damaged.length - 1 - random.nextInt(damaged.length >> 1)] = random.nextInt(256);
      writeFileSync(
        cacheFile,
        c % 3 === 2 ? damaged.subarray(0, random.nextInt(damaged.length)) : damaged,
      );
      const warnings: string[] = [];
      const d = await loadDataset(dir, { cacheDir, warn: (m) => warnings.push(m) });
      // Either the damage was harmless (values in range: same structure) or it was noticed and rebuilt.
      expect(d.matrix.numRatings).toBe(truth.matrix.numRatings);
      if (warnings.some((w) => /ignoring damaged cache/.test(w))) rebuilt++;
    }
    expect(rebuilt).toBeGreaterThan(25);
    expect(readdirSync(cacheDir)).toEqual([path.basename(cacheFile)]);
  });
});
