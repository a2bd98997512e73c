/**
 * Crafted checkpoints whose SHA-256 trailer is valid (recomputed by the crafter), so only the
 * header-first size checks and the post-read semantic checks stand between them and the kernels.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCheckpoint, writeCheckpoint } from '../../src/data/checkpoint.js';
import { Random } from '../../src/core/random.js';
import {
  caught,
  expectOneLine,
  repoRoot,
  sampleCheckpoint,
  splitCheckpoint,
  writeCrafted,
  type CheckpointParts,
} from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'als-crafted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const valid = path.join(dir, 'valid.als');
writeCheckpoint(valid, sampleCheckpoint());
const fresh = (): CheckpointParts => {
  const parts = splitCheckpoint(valid);
  return {
    version: parts.version,
    header: structuredClone(parts.header),
    payload: Buffer.from(parts.payload),
  };
};

/** A crafted file at a fresh path; returns the error readCheckpoint throws (or undefined). */
function refusal(parts: CheckpointParts, options?: Parameters<typeof writeCrafted>[2]): unknown {
  const file = path.join(dir, `c${Math.random().toString(36).slice(2)}.als`);
  writeCrafted(file, parts, options);
  const error = caught(() => readCheckpoint(file));
  rmSync(file, { force: true });
  return error;
}

/** A consistent checkpoint of 1 user, 1 movie and the given dim, payload zeros (laid out as the writer does). */
function consistentOfDim(dim: number): CheckpointParts {
  const parts = fresh();
  const h = parts.header as any;
  h.hyper.dim = dim;
  h.dataset.numUsers = 1;
  h.dataset.numItems = 1;
  h.numGenres = 0;
  h.genreNames = [];
  const lengths: Record<string, number> = {
    userBias: 1,
    itemBias: 1,
    userFactors: dim,
    itemFactors: dim,
    genreFactors: 0,
    userIds: 1,
    itemIds: 1,
    titleOffsets: 2,
    titleBytes: 0,
    years: 1,
    genreOffsets: 2,
    genreIds: 0,
    itemTrainCounts: 1,
    trainItemOffsets: 2,
    trainItems: 0,
  };
  const size: Record<string, number> = { f64: 8, i32: 4, u8: 1 };
  let offset = 0;
  for (const entry of h.arrays) {
    entry.length = lengths[entry.name];
    entry.byteOffset = offset;
    offset = Math.ceil((offset + entry.length * size[entry.type]!) / 8) * 8;
  }
  h.payloadBytes = offset;
  parts.payload = Buffer.alloc(offset);
  return parts;
}

describe('crafted checkpoints with a valid checksum', () => {
  it('the untouched sample loads (the crafter itself is faithful)', () => {
    const file = path.join(dir, 'recrafted.als');
    writeCrafted(file, fresh());
    expect(readCheckpoint(file).state.hyper.dim).toBe(2);
  });

  it('dim 10^6 with consistent arrays is refused by the dim limit, not by a typed-array error', () => {
    expectOneLine(
      refusal(consistentOfDim(1_000_000)),
      /corrupted checkpoint \(dim 1000000, at most 1000 is supported\)/,
    );
    expectOneLine(refusal(consistentOfDim(5000)), /dim 5000, at most 1000/);
  });

  it('a bad trainItemOffsets (out of range, decreasing) is refused before it reaches the kernels', () => {
    const high = fresh();
    const offsets = high.header.arrays.find((a) => a.name === 'trainItemOffsets')!;
    high.payload.writeInt32LE(1_000_000, offsets.byteOffset + 4);
    expectOneLine(refusal(high), /trainItemOffsets (decrease|do not span)/);
    const items = fresh();
    const trainItems = items.header.arrays.find((a) => a.name === 'trainItems')!;
    items.payload.writeInt32LE(4000, trainItems.byteOffset);
    expectOneLine(refusal(items), /trainItems\[0\] = 4000 is out of range 0..3/);
  });

  it('NaN or infinite factors and biases are refused', () => {
    for (const name of ['userFactors', 'itemBias', 'genreFactors']) {
      const parts = fresh();
      const entry = parts.header.arrays.find((a) => a.name === name)!;
      parts.payload.writeDoubleLE(name === 'itemBias' ? Infinity : NaN, entry.byteOffset + 8);
      expectOneLine(refusal(parts), new RegExp(`${name}\\[1\\] is not a finite number`));
    }
  });

  it('an array table that lies (wrong type, unknown name, outside the payload) is refused', () => {
    const typed = fresh();
    typed.header.arrays[0]!.type = 'f32';
    expectOneLine(refusal(typed), /array userBias missing or of the wrong size/);
    const unknown = fresh();
    unknown.header.arrays[0]!.name = 'x'.repeat(5000);
    const e = refusal(unknown);
    expectOneLine(e, /unknown array x+/);
    expect((e as Error).message.length).toBeLessThan(200);
    const outside = fresh();
    outside.header.arrays.find((a) => a.name === 'titleBytes')!.length = 1e9;
    expectOneLine(refusal(outside), /array titleBytes outside the payload/);
  });

  it('a payloadBytes or header length that lies about the file size is refused without reading it', () => {
    const big = fresh();
    big.header.payloadBytes = 3 * 2 ** 30;
    expectOneLine(refusal(big), /truncated checkpoint \(\d+ of \d+ bytes\)/);
    expectOneLine(
      refusal(fresh(), { headerLengthLie: 0xffff_fff8 }),
      /header length 4294967288 bytes, limit/,
    );
    expectOneLine(
      refusal(fresh(), { headerLengthLie: 8 }),
      /corrupted checkpoint \(unreadable header/,
    );
    // A consistent file whose payload is padded far beyond what its arrays need.
    const padded = fresh();
    padded.header.payloadBytes += 2 ** 20;
    padded.payload = Buffer.concat([padded.payload, Buffer.alloc(2 ** 20)]);
    expectOneLine(
      refusal(padded),
      /corrupted checkpoint \(payload of \d+ bytes, its arrays fill \d+\)/,
    );
    const overlapping = fresh();
    overlapping.header.arrays[1]!.byteOffset = 0;
    expectOneLine(refusal(overlapping), /array itemBias at byte 0 of the payload, expected \d+/);
  });

  it('200 fuzzed checkpoints: random header fields (checksum recomputed), truncations, size lies → only one-line AlsErrors', () => {
    const random = new Random(20261201);
    const validBytes = splitCheckpoint(valid);
    const fileSize =
      16 + Buffer.byteLength(JSON.stringify(validBytes.header)) + validBytes.payload.length + 40;
    const wild = (): unknown => {
      const choices = [
        0,
        -1,
        1,
        2 ** 31,
        2 ** 53,
        1e308,
        -1e308,
        0.5,
        NaN,
        null,
        'x',
        [],
        {},
        true,
        2 ** 31 - 1,
        7,
        1e6,
      ];
      return choices[random.nextInt(choices.length)];
    };
    const paths: string[][] = [
      ['version'],
      ['hyper', 'dim'],
      ['hyper', 'kind'],
      ['hyper', 'lambda'],
      ['dataset', 'numUsers'],
      ['dataset', 'numItems'],
      ['numGenres'],
      ['payloadBytes'],
      ['globalMean'],
      ['epochsDone'],
      ['threads'],
      ['genreNames'],
      ['metrics'],
      ['arrays'],
    ];
    let refused = 0;
    let loaded = 0;
    let slowestMs = 0;
    for (let c = 0; c < 200; c++) {
      const parts = fresh();
      const options: Parameters<typeof writeCrafted>[2] = {};
      const kind = c % 4;
      if (kind === 0) {
        // Random header fields.
        for (let m = 0; m < 1 + random.nextInt(3); m++) {
          const p = paths[random.nextInt(paths.length)]!;
          let node: any = parts.header;
          for (const key of p.slice(0, -1)) node = node[key];
          node[p[p.length - 1]!] = wild();
        }
      } else if (kind === 1) {
        // An array table entry with random length / offset.
        const entry = parts.header.arrays[random.nextInt(parts.header.arrays.length)]!;
        if (random.nextFloat() < 0.5) entry.length = wild() as number;
        else entry.byteOffset = wild() as number;
      } else if (kind === 2) {
        // Random payload bytes (checksum recomputed): offsets, ids, factors.
        for (let m = 0; m < 1 + random.nextInt(8); m++)
          parts.payload[random.nextInt(parts.payload.length)] = random.nextInt(256);
      } else {
        // Truncations and size lies.
        if (random.nextFloat() < 0.5) options.truncateTo = random.nextInt(fileSize);
        else options.headerLengthLie = random.nextInt(2 ** 32);
      }
      const started = performance.now();
      const error = refusal(parts, options);
      slowestMs = Math.max(slowestMs, performance.now() - started);
      if (error === undefined) loaded++;
      else {
        expectOneLine(error);
        refused++;
      }
    }
    // Payload flips in titles or years are harmless and load; everything else is refused.
    expect(refused + loaded).toBe(200);
    console.log(
      `checkpoint fuzz: 200 cases, ${refused} refused with one line, ${loaded} harmless and loaded, 0 other errors, slowest ${slowestMs.toFixed(1)} ms`,
    );
    expect(refused).toBeGreaterThan(150);
    expect(slowestMs).toBeLessThan(1000);
  });

  it('sparse 1.9 GB and 3 GB files: refused in ≤ 1 s and ≤ 100 MB RSS (measured in a child process)', () => {
    const cases: {
      name: string;
      version: number;
      payloadBytes?: number;
      size: number;
      pattern: RegExp;
      parts?: CheckpointParts;
    }[] = [
      {
        name: 'dim-1e6.als',
        version: 1,
        size: 0,
        pattern: /dim 1000000, at most 1000/,
        parts: consistentOfDim(1_000_000),
      },
      {
        name: 'old-version.als',
        version: 7,
        size: Math.floor(1.9 * 2 ** 30),
        pattern: /format version 7 is not supported/,
      },
      {
        name: 'claims-3g.als',
        version: 1,
        payloadBytes: 3 * 2 ** 30,
        size: 3 * 2 ** 30,
        pattern: /corrupted checkpoint|truncated checkpoint/,
      },
      {
        name: 'huge-5g.als',
        version: 1,
        size: 5 * 2 ** 30,
        pattern: /corrupted checkpoint \(\d+ bytes, more than any checkpoint/,
      },
    ];
    for (const c of cases) {
      const parts = c.parts ?? fresh();
      parts.version = c.version;
      if (c.payloadBytes !== undefined) parts.header.payloadBytes = c.payloadBytes;
      const file = path.join(dir, c.name);
      writeCrafted(file, parts);
      if (c.size > 0) {
        // Extend to the claimed size without writing it (a sparse file).
        const fd = openSync(file, 'r+');
        writeSync(fd, Buffer.from([0]), 0, 1, c.size - 1);
        closeSync(fd);
      }
      const script = `
        import { readCheckpoint } from ${JSON.stringify(path.join(repoRoot, 'dist/data/checkpoint.js'))};
        const started = performance.now();
        let message = 'loaded', name = '';
        try { readCheckpoint(${JSON.stringify(file)}); } catch (e) { message = e.message; name = e.name; }
        console.log(JSON.stringify({ message, name, elapsedMs: performance.now() - started, maxRssMB: process.resourceUsage().maxRSS / 1024 }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      const result = JSON.parse(r.stdout) as {
        message: string;
        name: string;
        elapsedMs: number;
        maxRssMB: number;
      };
      expect(result.name, result.message).toBe('AlsError');
      expect(result.message, JSON.stringify(result)).toMatch(c.pattern);
      expect(result.elapsedMs).toBeLessThan(1000);
      expect(result.maxRssMB).toBeLessThan(100);
      console.log(
        `refused ${c.name} (${(statSync(file).size / 2 ** 20).toFixed(0)} MB): ${result.elapsedMs.toFixed(1)} ms, max RSS ${result.maxRssMB.toFixed(0)} MB`,
      );
      rmSync(file);
    }
  });
});
